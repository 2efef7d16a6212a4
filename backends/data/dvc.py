"""The ``dvc`` Data backend: DVC-tracked outputs of a git workspace and their versions in git history.

Reads are plain git plumbing plus small YAML files (``.dvc``, ``dvc.yaml``, ``dvc.lock``), so listing
history costs one ``git log`` and one ``git cat-file --batch`` whatever the number of commits.
Workspace hashing goes through DVC's own hashing with its state database, so unchanged large data is not
re-read on every refresh. Mutations run ``git`` and ``dvc`` as subprocesses, the way a person would.

:class:`DvcDatasets` wires the parts, each in a module of its own: the workspace every part shares
(``dvc_workspace``: layout, processes, configuration, locating outputs, hashing), its status
(``dvc_status``), the history of an output (``dvc_history``), diffs (``dvc_diff``), checkouts
(``dvc_checkout``, undone through ``dvc_rollback``) and transfers (``dvc_transfer``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from backends.data import (
    CheckoutPlan,
    DataDiff,
    DataVersion,
    InterruptedCheckout,
    OperationResult,
    ProgressCallback,
    TrackedOutput,
    WorkspaceInfo,
    dvc_diff,
    dvc_history,
    dvc_status,
    dvc_transfer,
)
from backends.data.dvc_checkout import Checkouts
from backends.data.dvc_layout import check_layout
from backends.data.dvc_rollback import JOURNAL as JOURNAL
from backends.data.dvc_workspace import Workspace

DEFAULT_TIMEOUT = 10.0
DEFAULT_OPERATION_TIMEOUT = 3600.0


class DvcDatasets:
    """:class:`backends.data.DatasetVersions` on a real git + DVC workspace."""

    def __init__(
        self,
        repo: str | os.PathLike[str],
        *,
        read_only: bool = False,
        timeout: float = DEFAULT_TIMEOUT,
        operation_timeout: float = DEFAULT_OPERATION_TIMEOUT,
    ) -> None:
        self.ws = Workspace(repo, read_only=read_only, timeout=timeout, operation_timeout=operation_timeout)
        self.checkouts = Checkouts(self.ws)

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> DvcDatasets:
        """Workspace from ``repo`` (default: the current directory); raises NotConfigured if it has no git/DVC."""
        repo = settings.get("repo") or os.getcwd()
        timeout = float(settings.get("timeout") or DEFAULT_TIMEOUT)
        op_timeout = float(settings.get("operation_timeout") or DEFAULT_OPERATION_TIMEOUT)
        backend = cls(repo, read_only=bool(settings.get("read_only", False)), timeout=timeout,
                      operation_timeout=op_timeout)
        check_layout(backend.repo_path)
        return backend

    # -- the workspace's settings, which every part reads ----------------------------------------------------

    @property
    def repo_path(self) -> Path:
        return self.ws.repo_path

    @property
    def read_only(self) -> bool:
        return self.ws.read_only

    @read_only.setter
    def read_only(self, value: bool) -> None:
        self.ws.read_only = value

    @property
    def timeout(self) -> float:
        return self.ws.timeout

    @property
    def operation_timeout(self) -> float:
        return self.ws.operation_timeout

    @property
    def root(self) -> Path:
        return self.ws.root

    # -- the Protocol ----------------------------------------------------------------------------------------

    def workspace(self) -> WorkspaceInfo:
        return dvc_status.workspace_info(self.ws)

    def outputs(self) -> tuple[TrackedOutput, ...]:
        return dvc_status.outputs(self.ws)

    def history(self, output: str) -> tuple[DataVersion, ...]:
        return dvc_history.history(self.ws, output)

    def md5_at(self, output: str, rev: str) -> str | None:
        return dvc_history.md5_at(self.ws, output, rev)

    def tag_commit(self, tag: str) -> str | None:
        return dvc_history.tag_commit(self.ws, tag)

    def md5s_at(self, output: str, revs: list[str]) -> dict[str, str | None]:
        return dvc_history.md5s_at(self.ws, output, revs)

    def diff(self, output: str, rev: str) -> DataDiff:
        return dvc_diff.diff(self.ws, output, rev)

    def plan_checkout(self, output: str, rev: str) -> CheckoutPlan:
        return self.checkouts.plan_checkout(output, rev)

    def save_workspace(self, output: str) -> OperationResult:
        return self.checkouts.save_workspace(output)

    def checkout(self, output: str, rev: str, progress: ProgressCallback | None = None) -> OperationResult:
        return self.checkouts.checkout(output, rev, progress)

    def pull(self, output: str, progress: ProgressCallback | None = None) -> OperationResult:
        return dvc_transfer.transfer(self.ws, "pull", output, progress)

    def push(self, output: str, progress: ProgressCallback | None = None) -> OperationResult:
        return dvc_transfer.transfer(self.ws, "push", output, progress)

    # -- a checkout under way, and one a console left behind ---------------------------------------------------

    def operation_running(self) -> bool:
        """Whether a checkout is changing the workspace now."""
        return self.checkouts.operation_running()

    def interrupt(self) -> bool:
        """Stop a checkout under way (it is put back as it was) and refuse new ones: the console is closing.
        True when one was under way; ``wait_idle`` then waits for it to be put back."""
        return self.checkouts.interrupt()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no checkout is changing the workspace; False if one still is after ``timeout`` s."""
        return self.checkouts.wait_idle(timeout)

    def interrupted_checkout(self) -> InterruptedCheckout | None:
        """The checkout a console was running when it stopped (killed, power cut), if its journal is here."""
        return self.checkouts.interrupted_checkout()

    def recover_checkout(self, finish: bool, progress: ProgressCallback | None = None) -> OperationResult:
        """Finish the interrupted checkout (``finish``) or put the old version back, then drop its journal."""
        return self.checkouts.recover_checkout(finish, progress)


__all__ = ["JOURNAL", "DvcDatasets"]
