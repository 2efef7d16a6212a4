"""The Data pane's backends: the contract (``contract.py``), DVC over git (``dvc.py`` wiring the ``dvc_*.py``
parts: workspace, status, history, diff, checkout, rollback, transfer, with ``dvc_files.py`` and ``dvc_layout.py``)
and the in-memory ``fake``.

The contract's names are importable from here too (``from backends.data import ...``); importing this
package imports nothing else.
"""

from backends.data.contract import (
    CheckoutJournal as CheckoutJournal,
    CheckoutPlan as CheckoutPlan,
    DataAtCommit as DataAtCommit,
    DataDiff as DataDiff,
    DatasetVersions as DatasetVersions,
    DataVersion as DataVersion,
    DiffEntry as DiffEntry,
    InterruptedCheckout as InterruptedCheckout,
    OperationResult as OperationResult,
    OutputStatus as OutputStatus,
    Progress as Progress,
    ProgressCallback as ProgressCallback,
    TrackedOutput as TrackedOutput,
    WorkspaceInfo as WorkspaceInfo,
)
