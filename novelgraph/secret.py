"""The installation's own secret key: random, made on first run, kept outside the repository.

Used when the SECRET_KEY variable is not set. The key is never printed; the file is readable by
its owner only (mode 0600). Two processes starting at once agree on one key: the file appears
complete or not at all (written to a temporary file, then linked into place).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from pathlib import Path

KEY_BYTES = 50  # token_urlsafe(50): 67 characters, well past Django's 50-character check


def installation_key(path: Path) -> str:
    """The key stored at `path`; a new random one is written there (mode 0600) if there is none."""
    key = _read(path)
    if key:
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".secret_key.")  # mode 0600
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as stream:
            stream.write(secrets.token_urlsafe(KEY_BYTES) + "\n")
            stream.flush()
            os.fsync(stream.fileno())
        with contextlib.suppress(FileExistsError):  # another process got there first: use theirs
            os.link(temporary, path)
    finally:
        os.unlink(temporary)
    key = _read(path)
    if not key:
        raise OSError(f"{path} is empty")
    return key


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return ""
