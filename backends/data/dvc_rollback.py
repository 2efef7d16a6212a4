"""What a checkout of the ``dvc`` Data backend needs to be undone: its journal, the git index entries of the
record, and the workspace copy of the data, put back from the cache.

The journal (in .dvc/tmp, which DVC keeps out of git) is written before the first change and removed when the
checkout is done or put back, so a console that was killed leaves it for the next start to offer recovery.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import socket
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from backends.data.dvc_files import NULL_SHA, Located, one_line
from backends.data.dvc_workspace import Workspace
from backends.errors import BackendError

JOURNAL = "mlops-console-checkout.json"  # in .dvc/tmp, which DVC keeps out of git


# -- the journal -----------------------------------------------------------------------------------------------


def journal_path(ws: Workspace) -> Path:
    return ws.root / ".dvc" / "tmp" / JOURNAL


def write_journal(ws: Workspace, journal: Mapping[str, Any]) -> None:
    """Write the journal whole or not at all (a temporary file renamed over it, removed on failure)."""
    path = journal_path(ws)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{JOURNAL}.tmp")  # one name: a console killed while writing leaves at most one
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(journal, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise BackendError("could not write the checkout journal, so the checkout did not start",
                           endpoint=str(path), detail=one_line(str(exc)), hint="nothing was changed") from exc


def read_journal(ws: Workspace) -> dict[str, Any] | None:
    try:
        journal = json.loads(journal_path(ws).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {"output": "?", "broken": True}
    return journal if isinstance(journal, dict) else {"output": "?", "broken": True}


def remove_journal(ws: Workspace) -> None:
    journal_path(ws).unlink(missing_ok=True)


def process_alive(journal: Mapping[str, Any]) -> bool:
    """Whether another console that wrote a journal still runs (then its checkout is not interrupted)."""
    pid = journal.get("pid")
    if journal.get("host") != socket.gethostname() or not isinstance(pid, int) or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    started = journal.get("pid_started")
    return started is None or process_start(pid) in (None, started)  # not a new process with the same id


def process_start(pid: int) -> str | None:
    """When a process started (clock ticks since boot), where the system says: tells a reused pid apart."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else None


# -- the record's entries in git's index -----------------------------------------------------------------------


def index_entries(ws: Workspace, git_record: str) -> bytes:
    """The path's entries in git's index as ``ls-files -s -z`` gives them: every stage of a conflict."""
    return ws.git("ls-files", "-s", "-z", "--", git_record).stdout


def restore_index(ws: Workspace, git_record: str, entries: bytes) -> None:
    """Put the path's index entries back exactly, conflict stages included (a mode-0 line drops what
    is there now; git takes higher stages only for a path that has no entry)."""
    if index_entries(ws, git_record) == entries:
        return
    info = f"0 {NULL_SHA}\t{git_record}\0".encode() + entries
    ws.git("update-index", "-z", "--index-info", input=info)


# -- the workspace copy ----------------------------------------------------------------------------------------


def snapshot(ws: Workspace, located: Located, hash_name: str) -> tuple[str | None, dict[str, str] | None]:
    """(md5, {relpath: md5} for a directory) of the workspace copy, to put it back after a failure."""
    repo = ws.open_repo()
    try:
        md5, files, _size = ws.workspace_tree(repo, ws.root / located.output, hash_name)
    finally:
        repo.close()
    return md5, ({rel: m for rel, (m, _s) in files.items()} if files is not None else None)


