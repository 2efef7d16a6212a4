"""The ``dvc`` Data backend's workspace status: what the workspace is and how each tracked output stands.

Outputs are read from the .dvc files and dvc.yaml / dvc.lock on disk; an output's workspace copy is hashed
with DVC's state database (one DVC repository opened for all of them), then compared with its record, the
cache and a local-directory remote. A cloud remote is not asked on every refresh.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from backends.data import OutputStatus, TrackedOutput, WorkspaceInfo
from backends.data.dvc_files import (
    Entry,
    Located,
    ObjectStore,
    Remote,
    norm,
    one_line,
    parse_dvc_file,
    parse_lock,
    stage_outs,
    yaml_load,
)
from backends.data.dvc_workspace import Workspace


def workspace_info(ws: Workspace) -> WorkspaceInfo:
    """Where the workspace is, its git HEAD and branch, and its default remote."""
    root = ws.root
    head = ws.git("rev-parse", "--short", "--verify", "-q", "HEAD", ok_codes=(0, 1, 128))
    branch = ws.git("symbolic-ref", "--short", "-q", "HEAD", ok_codes=(0, 1, 128))
    remote = ws.remote()
    return WorkspaceInfo(
        root=str(root),
        git_head=head.stdout.decode().strip() or None if head.returncode == 0 else None,
        branch=branch.stdout.decode().strip() or None if branch.returncode == 0 else None,
        default_remote=remote.name if remote else None,
        remote_url=remote.url if remote else None,
    )


def outputs(ws: Workspace) -> tuple[TrackedOutput, ...]:
    """Every output a .dvc file or dvc.yaml records, with its status in the workspace, cache and remote."""
    root = ws.root
    config = ws.config()
    cache = ws.cache(config)
    remote = ws.remote(config)
    remote_store = ws.remote_store(remote)
    rows: list[tuple[Located, Entry | None, str | None]] = []
    entry: Entry | None
    for path in ws.tracked_files():
        folder = path.rsplit("/", 1)[0] + "/" if "/" in path else ""
        if path.endswith(".dvc"):
            try:
                outs = parse_dvc_file((root / path).read_bytes())
            except (ValueError, OSError) as exc:
                rows.append((Located(path[:-4], path, None, path[:-4].rsplit("/", 1)[-1]), None, str(exc)))
                continue
            for out_path, entry in outs:
                rows.append((Located(norm(folder + out_path), path, None, norm(out_path)), entry, None))
        else:
            lock_rel = folder + "dvc.lock"
            try:
                outs_of_stages = stage_outs(yaml_load((root / path).read_bytes()))
            except Exception as exc:
                rows.append((Located(path, path, None, path), None, f"not a valid dvc.yaml: {one_line(str(exc))}"))
                continue
            try:
                lock = parse_lock((root / lock_rel).read_bytes()) if (root / lock_rel).is_file() else {}
                lock_error = None
            except ValueError as exc:
                lock, lock_error = {}, f"dvc.lock is malformed: {exc}"
            for stage, out_path, use_cache in outs_of_stages:
                located = Located(norm(folder + out_path), lock_rel, stage, out_path)
                entry = lock.get((stage, out_path)) or Entry(None, None, None, "md5", use_cache)
                if not use_cache:
                    entry = Entry(entry.md5, entry.size, entry.nfiles, entry.hash_name, False)
                rows.append((located, entry, lock_error))

    needs_hash = [(loc, e) for loc, e, err in rows if e is not None and err is None and e.md5
                  and (root / loc.output).exists()]
    hashes: dict[str, str | None] = {}
    if needs_hash:
        repo = ws.open_repo()
        try:
            for loc, e in needs_hash:
                try:
                    hashes[loc.output] = ws.workspace_tree(repo, root / loc.output, e.hash_name)[0]
                except Exception:
                    hashes[loc.output] = None
        finally:
            repo.close()

    result = []
    for loc, entry, error in rows:
        if entry is None or error is not None:
            result.append(TrackedOutput(path=loc.output, dvc_file=loc.record if loc.stage is None else
                                        loc.record[:-len("dvc.lock")] + "dvc.yaml",
                                        stage=loc.stage, is_dir=False, md5=None, size=None, nfiles=None,
                                        status=OutputStatus.UNKNOWN, error=error))
            continue
        status = _status(root, loc, entry, hashes, cache, remote, remote_store)
        result.append(TrackedOutput(
            path=loc.output,
            dvc_file=loc.record if loc.stage is None else loc.record[: -len("dvc.lock")] + "dvc.yaml",
            stage=loc.stage, is_dir=entry.is_dir or (root / loc.output).is_dir(),
            md5=entry.md5, size=entry.size, nfiles=entry.nfiles, status=status,
        ))
    return tuple(result)


def _status(root: Path, loc: Located, entry: Entry, hashes: Mapping[str, str | None], cache: ObjectStore,
            remote: Remote | None, remote_store: ObjectStore | None) -> OutputStatus:
    exists = (root / loc.output).exists()
    if not entry.md5:
        return OutputStatus.MODIFIED if exists else OutputStatus.UNKNOWN
    if exists:
        ws = hashes.get(loc.output)
        if ws is None:
            return OutputStatus.UNKNOWN
        if ws != entry.md5:
            return OutputStatus.MODIFIED
        if not entry.use_cache or cache.has_all(entry):
            return OutputStatus.IN_SYNC
        return OutputStatus.NOT_IN_CACHE
    if not entry.use_cache:
        return OutputStatus.MISSING
    if cache.has_all(entry):
        return OutputStatus.NOT_CHECKED_OUT
    if remote is None:
        return OutputStatus.MISSING
    if remote_store is not None:
        return OutputStatus.NOT_IN_CACHE if remote_store.has_all(entry) else OutputStatus.MISSING
    return OutputStatus.NOT_IN_CACHE  # a cloud remote is not asked on every refresh
