"""Build hook: the wheel carries the playbooks, roles and ansible.cfg the command runs.

They stay at the repository's top level, where Molecule and the engineers use them; at
build time they are copied into the package as ``graylog_installer/bundled/``, which
``paths.py`` prefers to a checkout. An editable install keeps reading the checkout.
Everything else is declared in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
# Only these: inventories/ may hold an operator's secrets, never to be shipped.
BUNDLED = ("ansible.cfg", "playbooks", "roles")


def skipped(directory: str, names: list[str]) -> set[str]:
    drop = {name for name in names if name == "__pycache__" or name.endswith(".pyc")}
    if Path(directory) == HERE / "playbooks":
        drop.add("roles")  # a symlink to ../roles, which ansible.cfg's roles_path finds
    return drop


class BuildPyWithPlaybooks(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:  # the checkout itself is on sys.path
            return
        target = Path(self.build_lib) / "graylog_installer" / "bundled"
        shutil.rmtree(target, ignore_errors=True)
        for name in BUNDLED:
            source, destination = HERE / name, target / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, destination, ignore=skipped)
            else:
                shutil.copy2(source, destination)


setup(cmdclass={"build_py": BuildPyWithPlaybooks})
