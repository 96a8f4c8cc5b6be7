"""The one exception type the command line turns into a one-line message."""

from __future__ import annotations

import signal


class InstallerError(Exception):
    """A failure the operator can act on; ``str(error)`` is the whole message.

    Exit code 1 means "the operation failed", 2 means "the request itself is wrong"
    (bad flags, bad inventory, bad secrets file): both print one line, no traceback.
    """

    exit_code = 1

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        # Keep messages on one line: the command line prints them after a fixed prefix.
        super().__init__(" ".join(message.split()))
        if exit_code is not None:
            self.exit_code = exit_code


class UsageError(InstallerError):
    """The operator's input (flags, inventory, secrets file) cannot be used as given."""

    exit_code = 2


class Interrupted(InstallerError):
    """Stopped by Ctrl-C or SIGTERM: exit 128 + the signal's number, as shells report it."""

    def __init__(self, signum: int, consequence: str = "") -> None:
        name = signal.Signals(signum).name
        how = "Ctrl-C (SIGINT)" if signum == signal.SIGINT else name
        super().__init__(f"interrupted by {how}" + (f"; {consequence}" if consequence else ""))
        self.exit_code = 128 + signum
