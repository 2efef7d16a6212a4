"""console/noticed.py: the file that keeps what the links noticed across sessions, on a real file system."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from console.config import Context
from console.noticed import NoticedJournal, journal_path


def test_what_is_kept_comes_back_with_its_secrets_hidden_in_a_file_of_the_users_own(tmp_path):
    path = tmp_path / "noticed" / "prod.json"
    at = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    text = "iris: model s3://u:hunter2@bucket/m -> models:/iris@champion (seen by the console)"
    NoticedJournal(path).save({"iris": {"champion": "3"}}, [(("models", "iris"), at, "deployment", text),
                                                            ("iris", at, "registry", "iris @champion v2 -> v3")])
    NoticedJournal(path).flush()  # written by a thread of its own: any journal of the file waits for it
    assert path.stat().st_mode & 0o777 == 0o600
    assert "hunter2" not in path.read_text()
    aliases, noticed = NoticedJournal(path).load()
    assert aliases == {"iris": {"champion": "3"}}
    assert noticed == [(("models", "iris"), at, "deployment", text.replace("hunter2", "***")),
                       ("iris", at, "registry", "iris @champion v2 -> v3")]


def test_a_file_that_cannot_be_read_or_written_costs_what_it_keeps_and_nothing_else(tmp_path):
    bad = tmp_path / "bad.json"
    for content in ("{not json", json.dumps({"version": 99, "aliases": {"m": {"a": "1"}}}), json.dumps([1, 2]),
                    json.dumps({"version": 1, "aliases": {"m": {"a": "1"}}, "noticed": [
                        {"about": "m", "at": "yesterday", "source": "registry", "text": "x"},
                        {"about": "m", "at": "2026-03-01T12:00:00", "source": "registry", "text": "no zone"},
                        {"about": "m"}]})):
        bad.write_text(content)
        aliases, noticed = NoticedJournal(bad).load()
        assert noticed == [], content
        assert aliases in (None, {"m": {"a": "1"}}), content
    (tmp_path / "a-file").write_text("")
    journal = NoticedJournal(tmp_path / "a-file" / "noticed.json")  # its folder is a file: nothing can be written
    journal.save(None, [])
    journal.flush()
    assert journal.path is None
    assert journal.load() == (None, [])


def test_saves_in_a_burst_leave_the_last_one_written(tmp_path):
    """Saved from the UI thread: a burst returns at once, and the file ends up holding the last state."""
    path = tmp_path / "burst.json"
    at = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    journal = NoticedJournal(path)
    for n in range(50):
        journal.save({"m": {"champion": str(n)}}, [("m", at, "registry", f"move {i}") for i in range(n + 1)])
    aliases, noticed = NoticedJournal(path).load()
    assert aliases == {"m": {"champion": "49"}} and len(noticed) == 50 and noticed[-1][3] == "move 49"
    assert not (tmp_path / "burst.json.tmp").exists()


def test_a_context_pointed_at_another_registry_or_cluster_keeps_a_file_of_its_own():
    one = journal_path(Context(name="prod", mlflow_uri="http://mlflow-a:5000"))
    assert one == journal_path(Context(name="prod", mlflow_uri="http://mlflow-a:5000", timeout=3))
    assert one != journal_path(Context(name="prod", mlflow_uri="http://mlflow-b:5000"))
    # the same server listening on another port today (a local one, the demo's) is the same registry
    assert one == journal_path(Context(name="prod", mlflow_uri="http://u:pw@mlflow-a:5001/"))
    assert journal_path(Context(name="prod", mlflow_uri="sqlite:///a.db")) != journal_path(
        Context(name="prod", mlflow_uri="sqlite:///b.db"))
    assert one != journal_path(Context(name="prod", mlflow_uri="http://mlflow-a:5000", kube_context="other"))
    odd = journal_path(Context(name="../../etc/x y"))
    assert odd is not None and odd.parent == one.parent  # the name cannot lead out of the folder
