"""backends/redact.py: every shape of secret it knows, hidden; plain text left alone; the log and the
histories written through it, readable only by the user."""

from __future__ import annotations

import logging
import os
import stat

import pytest

from backends.redact import is_secret_name, redact, redact_args

JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"


@pytest.mark.parametrize("text, secret, kept", [
    ("API request to http://user:pw-9x@127.0.0.1:15001/api/2.0/mlflow/runs/search failed", "pw-9x",
     "http://user:***@127.0.0.1:15001/api/2.0/mlflow/runs/search"),
    ("postgresql://bob:s3cret@db.example:5432/mlflow", "s3cret", "postgresql://bob:***@db.example:5432/mlflow"),
    ("remote http://u:p@ss@host/dvc said no", "p@ss", "http://u:***@host/dvc said no"),
    ('{"url": "http://u:hunter2@h:1/x", "mail": "a@b"}', "hunter2", '"mail": "a@b"'),
    ("--db-password=hunter2 --verbose", "hunter2", "--db-password=*** --verbose"),
    ("serve --api-key XYZ123 --port 80", "XYZ123", "--api-key *** --port 80"),
    ("sh -c 'PGPASSWORD=abc123 psql -h db'", "abc123", "PGPASSWORD=*** psql -h db"),
    ("Server=db;User Id=sa;Password=Pa55word;Database=x", "Pa55word", "Server=db;User Id=sa;Password=***;Database=x"),
    ("http://h/x?api_key=abc987&page=2", "abc987", "api_key=***&page=2"),
    ("Authorization: Bearer ghp_abcdef123", "ghp_abcdef123", "Authorization: Bearer ***"),
    (f"token {JWT} end", JWT[40:], "token *** end"),
    ("GITHUB_PAT=ghp_x1 SENTRY_DSN=https://k@sentry.io/1 ENCRYPTION_KEY=0xdead", "0xdead", "GITHUB_PAT=***"),
])
def test_each_shape_is_hidden(text, secret, kept):
    out = redact(text)
    assert secret not in out and kept in out


@pytest.mark.parametrize("text", [
    "keyboard=us path=/x author=me monkey=1", "ssh://git@github.com/org/repo", "user@example.com",
    "--no-auth --verbose", "Ready=False: ServiceMissing", "sum(rate(x[5m])) > 0", "http://127.0.0.1:5000/x",
])
def test_plain_text_is_left_alone(text):
    assert redact(text) == text


def test_names_are_judged_by_their_word_parts():
    for name in ("AWS_SECRET_ACCESS_KEY", "GITHUB_PAT", "ENCRYPTION_KEY", "SENTRY_DSN", "apiKey", "dbPassword",
                 "PGPASSWORD", "HTTPAuth", "client-credentials", "x.token"):
        assert is_secret_name(name), name
    for name in ("keyboard", "path", "author", "LOG_LEVEL", "monkey", "passenger_count", "patch"):
        assert not is_secret_name(name), name


def test_a_flag_and_its_value_as_two_arguments():
    assert redact_args(["--api-key", "X", "--db-password=y", "--port", "80", "-v"]) == \
        ["--api-key", "***", "--db-password=***", "--port", "80", "-v"]


def test_the_log_is_private_and_hides_secrets_in_messages_and_tracebacks(tmp_path):
    from console.cli import start_log

    path = tmp_path / "console.log"
    path.write_text("an older run\n")
    os.chmod(path, 0o644)  # left readable by others before: brought down when the console opens it
    handler = start_log(str(path))
    log = logging.getLogger("mlops_console")
    try:
        log.warning("runs pane: API request to %s failed", "http://user:pw-in-log@127.0.0.1:1/api")
        try:
            raise RuntimeError("cannot push to http://user:pw-in-trace@127.0.0.1:2/dvc")
        except RuntimeError:
            log.exception("unexpected error in data pane")
    finally:
        log.removeHandler(handler)
        handler.close()
    text = path.read_text()
    assert "pw-in-log" not in text and "pw-in-trace" not in text
    assert "http://user:***@127.0.0.1:1/api" in text and "RuntimeError" in text and "an older run" in text
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_a_new_log_is_created_private(tmp_path):
    from console.cli import start_log

    path = tmp_path / "new.log"
    handler = start_log(str(path))
    try:
        logging.getLogger("mlops_console").warning("hello")
    finally:
        logging.getLogger("mlops_console").removeHandler(handler)
        handler.close()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_histories_keep_no_password_on_disk_and_are_private(tmp_path):
    from console.history import History

    path = tmp_path / "promql_history"
    path.write_text("up\n")
    os.chmod(path, 0o644)
    history = History("promql_history", path=path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, "an existing file's mode is fixed when read"
    history.append('up{instance="http://admin:pw-in-history@10.0.0.1:9100"}')
    assert "pw-in-history" not in path.read_text() and "admin:***@10.0.0.1" in path.read_text()
    assert history[-1].endswith('pw-in-history@10.0.0.1:9100"}'), "this session still walks what was typed"
