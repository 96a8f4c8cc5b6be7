"""Store a batch of messages on one node and record what the verify step must find again.

Run by prepare.yml on this machine, before the scale-out: posts N GELF messages to the
node's nginx, waits until a search finds all N, and writes the batch's tag and the node
that is master into the scenario's ephemeral directory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "resources"))
from graylog_checks import http_get, post_gelf, wait_for_total  # noqa: E402

COUNT = 1000
STATE_FILE = "scaleout.json"


def container_address(name: str) -> str:
    fmt = "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}"
    return subprocess.check_output(["docker", "inspect", "-f", fmt, name], text=True).strip()


def main(node: str) -> int:
    secrets = yaml.safe_load(Path(os.environ["GRAYLOG_TEST_SECRETS_FILE"]).read_text())
    auth = ("admin", secrets["graylog_admin_password"])
    base_url = f"https://{container_address(node)}"  # the single node is the entry
    batch = uuid.uuid4().hex
    refused = [
        i
        for i in range(COUNT)
        if post_gelf(base_url, {"short_message": f"before scale-out {i}", "_batch": batch})
        not in (200, 202)
    ]
    if refused:
        print(f"{len(refused)} of {COUNT} messages were refused", file=sys.stderr)
        return 1
    found = wait_for_total(base_url, auth, f"batch:{batch}", COUNT)
    if found != COUNT:
        print(f"found {found} of {COUNT} messages", file=sys.stderr)
        return 1
    _, body, _ = http_get(f"{base_url}/api/system/cluster/nodes", auth)
    masters = [n for n in json.loads(body)["nodes"] if n["is_master"]]
    state = {"batch": batch, "count": COUNT, "master_node_id": masters[0]["node_id"]}
    target = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / STATE_FILE
    target.write_text(json.dumps(state))
    print(f"stored {COUNT} messages (batch {batch}) on {node}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
