"""Configuration: contexts, precedence, and one clear error for every kind of malformed file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from console.config import ConfigError, apply_overrides, load_config, parse_config

GOOD = """\
default_context = "local"

[contexts.local]
repo = "."
mlflow_uri = "sqlite:///mlflow.db"
namespaces = ["seldon"]
prometheus_url = "http://localhost:9091"
prometheus_token = "s3cr3t-token"

[contexts.prod]
read_only = true
mlflow_uri = "http://mlflow.prod:5000"
runs_backend = "mlflow"

[[contexts.prod.endpoints]]
name = "iris"
url = "http://127.0.0.1:9000"
protocol = "seldon"
model_uri = "models:/iris/1"

[keymap]
"data.checkout" = "ctrl+o"
"""


def test_contexts_are_read_with_their_types():
    config = parse_config(GOOD, Path("c.toml"))
    assert config.context_names() == ["local", "prod"]
    local = config.context(None, environ={})
    assert local.name == "local" and local.namespaces == ("seldon",) and not local.read_only
    prod = config.context("prod", environ={})
    assert prod.read_only is True
    assert prod.endpoints[0].protocol == "seldon" and prod.endpoints[0].url == "http://127.0.0.1:9000"
    assert prod.as_settings()["endpoints"][0]["model_uri"] == "models:/iris/1"
    assert config.keymap == {"data.checkout": "ctrl+o"}


def test_secrets_never_in_repr_or_redacted_settings():
    local = parse_config(GOOD).context("local", environ={})
    assert "s3cr3t" not in repr(local)
    from console.config import redact

    assert "s3cr3t" not in str(redact(local.as_settings()))
    assert local.as_settings()["prometheus_token"] == "s3cr3t-token"  # the backend still gets it


def test_env_and_flags_override_the_startup_context():
    config = parse_config(GOOD)
    ctx = config.context("local", environ={})
    env = {"MLFLOW_TRACKING_URI": "http://env:5000", "PROMETHEUS_URL": "http://envprom:9090"}
    started = apply_overrides(ctx, {"prometheus_url": "http://flag:9090", "repo": None}, environ=env)
    assert started.mlflow_uri == "http://env:5000"  # variable over file
    assert started.prometheus_url == "http://flag:9090"  # flag over variable
    assert started.repo == "."  # unset flag changes nothing


def test_a_later_context_keeps_its_own_values_and_variables_fill_the_gaps():
    config = parse_config(GOOD)
    env = {"MLFLOW_TRACKING_URI": "http://env:5000", "PROMETHEUS_URL": "http://envprom:9090"}
    prod = config.context("prod", environ=env)
    assert prod.mlflow_uri == "http://mlflow.prod:5000"
    assert prod.prometheus_url == "http://envprom:9090"


@pytest.mark.parametrize("text, line, key, words", [
    ("[contexts.a]\nrepo = \n", 2, None, "not valid TOML"),
    ("[contexts.a]\nrepo = '.'\nmlflw_uri = 'x'\n", 3, "contexts.a.mlflw_uri", "unknown setting"),
    ("[contexts.a]\nread_only = 'yes'\n", 2, "contexts.a.read_only", "true or false"),
    ("[contexts.a]\nnamespaces = 3\n", 2, "contexts.a.namespaces", "list of strings"),
    ("[contexts.a]\ntimeout = -1\n", 2, "contexts.a.timeout", "positive"),
    ("[contexts.a]\nchampion_alias = 'best model'\n", 2, "contexts.a.champion_alias", "registry alias name"),
    ("[contexts.a]\nchampion_alias = 'v3'\n", 2, "contexts.a.champion_alias", "registry alias name"),
    ("default_context = 'b'\n[contexts.a]\n", 1, "default_context", "names no context"),
    ("colour = 'red'\n", 1, "colour", "unknown setting"),
    ("[contexts.a]\n[[contexts.a.endpoints]]\nname = 'x'\nurl = 'http://h'\nprotocol = 'grpc'\n", 5,
     "contexts.a.endpoints", "protocol"),
])
def test_malformed_config_names_file_line_and_key(text, line, key, words):
    with pytest.raises(ConfigError) as info:
        parse_config(text, Path("/etc/x/config.toml"))
    err = info.value
    assert err.line == line
    assert err.key == key
    assert words in str(err)
    assert str(err).startswith("/etc/x/config.toml, line")


def test_the_champion_alias_defaults_to_champion():
    config = parse_config("[contexts.a]\n[contexts.b]\nchampion_alias = 'production'\n")
    assert config.context("a", environ={}).champion_alias == "champion"
    assert config.context("b", environ={}).champion_alias == "production"


def test_unknown_context_lists_the_known_ones():
    with pytest.raises(ConfigError, match=r"unknown context 'nope' \(known: local, prod\)"):
        parse_config(GOOD).context("nope")


def test_missing_default_file_is_an_empty_config_but_an_explicit_one_is_an_error(tmp_path):
    assert load_config(environ={"XDG_CONFIG_HOME": str(tmp_path)}).contexts == {}
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.toml")
    (tmp_path / "mlops-console").mkdir()
    (tmp_path / "mlops-console" / "config.toml").write_text(GOOD)
    assert load_config(environ={"XDG_CONFIG_HOME": str(tmp_path)}).default_context == "local"


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "console", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60)


def test_cli_exits_non_zero_with_one_clear_error_for_a_malformed_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[contexts.local]\nrepo = '.'\nread_only = 1\n")
    done = _cli("--config", str(bad), cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip() == (f"mlops-console: {bad}, line 3, key 'contexts.local.read_only': "
                                   "must be true or false")


def test_cli_rejects_an_unknown_context_and_an_unknown_binding_id(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text(GOOD)
    done = _cli("--config", str(cfg), "--context", "staging", cwd=tmp_path)
    assert done.returncode == 2 and "unknown context 'staging' (known: local, prod)" in done.stderr
    cfg.write_text(GOOD.replace('"data.checkout"', '"data.chekout"'))
    done = _cli("--config", str(cfg), cwd=tmp_path)
    assert done.returncode == 2 and "keymap.data.chekout" in done.stderr and "unknown binding id" in done.stderr
    assert ", line 22," in done.stderr


def test_cli_names_a_config_file_that_is_not_utf8(tmp_path):
    # a file saved as Latin-1 (a comment with an accent): one line naming the file, not a traceback
    bad = tmp_path / "latin1.toml"
    bad.write_bytes('default_context = "local"\n# café\n[contexts.local]\n'.encode("latin-1"))
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-m", "console", "--config", str(bad)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(root)})
    assert done.returncode == 2
    assert done.stderr.strip() == (f"mlops-console: {bad}, line 2: not UTF-8 text (byte 0xe9); "
                                   "save the file as UTF-8")
