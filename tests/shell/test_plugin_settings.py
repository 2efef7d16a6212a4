"""A backend plugin declares the context keys it reads; the config loader accepts them, checks their types,
passes them to the factory and keeps the secret ones off the screen.

The plugin is installed the way pip installs one: a module and a dist-info folder with its entry point.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from backends import registry
from backends.registry import Setting
from console.backend_cache import default_backend_factory
from console.config import ConfigError, parse_config, redact

ROOT = Path(__file__).resolve().parents[2]
MODULE = "mlops_toy_runs"
PLUGIN = '''
from backends.registry import Setting
from backends.runs.fake import FakeRuns


class ToyRuns(FakeRuns):
    """The fake runs, under the name of a project."""

    SETTINGS = (
        Setting("toy_project", str, "the project whose runs are shown"),
        Setting("toy_page_limit", int, "runs asked for per request", default=50),
        Setting("toy_api_key", str, "the service's API key", secret=True),
        Setting("toy_tags", list, "the tags shown as columns"),
        Setting("toy_ratio", float, "a share of the runs"),
    )

    def __init__(self, settings):
        self.settings = dict(settings)
        self.endpoint = f"toy://{settings.get('toy_project')}"

    @classmethod
    def from_settings(cls, settings):
        return cls(settings)
'''


def install_plugin(site: Path) -> None:
    info = site / "mlops_toy_runs-0.1.dist-info"
    info.mkdir(parents=True)
    (site / f"{MODULE}.py").write_text(PLUGIN)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: mlops-toy-runs\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[mlops_console.backends]\nruns.toy = {MODULE}:ToyRuns.from_settings\n")


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    install_plugin(tmp_path / "site")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    yield
    sys.modules.pop(MODULE, None)


CONFIG = """\
[contexts.toy]
runs_backend = "toy"
toy_project = "churn"
toy_api_key = "s3cr3t-key"
toy_tags = ["team", "stage"]
toy_ratio = 1
timeout = 4
"""


def test_declared_settings_reach_the_factory_typed_with_defaults(plugin):
    assert [s.name for s in registry.settings_of("runs", "toy")][:2] == ["toy_project", "toy_page_limit"]
    ctx = parse_config(CONFIG, Path("c.toml")).context("toy", environ={})
    backend = default_backend_factory("runs", ctx)  # what the app calls to build a pane's backend
    assert type(backend).__name__ == "ToyRuns" and backend.endpoint == "toy://churn"
    got = backend.settings
    assert got["toy_api_key"] == "s3cr3t-key" and got["toy_tags"] == ["team", "stage"]
    assert got["toy_ratio"] == 1.0 and isinstance(got["toy_ratio"], float)
    assert got["toy_page_limit"] == 50  # left out: the declared default
    assert got["timeout"] == 4.0  # the shared keys still come along


def test_a_secret_setting_is_hidden_wherever_settings_are_shown(plugin):
    ctx = parse_config(CONFIG).context("toy", environ={})
    assert ctx.secret_settings == {"toy_api_key"}
    assert "s3cr3t" not in repr(ctx)
    shown = ctx.shown_settings()
    assert shown["toy_api_key"] == "***" and shown["toy_project"] == "churn"
    assert "s3cr3t" not in str(redact(ctx.as_settings(), ctx.secret_settings))


@pytest.mark.parametrize("line, words", [
    ('toy_page_limit = "many"', ["key 'contexts.toy.toy_page_limit'", "must be an integer",
                                 "runs backend 'toy': runs asked for per request"]),
    ("toy_page_limit = true", ["must be an integer"]),
    ("toy_ratio = 'half'", ["must be a number", "a share of the runs"]),
    ("toy_tags = [1, 2]", ["must be a list of strings"]),
    ("toy_projekt = 'churn'", ["key 'contexts.toy.toy_projekt'", "unknown setting (did you mean toy_project?",
                               "toy_page_limit", "toy_api_key", "mlflow_uri"]),
])
def test_a_wrong_type_or_unknown_key_names_file_line_key_and_what_was_expected(plugin, line, words):
    text = f'[contexts.toy]\nruns_backend = "toy"\n{line}\n'
    with pytest.raises(ConfigError) as info:
        parse_config(text, Path("/etc/x/config.toml"))
    assert str(info.value).startswith("/etc/x/config.toml, line 3, key")
    for word in words:
        assert word in str(info.value)


def test_a_key_only_the_backend_a_context_does_not_select_declares_is_unknown(plugin):
    with pytest.raises(ConfigError, match="unknown setting") as info:
        parse_config('[contexts.other]\ntoy_project = "churn"\n')
    assert info.value.key == "contexts.other.toy_project"
    assert "mlflow_python" in str(info.value)  # what the built-in runs backend declares is listed


def test_a_backend_that_is_not_installed_is_named_in_the_error():
    with pytest.raises(ConfigError) as info:
        parse_config('[contexts.w]\nruns_backend = "wandb"\nwandb_project = "x"\n')
    assert "unknown setting" in str(info.value)
    assert "the runs backend 'wandb' could not be loaded (no runs backend named 'wandb'" in str(info.value)


def test_built_in_backends_declare_theirs():
    ctx = parse_config('[contexts.a]\nmlflow_uri = "sqlite:///m.db"\nmlflow_python = "~/venv/bin/python"\n'
                       'mlflow_registry_uri = "sqlite:///registry.db"\n').context("a", environ={})
    settings = ctx.as_settings()
    assert settings["mlflow_python"] == "~/venv/bin/python"
    assert settings["mlflow_registry_uri"] == "sqlite:///registry.db"
    backend = default_backend_factory("runs", ctx)
    assert backend.python == str(Path("~/venv/bin/python").expanduser())
    assert backend.registry_uri == "sqlite:///registry.db"
    with pytest.raises(ConfigError, match="must be a string; runs backend 'auto': the Python that runs MLflow"):
        parse_config("[contexts.a]\nmlflow_python = 3\n")
    # the in-process backend runs no helper, so it reads no mlflow_python
    with pytest.raises(ConfigError, match="unknown setting"):
        parse_config('[contexts.a]\nruns_backend = "mlflow-inprocess"\nmlflow_python = "python3"\n')


def test_a_setting_needs_a_known_type():
    with pytest.raises(TypeError, match="type must be one of"):
        Setting("x", dict, "a table")


def test_cli_with_an_installed_plugin_gives_one_clear_error(tmp_path):
    install_plugin(tmp_path / "site")
    cfg = tmp_path / "c.toml"
    cfg.write_text('[contexts.toy]\nruns_backend = "toy"\ntoy_page_limit = "many"\n')
    done = subprocess.run([sys.executable, "-m", "console", "--config", str(cfg)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{tmp_path / 'site'}"})
    assert done.returncode == 2
    assert done.stderr.strip() == (f"mlops-console: {cfg}, line 3, key 'contexts.toy.toy_page_limit': must be an "
                                   "integer; runs backend 'toy': runs asked for per request")
