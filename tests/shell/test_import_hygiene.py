"""backends/ stays plain Python; the first frame never waits on heavy imports."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
import textwrap
from pathlib import Path

import backends

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("mlflow", "dvc", "kubernetes", "sklearn", "pandas", "prometheus_api_client")


def _backend_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(backends.__path__, "backends."):
        names.append(info.name)
    return names


def test_every_backends_module_imports_without_the_ui_or_heavy_libraries():
    modules = _backend_modules()
    assert "backends.registry" in modules and "backends.data" in modules
    code = textwrap.dedent(f"""
        import importlib, json, sys
        for name in {modules!r}:
            importlib.import_module(name)
        print(json.dumps(sorted(m for m in sys.modules)))
    """)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    loaded = set(json.loads(done.stdout))
    for forbidden in ("textual", "widgets", "console", *HEAVY):
        assert forbidden not in loaded, f"importing backends loads {forbidden}"


def test_first_frame_is_drawn_before_any_heavy_import_and_those_happen_off_the_ui_thread(tmp_path):
    """Start the real app (default backends) in a git+DVC-less folder and on every pane; record which
    thread imported each heavy library and whether the first frame came first."""
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run([sys.executable, "-m", "dvc", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "data.csv").write_text("a,b\n1,2\n")
    subprocess.run([sys.executable, "-m", "dvc", "add", "-q", "data.csv"], cwd=tmp_path, check=True)
    (tmp_path / "data.csv").write_text("a,b\n1,2\n3,4\n")  # modified: the pane must hash it (with dvc)
    code = textwrap.dedent("""
        import asyncio, json, sys, threading
        HEAVY = %r
        seen = {}
        class Spy:  # sees every import, however it is made, and finds nothing itself
            @staticmethod
            def find_spec(name, path=None, target=None):
                if name in HEAVY and name not in seen:
                    seen[name] = threading.current_thread().name
                return None
        sys.meta_path.insert(0, Spy)
        from console.app import make_app
        from console.config import Config, Context
        ctx = Context(name="t", repo=".", mlflow_uri="sqlite:///m.db", prometheus_url="http://127.0.0.1:9",
                      timeout=5)
        app = make_app(Config(), ctx)
        result = {}
        async def main():
            async with app.run_test(size=(80, 24)) as pilot:
                result["heavy_at_first_frame"] = sorted(m for m in HEAVY if m in sys.modules)
                for key in "2341":
                    await pilot.press(key)
                    await pilot.pause(0.3)
                await pilot.pause(3)
        asyncio.run(main())
        result["threads"] = seen
        print(json.dumps(result))
    """ % (HEAVY,))
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=180,
                          env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["heavy_at_first_frame"] == []
    on_ui_thread = {m: t for m, t in result["threads"].items() if t == "MainThread"}
    assert on_ui_thread == {}, f"imported on the UI thread: {on_ui_thread}"
    # the panes did load their libraries (in workers), so the check above saw real imports
    assert result["threads"], result


def test_building_a_backend_imports_its_client_library():
    """Where the app builds a backend (in a worker) it also imports the library the backend's calls use, so
    that the app's one-time move of long-lived objects out of the garbage collector's way includes it."""
    code = textwrap.dedent("""
        import json, sys
        from console.app import make_app
        from console.config import Config, Context, Endpoint
        ctx = Context(name="t", prometheus_url="http://127.0.0.1:9", deployments_backend="endpoints",
                      endpoints=(Endpoint("m", "http://127.0.0.1:9", "v2", "m"),))
        app = make_app(Config(), ctx)
        libraries = ("httpx", "h11", "prometheus_api_client", "requests")
        result = {"before": sorted(m for m in libraries if m in sys.modules)}
        for kind in ("metrics", "deployments"):
            backend, problem = app.backends.build(kind, ctx)
            assert problem is None, problem
            result[kind] = sorted(m for m in libraries if m in sys.modules)
        print(json.dumps(result))
    """)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"before": [], "metrics": ["prometheus_api_client", "requests"],
                      "deployments": ["h11", "httpx", "prometheus_api_client", "requests"]}
