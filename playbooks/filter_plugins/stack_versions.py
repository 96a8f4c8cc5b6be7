"""Filter ``stack_version_problem``: the installer's version rule (graylog_installer.versions).

site.yml asserts its answer is empty before any role runs, so that ansible-playbook run
without the installer refuses the same pairs of versions, with the same line.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

try:
    from graylog_installer import versions
except ImportError:  # ansible-playbook run from a checkout without the package installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "installer"))
    from graylog_installer import versions


def stack_version_problem(groups: dict[str, list[str]], hostvars: Any) -> str:
    """The refused pair's line, or "" when every version asked for may run together."""
    found = versions.problem(groups, lambda host, name: hostvars[host].get(name))
    return found or ""


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"stack_version_problem": stack_version_problem}
