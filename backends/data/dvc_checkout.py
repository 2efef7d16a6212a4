"""The ``dvc`` Data backend's checkouts: plan, save the workspace copy, check out with rollback, recover.

A checkout is ``git checkout REV -- x.dvc`` then ``dvc checkout x.dvc`` (after ``dvc fetch`` when the data is
only in the remote), all or nothing: a journal is written before the first change, and a failure, a timeout or
the console closing (``interrupt``) puts the record, its index entries and the data back as they were. A
journal left by a console that was killed is offered for recovery: finish the checkout or put the old version
back.
"""

from __future__ import annotations

import base64
import dataclasses
import os
import socket
import threading
import time
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from backends.data import (
    CheckoutPlan,
    DataDiff,
    InterruptedCheckout,
    OperationResult,
    Progress,
    ProgressCallback,
)
from backends.data.dvc_diff import diff_against
from backends.data.dvc_files import LEGACY_HASHES, Located, WrittenBytes, one_line
from backends.data.dvc_rollback import (
    dvc_temporaries,
    files_under,
    index_entries,
    journal_path,
    process_alive,
    process_start,
    read_journal,
    remove_dvc_temporaries,
    remove_journal,
    remove_strays,
    roll_back,
    snapshot,
    write_journal,
)
from backends.data.dvc_workspace import Workspace, index_locked, report
from backends.errors import BackendError, BackendTimeout, Interrupted, NotFound, Refused


