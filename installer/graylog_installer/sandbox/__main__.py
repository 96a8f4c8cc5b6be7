"""``python -m graylog_installer.sandbox testbed``: build what the tests run on.

Prints shell assignments (IMAGE, MIRROR_DIR, MIRROR_LINE, MIRROR_KEY_FILE) that the test
command evaluates, so the Molecule scenarios use the same image and mirror as the sandbox.
"""

from __future__ import annotations

import shlex
import sys

from graylog_installer.errors import InstallerError
from graylog_installer.sandbox import build_testbed


def main(argv: list[str]) -> int:
    if argv != ["testbed"]:
        print("usage: python -m graylog_installer.sandbox testbed", file=sys.stderr)
        return 2
    try:
        testbed = build_testbed(lambda line: print(f"# {line}", file=sys.stderr))
    except InstallerError as error:
        print(f"graylog-installer: error: {error}", file=sys.stderr)
        return 1
    values = {
        "IMAGE": testbed.image,
        "MIRROR_DIR": str(testbed.mirror.directory),
        "MIRROR_LINE": testbed.mirror.apt_line,
        "MIRROR_KEY_FILE": str(testbed.mirror.directory / "mirror-key.asc"),
    }
    for name, value in values.items():
        print(f"export {name}={shlex.quote(value)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
