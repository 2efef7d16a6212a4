"""Where the ``dvc`` Data backend's workspace is, found from the file system alone.

The registry builds the backend through :func:`from_settings` here, so that a folder that is not a git + DVC
workspace is reported before the backend's modules (and DVC, which its calls load) are imported.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from backends.errors import NotConfigured


def check_layout(repo: str | os.PathLike[str]) -> tuple[Path, Path]:
    """(DVC root, git top) of the workspace holding ``repo``; raises NotConfigured when there is none."""
    start = Path(repo).expanduser().resolve()
    if not start.is_dir():
        raise NotConfigured("the data workspace does not exist", endpoint=str(start),
                            hint="give an existing folder with `repo` in the context or --repo")
    dvc_root = next((p for p in (start, *start.parents) if (p / ".dvc").is_dir()), None)
    git_top = next((p for p in (start, *start.parents) if (p / ".git").exists()), None)
    if git_top is None:
        raise NotConfigured("the data workspace is not a git repository", endpoint=str(start),
                            hint="run `git init` there, or point `repo` / --repo at a git + DVC workspace")
    if dvc_root is None or not dvc_root.is_relative_to(git_top):
        raise NotConfigured("the data workspace has no DVC (.dvc folder)", endpoint=str(start),
                            hint="run `dvc init` there, or point `repo` / --repo at a DVC workspace")
    return dvc_root, git_top


def from_settings(settings: Mapping[str, Any]) -> Any:
    """The ``dvc`` backend (:class:`backends.data.dvc.DvcDatasets`) for a workspace that passes the check."""
    if find_spec("dvc") is None:  # a lean install: say which extra brings DVC before asking for `dvc init`
        raise NotConfigured("DVC is not installed in this Python environment",
                            hint="pip install 'mlops-console[dvc]' (or pip install dvc)")
    check_layout(settings.get("repo") or os.getcwd())
    from backends.data.dvc import DvcDatasets

    return DvcDatasets.from_settings(settings)
