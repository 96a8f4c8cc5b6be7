"""Upgrade the three-node cluster in place by re-running with new versions, as an operator does.

Run by side_effect.yml on this machine, after converge and idempotence at the old versions
(molecule.yml's graylog_version and elasticsearch_version):
1. stores a batch of messages through the entry (HAProxy) and waits until all are found;
2. runs site.yml with the roles' default versions, timed, while a probe sends a GELF
   message through the entry and asks the entry's API for the node it reached every second;
3. runs site.yml once more with the same versions;
and writes what verify (test_upgrade.py) checks into the scenario's ephemeral directory.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "resources"))
from graylog_checks import http_get, load_test_secrets, post_gelf, wait_for_total  # noqa: E402

from graylog_installer import versions  # noqa: E402

ENTRY = "cluster-lb"
COUNT = 500
STATE_FILE = "upgrade.json"
VERSIONS_FILE = "upgraded-versions.yml"
SITE = Path(__file__).resolve().parents[3] / "playbooks" / "site.yml"
RECAP_LINE = re.compile(r"^(\S+)\s+:\s+ok=\d+\s+changed=(\d+)", re.MULTILINE)


def container_address(name: str) -> str:
    fmt = "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}"
    return subprocess.check_output(["docker", "inspect", "-f", fmt, name], text=True).strip()


class Probe(threading.Thread):
    """Once a second, one GELF message and one API request through the entry."""

    def __init__(self, entry: str, auth: tuple[str, str]) -> None:
        super().__init__(daemon=True)
        self.entry, self.auth = entry, auth
        self.tag = uuid.uuid4().hex
        self.rounds = 0
        self.sent = 0
        self.failures: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(1.0):
            stamp = time.strftime("%H:%M:%S")
            self.rounds += 1
            try:
                status = post_gelf(
                    self.entry, {"short_message": "during upgrade", "_probe": self.tag}
                )
                if status in (200, 202):
                    self.sent += 1
                else:
                    self.failures.append(f"{stamp} GELF HTTP {status}")
                status = http_get(f"{self.entry}/api/system/cluster/node", self.auth)[0]
                if status != 200:
                    self.failures.append(f"{stamp} API HTTP {status}")
            except OSError as error:
                self.failures.append(f"{stamp} {error}")


def run_site(extra_vars: Path, log: Path) -> tuple[float, str]:
    """site.yml on the scenario's inventory with the new versions: seconds taken, output."""
    started = time.monotonic()
    run = subprocess.run(
        [
            str(Path(sys.executable).parent / "ansible-playbook"),
            "--inventory",
            os.environ["MOLECULE_INVENTORY_FILE"],
            "--extra-vars",
            f"@{os.environ['GRAYLOG_TEST_SECRETS_FILE']}",
            "--extra-vars",
            f"@{extra_vars}",
            str(SITE),
        ],
        capture_output=True,
        text=True,
        check=False,
        # Molecule forces colours, which would hide the recap's counts from RECAP_LINE.
        env={**os.environ, "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_NOCOLOR": "1"},
    )
    seconds = time.monotonic() - started
    log.write_text(run.stdout + run.stderr)
    if run.returncode != 0:
        raise SystemExit(f"site.yml failed (exit {run.returncode}); its output is in {log}")
    return seconds, run.stdout


def changed_by_host(output: str) -> dict[str, int]:
    recap = output[output.rfind("PLAY RECAP") :]
    return {host: int(changed) for host, changed in RECAP_LINE.findall(recap)}


def main() -> int:
    ephemeral = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])
    auth = ("admin", load_test_secrets()["graylog_admin_password"])
    entry = f"https://{container_address(ENTRY)}"

    batch = uuid.uuid4().hex
    refused = [
        i
        for i in range(COUNT)
        if post_gelf(entry, {"short_message": f"before upgrade {i}", "_batch": batch})
        not in (200, 202)
    ]
    if refused:
        print(f"{len(refused)} of {COUNT} messages were refused", file=sys.stderr)
        return 1
    if wait_for_total(entry, auth, f"batch:{batch}", COUNT) != COUNT:
        print("the messages sent before the upgrade were not all found", file=sys.stderr)
        return 1

    new = {
        "graylog_version": versions.role_default("graylog", "graylog_version"),
        "elasticsearch_version": versions.role_default("elasticsearch", "elasticsearch_version"),
    }
    extra_vars = ephemeral / VERSIONS_FILE
    extra_vars.write_text(yaml.safe_dump(new))

    probe = Probe(entry, auth)
    probe.start()
    upgrade_seconds, upgrade_output = run_site(extra_vars, ephemeral / "upgrade-run.log")
    probe.stop.set()
    probe.join()
    rerun_seconds, rerun_output = run_site(extra_vars, ephemeral / "upgrade-rerun.log")

    state = {
        "versions": new,
        "batch": batch,
        "count": COUNT,
        "upgrade_seconds": round(upgrade_seconds),
        "upgrade_changed": changed_by_host(upgrade_output),
        "allocation_holds": upgrade_output.count("TASK [elasticsearch : Hold the allocation"),
        "rerun_seconds": round(rerun_seconds),
        "rerun_changed": changed_by_host(rerun_output),
        "probe": {
            "tag": probe.tag,
            "rounds": probe.rounds,
            "sent": probe.sent,
            "failures": probe.failures,
        },
    }
    (ephemeral / STATE_FILE).write_text(json.dumps(state, indent=1))
    print(json.dumps(state))
    return 0


if __name__ == "__main__":
    sys.exit(main())
