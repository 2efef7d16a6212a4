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
if str(ROOT / "tests") not in sys.path:  # shared test modules (keycontract.py)
    sys.path.append(str(ROOT / "tests"))

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
    """No test reads the user's config, kubeconfig or histories, nor another test's histories."""
    home = tmp_path_factory.mktemp("xdg")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    monkeypatch.setenv("KUBECONFIG", str(home / "no-kubeconfig"))


# -- snapshot tests: SVGs live in snapshots/<test module>/ -----------------------------------------
try:
    from pytest_textual_snapshot import SVGImageExtension

    def _snapshot_dirname(cls, *, test_location) -> str:
        return str(ROOT / "snapshots" / test_location.basename)

    SVGImageExtension.dirname = classmethod(_snapshot_dirname)
except ImportError:  # the plugin is part of the test extras
    pass

FROZEN_NOW = __import__("datetime").datetime(2026, 1, 15, 12, 0, tzinfo=__import__("datetime").timezone.utc)


def make_fake_app(initial_pane: str = "data", *, read_only: bool = False, contexts: dict | None = None,
                  keymap: dict | None = None, context: str = "demo"):
    """The real app on the in-memory `fake` backends, a frozen clock, no cursor blink, no user config.

    ``contexts`` maps extra context names to dicts of Context fields (their backends are fakes too).
    """
    from console.app import make_app
    from console.config import Config, Context

    fakes = dict(data_backend="fake", runs_backend="fake", deployments_backend="fake", metrics_backend="fake")
    all_contexts = {"demo": Context(name="demo", read_only=read_only, **fakes)}
    for name, values in (contexts or {}).items():
        all_contexts[name] = Context(name=name, **{**fakes, **values})
    config = Config(path=None, default_context="demo", contexts=all_contexts, keymap=keymap or {})
    return make_app(config, config.context(context, environ={}), now=lambda: FROZEN_NOW,
                    initial_pane=initial_pane, cursor_blink=False)


@pytest.fixture
def fake_app():
    """``fake_app(initial_pane, read_only=..., contexts=..., keymap=...)`` -> app on the fake backends."""
    return make_fake_app


def screen_text(app) -> str:
    """What the terminal shows now (the top screen, with any dialog), as plain text lines."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


@pytest.fixture(name="screen_text")
def _screen_text_fixture():
    return screen_text
