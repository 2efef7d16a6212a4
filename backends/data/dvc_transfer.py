"""The ``dvc`` Data backend's transfers: ``dvc pull`` and ``dvc push`` of one output to or from the default remote.

Progress is the bytes that arrived in the destination (the cache for a pull, a local-directory remote for a
push); the result names the files that moved, found by comparing the destination before and after.
"""

from __future__ import annotations

from collections.abc import Callable

from backends.data import OperationResult, Progress, ProgressCallback
from backends.data.dvc_files import Entry, ObjectStore, dvc_summary, one_line
from backends.data.dvc_workspace import Workspace, report
from backends.errors import BackendError, NotConfigured, Refused


def _needed_objects(store: ObjectStore | None, cache: ObjectStore, entry: Entry) -> list[tuple[str, str]]:
    """(label, md5) of the objects an entry needs, its files when the listing is known."""
    if not entry.md5:
        return []
    if not entry.is_dir:
        return [("", entry.md5)]
    listing = cache.listing(entry.md5, entry.hash_name)
    if listing is None and store is not None:
        listing = store.listing(entry.md5, entry.hash_name)
    return [(".dir", entry.md5)] + [(rel, m) for rel, m in listing or ()]


def transfer(ws: Workspace, action: str, output: str, progress: ProgressCallback | None) -> OperationResult:
    """``dvc pull`` (``action`` "pull") or ``dvc push`` of one output, with what it moved."""
    ws.refuse_read_only(action, output)
    located = ws.locate(output)
    root = ws.root
    config = ws.config()
    remote = ws.remote(config)
    if remote is None:
        raise NotConfigured(f"cannot {action} {located.output}: no default DVC remote", endpoint=str(root),
                            hint="add one with `dvc remote add -d NAME URL`")
    try:
        entry = ws.workspace_entry(located)
    except ValueError as exc:
        raise Refused(f"cannot {action} {located.output}: {exc}", endpoint=str(root)) from exc
    if not entry.md5:
        raise Refused(f"{located.record} records no data for {located.output} yet", endpoint=str(root),
                      hint="run `dvc add` or `dvc commit` first")
    cache = ws.cache(config)
    store = ws.remote_store(remote)
    if action == "push" and not cache.has_all(entry):
        raise Refused(f"cannot push {located.output}: its data is not (all) in the local cache",
                      endpoint=remote.url, hint="pull or check out the data first")
    dest = store if action == "push" else cache
    needed = _needed_objects(store, cache, entry)
    missing_before = {m for _, m in needed if dest is not None and not dest.has_object(m, entry.hash_name)}
    # a stage is named through its dvc.yaml: naming the output path makes DVC read every .dvc file,
    # and one malformed file elsewhere would then stop the transfer
    target = located.record if located.stage is None else \
        f"{located.record[:-len('dvc.lock')]}dvc.yaml:{located.stage}"
    if action == "pull":
        measure: Callable[[], int] = lambda: cache.bytes_of(entry)  # noqa: E731
    elif store is not None:
        measure = lambda: store.bytes_of(entry)  # noqa: E731
    else:
        measure = None  # type: ignore[assignment]
    if progress is not None:
        report(progress, Progress(0, entry.size, "bytes", f"{action} {located.output}"))
    proc = ws.dvc(action, target, progress=progress, measure=measure, total=entry.size,
                  message=f"{action} {located.output}")
    text = (proc.stdout + "\n" + proc.stderr).strip()
    if proc.returncode != 0:
        raise BackendError(f"`dvc {action}` of {located.output} failed", endpoint=remote.url,
                           detail=one_line(proc.stderr or proc.stdout),
                           hint="check the remote and try again")
    if progress is not None:
        report(progress, Progress(entry.size or 0, entry.size, "bytes", f"{action} {located.output} done"))
    summary = dvc_summary(text)
    if dest is not None and needed:
        known_before = {m for _, m in needed}
        if entry.is_dir:  # the file list may only have arrived with this pull
            needed = _needed_objects(store, cache, entry)
        moved = [(label, m) for label, m in needed
                 if (m in missing_before or m not in known_before) and dest.has_object(m, entry.hash_name)]
        details = tuple(f"{located.output}/{label}" if label and label != ".dir" else
                        (f"{located.output} (file list)" if label else located.output) for label, m in moved)
        files = sum(1 for label, _ in moved if label != ".dir")
        verb = "pulled" if action == "pull" else "pushed"
        where = "from" if action == "pull" else "to"
        message = (f"{verb} {files} file{'s' if files != 1 else ''} of {located.output} {where} {remote.name}"
                   if moved else f"{located.output}: everything was already up to date")
    else:
        details = ()
        message = f"{action} of {located.output}: {summary or 'done'}"
    return OperationResult(located.output, action, True, message, md5=entry.md5, details=details)
