"""Histories that outlive the session: the `:` command line's and the PromQL editor's.

Each is a list (what the line editors walk with up/down) that also appends every new entry to a file
under ``$XDG_STATE_HOME/mlops-console/`` (default ``~/.local/state/mlops-console/``), one per line,
readable only by the user. A file that cannot be read or written costs the history, never the session.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

from backends.redact import redact

LIMIT = 500


def private_file(path: str | os.PathLike[str], mode: str = "a", encoding: str = "utf-8") -> IO[str]:
    """``open(path, mode)`` for a file only the user may read: created 0600, and an existing file's
    mode brought down to 0600 (a log or history may hold what the user typed or the servers said)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if mode.startswith("a") else os.O_TRUNC)
    fd = os.open(path, flags, 0o600)
    try:
        os.fchmod(fd, 0o600)
    except OSError:
        pass  # not ours to change (a file on a share): it is still written
    return os.fdopen(fd, mode, encoding=encoding)


def state_dir(environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    base = env.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base).expanduser() / "mlops-console"


class History(list):
    """Past entries, oldest first; ``append`` skips a repeat of the last one and keeps the file."""

    def __init__(self, name: str, limit: int = LIMIT, path: Path | None = None) -> None:
        super().__init__()
        self.limit = limit
        if path is None:
            try:
                path = state_dir() / name
            except (RuntimeError, KeyError):  # no home directory to keep it in
                path = None
        self.path: Path | None = path
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines() if self.path is not None else []
            if lines and self.path is not None:
                os.chmod(self.path, 0o600)  # a file left readable by others by an older version
        except (OSError, UnicodeError):
            lines = []
        super().extend(line for line in lines[-limit:] if line.strip())

    def append(self, entry: str) -> None:
        entry = " ".join(entry.split())  # one line in the file, whatever was typed
        if not entry or (self and self[-1] == entry):
            return
        super().append(entry)
        if len(self) > self.limit:
            del self[: len(self) - self.limit]
        self._save(entry)

    def _save(self, entry: str) -> None:
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with private_file(self.path) as f:
                f.write(redact(entry) + "\n")
            if self.path.stat().st_size > 200 * self.limit:  # now and then, keep only the last entries
                tmp = self.path.with_name(self.path.name + ".tmp")
                with private_file(tmp, "w") as f:
                    f.write("".join(redact(e) + "\n" for e in self))
                tmp.replace(self.path)
        except OSError:
            self.path = None  # not writable here: keep the history in memory only
