"""Checkout at the edges, on real git + DVC workspaces: merge conflicts, git's index lock, DVC's lock,
timeouts, the journal of a checkout under way and its recovery."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from backends.dvc_backend import JOURNAL, DvcDatasets
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
    saved = backend._index_entries("data/demo.txt.dvc")
    ws.git("checkout", "HEAD~1", "--", "data/demo.txt.dvc")  # what a checkout's first step does to it
    assert ws.git("ls-files", "-s").stdout != index_before
    backend._restore_index("data/demo.txt.dvc", saved)
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
        backend._restore_index("data/demo.txt.dvc", b"")
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
