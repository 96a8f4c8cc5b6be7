"""Last line of defence: scrub secret values from anything we print or write to disk.

Roles use no_log where secrets pass, but a task that forgets it must still not leak a
secret into the run log or the terminal, so every string leaving the installer goes
through a Redactor that knows the current secrets.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "********"


class Redactor:
    def __init__(self, values: Iterable[str] = ()) -> None:
        self._values: list[str] = []
        self.add(values)

    def add(self, values: Iterable[str]) -> None:
        # Longest first so a secret containing another is masked whole.
        merged = set(self._values) | {form for v in values if v for form in encoded_forms(v)}
        self._values = sorted(merged, key=len, reverse=True)

    def text(self, value: str) -> str:
        for secret in self._values:
            value = value.replace(secret, MASK)
        return value

    def json_line(self, obj: Any) -> str:
        """One JSON line with secrets masked, in whatever escaped form JSON gave them."""
        return self.text(json.dumps(obj, default=str, sort_keys=True))


def encoded_forms(secret: str) -> Iterator[str]:
    """The secret as it can appear in output: raw, JSON-escaped (ASCII-only or not, and
    escaped twice, as in a JSON string holding JSON), URL-encoded, as Python's repr escapes
    it, and inside HTTP Basic credentials (base64 of "user:secret", at each alignment)."""
    yield secret
    once = json.dumps(secret)[1:-1]
    yield once
    yield json.dumps(secret, ensure_ascii=False)[1:-1]
    yield json.dumps(once)[1:-1]
    yield quote(secret, safe="")
    yield quote_plus(secret)
    yield repr(secret)[1:-1]
    yield secret.encode("unicode_escape").decode("ascii")  # Python 2's repr, as on the hosts
    yield from _base64_cores(secret.encode())


def _base64_cores(data: bytes) -> Iterator[str]:
    # Whatever precedes the secret ("admin:" in a Basic header) shifts it to one of three
    # alignments. A base64 character carries 6 bits: those made of the secret's bits alone
    # are the same whatever comes before or after it, so they are what to mask.
    for shift in range(3):
        encoded = base64.b64encode(bytes(shift) + data).decode()
        start = -(-8 * shift // 6)  # the first character after the shift's bits
        end = 8 * (shift + len(data)) // 6  # the last one before what follows
        if end - start >= 8:
            yield encoded[start:end]


class Hidden(str):
    """A secret that works as a str but whose repr never shows it, so that a traceback or a
    failed assertion that names it (pytest prints both with repr) prints the mask instead."""

    __slots__ = ()

    def __repr__(self) -> str:
        return repr(MASK)


# Shared by the command line's error printer: commands register secrets once loaded.
GLOBAL = Redactor()
