"""Checkout at the edges, on real git + DVC workspaces: merge conflicts, git's index lock, DVC's lock,
timeouts, the journal of a checkout under way and its recovery."""

from __future__ import annotations

import os
import threading
import time

import pytest

from backends.data.dvc import JOURNAL, DvcDatasets
from backends.data.dvc_rollback import index_entries, restore_index
from backends.errors import BackendError, BackendTimeout, Refused

V1 = b"version1\n"
V2 = b"version2 is longer\n"


def journal_of(ws):
    return ws.ws / ".dvc" / "tmp" / JOURNAL


# -- a merge in progress -------------------------------------------------------------------------------------


def test_a_conflicted_dvc_file_is_refused_and_the_merge_can_still_be_aborted(merge_conflict):
    ws = merge_conflict
    before = ws.snapshot()
    stages = ws.git("ls-files", "-s", "--", "data/demo.txt.dvc").stdout
    assert len(stages.splitlines()) == 3  # base, ours, theirs
    backend = ws.backend()
    plan = backend.plan_checkout("data/demo.txt", "HEAD~1")
    assert plan.git_operation == "a merge"
    assert "data/demo.txt.dvc has an unresolved merge conflict" in plan.problem
    assert "resolve the merge first" in plan.problem
    with pytest.raises(Refused, match="unresolved merge conflict") as refused:
        backend.checkout("data/demo.txt", "HEAD~1")
    assert "nothing was changed" in str(refused.value)
    assert ws.snapshot() == before
    ws.git("merge", "--abort")
    assert ws.git("status", "--porcelain").stdout == ""


def test_a_failed_checkout_during_a_merge_puts_every_index_stage_back(merge_conflict):
    """data/images is checked out while the merge waits: DVC's lock is held by another process, so
    `dvc checkout` fails after `git checkout` changed the index; the rollback puts it all back."""
    from tests.dvc.conftest import DvcLockHolder

    ws = merge_conflict
    before = ws.snapshot()
    index_before = ws.git("ls-files", "-s").stdout
    backend = ws.backend()
    plan = backend.plan_checkout("data/images", "HEAD~6")
    assert plan.problem is None and plan.git_operation == "a merge"
    holder = DvcLockHolder(ws.ws)
    try:
        with pytest.raises(BackendError, match="another DVC process holds the workspace's lock") as failed:
            backend.checkout("data/images", "HEAD~6")
    finally:
        holder.release()
    assert "put back as it was" in str(failed.value)
    assert ws.git("ls-files", "-s").stdout == index_before
    assert ws.snapshot() == before
    assert not journal_of(ws).exists()
    ws.git("merge", "--abort")
    assert ws.git("status", "--porcelain").stdout == ""


def test_the_rollback_restores_all_three_stages_of_a_conflict_exactly(merge_conflict):
    """The index entries of an unmerged path are put back stage by stage, not as one stage-0 entry."""
    ws = merge_conflict
    backend = ws.backend()
    index_before = ws.git("ls-files", "-s").stdout
    saved = index_entries(backend.ws, "data/demo.txt.dvc")
    ws.git("checkout", "HEAD~1", "--", "data/demo.txt.dvc")  # what a checkout's first step does to it
    assert ws.git("ls-files", "-s").stdout != index_before
    restore_index(backend.ws, "data/demo.txt.dvc", saved)
    assert ws.git("ls-files", "-s").stdout == index_before
    assert "UU data/demo.txt.dvc" in ws.git("status", "--porcelain").stdout
    assert ws.git("commit", "-q", "-m", "x", check=False).returncode != 0  # git still sees the conflict
    ws.git("merge", "--abort")
    assert ws.git("status", "--porcelain").stdout == ""


def test_a_rebase_under_way_is_reported(seed_repo):
    ws = seed_repo
    ws.git("checkout", "-q", "-b", "topic", "HEAD~2")  # before main's "more labels"
    ws.write("data/labels.csv.dvc", "outs: []\n")
    ws.git("commit", "-q", "-am", "note on labels")
    assert ws.git("rebase", "main", check=False).returncode != 0
    plan = ws.backend().plan_checkout("data/images", "HEAD~1")
    assert plan.git_operation == "a rebase"
    ws.git("rebase", "--abort")


