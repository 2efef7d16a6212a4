# mypy: disable-error-code="import-untyped"
# (scikit-learn ships no type information)
"""The demo's data: a git + DVC repository holding scikit-learn's diabetes data set in three versions, each made
by one feature-engineering step and committed, with every version pushed to a DVC remote in the workspace."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

DATA_FILE = "data/diabetes.csv"
FEATURES = ("age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6")
#: one feature-engineering step per version: (tag, commit message)
VERSIONS = (
    ("v1-raw", "Diabetes data: the raw set (442 patients, 10 features)"),
    ("v2-derived", "Diabetes data: derived features bmi*bp, bmi^2, s5*bmi and age*sex"),
    ("v3-no-outliers", "Diabetes data: rows with a feature more than 3 standard deviations out removed"),
)


class WorkspaceError(Exception):
    """A command that builds the repository failed; the message names it and its output."""


@dataclass(frozen=True)
class DataVersion:
    tag: str
    commit: str
    md5: str


def _run(cmd: list[str], cwd: Path) -> str:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "DVC_NO_ANALYTICS": "1"}
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        shown = " ".join(cmd[2:] if cmd[:2] == [sys.executable, "-m"] else cmd)
        raise WorkspaceError(f"`{shown}` failed: {(proc.stderr or proc.stdout).strip()[-600:]}")
    return proc.stdout


def _dvc(repo: Path, *args: str) -> str:
    return _run([sys.executable, "-m", "dvc", *args], repo)


def _git(repo: Path, *args: str) -> str:
    return _run(["git", *args], repo)


def data_frames():
    """The three versions of the table, each a pandas DataFrame with the target last."""
    from sklearn.datasets import load_diabetes

    raw = load_diabetes(as_frame=True).frame.round(6)
    derived = raw.drop(columns="target").copy()
    derived["bmi_x_bp"] = raw["bmi"] * raw["bp"]
    derived["bmi_sq"] = raw["bmi"] ** 2
    derived["s5_x_bmi"] = raw["s5"] * raw["bmi"]
    derived["age_x_sex"] = raw["age"] * raw["sex"]
    derived = derived.round(6)
    derived["target"] = raw["target"]
    features = derived[list(FEATURES)]
    z = (features - features.mean()) / features.std()
    cleaned = derived[(z.abs() <= 3).all(axis=1)].reset_index(drop=True)
    return raw, derived, cleaned


def repo_path(workspace: Path) -> Path:
    return workspace / "repo"


def build(workspace: Path) -> list[DataVersion]:
    """Create ``workspace/repo`` (git + DVC) and ``workspace/dvc-remote``; the three versions, oldest first."""
    repo = repo_path(workspace)
    remote = workspace / "dvc-remote"
    repo.mkdir(parents=True)
    remote.mkdir(parents=True, exist_ok=True)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.name", "mlops-console demo")
    _git(repo, "config", "user.email", "demo@mlops-console.invalid")
    _git(repo, "config", "commit.gpgsign", "false")
    _dvc(repo, "init", "-q")
    _dvc(repo, "config", "core.analytics", "false")
    _dvc(repo, "remote", "add", "-d", "storage", str(remote))
    (repo / "README.md").write_text(
        "# diabetes\n\nscikit-learn's diabetes data set (442 patients, disease progression after one year), "
        "versioned with DVC.\nEach commit of `data/diabetes.csv.dvc` is one feature-engineering step; "
        "`git tag` lists them.\n", encoding="utf-8")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "Start the diabetes project: git + DVC with a local remote")
    (repo / "data").mkdir()
    for (tag, message), frame in zip(VERSIONS, data_frames()):
        frame.to_csv(repo / DATA_FILE, index=False, float_format="%.6f")
        _dvc(repo, "add", "-q", DATA_FILE)
        _git(repo, "add", f"{DATA_FILE}.dvc", "data/.gitignore")
        _git(repo, "commit", "-q", "-m", message)
        _git(repo, "tag", tag)
        _dvc(repo, "push", "-q")
    return versions(workspace)


def versions(workspace: Path) -> list[DataVersion]:
    """The data versions the repository holds (by their tags), oldest first."""
    import yaml

    repo = repo_path(workspace)
    out = []
    for tag, _message in VERSIONS:
        commit = _git(repo, "rev-list", "-n", "1", tag).strip()
        meta = yaml.safe_load(_git(repo, "show", f"{commit}:{DATA_FILE}.dvc"))
        out.append(DataVersion(tag, commit, str(meta["outs"][0]["md5"])))
    return out


def cached_file(workspace: Path, md5: str) -> Path:
    """Where DVC's cache keeps the content with ``md5`` (DVC 3 layout)."""
    return repo_path(workspace) / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]
