"""The ``dvc`` Data backend's diff: the workspace copy of an output against its version at a commit.

A directory is compared file by file through its ``.dir`` listing, from the cache or else from a
local-directory remote; without a listing, only the whole output is said to change.
"""

from __future__ import annotations

from backends.data import DataDiff, DiffEntry
from backends.data.dvc_files import Entry, Located
from backends.data.dvc_workspace import Workspace


def diff(ws: Workspace, output: str, rev: str) -> DataDiff:
    """What checking out ``rev`` would change in the workspace copy of ``output``."""
    located = ws.locate(output)
    commit, new, problem = ws.entry_at(located, rev)
    if new is None:
        return DataDiff(output=located.output, rev=commit, is_dir=False, entries=(), note=problem)
    repo = ws.open_repo()
    try:
        ws_md5, ws_files, ws_size = ws.workspace_tree(repo, ws.root / located.output, new.hash_name)
    finally:
        repo.close()
    return diff_against(ws, located, commit, new, ws_md5, ws_files, ws_size)


def diff_against(ws: Workspace, located: Located, commit: str, new: Entry, ws_md5: str | None,
                 ws_files: dict[str, tuple[str, int | None]] | None, ws_size: int | None) -> DataDiff:
    """The diff from the workspace copy, already hashed (``Workspace.workspace_tree``), to ``new`` at ``commit``."""
    out = located.output
    if not new.is_dir:
        if ws_md5 == new.md5:
            entries: tuple[DiffEntry, ...] = ()
        elif ws_md5 is None:
            entries = (DiffEntry(out, "added", None, new.md5, None, new.size),)
        else:
            entries = (DiffEntry(out, "modified", ws_md5, new.md5, ws_size, new.size),)
        return DataDiff(output=out, rev=commit, is_dir=ws_files is not None, entries=entries)

    config = ws.config()
    cache = ws.cache(config)
    listing = cache.listing(new.md5, new.hash_name)  # type: ignore[arg-type]
    sizes_from = cache
    note = None
    if listing is None:
        remote_store = ws.remote_store(ws.remote(config))
        listing = remote_store.listing(new.md5, new.hash_name) if remote_store else None  # type: ignore[arg-type]
        if listing is not None and remote_store is not None:
            sizes_from = remote_store
            note = "the file list of this version comes from the remote (its data is not in the cache)"
    if listing is None:
        if ws_md5 == new.md5:
            return DataDiff(out, commit, True, ())
        note = ("the file list of this version is not available locally (pull it to see the files)")
        change = "added" if ws_md5 is None else "modified"
        return DataDiff(out, commit, True, (DiffEntry(out, change, ws_md5, new.md5, ws_size, new.size),), note)
    new_files = {rel: (m, sizes_from.size_of(m, new.hash_name)) for rel, m in listing}
    old_files = ws_files or {}
    entries_list = []
    for rel in sorted(set(new_files) | set(old_files)):
        old, nw = old_files.get(rel), new_files.get(rel)
        path = f"{out}/{rel}"
        if old is None and nw is not None:
            entries_list.append(DiffEntry(path, "added", None, nw[0], None, nw[1]))
        elif nw is None and old is not None:
            entries_list.append(DiffEntry(path, "deleted", old[0], None, old[1], None))
        elif old is not None and nw is not None and old[0] != nw[0]:
            entries_list.append(DiffEntry(path, "modified", old[0], nw[0], old[1], nw[1]))
    return DataDiff(out, commit, True, tuple(entries_list), note)
