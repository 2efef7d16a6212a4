"""Histories that outlive the session: the `:` command line's and the PromQL editor's.

Each is a list (what the line editors walk with up/down) that also appends every new entry to a file
under ``$XDG_STATE_HOME/mlops-console/`` (default ``~/.local/state/mlops-console/``), one per line,
readable only by the user. A file that cannot be read or written costs the history, never the session.
"""

from __future__ import annotations

import os
from pathlib import Path

LIMIT = 500


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
        except (OSError, UnicodeError):
            lines = []
        super().extend(line for line in lines[-limit:] if line.strip())

    def append(self, entry: str) -> None:  # type: ignore[override]
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
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as f:
                f.write(entry + "\n")
            if self.path.stat().st_size > 200 * self.limit:  # now and then, keep only the last entries
                tmp = self.path.with_name(self.path.name + ".tmp")
                tmp.write_text("".join(e + "\n" for e in self), encoding="utf-8")
                os.chmod(tmp, 0o600)
                tmp.replace(self.path)
        except OSError:
            self.path = None  # not writable here: keep the history in memory only