def put_back(ws: Workspace, located: Located, saved: tuple[str | None, dict[str, str] | None], hash_name: str,
             present: set[str] | None = None) -> None:
    """After a failed checkout: bring the workspace copy back, from the cache, to what it was.

    Every file of it is in the cache (a checkout with unsaved changes is refused before it starts).
    ``present``: every file that was under the output's folder before, those DVC ignores included.
    """
    md5, files = saved
    target = ws.root / located.output
    if md5 is None:  # there was nothing: whatever the checkout wrote goes
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)
        return
    if files is not None:
        remove_strays(target, set(files) | (present or set()))  # DVC's temporary files too
    if snapshot(ws, located, hash_name)[0] == md5:
        return
    cache = ws.cache()

    def put(dest: Path, oid: str) -> None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.restore.tmp")
        try:
            shutil.copyfile(cache.object_path(oid, hash_name), tmp)
            os.replace(tmp, dest)
        finally:
            tmp.unlink(missing_ok=True)

    if files is None:
        if target.is_dir():
            shutil.rmtree(target)
        put(target, md5)
        return
    if target.exists() and not target.is_dir():
        target.unlink()
    now = snapshot(ws, located, hash_name)[1] or {}
    for rel in set(now) - set(files):
        (target / rel).unlink(missing_ok=True)
    for rel, oid in files.items():
        if now.get(rel) != oid:
            put(target / rel, oid)


def files_under(target: Path) -> list[str]:
    """Relative paths of every file under directory ``target`` ([] when it is not a directory)."""
    if not target.is_dir() or target.is_symlink():
        return []
    return [(Path(folder) / name).relative_to(target).as_posix() for folder, _dirs, names in os.walk(target)
            for name in names]


def remove_strays(target: Path, keep: set[str]) -> None:
    """Delete the files under directory ``target`` whose relative path is not in ``keep``, then the
    folders that are left empty."""
    if not target.is_dir() or target.is_symlink():
        return
    for folder, _dirs, names in os.walk(target, topdown=False):
        base = Path(folder)
        for name in names:
            path = base / name
            if path.relative_to(target).as_posix() not in keep:
                path.unlink(missing_ok=True)
        if base != target and not any(base.iterdir()):
            base.rmdir()


# what DVC copies a file into before renaming it: secrets.token_urlsafe(16), 22 characters of [0-9A-Za-z_-]
_DVC_TEMPORARY = re.compile(r"\.[0-9A-Za-z_-]{22}\.tmp")


def dvc_temporaries(output: Path) -> set[str]:
    """Names of DVC's temporary files beside a file output (a directory output's are inside it)."""
    try:
        return {p.name for p in output.parent.iterdir() if _DVC_TEMPORARY.fullmatch(p.name) and p.is_file()}
    except OSError:
        return set()


def remove_dvc_temporaries(output: Path, keep: Iterable[str]) -> None:
    """Remove the temporary files an interrupted DVC left beside a file output (not those there before)."""
    for name in dvc_temporaries(output) - set(keep):
        (output.parent / name).unlink(missing_ok=True)


# -- putting it all back ---------------------------------------------------------------------------------------


def roll_back(ws: Workspace, located: Located, journal: Mapping[str, Any], cause: BaseException | None = None) -> None:
    """Put the .dvc file, its index entries (every stage) and the data back as the journal says they
    were, then remove the journal. When a step fails, the journal stays for the next start to offer."""
    record_path = ws.root / located.record
    git_record = ws.git_path(located.record)
    old = journal.get("old_record")
    if old is None:
        record_path.unlink(missing_ok=True)
    else:
        record_path.write_bytes(base64.b64decode(old))
    failures: list[str] = []
    try:
        restore_index(ws, git_record, base64.b64decode(journal.get("old_index") or ""))
    except BackendError as exc:
        failures.append(f"its git index entry: {exc.message}")
    try:
        put_back(ws, located, (journal.get("old_md5"), journal.get("old_files")),
                 journal.get("hash_name") or "md5", set(journal.get("old_present") or ()))
        remove_dvc_temporaries(ws.root / located.output, journal.get("old_temporaries") or ())
    except Exception as exc:  # noqa: BLE001 - said in the message, the journal stays
        failures.append(f"its data: {one_line(str(exc))}")
    if failures:
        what = "checking out" if cause is not None else "putting back the interrupted checkout of"
        raise BackendError(
            f"{what} {located.output} failed, and these could not be put back: {'; '.join(failures)}",
            endpoint=str(ws.root),
            hint=f"{located.record} is restored; press r when that is sorted out: the pane offers to finish "
                 "putting it back") from cause
    remove_journal(ws)
