"""Last line of defence: scrub secret values from anything we print or write to disk.

Roles use no_log where secrets pass, but a task that forgets it must still not leak a
secret into the run log or the terminal, so every string leaving the installer goes
through a Redactor that knows the current secrets.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

MASK = "********"


class Redactor:
    def __init__(self, values: Iterable[str] = ()) -> None:
        self._values: list[str] = []
        self.add(values)

    def add(self, values: Iterable[str]) -> None:
        # Longest first so a secret containing another is masked whole.
        merged = set(self._values) | {v for v in values if v}
        self._values = sorted(merged, key=len, reverse=True)

    def text(self, value: str) -> str:
        for secret in self._values:
            value = value.replace(secret, MASK)
        return value

    def json_line(self, obj: Any) -> str:
        """One JSON line with secrets masked (our secrets need no JSON escaping)."""
        return self.text(json.dumps(obj, default=str, sort_keys=True))


class Hidden(str):
    """A secret that works as a str but whose repr never shows it, so that a traceback or a
    failed assertion that names it (pytest prints both with repr) prints the mask instead."""

    __slots__ = ()

    def __repr__(self) -> str:
        return repr(MASK)


# Shared by the command line's error printer: commands register secrets once loaded.
GLOBAL = Redactor()
