"""Reading what DVC writes, without importing DVC: .dvc files, dvc.yaml / dvc.lock, config, object folders."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

NULL_SHA = "0" * 40
LEGACY_HASHES = ("md5-dos2unix", "")


# ----------------------------------------------------------------------------------------------------------
# .dvc files, dvc.yaml, dvc.lock and config


def yaml_load(data: bytes | str) -> Any:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(data, Loader=loader)  # noqa: S506 - a safe loader


@dataclass(frozen=True)
class Entry:
    """One output as recorded in a .dvc file or dvc.lock."""

    md5: str | None
    size: int | None
    nfiles: int | None
    hash_name: str  # "md5", or "" / "md5-dos2unix" for files written by DVC 2
    use_cache: bool = True

    @property
    def is_dir(self) -> bool:
        return bool(self.md5 and self.md5.endswith(".dir"))


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def entry_from(out: Mapping[str, Any]) -> Entry:
    md5 = out.get("md5")
    if md5 is not None and not isinstance(md5, str):
        raise ValueError(f"md5 is not a string: {md5!r}")
    hash_name = out.get("hash", "")
    return Entry(
        md5=md5,
        size=_int_or_none(out.get("size")),
        nfiles=_int_or_none(out.get("nfiles")),
        hash_name=hash_name if isinstance(hash_name, str) else "",
        use_cache=out.get("cache", True) is not False,
    )


_BOOL_WORDS = frozenset({"yes", "no", "true", "false", "on", "off", "null"})
_BOOL_WORDS_B = frozenset(w.encode() for w in _BOOL_WORDS)
_NOT_SIMPLE = object()
_SIMPLE_LINE = re.compile(r"(- |  )([A-Za-z_][A-Za-z0-9_]*): ([A-Za-z0-9_./-]+)\n")
_MD5 = re.compile(r"[0-9a-f]{32}(?:\.dir)?")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_./-]*")


def _plain_scalar(value: str) -> Any:
    """The value YAML would give a plain scalar, for the few shapes .dvc files use; _NOT_SIMPLE otherwise."""
    if value.isdigit():
        return int(value) if value == "0" or value[0] != "0" else _NOT_SIMPLE
    if _MD5.fullmatch(value) or (_WORD.fullmatch(value) and value.lower() not in _BOOL_WORDS):
        return value  # an md5 with a letter in it, or a word: never a number or a bool in YAML
    return _NOT_SIMPLE


def _fast_dvc_outs(text: str) -> list[dict[str, Any]] | None:
    """The ``outs`` of a .dvc file written by DVC in its usual shape, without a YAML parser; None otherwise."""
    if not text.startswith("outs:\n"):
        return None
    outs: list[dict[str, Any]] = []
    pos = 6
    for match in _SIMPLE_LINE.finditer(text, 6):
        if match.start() != pos:
            return None
        pos = match.end()
        lead, key, value = match.groups()
        if lead == "- ":
            outs.append({})
        elif not outs or key in outs[-1]:
            return None
        scalar = _plain_scalar(value)
        if scalar is _NOT_SIMPLE:
            return None
        outs[-1][key] = scalar
    if pos != len(text) or not outs:
        return None
    return outs


# the exact shape `dvc add` writes for one output: parsed with one regex (same result as YAML for these values)
_DVC_ADD_SHAPE = re.compile(
    rb"outs:\n- md5: ((?=[0-9a-f]*[a-f])[0-9a-f]{32}(?:\.dir)?)\n  size: (0|[1-9][0-9]*)\n"
    rb"(?:  nfiles: (0|[1-9][0-9]*)\n)?  hash: md5\n  path: ([A-Za-z][A-Za-z0-9_./-]*)\n")


def parse_dvc_file(data: bytes | str) -> list[tuple[str, Entry]]:
    """The outs of a .dvc file as (path relative to the .dvc file's folder, entry); ValueError when malformed."""
    if isinstance(data, bytes):
        m = _DVC_ADD_SHAPE.fullmatch(data)
        if m is not None and m.group(4).lower() not in _BOOL_WORDS_B:
            nfiles = m.group(3)
            return [(m.group(4).decode(), Entry(m.group(1).decode(), int(m.group(2)),
                                                 int(nfiles) if nfiles is not None else None, "md5"))]
    try:
        fast = _fast_dvc_outs(data.decode("utf-8") if isinstance(data, bytes) else data)
    except UnicodeDecodeError:
        fast = None
    if fast is not None and all(isinstance(out.get("path"), str) for out in fast):
        return [(out["path"], entry_from(out)) for out in fast]
    return _parse_dvc_file_yaml(data)


def _parse_dvc_file_yaml(data: bytes | str) -> list[tuple[str, Entry]]:
    try:
        doc = yaml_load(data)
    except Exception as exc:  # yaml.YAMLError and decoding errors
        raise ValueError(f"not valid YAML: {one_line(str(exc))}") from exc
    if not isinstance(doc, dict):
        raise ValueError("not a mapping with an 'outs' list")
    outs = doc.get("outs")
    if not isinstance(outs, list) or not outs:
        raise ValueError("no 'outs' list")
    result = []
    for out in outs:
        if not isinstance(out, dict) or not isinstance(out.get("path"), str):
            raise ValueError("an entry of 'outs' has no 'path'")
        result.append((out["path"], entry_from(out)))
    return result


def parse_lock(data: bytes | str) -> dict[tuple[str, str], Entry]:
    """{(stage, out path relative to the lock's folder): entry} of a dvc.lock; ValueError when malformed."""
    try:
        doc = yaml_load(data)
    except Exception as exc:
        raise ValueError(f"not valid YAML: {one_line(str(exc))}") from exc
    if not isinstance(doc, dict):
        raise ValueError("not a mapping")
    stages = doc.get("stages", {})
    if not isinstance(stages, dict):
        raise ValueError("'stages' is not a mapping")
    found: dict[tuple[str, str], Entry] = {}
    for name, stage in stages.items():
        if not isinstance(stage, dict):
            continue
        for out in stage.get("outs") or ():
            if isinstance(out, dict) and isinstance(out.get("path"), str):
                found[(str(name), out["path"])] = entry_from(out)
    return found


def stage_outs(doc: Any) -> list[tuple[str, str, bool]]:
    """(stage name, out path, use_cache) of the stages of a dvc.yaml document."""
    result = []
    if not isinstance(doc, dict) or not isinstance(doc.get("stages"), dict):
        raise ValueError("no 'stages' mapping")
    for name, stage in doc["stages"].items():
        if not isinstance(stage, dict) or "foreach" in stage or "matrix" in stage:
            continue
        for out in stage.get("outs") or ():
            if isinstance(out, str):
                path, use_cache = out, True
            elif isinstance(out, dict) and len(out) == 1:
                path, opts = next(iter(out.items()))
                use_cache = not (isinstance(opts, dict) and opts.get("cache") is False)
            else:
                continue
            if isinstance(path, str) and "${" not in path:
                result.append((str(name), path, use_cache))
    return result


def read_dvc_config(path: Path) -> dict[str, dict[str, str]]:
    """A DVC config file (configobj syntax) as {section: {key: value}}; section names unquoted."""
    sections: dict[str, dict[str, str]] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return sections
    current: dict[str, str] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            name = line[1:-1].strip()
            if len(name) >= 2 and name[0] == name[-1] and name[0] in "'\"":
                name = name[1:-1]
            current = sections.setdefault(name, {})
        elif "=" in line and current is not None:
            key, _, value = line.partition("=")
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            current[key.strip()] = value
    return sections


def one_line(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


_DEFAULT_PORTS = {"http": 80, "https": 443, "webdav": 80, "webdavs": 443, "ssh": 22, "sftp": 22}


def host_reachable(url: str, timeout: float) -> bool:
    """False when a remote with a server of its own (http, webdav, ssh) does not accept connections."""
    import socket

    parts = urlsplit(url)
    port = _DEFAULT_PORTS.get(parts.scheme)
    if port is None or not parts.hostname:
        return True  # object stores (s3, gs, azure...): leave it to DVC's client
    try:
        with socket.create_connection((parts.hostname, parts.port or port), timeout=min(timeout, 5.0)):
            return True
    except OSError:
        return False


def git_blob_sha(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()  # noqa: S324 - git's object id


def _files_under(target: Path) -> Iterable[os.DirEntry[str]]:
    """The file ``target`` and its temporary siblings, or every file under the directory ``target``."""
    try:
        if target.is_dir():
            stack = [str(target)]
            while stack:
                with os.scandir(stack.pop()) as entries:
                    for entry in entries:
                        if entry.is_dir(follow_symlinks=False):
                            stack.append(entry.path)
                        elif entry.is_file(follow_symlinks=False):
                            yield entry
        else:
            with os.scandir(target.parent) as entries:
                for entry in entries:
                    if entry.name.startswith(target.name) and entry.is_file(follow_symlinks=False):
                        yield entry
    except OSError:
        return


class WrittenBytes:
    """Bytes written under a target since this object was made: files whose inode or mtime changed."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.before = set()
        for entry in _files_under(target):
            try:
                st = entry.stat(follow_symlinks=False)
                self.before.add((entry.path, st.st_ino, st.st_mtime_ns))
            except OSError:
                pass

    def __call__(self) -> int:
        total = 0
        for entry in _files_under(self.target):
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if (entry.path, st.st_ino, st.st_mtime_ns) not in self.before:
                total += st.st_size
        return total


# ----------------------------------------------------------------------------------------------------------
# object stores: the local cache and a local-directory remote share the DVC 3 layout


class ObjectStore:
    """Presence checks against a DVC object directory (``files/md5/xx/rest``, legacy ``xx/rest``)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._base = str(root / "files" / "md5")
        self._legacy_base = str(root)
        self._known: dict[tuple[str, str], bool] = {}

    def object_path(self, md5: str, hash_name: str = "md5") -> Path:
        base = self.root if hash_name in LEGACY_HASHES else self.root / "files" / "md5"
        return base / md5[:2] / md5[2:]

    def has_object(self, md5: str, hash_name: str = "md5") -> bool:
        base = self._legacy_base if hash_name in LEGACY_HASHES else self._base
        return os.path.isfile(f"{base}/{md5[:2]}/{md5[2:]}")

    def listing(self, md5: str, hash_name: str = "md5") -> list[tuple[str, str]] | None:
        """[(relpath, md5)] of a ``.dir`` object, None when it is not here or unreadable."""
        try:
            doc = json.loads(self.object_path(md5, hash_name).read_bytes())
        except (OSError, ValueError):
            return None
        if not isinstance(doc, list):
            return None
        return [(e["relpath"], e["md5"]) for e in doc if isinstance(e, dict) and "relpath" in e and "md5" in e]

    def has_all(self, entry: Entry) -> bool:
        """The object and, for a directory, its listing and every file in it."""
        if not entry.md5:
            return False
        key = (entry.md5, entry.hash_name)
        known = self._known.get(key)
        if known is None:
            if not entry.is_dir:
                known = self.has_object(entry.md5, entry.hash_name)
            else:
                files = self.listing(entry.md5, entry.hash_name)
                known = files is not None and all(self.has_object(m, entry.hash_name) for _, m in files)
            self._known[key] = known
        return known

    def size_of(self, md5: str, hash_name: str = "md5") -> int | None:
        try:
            return self.object_path(md5, hash_name).stat().st_size
        except OSError:
            return None

    def bytes_of(self, entry: Entry) -> int:
        """Bytes of the entry's data held here: its object, or the files of a directory whose listing is here."""
        if not entry.md5:
            return 0
        if not entry.is_dir:
            return self.size_of(entry.md5, entry.hash_name) or 0
        listing = self.listing(entry.md5, entry.hash_name) or []
        return sum(self.size_of(m, entry.hash_name) or 0 for _, m in listing)


@dataclass(frozen=True)
class Remote:
    name: str
    url: str  # as configured, resolved when local
    local_path: Path | None  # a local-directory remote


@dataclass(frozen=True)
class Located:
    """Where an output is recorded."""

    output: str  # path relative to the DVC root, "/"-separated
    record: str  # the .dvc file or dvc.lock, relative to the DVC root
    stage: str | None  # the dvc.yaml stage
    key: str  # the out's path as written in the record (relative to the record's folder)


def norm(path: str) -> str:
    return os.path.normpath(path).replace(os.sep, "/")


def drop_unchanged(rows: list[Any]) -> list[Any]:
    """For dvc.lock: keep only the commits where this out's entry changed (rows are newest first)."""
    kept = []
    for i, row in enumerate(rows):
        older = rows[i + 1] if i + 1 < len(rows) else None
        if older is not None and row[1] is not None and older[1] is not None and row[1] == older[1]:
            continue
        if older is not None and row[1] is None and older[1] is None and row[2] == older[2] and not row[3]:
            continue
        kept.append(row)
    return kept


def dvc_summary(text: str) -> str:
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line and not line.startswith(("!", "\r")):
            return one_line(line, 120)
    return ""
