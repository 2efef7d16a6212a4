"""The demo built and started once per test session, in a temporary folder: the git + DVC repository, the
mlflow server with its 21 runs, MLServer and `mlflow models serve` on the champion, Prometheus and the traffic
generator, all real, on 127.0.0.1. Tests read it through the project's own backends, with the settings of the
``demo`` context the demo writes."""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
if str(HERE) not in sys.path:  # the tests' shared helpers (linked.py)
    sys.path.insert(0, str(HERE))

from console.config import load_config  # noqa: E402
from console.demo.cli import CONTEXT, Demo, bring_up, write_config  # noqa: E402
from console.demo.stack import Stack  # noqa: E402


@dataclass
class BuiltDemo:
    workspace: Path
    stack: Stack
    demo: Demo
    settings: dict[str, Any]


@pytest.fixture(scope="session")
def built_demo(tmp_path_factory) -> BuiltDemo:
    if shutil.which("prometheus") is None:
        pytest.skip("the prometheus binary is not installed (apt-get install prometheus)")
    workspace = tmp_path_factory.mktemp("demo")
    stack = Stack(workspace)
    try:
        demo = bring_up(workspace, stack)
        assert not demo.failures, f"demo steps failed: {demo.failures}"
        config = load_config(write_config(demo))
        yield BuiltDemo(workspace, stack, demo, config.context(CONTEXT, environ={}).as_settings())
    finally:
        stack.stop()
