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
from typing import Any
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
    """Reads and rewrites one context's file of noticed changes and the aliases last seen."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()

    def load(self) -> tuple[dict[str, dict[str, str]] | None, list[Noticed]]:
        """(the registry's aliases as last seen - model -> alias -> version - or None, the changes noticed)."""
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
        if self.path is None:
            return
        body: dict[str, Any] = {
            "version": VERSION, "aliases": aliases,
            "noticed": [{"about": list(about) if isinstance(about, tuple) else about, "at": at.isoformat(),
                         "source": source, "text": redact(text)} for about, at, source, text in noticed]}
        with self._lock:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                tmp = self.path.with_name(self.path.name + ".tmp")
                with private_file(tmp, "w") as f:
                    json.dump(body, f, indent=1)
                tmp.replace(self.path)
            except OSError:
                self.path = None  # not writable here: what is noticed is kept in memory only
