"""Shared test plumbing. Each area keeps its real servers in its own conftest
(tests/dvc, tests/mlflow, tests/kube, tests/prom) and starts each once per session."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# never read the developer's own config or talk to their clusters
os.environ.pop("MLFLOW_TRACKING_URI", None)
os.environ.pop("PROMETHEUS_URL", None)
os.environ.pop("MLOPS_CONSOLE_CONFIG", None)
os.environ["DVC_NO_ANALYTICS"] = "1"
os.environ.setdefault("GIT_CONFIG_NOSYSTEM", "1")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path_factory, monkeypatch):
    """No test reads the user's config or kubeconfig."""
    home = tmp_path_factory.mktemp("xdg")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    monkeypatch.setenv("KUBECONFIG", str(home / "no-kubeconfig"))
