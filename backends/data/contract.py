"""The Data pane's backend Protocol: DVC-tracked outputs and their versions in git."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Protocol, runtime_checkable


class OutputStatus(str, Enum):
    """Workspace status of one tracked output, as a person would say it."""

    IN_SYNC = "in sync"
    MODIFIED = "modified"
    NOT_CHECKED_OUT = "not checked out"
    NOT_IN_CACHE = "missing from cache"
    MISSING = "missing everywhere"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class WorkspaceInfo:
    root: str
    git_head: str | None  # short hash of HEAD, None before the first commit
    branch: str | None
    default_remote: str | None  # remote name
    remote_url: str | None  # never carries credentials


@dataclass(frozen=True)
class TrackedOutput:
    path: str  # relative to the workspace root, e.g. "data/demo.txt"
    dvc_file: str  # "data/demo.txt.dvc" or "dvc.yaml"
    stage: str | None  # dvc.yaml stage name, None for a .dvc file
    is_dir: bool
    md5: str | None  # recorded in the .dvc file / dvc.lock
    size: int | None  # bytes
    nfiles: int | None  # for a directory
    status: OutputStatus
    error: str | None = None  # the .dvc file could not be read


@dataclass(frozen=True)
class DataVersion:
    rev: str  # full commit hash
    short: str
    date: datetime
    author: str
    message: str
    md5: str | None
    size: int | None
    nfiles: int | None
    is_current: bool  # the version the workspace .dvc file points at now
    in_cache: bool | None  # None: not known (malformed, deleted)
    in_remote: bool | None  # None: no default remote
    error: str | None = None  # the .dvc file is malformed at this commit
    deleted: bool = False  # this commit removed the .dvc file


@dataclass(frozen=True)
class DiffEntry:
    path: str  # file inside a directory output, or the output itself
    change: str  # "added" | "modified" | "deleted"
    old_md5: str | None = None
    new_md5: str | None = None
    old_size: int | None = None
    new_size: int | None = None


@dataclass(frozen=True)
class DataDiff:
    """What checking ``rev`` out would change, relative to the workspace ("old" = workspace, "new" = rev)."""

    output: str
    rev: str
    is_dir: bool
    entries: tuple[DiffEntry, ...]
    note: str | None = None  # e.g. "the selected version's listing is not in the cache"


@dataclass(frozen=True)
class CheckoutPlan:
    output: str
    rev: str
    diff: DataDiff
    source: str | None  # "cache", "remote", or None when the data is nowhere (checkout would fail)
    unsaved_changes: bool  # the workspace copy has changes that are not in the cache
    dvc_file_dirty: bool  # the .dvc file differs from HEAD (its md5 is reported before it is replaced)
    workspace_md5: str | None  # hash of what is in the workspace now, when known
    problem: str | None = None  # why the checkout cannot go ahead
    recorded_md5: str | None = None  # the md5 the workspace .dvc file (or dvc.lock) records now, before it is replaced
    git_operation: str | None = None  # "a merge", "a rebase" ... under way in the repository, to warn about


@dataclass(frozen=True)
class InterruptedCheckout:
    """A checkout that was under way when the console that ran it stopped (its journal is still there)."""

    output: str
    rev: str  # the commit that was being checked out
    old_md5: str | None  # what the workspace held before (None: nothing)
    new_md5: str | None
    started: str  # ISO 8601 time the checkout started


@dataclass(frozen=True)
class Progress:
    done: int
    total: int | None
    unit: str  # "bytes" | "files"
    message: str = ""


@dataclass(frozen=True)
class OperationResult:
    output: str
    action: str  # "checkout" | "pull" | "push" | "save"
    ok: bool
    message: str
    md5: str | None = None  # the hash now in the workspace, or the hash saved
    details: tuple[str, ...] = field(default_factory=tuple)


ProgressCallback = Callable[[Progress], None]


@runtime_checkable
class DatasetVersions(Protocol):
    """Every call may block; the console calls them from worker threads.

    Raises :class:`backends.errors.BackendError` subclasses: ``NotConfigured`` (not a git repo, no DVC),
    ``NotFound`` (unknown output or revision), ``Refused`` (an action would lose data or cannot be done
    completely), ``ReadOnly`` (a mutating call in read-only mode).
    """

    read_only: bool

    def workspace(self) -> WorkspaceInfo: ...

    def outputs(self) -> tuple[TrackedOutput, ...]: ...

    def history(self, output: str) -> tuple[DataVersion, ...]:
        """Newest first: one entry per commit that changed the output's .dvc file (or dvc.lock)."""

    def diff(self, output: str, rev: str) -> DataDiff: ...

    def plan_checkout(self, output: str, rev: str) -> CheckoutPlan: ...

    def save_workspace(self, output: str) -> OperationResult:
        """Store the workspace copy in the cache without touching git; the result's md5 recovers it."""

    def checkout(self, output: str, rev: str, progress: ProgressCallback | None = None) -> OperationResult:
        """``git checkout rev -- x.dvc`` then ``dvc checkout x.dvc``; all or nothing."""

    def pull(self, output: str, progress: ProgressCallback | None = None) -> OperationResult: ...

    def push(self, output: str, progress: ProgressCallback | None = None) -> OperationResult: ...


@runtime_checkable
class DataAtCommit(Protocol):
    """Optional: what an output's record held at any commit, also one that did not change it (a training run
    records the commit it ran at, which is often a later one)."""

    def md5_at(self, output: str, rev: str) -> str | None:
        """The md5 the output's .dvc file (or dvc.lock) records at commit ``rev``; None when it records none there
        (not tracked yet, unreadable). ``NotFound`` for a commit the repository does not have."""
        ...

    def md5s_at(self, output: str, revs: list[str]) -> dict[str, str | None]:
        """:meth:`md5_at` of many commits at once (one read, however many); a commit the repository does not
        have answers None here."""
        ...

    def tag_commit(self, tag: str) -> str | None:
        """The full hash of the commit a git tag names (a run's ``data.version`` is often one); None when no tag
        has that name, or the name is not one a tag can have."""
        ...


@runtime_checkable
class CheckoutJournal(Protocol):
    """Optional: a data backend that journals its checkouts, so that one cut short (the console killed, the
    machine down) is found at the next start and can be finished or put back."""

    def interrupted_checkout(self) -> InterruptedCheckout | None:
        """The checkout a stopped console left unfinished, if any."""
        ...

    def recover_checkout(self, finish: bool, progress: ProgressCallback | None = None) -> OperationResult:
        """Finish that checkout (``finish``) or put the old version back."""
        ...
