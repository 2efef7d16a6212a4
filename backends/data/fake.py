"""An in-memory Data backend with frozen outputs and versions, for snapshot and Pilot tests.

Checkout, pull, push and save change this object's state (not any file), so a test can drive the pane and
see the result. Every date is fixed.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from backends.data import (
    CheckoutPlan,
    DataDiff,
    DataVersion,
    DiffEntry,
    OperationResult,
    OutputStatus,
    Progress,
    ProgressCallback,
    TrackedOutput,
    WorkspaceInfo,
)
from backends.errors import NotFound, ReadOnly, Refused

ROOT = "/home/ada/projects/churn"
REMOTE = "storage"
REMOTE_URL = "s3://ml-data/churn"
_T0 = datetime(2024, 5, 6, 9, 30, tzinfo=UTC)


def _at(days: float, hours: float = 0) -> datetime:
    return _T0 + timedelta(days=days, hours=hours)


@dataclass(frozen=True)
class _Version:
    rev: str
    date: datetime
    author: str
    message: str
    md5: str | None
    size: int | None
    nfiles: int | None = None
    in_cache: bool = True
    in_remote: bool = True
    error: str | None = None
    deleted: bool = False
    files: tuple[tuple[str, str, int], ...] = ()  # (relpath, md5, size) of a directory version


def _rev(n: int) -> str:
    return f"{n:02x}{'c0ffee' * 6}{n:02x}"[:40]


_IMAGES_V1 = (("cat.png", "0a1b2c3d4e5f60718293a4b5c6d7e8f9", 20480),
              ("dog.png", "1b2c3d4e5f60718293a4b5c6d7e8f90a", 18432),
              ("owl.png", "2c3d4e5f60718293a4b5c6d7e8f90a1b", 30720))
_IMAGES_V2 = (("cat.png", "3d4e5f60718293a4b5c6d7e8f90a1b2c", 24576),
              ("dog.png", "1b2c3d4e5f60718293a4b5c6d7e8f90a", 18432),
              ("sub/eel.png", "4e5f60718293a4b5c6d7e8f90a1b2c3d", 12288))

_OUTPUTS: tuple[tuple[str, str, str | None, bool, OutputStatus, tuple[_Version, ...]], ...] = (
    # path, dvc file, stage, is_dir, workspace status, versions newest first
    ("data/demo.txt", "data/demo.txt.dvc", None, False, OutputStatus.IN_SYNC, (
        _Version(_rev(9), _at(6, 5), "Ada Lovelace", "update demo.txt again", "9f1c6e0b5d3a4f2e8b7c1d0a2e3f4b5c", 28),
        _Version(_rev(5), _at(3, 2), "Ada Lovelace", "update demo.txt", "1aed69aaff82bf0b84da92db5c5be41b", 19,
                 in_cache=False),
        _Version(_rev(1), _at(0), "Grace Hopper", "add demo.txt version1", "b3e7e6e9c21a4c86e1d4ff8a4e1c0a55", 9,
                 in_cache=False, in_remote=False),
    )),
    ("data/images", "data/images.dvc", None, True, OutputStatus.IN_SYNC, (
        _Version(_rev(7), _at(5, 1), "Grace Hopper", "update images", "e04f00a1a0726ed15be647688647cf91.dir", 55296,
                 nfiles=3, files=_IMAGES_V2),
        _Version(_rev(3), _at(1, 4), "Grace Hopper", "add images", "d495d1ae71dd50f1296afa3981191433.dir", 69632,
                 nfiles=3, files=_IMAGES_V1),
    )),
    ("data/labels.csv", "data/labels.csv.dvc", None, False, OutputStatus.NOT_CHECKED_OUT, (
        _Version(_rev(8), _at(5, 6), "Ada Lovelace", "more labels", "acb8838f86fc4063184d5e3e13ad30b6", 2_411_724),
        _Version(_rev(6), _at(4, 3), "Ada Lovelace", "break labels.csv.dvc by hand", None, None,
                 in_cache=False, in_remote=False,
                 error="not valid YAML: did not find expected ',' or ']' (line 2, column 8)"),
        _Version(_rev(4), _at(2, 1), "Ada Lovelace", "add labels", "0f73e4cad20754a1eec8c0884f93c799", 1_204_001),
    )),
    ("data/raw.csv", "data/raw.csv.dvc", None, False, OutputStatus.MODIFIED, (
        _Version(_rev(10), _at(7), "Grace Hopper", "refresh raw extract", "5e6f708192a3b4c5d6e7f8091a2b3c4d",
                 734_003_200),
        _Version(_rev(2), _at(1), "Grace Hopper", "add raw extract", "6f708192a3b4c5d6e7f8091a2b3c4d5e",
                 701_239_296, in_remote=False),
    )),
    ("model/model.pkl", "dvc.yaml", "train", False, OutputStatus.NOT_IN_CACHE, (
        _Version(_rev(11), _at(7, 2), "Ada Lovelace", "train the model", "708192a3b4c5d6e7f8091a2b3c4d5e6f", 1_048_576,
                 in_cache=False),
    )),
)

_MODIFIED_MD5 = "fa1e0c0ffee0c0ffee0c0ffee0c0ffee"  # the workspace copy of data/raw.csv
_MODIFIED_SIZE = 736_100_352


class FakeDatasets:
    """:class:`backends.data.DatasetVersions` on frozen in-memory data."""

    def __init__(self, *, read_only: bool = False) -> None:
        self.read_only = read_only
        self._lock = threading.Lock()
        self._versions: dict[str, list[_Version]] = {p: list(v) for p, _f, _s, _d, _st, v in _OUTPUTS}
        self._meta = {p: (f, s, d) for p, f, s, d, _st, _v in _OUTPUTS}
        self._status: dict[str, OutputStatus] = {p: st for p, _f, _s, _d, st, _v in _OUTPUTS}
        self._current: dict[str, int] = {p: 0 for p in self._versions}
        self._saved: set[str] = set()

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> FakeDatasets:
        return cls(read_only=bool(settings.get("read_only", False)))

    # -- reads ---------------------------------------------------------------------------------------------------

    def workspace(self) -> WorkspaceInfo:
        return WorkspaceInfo(root=ROOT, git_head=_rev(11)[:7], branch="main", default_remote=REMOTE,
                             remote_url=REMOTE_URL)

    def outputs(self) -> tuple[TrackedOutput, ...]:
        with self._lock:
            rows = []
            for path, versions in self._versions.items():
                dvc_file, stage, is_dir = self._meta[path]
                current = versions[self._current[path]]
                rows.append(TrackedOutput(path=path, dvc_file=dvc_file, stage=stage, is_dir=is_dir,
                                          md5=current.md5, size=current.size, nfiles=current.nfiles,
                                          status=self._status[path]))
            return tuple(rows)

    def history(self, output: str) -> tuple[DataVersion, ...]:
        with self._lock:
            versions = self._find(output)
            current = self._current[output]
            return tuple(
                DataVersion(rev=v.rev, short=v.rev[:7], date=v.date, author=v.author, message=v.message, md5=v.md5,
                            size=v.size, nfiles=v.nfiles, is_current=i == current,
                            in_cache=v.in_cache if v.md5 else None, in_remote=v.in_remote if v.md5 else None,
                            error=v.error, deleted=v.deleted)
                for i, v in enumerate(versions)
            )

    def md5_at(self, output: str, rev: str) -> str | None:
        """Only the commits of the history are known here."""
        with self._lock:
            return self._find(output)[self._index(output, rev)].md5

    def md5s_at(self, output: str, revs: list[str]) -> dict[str, str | None]:
        answers: dict[str, str | None] = {}
        for rev in revs:
            try:
                answers[rev] = self.md5_at(output, rev)
            except NotFound:
                answers[rev] = None
        return answers

    def tag_commit(self, tag: str) -> str | None:
        """The fake history has no git tags."""
        return None

    def diff(self, output: str, rev: str) -> DataDiff:
        with self._lock:
            return self._diff(output, rev)

    def plan_checkout(self, output: str, rev: str) -> CheckoutPlan:
        with self._lock:
            return self._plan(output, rev)

    # -- changes ---------------------------------------------------------------------------------------------------

    def save_workspace(self, output: str) -> OperationResult:
        self._refuse_read_only("save the workspace copy of", output)
        with self._lock:
            self._find(output)
            md5 = _MODIFIED_MD5 if self._status[output] is OutputStatus.MODIFIED else self._version(output).md5
            self._saved.add(output)
            return OperationResult(output, "save", True,
                                   f"saved the workspace copy of {output} in the cache as md5 {md5}", md5=md5)

    def checkout(self, output: str, rev: str, progress: ProgressCallback | None = None) -> OperationResult:
        self._refuse_read_only("check out", output)
        with self._lock:
            plan = self._plan(output, rev)
            if plan.problem:
                raise Refused(f"cannot check out {output} at {rev[:7]}: {plan.problem}", endpoint=ROOT,
                              hint="nothing was changed")
            if plan.unsaved_changes:
                raise Refused(f"the workspace copy of {output} has changes that are not in the cache",
                              endpoint=ROOT, hint="save them into the cache first, or cancel; nothing was changed")
            index = self._index(output, rev)
            versions = self._versions[output]
            chosen = versions[index]
            total = chosen.size or 0
            if progress is not None:
                for done in (0, total // 2, total):
                    progress(Progress(done, total, "bytes", f"checking out {output}"))
            versions[index] = replace(chosen, in_cache=True)
            self._current[output] = index
            self._status[output] = OutputStatus.IN_SYNC
            self._saved.discard(output)
            return OperationResult(output, "checkout", True,
                                   f"{output} is now the version of {chosen.rev[:7]} (md5 {chosen.md5})",
                                   md5=chosen.md5, details=tuple(f"{e.change} {e.path}" for e in plan.diff.entries))

    def pull(self, output: str, progress: ProgressCallback | None = None) -> OperationResult:
        self._refuse_read_only("pull", output)
        with self._lock:
            versions = self._find(output)
            index = self._current[output]
            version = versions[index]
            if not version.in_remote and not version.in_cache:
                raise Refused(f"cannot pull {output}: its data is not in the remote {REMOTE}", endpoint=REMOTE_URL)
            self._report(progress, version.size or 0, f"pull {output}")
            if version.in_cache and self._status[output] in (OutputStatus.IN_SYNC, OutputStatus.MODIFIED):
                return OperationResult(output, "pull", True, f"{output}: everything was already up to date",
                                       md5=version.md5)
            self._status[output] = OutputStatus.IN_SYNC
            if version.in_cache:
                return OperationResult(output, "pull", True,
                                       f"checked out {output} from the cache, nothing to download", md5=version.md5)
            versions[index] = replace(version, in_cache=True)
            return OperationResult(output, "pull", True, f"pulled 1 file of {output} from {REMOTE}",
                                   md5=version.md5, details=(output,))

    def push(self, output: str, progress: ProgressCallback | None = None) -> OperationResult:
        self._refuse_read_only("push", output)
        with self._lock:
            versions = self._find(output)
            index = self._current[output]
            version = versions[index]
            if not version.in_cache:
                raise Refused(f"cannot push {output}: its data is not (all) in the local cache", endpoint=REMOTE_URL,
                              hint="pull or check out the data first")
            self._report(progress, version.size or 0, f"push {output}")
            if version.in_remote:
                return OperationResult(output, "push", True, f"{output}: everything was already up to date",
                                       md5=version.md5)
            versions[index] = replace(version, in_remote=True)
            return OperationResult(output, "push", True, f"pushed 1 file of {output} to {REMOTE}", md5=version.md5,
                                   details=(output,))

    # -- helpers ---------------------------------------------------------------------------------------------------

    def _refuse_read_only(self, what: str, output: str) -> None:
        if self.read_only:
            raise ReadOnly(f"read-only mode: will not {what} {output}", endpoint=ROOT,
                           hint="switch to a context without read_only to change data")

    @staticmethod
    def _report(progress: ProgressCallback | None, total: int, message: str) -> None:
        if progress is not None:
            progress(Progress(0, total, "bytes", message))
            progress(Progress(total, total, "bytes", message))

    def _find(self, output: str) -> list[_Version]:
        output = output.removesuffix(".dvc")
        if output not in self._versions:
            raise NotFound(f"no DVC-tracked output {output!r} in this workspace", endpoint=ROOT)
        return self._versions[output]

    def _version(self, output: str) -> _Version:
        return self._find(output)[self._current[output]]

    def _index(self, output: str, rev: str) -> int:
        for i, v in enumerate(self._find(output)):
            if rev and v.rev.startswith(rev):
                return i
        raise NotFound(f"no commit {rev!r} in this repository", endpoint=ROOT, hint="pick a version from the history")

    def _workspace(self, output: str) -> tuple[str | None, int | None, tuple[tuple[str, str, int], ...]]:
        current = self._version(output)
        status = self._status[output]
        if status is OutputStatus.MODIFIED:
            return _MODIFIED_MD5, _MODIFIED_SIZE, ()
        if status in (OutputStatus.NOT_CHECKED_OUT, OutputStatus.MISSING):
            return None, None, ()
        return current.md5, current.size, current.files

    def _diff(self, output: str, rev: str) -> DataDiff:
        index = self._index(output, rev)
        new = self._versions[output][index]
        is_dir = self._meta[output][2]
        if new.md5 is None:
            return DataDiff(output, new.rev, is_dir, (), f"{self._meta[output][0]} is malformed at {new.rev[:7]}: "
                                                          f"{new.error}")
        ws_md5, ws_size, ws_files = self._workspace(output)
        if ws_md5 == new.md5:
            return DataDiff(output, new.rev, is_dir, ())
        if not is_dir:
            change = "added" if ws_md5 is None else "modified"
            return DataDiff(output, new.rev, False, (DiffEntry(output, change, ws_md5, new.md5, ws_size, new.size),))
        old = {rel: (m, s) for rel, m, s in ws_files}
        nw = {rel: (m, s) for rel, m, s in new.files}
        entries = []
        for rel in sorted(set(old) | set(nw)):
            o, n = old.get(rel), nw.get(rel)
            if o is None and n is not None:
                entries.append(DiffEntry(f"{output}/{rel}", "added", None, n[0], None, n[1]))
            elif n is None and o is not None:
                entries.append(DiffEntry(f"{output}/{rel}", "deleted", o[0], None, o[1], None))
            elif o is not None and n is not None and o[0] != n[0]:
                entries.append(DiffEntry(f"{output}/{rel}", "modified", o[0], n[0], o[1], n[1]))
        return DataDiff(output, new.rev, True, tuple(entries))

    def _plan(self, output: str, rev: str) -> CheckoutPlan:
        diff = self._diff(output, rev)
        new = self._versions[output][self._index(output, rev)]
        ws_md5, _size, _files = self._workspace(output)
        unsaved = self._status[output] is OutputStatus.MODIFIED and output not in self._saved
        dirty = False
        problem = None
        source = None
        if new.md5 is None:
            problem = diff.note
        elif self._meta[output][1] is not None:
            problem = f"{output} is a stage output of dvc.yaml; check out dvc.lock for the whole pipeline instead"
        elif new.in_cache:
            source = "cache"
        elif new.in_remote:
            source = "remote"
        else:
            problem = f"the data of {output} at {new.rev[:7]} is neither in the cache nor in the remote {REMOTE!r}"
        return CheckoutPlan(output, new.rev, diff, source, unsaved, dirty, ws_md5, problem,
                            self._version(output).md5)


__all__ = ["FakeDatasets"]
