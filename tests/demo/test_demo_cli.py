"""`mlops-console --help` names the demo and its options; `demo --help` explains each; `--version` answers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from console import __version__

ROOT = Path(__file__).resolve().parent.parent.parent


def _console(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "console", *args], capture_output=True, text=True, timeout=60,
                          cwd=ROOT)


def test_help_documents_the_demo():
    main = _console("--help")
    assert main.returncode == 0
    for word in ("demo", "--reset", "--dir", "XDG_DATA_HOME"):
        assert word in main.stdout, word
    demo = _console("demo", "--help")
    assert demo.returncode == 0
    for word in ("--dir DIR", "--reset", "--pane", "mlops-console/demo", "MLServer", "Prometheus"):
        assert word in demo.stdout, word


def test_version():
    done = _console("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"mlops-console {__version__}"


def test_unknown_demo_option_is_refused():
    done = _console("demo", "--bogus")
    assert done.returncode == 2 and "--bogus" in done.stderr
