"""Reads of MongoDB on a host, as a client without credentials, as Graylog, or as the admin.

Every script runs in the host's own mongo shell and prints one line of JSON. No password
travels on a command line or into this test's output: Graylog's credentials are read by the
shell from server.conf, the administrator's from the role's root-only login file.
"""

from __future__ import annotations

import json

SERVER_CONF = "/etc/graylog/server/server.conf"
ADMIN_LOGIN_FILE = "/root/.mongodb-admin.js"
KEY_FILE = "/etc/mongodb.key"

# Logs in with the user and password of server.conf's mongodb_uri, on its database.
LOGIN_AS_GRAYLOG = (
    f'var found = cat("{SERVER_CONF}").match(/^mongodb_uri = mongodb:\\/\\/([^:@]+):([^@]+)@/m);'
    'if (found === null || db.getSiblingDB("graylog").auth(found[1], found[2]) !== 1) {'
    '  throw "cannot log in with the credentials of server.conf";'
    "}"
)
LOGIN_AS_ADMIN = f'load("{ADMIN_LOGIN_FILE}");'
# Reads on a secondary too (they are allowed there once slaveOk is set).
READ_ANYWHERE = "rs.slaveOk();"


def mongo_json(host, script: str, login: str = "", port: int = 27017) -> dict:
    """Run ``script`` (which ends with one print of one JSON value) and return that value."""
    command = host.run(
        "mongo --quiet --norc 127.0.0.1:%s/admin --eval %s",
        str(port),
        READ_ANYWHERE + login + script,
    )
    lines = command.stdout.strip().splitlines()
    assert command.rc == 0 and lines, f"mongo failed: {command.stderr.strip()[-300:]}"
    return json.loads(lines[-1])


def count_nodes(host, login: str = "") -> dict:
    """Graylog's node registry counted: {"ok": 1, "n": N} or the refusal with its code."""
    return mongo_json(
        host,
        'print(tojson(db.getSiblingDB("graylog").runCommand({count: "nodes"}), "", true));',
        login,
    )


def write_elsewhere(host, login: str) -> dict:
    """An insert into a database that is not Graylog's: the write result."""
    script = (
        'var r = db.getSiblingDB("not_graylog").runCommand('
        '{insert: "probe", documents: [{probe: true}]});'
        'print(tojson(r, "", true));'
    )
    return mongo_json(host, script, login)


def user_roles(host, name: str, database: str) -> list[dict]:
    """The roles the administrator sees for a user."""
    script = (
        f'var u = db.getSiblingDB("{database}").getUser("{name}");'
        'print(tojson(u === null ? null : u.roles, "", true));'
    )
    return mongo_json(host, script, LOGIN_AS_ADMIN)


def startup_options(host) -> dict:
    """mongod's parsed settings (its security section says whether auth is on)."""
    return mongo_json(
        host,
        'print(tojson(db.adminCommand({getCmdLineOpts: 1}).parsed, "", true));',
        LOGIN_AS_ADMIN,
    )
