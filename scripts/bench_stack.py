"""What every benchmark needs: an all-in-one inventory, secrets, and a timed converge."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from graylog_installer import paths, secrets_store

REPO = Path(__file__).resolve().parents[1]
PLAYBOOK = REPO / "playbooks/site.yml"
RECAP_CHANGED = re.compile(r"changed=(\d+)")

# The same small heaps in every benchmark, so that figures compare across runs.
HEAPS = {"elasticsearch_heap_size": "512m", "graylog_heap_size": "768m"}


def write_inventory(
    directory: Path, hosts_in_stack: list[str], mirror_line: str, mirror_key: str
) -> Path:
    hosts = {
        "all": {
            "vars": {
                "ansible_connection": "docker",
                "ansible_python_interpreter": "/usr/bin/python2.7",
                "package_mirror_repository": mirror_line,
                "package_mirror_key": mirror_key,
                **HEAPS,
            },
            "children": {
                group: {"hosts": dict.fromkeys(hosts_in_stack)}
                for group in ("graylog", "elasticsearch", "mongodb")
            },
        }
    }
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "hosts.yml"
    path.write_text(yaml.safe_dump(hosts))
    return path


def write_secrets(directory: Path) -> Path:
    path = directory / "secrets.yml"
    secrets_store.save(path, secrets_store.generate())
    return path


def timed_floor(hosts: list[str], mirror_line: str, mirror_key: str, secrets_file: Path) -> float:
    """Seconds scripts/floor_install.sh takes in fresh containers, started on all HOSTS at
    once, until nginx says ALIVE on the last: what the machine itself needs for them."""
    secrets = secrets_store.load(secrets_file)
    script = REPO / "scripts/floor_install.sh"
    for host in hosts:
        subprocess.run(["docker", "cp", str(script), f"{host}:/root/floor_install.sh"], check=True)
        subprocess.run(
            ["docker", "exec", "-i", host, "sh", "-c", "cat > /root/mirror-key.asc"],
            input=mirror_key, text=True, check=True,
        )  # fmt: skip
    environment = {
        "MIRROR_LINE": mirror_line,
        "MIRROR_KEY": "/root/mirror-key.asc",
        "PASSWORD_SECRET": secrets.graylog_password_secret,
        "ADMIN_SHA2": hashlib.sha256(secrets.graylog_admin_password.encode()).hexdigest(),
        "ELASTICSEARCH_HEAP": HEAPS["elasticsearch_heap_size"],
        "GRAYLOG_HEAP": HEAPS["graylog_heap_size"],
    }
    options = [option for name in environment for option in ("--env", name)]

    def floor_script(host: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["docker", "exec", *options, host, "bash", "/root/floor_install.sh"],
            env=dict(os.environ, **environment), capture_output=True, text=True, check=False,
        )  # fmt: skip

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=len(hosts)) as pool:
        completed = list(pool.map(floor_script, hosts))
    elapsed = time.monotonic() - started
    for script in completed:
        if script.returncode != 0:
            sys.exit(f"benchmark: the floor script failed: {script.stderr.strip()[-500:]}")
    return elapsed


def failed_tasks(output: str) -> str:
    """Each task that failed a host, with its failure (no_log tasks show theirs
    censored), and the play recap: the end of the output alone rarely names them."""
    lines, task = [], ""
    for line in output.splitlines():
        if line.startswith("TASK ["):
            task = line.rstrip(" *")
        elif line.startswith(("fatal: ", "failed: ")):
            lines += [task, line[:2000]]
    return "\n".join(lines + output.split("PLAY RECAP")[-1].strip().splitlines()[1:])


def timed_converge(
    inventory: Path, secrets_file: Path, extra_vars: Sequence[Path] = (), strategy: str = ""
) -> tuple[float, int]:
    """Seconds taken and the number of changed tasks in the play recap; STRATEGY, when
    given, replaces ansible.cfg's (linear: stock Ansible instead of Mitogen)."""
    env = dict(os.environ, **paths.ansible_env())
    if strategy:
        env["ANSIBLE_STRATEGY"] = strategy
    extra = [option for path in extra_vars for option in ("-e", f"@{path}")]
    started = time.monotonic()
    completed = subprocess.run(
        ["ansible-playbook", "-i", str(inventory), "-e", f"@{secrets_file}", *extra,
         str(REPO / "playbooks/site.yml")],
        cwd=REPO, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    elapsed = time.monotonic() - started
    if completed.returncode != 0:
        sys.exit(f"benchmark: converge failed:\n{failed_tasks(completed.stdout)}")
    changed = sum(int(n) for n in RECAP_CHANGED.findall(completed.stdout.split("PLAY RECAP")[-1]))
    return elapsed, changed