# -- git's index lock and timeouts -------------------------------------------------------------------------


def test_a_held_git_index_lock_is_named_and_nothing_changes(seed_repo):
    ws = seed_repo
    lock = ws.ws / ".git" / "index.lock"
    lock.write_bytes(b"")
    before = ws.snapshot()
    backend = ws.backend()
    with pytest.raises(Refused) as refused:
        backend.checkout("data/demo.txt", "HEAD~8")
    text = str(refused.value)
    assert f"another git process holds the index ({lock} exists)" in text
    assert "put back" not in text and "nothing was changed" in text
    assert ws.snapshot() == before
    # a lock taken after the plan (between two git commands) is named the same way
    with pytest.raises(Refused, match="another git process holds the index") as late:
        restore_index(backend.ws, "data/demo.txt.dvc", b"")
    assert str(lock) in str(late.value)
    lock.unlink()
    assert backend.checkout("data/demo.txt", "HEAD~8").ok


def test_a_checkout_past_operation_timeout_says_so_in_words(seed_repo):
    before = seed_repo.snapshot()
    backend = DvcDatasets.from_settings({"repo": str(seed_repo.ws), "operation_timeout": 0.05})
    with pytest.raises(BackendTimeout) as timed_out:
        backend.checkout("data/images", "HEAD~5")
    assert str(timed_out.value).startswith(
        "the checkout of data/images did not finish within 0.05 s; it was stopped and the workspace was put back")
    assert "raise `operation_timeout`" in str(timed_out.value)
    assert seed_repo.snapshot() == before
    assert not journal_of(seed_repo).exists()


def test_a_rollback_keeps_files_that_dvc_ignores(seed_repo):
    """A file in the output's folder that .dvcignore hides from DVC is the user's: a rollback leaves it."""
    ws = seed_repo
    ws.write(".dvcignore", "notes.txt\n")
    ws.write("data/images/notes.txt", "my notes, not data\n")
    before = ws.snapshot()
    backend = DvcDatasets.from_settings({"repo": str(ws.ws), "operation_timeout": 0.05})
    with pytest.raises(BackendTimeout):
        backend.checkout("data/images", "HEAD~5")
    assert ws.read("data/images/notes.txt") == b"my notes, not data\n"
    assert ws.snapshot() == before


def test_an_index_lock_taken_half_way_is_named_and_the_journal_puts_things_back(seed_repo):
    """git's index lock appears after `git checkout` changed the index, while `dvc checkout` waits for DVC's
    lock and then fails: the index entry cannot be put back, the message says why and names the file, and
    the journal stays so that it can be put back once the lock is gone."""
    from tests.dvc.conftest import DvcLockHolder

    ws = seed_repo
    before = ws.snapshot()
    entry_before = ws.git("ls-files", "-s", "--", "data/images.dvc").stdout
    holder = DvcLockHolder(ws.ws)
    backend = ws.backend()
    outcome: list[BaseException] = []

    def check_out() -> None:
        try:
            backend.checkout("data/images", "HEAD~5")
        except BaseException as exc:  # noqa: BLE001 - looked at below
            outcome.append(exc)

    worker = threading.Thread(target=check_out)
    worker.start()
    lock = ws.ws / ".git" / "index.lock"
    try:
        deadline = time.monotonic() + 60
        while ws.git("ls-files", "-s", "--", "data/images.dvc").stdout == entry_before:
            assert time.monotonic() < deadline and worker.is_alive(), outcome
            time.sleep(0.02)
        os.close(os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY))  # git itself is done with it by now
        worker.join(120)
    finally:
        holder.release()
    [error] = outcome
    text = str(error)
    assert f"its git index entry: another git process holds the index ({lock} exists)" in text
    assert "failed too" not in text
    assert journal_of(ws).is_file()
    assert ws.read("data/images.dvc") == before["data/images.dvc"]  # the file and the data are back already
    lock.unlink()
    result = backend.recover_checkout(finish=False)
    assert result.ok
    assert ws.snapshot() == before
    assert not journal_of(ws).exists()
