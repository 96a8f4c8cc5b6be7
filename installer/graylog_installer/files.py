"""Writing files only their owner can read, atomically (never a half-written secret),
and naming a file by its content."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


def write_private(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data``, mode 0600 from the first byte on disk."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)  # mkstemp already uses 0600; say so rather than rely on it
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def is_private(path: Path) -> bool:
    """True when neither group nor others have any access to ``path``."""
    return path.stat().st_mode & 0o077 == 0


def sha256_of(path: Path) -> str:
    """The file's SHA-256, read in blocks (archives and downloads can be large)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
