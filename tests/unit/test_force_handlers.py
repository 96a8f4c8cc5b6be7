"""A failed task does not lose the handlers of changes made before it (force_handlers),
and nginx is never reloaded after its check refused the configuration.

A two-task playbook on this machine, with the repository's ansible.cfg; each Molecule
scenario must set the same.
"""

from __future__ import annotations

import configparser
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

REPOSITORY = Path(__file__).resolve().parents[2]
CONFIG = REPOSITORY / "ansible.cfg"
SCENARIOS = sorted((REPOSITORY / "molecule").glob("*/molecule.yml"))

PLAYBOOK = """
- name: A change, then a failure
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Change something that needs a handler
      ansible.builtin.copy:
        content: "new\\n"
        dest: "{{ out }}/config"
        mode: "0644"
      notify: [Check, Apply]
    - name: Fail
      ansible.builtin.fail:
        msg: a later task failed
  handlers:
    - name: Check
      ansible.builtin.command: "{{ check_command }}"
      changed_when: false
    - name: Apply
      ansible.builtin.copy:
        content: "applied\\n"
        dest: "{{ out }}/applied"
        mode: "0644"
"""


def run_playbook(config: Path, tmp_path: Path, check_command: str) -> subprocess.CompletedProcess:
    playbook = tmp_path / "play.yml"
    playbook.write_text(textwrap.dedent(PLAYBOOK))
    return subprocess.run(
        [
            str(Path(sys.executable).with_name("ansible-playbook")),
            "-i", "localhost,",
            "-e", f"out={tmp_path} check_command={check_command}",
            "-e", f"ansible_python_interpreter={sys.executable}",
            str(playbook),
        ],
        env={**os.environ, "ANSIBLE_CONFIG": str(config)},
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip


def test_a_failed_task_still_runs_the_handlers_of_earlier_changes(tmp_path: Path):
    result = run_playbook(CONFIG, tmp_path, "true")
    assert result.returncode != 0, result.stdout
    assert (tmp_path / "applied").exists(), result.stdout


NGINX_PLAYBOOK = """
- name: A change of nginx's configuration that nginx -t refuses
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    nginx_service: graylog-installer-test-no-such-unit
  tasks:
    - name: Change the configuration
      ansible.builtin.command: "true"
      changed_when: true
      notify: Nginx configuration changed
{flush}    - name: Fail
      ansible.builtin.fail:
        msg: a later task failed
  handlers:
    - name: The nginx role's handlers
      ansible.builtin.import_tasks: "{{ repository }}/roles/nginx/handlers/main.yml"
"""


FLUSH = """    - name: Apply the change now
      ansible.builtin.meta: flush_handlers
"""


@pytest.mark.parametrize("flush", [FLUSH, ""], ids=["flushed", "after-failure"])
def test_nginx_is_not_reloaded_after_its_check_failed(flush: str, tmp_path: Path):
    """force_handlers runs handlers after a failed one too: nginx's reload must skip itself."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "nginx").write_text("#!/bin/sh\necho 'nginx: [emerg] refused' >&2\nexit 1\n")
    (fake / "nginx").chmod(0o755)
    playbook = tmp_path / "nginx.yml"
    playbook.write_text(NGINX_PLAYBOOK.replace("{flush}", flush))
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("ansible-playbook")),
            "-i", "localhost,",
            "-e", f"repository={REPOSITORY}",
            "-e", f"ansible_python_interpreter={sys.executable}",
            str(playbook),
        ],
        env={**os.environ, "ANSIBLE_CONFIG": str(CONFIG), "ANSIBLE_NOCOLOR": "1",
             "PATH": f"{fake}{os.pathsep}{os.environ['PATH']}"},
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert result.returncode != 0, result.stdout
    assert "nginx: [emerg] refused" in result.stdout, result.stdout
    reload_ran = re.search(
        r"HANDLER \[[^\]]*Reload nginx\][^\n]*\n(ok|changed|fatal)", result.stdout
    )
    assert reload_ran is None, result.stdout


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda path: path.parent.name)
def test_molecule_runs_with_the_same_setting(scenario: Path):
    """Molecule writes an ansible.cfg of its own from the scenario's settings."""
    ours = configparser.ConfigParser()
    ours.read(CONFIG)
    assert ours.getboolean("defaults", "force_handlers")
    settings = yaml.safe_load(scenario.read_text())["ansible"]["cfg"]["defaults"]
    assert settings.get("force_handlers") is True