class Checkouts:
    """The checkouts of one workspace: one at a time, stopped and put back when the console closes."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self._lock = threading.Lock()  # held while a checkout changes the workspace
        self._stopping = threading.Event()  # set by interrupt(): the console is going away

    # -- planning ----------------------------------------------------------------------------------------------

    def plan_checkout(self, output: str, rev: str) -> CheckoutPlan:
        plan = self._plan_checkout(output, rev)
        operation, blocker = self._checkout_blockers(self.ws.locate(output))
        return dataclasses.replace(plan, problem=blocker or plan.problem, git_operation=operation)

    def _plan_checkout(self, output: str, rev: str) -> CheckoutPlan:
        located = self.ws.locate(output)
        commit, new, problem = self.ws.entry_at(located, rev)
        root = self.ws.root
        repo = self.ws.open_repo()
        try:
            hash_name = new.hash_name if new else "md5"
            ws_md5, ws_files, ws_size = self.ws.workspace_tree(repo, root / located.output, hash_name)
        finally:
            repo.close()
        config = self.ws.config()
        cache = self.ws.cache(config)
        # changes in the workspace that no cache object holds would be lost by the checkout
        if ws_md5 is None:
            unsaved = False
        elif ws_files is not None:
            unsaved = any(not cache.has_object(m, hash_name) for m, _ in ws_files.values())
        else:
            unsaved = not cache.has_object(ws_md5, hash_name)
        dirty = self._record_dirty(located)
        try:
            recorded = self.ws.workspace_entry(located).md5
        except ValueError:
            recorded = None
        if new is None:
            diff = DataDiff(located.output, commit, False, (), problem)
            return CheckoutPlan(located.output, commit, diff, None, unsaved, dirty, ws_md5, problem, recorded)
        diff = diff_against(self.ws, located, commit, new, ws_md5, ws_files, ws_size)
        source = None
        remote = self.ws.remote(config)
        if not new.md5:
            problem = f"{located.record} records no data for {located.output} at {commit[:7]}"
        elif not new.use_cache:
            problem = f"{located.output} is not kept in the DVC cache (cache: false), so no version can be checked out"
        elif cache.has_all(new):
            source = "cache"
        else:
            remote_has = self.ws.remote_has(remote, [new])
            if remote_has and remote_has.get(new.md5):
                source = "remote"
            elif remote is None:
                problem = (f"the data of {located.output} at {commit[:7]} is not in the cache and no default "
                           "remote is set")
            elif remote_has is None:
                problem = (f"the data of {located.output} at {commit[:7]} is not in the cache and the remote "
                           f"{remote.name!r} ({remote.url}) could not be reached")
            else:
                problem = (f"the data of {located.output} at {commit[:7]} is neither in the cache nor in the "
                           f"remote {remote.name!r}")
        if problem is None and located.stage is not None:
            problem = (f"{located.output} is a stage output of {located.record[:-len('dvc.lock')]}dvc.yaml; "
                       "check out dvc.lock for the whole pipeline instead")
        return CheckoutPlan(located.output, commit, diff, source, unsaved, dirty, ws_md5, problem, recorded)

    def _record_dirty(self, located: Located) -> bool:
        proc = self.ws.git("status", "--porcelain", "--", self.ws.git_path(located.record))
        return bool(proc.stdout.strip())

    def save_workspace(self, output: str) -> OperationResult:
        self.ws.refuse_read_only("save the workspace copy of", output)
        located = self.ws.locate(output)
        abs_path = self.ws.root / located.output
        if not abs_path.exists():
            raise Refused(f"{located.output} is not in the workspace, there is nothing to save",
                          endpoint=str(self.ws.root))
        try:
            hash_name = self.ws.workspace_entry(located).hash_name or "md5"
        except ValueError:
            hash_name = "md5"
        from dvc_data.hashfile.build import build
        from dvc_data.hashfile.transfer import transfer

        repo = self.ws.open_repo()
        try:
            with repo.lock:
                odb = repo.cache.legacy if hash_name in LEGACY_HASHES else repo.cache.local
                staging, _meta, obj = build(odb, str(abs_path), repo.fs, hash_name, ignore=repo.dvcignore)
                transfer(staging, odb, {obj.hash_info}, shallow=False, hardlink=False)
                md5 = obj.hash_info.value
        except BackendError:
            raise
        except Exception as exc:
            raise BackendError(f"could not save {located.output} into the cache", endpoint=str(self.ws.root),
                               detail=one_line(str(exc))) from exc
        finally:
            repo.close()
        return OperationResult(
            located.output, "save", True,
            f"saved the workspace copy of {located.output} in the cache as md5 {md5}; to get it back, put that "
            f"md5 in {located.record} and run `dvc checkout {located.record}`",
            md5=md5,
        )

    # -- checking out, all or nothing --------------------------------------------------------------------------

    def checkout(self, output: str, rev: str, progress: ProgressCallback | None = None) -> OperationResult:
        self.ws.refuse_read_only("check out", output)
        plan = self.plan_checkout(output, rev)
        located = self.ws.locate(output)
        root = self.ws.root
        if plan.problem:
            raise Refused(f"cannot check out {located.output} at {plan.rev[:7]}: {plan.problem}",
                          endpoint=str(root), hint="nothing was changed")
        if plan.unsaved_changes:
            raise Refused(f"the workspace copy of {located.output} has changes that are not in the cache",
                          endpoint=str(root),
                          hint="save them into the cache first, or cancel; nothing was changed")
        _commit, new, _ = self.ws.entry_at(located, plan.rev)
        assert new is not None
        record_path = root / located.record
        git_record = self.ws.git_path(located.record)
        deadline = time.monotonic() + self.ws.operation_timeout
        with self._lock:
            if self._stopping.is_set():
                raise Interrupted(f"not checking out {located.output}: the console is closing", endpoint=str(root),
                                  hint="nothing was changed")
            hash_name = new.hash_name or "md5"
            old_md5, old_files = snapshot(self.ws, located, hash_name)
            backup = record_path.read_bytes() if record_path.is_file() else None
            journal = {
                "output": located.output, "record": located.record, "rev": plan.rev, "new_md5": new.md5,
                "hash_name": hash_name, "old_md5": old_md5, "old_files": old_files,
                # every file there, those DVC ignores (.dvcignore) too: a rollback removes only what is new
                "old_present": files_under(root / located.output),
                "old_temporaries": sorted(dvc_temporaries(root / located.output)),
                "old_record": None if backup is None else base64.b64encode(backup).decode(),
                "old_index": base64.b64encode(index_entries(self.ws, git_record)).decode(),
                "pid": os.getpid(), "pid_started": process_start(os.getpid()), "host": socket.gethostname(),
                "started": datetime.now().astimezone().isoformat(timespec="seconds"),
            }
            write_journal(self.ws, journal)  # before the first change, so that a killed console leaves it

            total = new.size
            if plan.diff.is_dir and plan.diff.entries and all(
                    e.new_size is not None for e in plan.diff.entries if e.change != "deleted"):
                total = sum(e.new_size or 0 for e in plan.diff.entries if e.change != "deleted")
            try:
                self.ws.git("checkout", plan.rev, "--", git_record)
                if plan.source == "remote":
                    cache = self.ws.cache()
                    fetched = self.ws.dvc("fetch", located.record, progress=progress, total=total,
                                          measure=lambda: cache.bytes_of(new), deadline=deadline,
                                          stop=self._stopping, message=f"fetching {located.output} from the remote")
                    if fetched.returncode != 0 or not cache.has_all(new):
                        raise Refused(f"could not fetch {located.output} at {plan.rev[:7]} from the remote",
                                      endpoint=str(root), detail=one_line(fetched.stderr or fetched.stdout),
                                      hint="nothing was changed")
                report(progress, Progress(0, total, "bytes", f"checking out {located.output}"))
                done = self.ws.dvc("checkout", located.record, progress=progress, total=total, deadline=deadline,
                                   stop=self._stopping, measure=WrittenBytes(root / located.output),
                                   message=f"checking out {located.output}")
                if done.returncode != 0:
                    said = done.stderr or done.stdout
                    raise BackendError(
                        f"`dvc checkout` of {located.output} failed" + (
                            ": another DVC process holds the workspace's lock (.dvc/tmp/lock)"
                            if "Unable to acquire lock" in said else ""),
                        endpoint=str(root), detail=one_line(said), hint="the workspace was put back as it was")
            except BackendTimeout as exc:
                roll_back(self.ws, located, journal, exc)
                raise BackendTimeout(
                    f"the checkout of {located.output} did not finish within {self.ws.operation_timeout:g} s; it was "
                    "stopped and the workspace was put back as it was", endpoint=str(root),
                    hint="raise `operation_timeout` in the context") from exc
            except Interrupted as exc:
                roll_back(self.ws, located, journal, exc)
                raise Interrupted(f"the checkout of {located.output} was stopped because the console is closing; "
                                  "the workspace was put back as it was", endpoint=str(root)) from exc
            except BaseException as exc:
                roll_back(self.ws, located, journal, exc)
                raise
            remove_journal(self.ws)
        report(progress, Progress(total or 0, total, "bytes", f"checked out {located.output}"))
        short = plan.rev[:7]
        changes = tuple(f"{e.change} {e.path}" for e in plan.diff.entries)
        return OperationResult(located.output, "checkout", True,
                               f"{located.output} is now the version of {short} (md5 {new.md5})",
                               md5=new.md5, details=changes)

    def operation_running(self) -> bool:
        """Whether a checkout is changing the workspace now."""
        return self._lock.locked()

    def interrupt(self) -> bool:
        """Stop a checkout under way (it is put back as it was) and refuse new ones: the console is closing.
        True when one was under way; ``wait_idle`` then waits for it to be put back."""
        self._stopping.set()
        return self._lock.locked()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no checkout is changing the workspace; False if one still is after ``timeout`` s."""
        if not self._lock.acquire(timeout=timeout):
            return False
        self._lock.release()
        return True

    # -- what stops a checkout from starting -------------------------------------------------------------------

    def _git_state(self) -> tuple[str | None, Path]:
        """(the git operation under way in the repository - "a merge", "a rebase" ... - or None, the path of
        git's index lock file)."""
        names = (("MERGE_HEAD", "a merge"), ("rebase-merge", "a rebase"), ("rebase-apply", "a rebase"),
                 ("CHERRY_PICK_HEAD", "a cherry-pick"), ("REVERT_HEAD", "a revert"), ("index.lock", ""))
        proc = self.ws.git("rev-parse", *(a for name, _ in names for a in ("--git-path", name)))
        top = self.ws.layout()[1]
        paths = [top / line for line in proc.stdout.decode("utf-8", "surrogateescape").splitlines()]
        operation = next((what for (_, what), path in zip(names[:-1], paths) if path.exists()), None)
        return operation, paths[-1]

    def _checkout_blockers(self, located: Located) -> tuple[str | None, str | None]:
        """(the git operation under way, to warn about; why no checkout may start now, or None)."""
        operation, index_lock = self._git_state()
        if index_lock.exists():
            return operation, (f"{index_locked(str(index_lock), self.ws.layout()[1]).message}; wait for it to finish "
                               "(if no git process is running, remove that file)")
        entries = index_entries(self.ws, self.ws.git_path(located.record))
        if any(e.split(b"\t", 1)[0].rsplit(b" ", 1)[-1] != b"0" for e in entries.split(b"\0") if e):
            return operation, (f"{located.record} has an unresolved merge conflict; resolve the merge first (edit "
                               f"the file and `git add` it, or abort the {(operation or 'merge')[2:]})")
        journal = read_journal(self.ws)
        if journal is not None and journal.get("broken"):
            return operation, (f"the journal of an earlier checkout ({journal_path(self.ws)}) cannot be read; look at "
                               "the workspace, then remove that file")
        if journal is not None:
            if self._journal_live(journal):
                return operation, (f"a checkout of {journal.get('output')} is under way in this workspace "
                                   f"(process {journal.get('pid')})")
            return operation, (f"an earlier checkout of {journal.get('output')} was interrupted; finish it or put "
                               "the old version back first (press r: the pane offers both)")
        return operation, None

    def _journal_live(self, journal: Mapping[str, Any]) -> bool:
        """Whether the checkout a journal describes is still running (here, or in another console)."""
        return process_alive(journal) or (journal.get("pid") == os.getpid() and self._lock.locked())

    # -- a checkout interrupted by a console that stopped (killed, power cut) ----------------------------------

    def interrupted_checkout(self) -> InterruptedCheckout | None:
        """The checkout a console was running when it stopped (killed, power cut), if its journal is here."""
        journal = read_journal(self.ws)
        if journal is None or self._journal_live(journal) or journal.get("broken"):
            return None
        return InterruptedCheckout(output=str(journal["output"]), rev=str(journal["rev"]),
                                   old_md5=journal.get("old_md5"), new_md5=journal.get("new_md5"),
                                   started=str(journal.get("started", "")))

    def recover_checkout(self, finish: bool, progress: ProgressCallback | None = None) -> OperationResult:
        """Finish the interrupted checkout (``finish``) or put the old version back, then drop its journal."""
        journal = read_journal(self.ws)
        if journal is None or journal.get("broken"):
            raise NotFound("there is no interrupted checkout to finish", endpoint=str(self.ws.root))
        self.ws.refuse_read_only("finish the interrupted checkout of" if finish else "put back", journal["output"])
        located = self.ws.locate(journal["output"])
        root = self.ws.root
        with self._lock:
            if not finish:
                repo = self.ws.open_repo()
                try:
                    with repo.lock:  # a DVC still writing there (its console was killed) must finish first
                        roll_back(self.ws, located, journal)
                except BackendError:
                    raise
                except Exception as exc:
                    raise BackendError(f"could not put {located.output} back", endpoint=str(root),
                                       detail=one_line(str(exc)),
                                       hint="try again once no DVC command runs here") from exc
                finally:
                    repo.close()
                return OperationResult(located.output, "checkout", True,
                                       f"{located.output} is back to the version it had before the interrupted "
                                       f"checkout (md5 {journal.get('old_md5')})", md5=journal.get("old_md5"))
            rev = str(journal["rev"])
            hash_name = journal.get("hash_name") or "md5"
            self.ws.git("checkout", rev, "--", self.ws.git_path(located.record))
            new = self.ws.workspace_entry(located)
            # files that belong to neither version are what the interrupted DVC was writing when it stopped
            keep = set(journal.get("old_present") or ()) | {
                rel for rel, _ in self.ws.cache().listing(new.md5, hash_name) or ()} if new.is_dir and new.md5 else None
            if keep is not None:
                remove_strays(root / located.output, keep)
            remove_dvc_temporaries(root / located.output, journal.get("old_temporaries") or ())
            done = self.ws.dvc("checkout", located.record, progress=progress, total=new.size,
                               measure=WrittenBytes(root / located.output), message=f"checking out {located.output}")
            if done.returncode != 0 or snapshot(self.ws, located, hash_name)[0] != new.md5:
                raise BackendError(f"could not finish the checkout of {located.output}", endpoint=str(root),
                                   detail=one_line(done.stderr or done.stdout),
                                   hint="try again, or put the old version back")
            remove_journal(self.ws)
        return OperationResult(located.output, "checkout", True,
                               f"{located.output} is now the version of {rev[:7]} (md5 {new.md5}): the interrupted "
                               "checkout was finished", md5=new.md5)
