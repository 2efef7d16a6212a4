"""What the links resolver noticed itself (alias moves, deployment changes seen by the console), kept across
sessions: MLflow keeps no alias history and Kubernetes no history of states, so a restart would forget them.

One JSON file per context (and registry and cluster) under ``$XDG_STATE_HOME/mlops-console/noticed/``,
readable only by the user, its texts redacted. A file that cannot be read or written costs what it would keep,
never the session."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

from backends.redact import redact
from console.history import private_file, state_dir

VERSION = 1
#: (deployment key or model name, when, source, text)
Noticed = tuple[tuple[str, ...] | str, datetime, str, str]


def journal_path(context: Any) -> Path | None:
    """The file of a context's noticed changes (None: no home directory to keep it in). Named after the context
    and what its registry and cluster are: a context pointed elsewhere starts a file of its own, so that another
    registry's aliases are never taken for moves."""
    name = str(getattr(context, "name", "") or "default")
    where = [str(getattr(context, f, "") or "") for f in ("runs_backend", "deployments_backend", "kubeconfig",
                                                          "kube_context")]
    where.append(_registry(str(getattr(context, "mlflow_uri", "") or "")))
    digest = hashlib.sha256("\0".join(where).encode("utf-8", "surrogateescape")).hexdigest()[:10]
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", name)[:100]
    try:
        return state_dir() / "noticed" / f"{safe}-{digest}.json"
    except (RuntimeError, KeyError):
        return None


def _registry(uri: str) -> str:
    """A tracking server by its host and path, not its port (the demo's, or a server on this machine, listens on
    another port each time it starts, yet is the same registry) nor its credentials; a store by its URI."""
    parts = urlsplit(uri)
    if parts.scheme in ("http", "https"):
        return f"{parts.scheme}://{parts.hostname or ''}{parts.path.rstrip('/')}"
    return uri


class NoticedJournal:
    """Reads and rewrites one context's file of noticed changes and the aliases last seen.

    ``save`` may be called on the UI thread (a change the Deployments pane's watch streamed): the file is written by
    a thread of its own, the latest state only, and ``load`` (or ``flush``) waits for a write still under way to the
    same file. The thread is not a daemon: a change noticed just before the console exits is still written."""

    _lock: ClassVar[threading.Lock] = threading.Lock()
    _pending: ClassVar[dict[Path, tuple[NoticedJournal, Any, list[Noticed]]]] = {}  # the latest state to write
    _busy: ClassVar[set[Path]] = set()  # files a writer thread is writing
    _written: ClassVar[dict[Path, threading.Event]] = {}  # set when nothing is left to write to the file

    def __init__(self, path: Path | None) -> None:
        self.path = path

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until what was saved to this file (by any journal of this process) is written."""
        if self.path is not None:
            with self._lock:
                written = self._written.get(self.path)
            if written is not None:
                written.wait(timeout)

    def load(self) -> tuple[dict[str, dict[str, str]] | None, list[Noticed]]:
        """(the registry's aliases as last seen - model -> alias -> version - or None, the changes noticed)."""
        self.flush()
        if self.path is None:
            return None, []
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None, []
        except (OSError, ValueError, UnicodeError):
            return None, []  # unreadable: started again (it only ever held what the console noticed)
        if not isinstance(raw, dict) or raw.get("version") != VERSION:
            return None, []
        aliases = raw.get("aliases")
        seen: dict[str, dict[str, str]] | None = None
        if isinstance(aliases, dict):
            seen = {str(model): {str(a): str(v) for a, v in by_alias.items()}
                    for model, by_alias in aliases.items() if isinstance(by_alias, dict)}
        noticed: list[Noticed] = []
        for entry in raw.get("noticed") or ():
            try:
                about = entry["about"]
                key: tuple[str, ...] | str = tuple(str(k) for k in about) if isinstance(about, list) else str(about)
                at = datetime.fromisoformat(entry["at"])
                if at.tzinfo is None:
                    continue
                noticed.append((key, at, str(entry["source"]), str(entry["text"])))
            except (KeyError, TypeError, ValueError):
                continue
        return seen, noticed

    def save(self, aliases: dict[str, dict[str, str]] | None, noticed: list[Noticed]) -> None:
        """Have the file hold ``aliases`` and ``noticed`` (written soon, by the writer thread)."""
        path = self.path
        if path is None:
            return
        with self._lock:
            self._pending[path] = (self, aliases, noticed)
            if path in self._busy:
                return  # the writer takes the latest state once it is done with the one before
            self._busy.add(path)
            self._written.setdefault(path, threading.Event()).clear()
        threading.Thread(target=NoticedJournal._drain, args=(path,), name="noticed-journal").start()

    @classmethod
    def _drain(cls, path: Path) -> None:
        while True:
            with cls._lock:
                item = cls._pending.pop(path, None)
                if item is None:
                    cls._busy.discard(path)
                    cls._written[path].set()
                    return
            journal, aliases, noticed = item
            journal._write(path, aliases, noticed)

    def _write(self, path: Path, aliases: dict[str, dict[str, str]] | None, noticed: list[Noticed]) -> None:
        body: dict[str, Any] = {
            "version": VERSION, "aliases": aliases,
            "noticed": [{"about": list(about) if isinstance(about, tuple) else about, "at": at.isoformat(),
                         "source": source, "text": redact(text)} for about, at, source, text in noticed]}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".tmp")
            with private_file(tmp, "w") as f:
                json.dump(body, f, indent=1)
            tmp.replace(path)
        except OSError:
            self.path = None  # not writable here: what is noticed is kept in memory only
