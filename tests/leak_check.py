"""For the tests that hunt secrets: which files under some folders hold a given text."""

from __future__ import annotations

import os
import stat
from pathlib import Path


def files_holding(secret: str, *roots: str | os.PathLike[str]) -> list[str]:
    """Every file under ``roots`` whose bytes hold ``secret`` (a log, a saved request, a history ...)."""
    needle = secret.encode()
    found = []
    for root in roots:
        for path in Path(root).rglob("*"):
            if path.is_file() and not path.is_symlink():
                try:
                    if needle in path.read_bytes():
                        found.append(str(path))
                except OSError:
                    continue
    return found


def mode(path: str | os.PathLike[str]) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)
