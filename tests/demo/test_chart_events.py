"""Events on the charts of a linked deployment, on the demo's real systems: the DVC commits of the data the
champion trained on, the registered versions of the model it serves, and a move of `@champion` the resolver
noticed between two reads. The dashboard opened by `L` -> metrics on a deployment lists them under its charts.

This module's name sorts before test_demo.py on purpose: that module stops the session's demo stack at its end."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from rich.console import Console

from console.demo import train as training, workspace as ws
from linked import demo_app, demo_links, training_record, until

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def links(built_demo):
    with demo_links(built_demo, metrics=False) as resolver:
        yield resolver


def test_data_commits_registered_versions_and_an_alias_move_noticed(built_demo, links):
    from mlflow.tracking import MlflowClient

    trained = training_record(built_demo)
    champion = trained["champion"]
    older = next(r for r in trained["runs"] if r.get("model_version") and r["version"] != champion["version"])
    d = next(d for d in links.deployment_list() if d.name == "diabetes-v2")
    start, end = datetime.now(UTC) - timedelta(days=1), datetime.now(UTC) + timedelta(minutes=1)
    answer = links.events(d, start, end)
    assert answer.problems == ()
    texts = [str(e) for e in answer.events]
    dates = {v.rev: v.date for o, v in links.data_versions() if o == ws.DATA_FILE}
    for version in ws.versions(built_demo.workspace):
        line = next(e for e in answer.events if str(e).startswith(f"data {ws.DATA_FILE}@{version.commit[:7]} "
                                                                  "committed: "))
        assert line.at == dates[version.commit]
        assert line.text.endswith("(the served model trained on it)") == (version.tag == champion["version"]), line
    assert f"registry {training.MODEL_NAME} v{champion['model_version']} registered (@champion now)" in texts
    # outside the window: none of it
    assert links.events(d, start - timedelta(days=1), start).events == ()

    client = MlflowClient(built_demo.settings["mlflow_uri"])
    moved_at = datetime.now(UTC)
    client.set_registered_model_alias(training.MODEL_NAME, training.ALIAS, older["model_version"])
    try:
        links.refresh()
        answer = links.events(d, start, datetime.now(UTC) + timedelta(minutes=1))
        move = next(e for e in answer.events if "@champion" in e.text and "->" in e.text)
        assert str(move) == (f"registry {training.MODEL_NAME} @champion v{champion['model_version']} -> "
                             f"v{older['model_version']} (noticed then, not when it moved: MLflow keeps no alias "
                             "history)")
        assert move.at >= moved_at.replace(microsecond=0)
        assert answer.events[0] == move  # the newest
    finally:  # back where the demo put it (other tests share the stack)
        client.set_registered_model_alias(training.MODEL_NAME, training.ALIAS, champion["model_version"])
    links.refresh()
    texts = [str(e) for e in links.events(d, start, datetime.now(UTC) + timedelta(minutes=1)).events]
    assert any(f"@champion v{older['model_version']} -> v{champion['model_version']} (noticed" in t for t in texts)


def test_what_was_noticed_outlives_the_console(built_demo, tmp_path):
    """A move noticed in one session is still an event in the next; one made while no console ran is noticed at
    the next one's first read. The file is the user's alone; one that cannot be read is started again."""
    from mlflow.tracking import MlflowClient

    from console.noticed import NoticedJournal

    trained = training_record(built_demo)
    champion = trained["champion"]["model_version"]
    older = next(r for r in trained["runs"] if r.get("model_version") and r["model_version"] != champion)
    older = older["model_version"]
    client = MlflowClient(built_demo.settings["mlflow_uri"])
    path = tmp_path / "noticed" / "demo.json"
    start = datetime.now(UTC) - timedelta(minutes=1)

    def moves(links) -> list[str]:
        d = next(d for d in links.deployment_list() if d.name == "diabetes-v2")
        return [str(e) for e in links.events(d, start, datetime.now(UTC) + timedelta(minutes=1)).events
                if "@champion v" in e.text]

    try:
        with demo_links(built_demo, metrics=False, journal=NoticedJournal(path)) as first:
            assert moves(first) == []  # the first read: the aliases as they are
            client.set_registered_model_alias(training.MODEL_NAME, training.ALIAS, older)
            first.refresh()
            assert len(moves(first)) == 1
        NoticedJournal(path).flush()  # written by a thread of its own
        assert path.stat().st_mode & 0o777 == 0o600
        client.set_registered_model_alias(training.MODEL_NAME, training.ALIAS, champion)  # no console running
        with demo_links(built_demo, metrics=False, journal=NoticedJournal(path)) as second:
            said = moves(second)
        noticed = "(noticed then, not when it moved: MLflow keeps no alias history)"
        assert said == [f"registry {training.MODEL_NAME} @champion v{older} -> v{champion} {noticed}",
                        f"registry {training.MODEL_NAME} @champion v{champion} -> v{older} {noticed}"], said
    finally:
        client.set_registered_model_alias(training.MODEL_NAME, training.ALIAS, champion)
    path.write_text("{not json")
    with demo_links(built_demo, metrics=False, journal=NoticedJournal(path)) as third:
        assert moves(third) == []
    NoticedJournal(path).flush()
    assert '"version": 1' in path.read_text()  # written anew at its first read


async def test_the_linked_dashboard_marks_and_lists_the_events(built_demo):
    from textual.widgets import OptionList

    from console.panes.deployments.screen import DeploymentsScreen
    from console.panes.metrics.events import EventList
    from console.panes.metrics.screen import MetricsScreen
    from widgets.chart import LineChart
    from widgets.link_menu import LinkMenu
    from widgets.views import TextView

    champion = training_record(built_demo)["champion"]
    trained_on = next(v for v in ws.versions(built_demo.workspace) if v.tag == champion["version"])
    app = demo_app(built_demo, "deployments")
    async with app.run_test(size=(100, 30)) as pilot:
        pane = app.screen
        assert isinstance(pane, DeploymentsScreen)
        await until(pilot, lambda: pane.loaded and len(pane._rows) == 2, "the two model servers")
        await pilot.press(*["down"] * pane._rows.index(("endpoints", "diabetes-v2")), "L")
        await until(pilot, lambda: isinstance(app.screen, LinkMenu) and app.screen.loaded, "the links menu")
        index = next(i for i, e in enumerate(app.screen.entries) if e.relation == "metrics")
        await until(pilot, lambda: app.screen.query_one(OptionList).has_focus, "the menu's list")
        await pilot.press(*["down"] * index, "enter")
        await until(pilot, lambda: isinstance(app.screen, MetricsScreen) and app.screen.link_subject() is not None,
                    "the serving dashboard opened for diabetes-v2")
        metrics = app.screen
        listing = metrics.query_one("#chart-events", EventList)
        # a day's window: the demo's data commits and registered versions lie in it
        await pilot.press("colon", *"range 24h", "enter")
        await until(pilot, lambda: metrics.window[0] == "24h" and metrics.chart_events.answer is not None
                    and metrics.chart_events.answer.events and metrics.chart_events._asked is not None
                    and metrics.chart_events._asked[1] >= 86400 and len(metrics.chart_events.answer.events) >= 4,
                    "the events of a day")
        answer = metrics.chart_events.answer
        assert not listing.has_class("hidden") and answer.problems == ()
        shown = str(listing.render())
        assert shown.splitlines()[0].startswith("a ") and f"{answer.events[0]}"[:30] in shown.splitlines()[0]
        assert f"+{len(answer.events) - listing.rows() + 1} more (:events lists them all)" in shown
        charts = list(metrics.query("#dashboard LineChart").results(LineChart))
        assert charts and all(c.markers == tuple((e.at.timestamp(), chr(ord("a") + i))
                                                 for i, e in enumerate(answer.events)) for c in charts)
        await pilot.press("colon", *"events", "enter")
        await until(pilot, lambda: isinstance(app.screen, TextView), "the events, all of them")
        out = Console(width=160, file=io.StringIO(), record=True)
        out.print(app.screen.body)
        plain = " ".join(out.export_text().split())  # the long lines wrap
        assert f"data {ws.DATA_FILE}@{trained_on.commit[:7]} committed: " in plain, plain
        assert "(the served model trained on it)" in plain
        await pilot.press("escape")
        # another dashboard's view: not linked any more, nothing shown
        await pilot.press("escape")
        await until(pilot, lambda: metrics.dashboard is None and listing.has_class("hidden"), "the list gone")
        assert all(c.markers == () for c in metrics.query("#dashboard LineChart").results(LineChart))
