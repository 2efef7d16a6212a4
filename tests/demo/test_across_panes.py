"""Links across the panes on the demo's real, linked systems: its DVC data versions, the 21 runs tagged with them,
the registered `diabetes` versions with `champion`, the two model servers serving `models:/diabetes@champion`, and
Prometheus scraping MLServer.

This module's name sorts before test_demo.py on purpose: that module stops the session's demo stack at its end."""

from __future__ import annotations

import io
import subprocess
import time

import httpx
import pytest
from rich.console import Console

from backends.registry import create
from console.demo import train as training, workspace as ws
from console.links import Links, Ref
from linked import demo_app, demo_links, training_record, until

pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def links(built_demo):
    with demo_links(built_demo) as resolver:
        yield resolver


def test_run_and_data_version_link_both_ways(built_demo, links):
    versions = {v.tag: v for v in ws.versions(built_demo.workspace)}
    runs = training_record(built_demo)["runs"]
    for run in runs[::7]:  # one run of each data version
        found = links.run_data(run["run_id"])
        version = versions[run["version"]]
        assert [link.target.key for link in found if link.target] == [(ws.DATA_FILE, version.commit)], found
        assert "data.dvc_md5" in found[0].evidence and "data.git_commit" in found[0].evidence
        assert run["version"] in found[0].target.label
        back = links.data_runs(ws.DATA_FILE, version.commit)
        expected = {r["run_id"] for r in runs if r["version"] == run["version"]}
        assert {link.target.key[0] for link in back if link.target} == expected
        assert all(link.target.pane == "runs" for link in back)


def test_registered_versions_and_their_deployments(built_demo, links):
    trained = training_record(built_demo)
    champion = trained["champion"]
    models = links.run_models(champion["run_id"])
    assert [link.target.key for link in models if link.target] == [(training.MODEL_NAME, champion["model_version"])]
    assert "@champion" in models[0].target.label
    assert links.model_run(training.MODEL_NAME, champion["model_version"])[0].target.key[0] == champion["run_id"]
    served = links.serving(model=(training.MODEL_NAME, champion["model_version"]))
    assert {link.target.key[1] for link in served if link.target} == {"diabetes-v2", "diabetes-mlflow"}
    assert "@champion points at v" + champion["model_version"] in served[0].evidence
    # a version that is not the champion is served by nothing, and says so
    other = next(r for r in trained["runs"] if r.get("model_version") and r["run_id"] != champion["run_id"])
    assert [link.target for link in links.serving(run_id=other["run_id"])] == [None]
    # the deployment's own menu: the version it serves, its run, its metrics
    d = next(d for d in links.deployment_list() if d.name == "diabetes-v2")
    menu = links.links_of(Ref("deployment", d.key, d.name))
    kinds = {link.target.kind: link.target.key for link in menu if link.target}
    assert kinds["model"] == (training.MODEL_NAME, champion["model_version"])
    assert kinds["run"][0] == champion["run_id"]
    assert kinds["metrics"] == d.key


def test_trace_shows_the_chain_end_to_end(built_demo, links):
    champion = training_record(built_demo)["champion"]
    version = next(v for v in ws.versions(built_demo.workspace) if v.tag == champion["version"])
    for spec in (f"{training.MODEL_NAME}@{training.ALIAS}", champion["run_id"], "diabetes-v2"):
        trace = links.trace(spec)
        assert [(o, v.rev) for o, v, _ in trace.data] == [(ws.DATA_FILE, version.commit)], spec
        assert trace.data[0][1].in_cache is not None
        assert trace.run is not None and trace.run.run_id == champion["run_id"]
        assert [v.version for v in trace.versions] == [champion["model_version"]]
        assert {d.name for d, _ in trace.deployments} == {"diabetes-v2", "diabetes-mlflow"}
    # MLServer's series carry no deployment label in the demo (it is scraped directly): said, not guessed
    deadline = time.monotonic() + 120
    while True:
        links.refresh()
        trace = links.trace("diabetes-v2")
        now = next(s for s in trace.serving if s.deployment == "diabetes-v2")
        if now.request_rate or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert now.request_rate and now.request_rate > 0, now
    assert now.p95_latency is not None and now.p95_latency > 0
    assert now.error_ratio is not None and 0 <= now.error_ratio < 1
    assert "no serving series are labelled deployment=diabetes-v2" in now.note


def test_a_run_without_data_tags_says_so(built_demo, links):
    api = f"{built_demo.settings['mlflow_uri']}/api/2.0/mlflow"
    with httpx.Client(timeout=30) as http:
        experiment = http.post(f"{api}/experiments/create", json={"name": "untagged"}).json()["experiment_id"]
        run_id = http.post(f"{api}/runs/create", json={"experiment_id": experiment}).json()["run"]["info"]["run_id"]
        # deleted again: the Runs pane of the demo test that follows opens the experiment written to last
        http.post(f"{api}/experiments/delete", json={"experiment_id": experiment}).raise_for_status()
    found = links.run_data(run_id)
    assert [link.target for link in found] == [None]
    assert found[0].evidence.startswith("no data version recorded for this run")
    trace = links.trace(run_id)
    assert trace.data == [] and any("no data version recorded" in n for n in trace.notes)
    assert any("no deployment" in n for n in trace.notes)
    unknown = links.trace("0123456789abcdef0123456789abcdef")
    assert unknown.run is None and unknown.versions == [] and unknown.deployments == []
    assert any("is not a deployment, a MODEL@ALIAS or MODEL/N, or a run id" in n for n in unknown.notes)
    assert any("@nobody" in n for n in links.trace(f"{training.MODEL_NAME}@nobody").notes)


def test_a_run_that_names_its_data_only_by_a_git_tag_links_through_the_tag(built_demo, links):
    oldest = ws.versions(built_demo.workspace)[0]  # the demo tags each data commit (v1-raw, ...)
    api = f"{built_demo.settings['mlflow_uri']}/api/2.0/mlflow"
    labels = {"tagged": oldest.tag, "unknown": "no-such-tag", "option": "--output=/tmp/x", "range": "v1-raw..HEAD"}
    with httpx.Client(timeout=30) as http:
        experiment = http.post(f"{api}/experiments/create", json={"name": "tag-only"}).json()["experiment_id"]
        run_ids = {}
        for name, label in labels.items():
            run_ids[name] = http.post(f"{api}/runs/create", json={
                "experiment_id": experiment, "tags": [{"key": "data.version", "value": label}]}).json()["run"]["info"][
                "run_id"]
        http.post(f"{api}/experiments/delete", json={"experiment_id": experiment}).raise_for_status()
    found = links.run_data(run_ids["tagged"])
    assert [link.target.key[1] for link in found if link.target] == [oldest.commit], found
    assert found[0].evidence == f"tag data.version = {oldest.tag} is the git tag of its commit"
    for name in ("unknown", "option", "range"):  # no such tag, or not a tag's name: never handed to git as one
        missed = links.run_data(run_ids[name])
        assert [link.target for link in missed] == [None], (name, missed)
        assert f"data.version = {labels[name][:12]}" in missed[0].evidence and "matches it" in missed[0].evidence


# -- the jumps, as a user makes them with keys -------------------------------------------------------------------
def menu_shown(app) -> bool:
    """The links menu is on top, with its entries in its list, which has focus."""
    from textual.widgets import OptionList

    from widgets.link_menu import LinkMenu

    menu = app.screen
    if not isinstance(menu, LinkMenu) or not menu.loaded or not menu.is_mounted:
        return False
    listing = menu.query_one(OptionList)
    return listing.has_focus and listing.option_count == len(menu.entries) > 0


async def choose(pilot, app, relation: str, label_part: str = "") -> None:
    """Open the `L` menu and take the entry ``relation: ...label_part...`` with the arrow keys and enter."""
    from widgets.link_menu import LinkMenu

    await pilot.press("L")
    await until(pilot, lambda: menu_shown(app), "the links menu")
    entries = app.screen.entries
    index = next(i for i, e in enumerate(entries) if e.relation == relation and label_part in e.label)
    await pilot.press(*["down"] * index, "enter")
    await until(pilot, lambda: not isinstance(app.screen, LinkMenu), "the menu to close")


async def test_keys_only_from_the_metrics_to_the_data_version_and_back(built_demo):
    from console.panes.data import DataScreen
    from console.panes.deployments.screen import DeploymentsScreen
    from console.panes.metrics.screen import MetricsScreen
    from console.panes.runs.screen import RunsScreen
    from console.panes.runs.views import RegistryView
    from widgets.panebar import PaneBar

    champion = training_record(built_demo)["champion"]
    version = next(v for v in ws.versions(built_demo.workspace) if v.tag == champion["version"])
    app = demo_app(built_demo, "deployments")
    async with app.run_test(size=(100, 30)) as pilot:
        deployments = app.screen
        assert isinstance(deployments, DeploymentsScreen)
        await until(pilot, lambda: deployments.loaded and len(deployments._rows) == 2, "the two model servers")
        await pilot.press(*["down"] * deployments._rows.index(("endpoints", "diabetes-v2")))
        assert deployments.selected().name == "diabetes-v2"
        # deployment -> its metrics: the serving dashboard, every series (the demo's carry no deployment label)
        await choose(pilot, app, "metrics")
        await until(pilot, lambda: isinstance(app.screen, MetricsScreen) and app.screen.link_subject() is not None,
                    "the serving dashboard opened for diabetes-v2")
        metrics = app.screen
        assert metrics.dashboard.title.startswith("Model serving")
        assert metrics.variables["deployment"] == ".*"
        assert "diabetes-v2" in metrics.query_one("#panebar", PaneBar).render().plain
        # metrics -> the run whose model it serves -> the data version it trained on
        await choose(pilot, app, "serves a model of run")
        await until(pilot, lambda: isinstance(app.screen, RunsScreen) and app.screen.selected_run() is not None
                    and app.screen.selected_run().run_id == champion["run_id"], "the champion's run selected")
        await choose(pilot, app, "trained on")
        await until(pilot, lambda: isinstance(app.screen, DataScreen) and app.screen.selected_version() is not None
                    and app.screen.selected_version().rev == version.commit
                    and app.screen.query_one("#history").has_focus, "the data version selected")
        # and back along the trail, one step per key
        await pilot.press("backspace")
        await until(pilot, lambda: isinstance(app.screen, RunsScreen)
                    and app.screen.selected_run().run_id == champion["run_id"], "back on the run")
        await pilot.press("alt+left")
        await until(pilot, lambda: isinstance(app.screen, MetricsScreen), "back on the metrics")
        await pilot.press("backspace")
        await until(pilot, lambda: isinstance(app.screen, DeploymentsScreen)
                    and app.screen.selected().name == "diabetes-v2", "back on the deployment")
        assert app.link_nav.trail == []
        await pilot.press("backspace")
        await until(pilot, lambda: "no link followed yet" in app.screen.query_one("#status").render().plain,
                    "the end of the trail said")
        # run -> its registered version: the registry opens on it
        await pilot.press("2")
        await until(pilot, lambda: isinstance(app.screen, RunsScreen), "the runs pane")
        await choose(pilot, app, "registered as", "@champion")
        await until(pilot, lambda: isinstance(app.screen, RegistryView) and app.screen.versions
                    and app.screen.query_one("#versions").has_focus, "the registry on the champion")
        registry = app.screen
        row = registry.query_one("#versions").cursor_row
        assert registry.versions[row].version == champion["model_version"]
        # L on the version there: its run and the deployments serving it
        await choose(pilot, app, "served by", "diabetes-mlflow")
        await until(pilot, lambda: isinstance(app.screen, DeploymentsScreen)
                    and app.screen.selected().name == "diabetes-mlflow", "the deployment serving the version")
        assert [ref.kind for ref in app.link_nav.trail] == ["run", "model"]


async def test_data_version_to_its_runs_and_trace_command(built_demo):
    from console.panes.data import DataScreen
    from console.panes.runs.screen import RunsScreen
    from widgets.views import TextView

    trained = training_record(built_demo)
    versions = ws.versions(built_demo.workspace)
    app = demo_app(built_demo, "data")
    async with app.run_test(size=(100, 30)) as pilot:
        data = app.screen
        assert isinstance(data, DataScreen)
        await until(pilot, lambda: len(data.versions) == 3, "the three versions")
        oldest = versions[0]
        await pilot.press("tab", *["down"] * [v.rev for v in data.versions].index(oldest.commit))
        assert data.link_subject().key == (ws.DATA_FILE, oldest.commit)
        await pilot.press("L")
        await until(pilot, lambda: menu_shown(app), "the links menu")
        runs = {r["run_id"]: r for r in trained["runs"] if r["version"] == oldest.tag}
        assert {e.label for e in app.screen.entries} == {f"{oldest.tag} alpha={r['alpha']} l1={r['l1_ratio']}"
                                                          for r in runs.values()}
        await pilot.press("down", "down", "enter")
        await until(pilot, lambda: isinstance(app.screen, RunsScreen) and app.screen.selected_run() is not None
                    and app.screen.selected_run().run_id in runs, "one of the version's runs selected")
        await pilot.press("colon", *f"trace {trained['champion']['run_id']}", "enter")
        await until(pilot, lambda: isinstance(app.screen, TextView), "the trace")
        out = Console(width=96, file=io.StringIO(), record=True)
        out.print(app.screen.body)
        plain = out.export_text()
        for part in (ws.DATA_FILE, trained["champion"]["run_id"], "@champion", "endpoints/diabetes-v2",
                     "endpoints/diabetes-mlflow", "in cache, in remote"):
            assert part in plain, (part, plain)


def test_a_run_at_a_later_commit_links_through_what_the_dvc_file_records_there(built_demo, links):
    from backends.errors import NotFound

    repo = ws.repo_path(built_demo.workspace)
    versions = ws.versions(built_demo.workspace)
    first = subprocess.run(["git", "rev-list", "--max-parents=0", "HEAD"], cwd=repo, capture_output=True, text=True,
                           check=True).stdout.strip()
    assert links.data.md5_at(ws.DATA_FILE, first) is None  # before the data was tracked
    assert [links.data.md5_at(ws.DATA_FILE, v.commit) for v in versions] == [v.md5 for v in versions]
    for bad in ("--output=/tmp/x", "HEAD~1", "0123456789abcdef"):
        with pytest.raises(NotFound):
            links.data.md5_at(ws.DATA_FILE, bad)
    # a commit that leaves the data as it is: a run made there trained on the version checked out
    subprocess.run(["git", "commit", "-q", "--allow-empty", "-m", "Tune the training script"], cwd=repo, check=True)
    later = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True,
                           check=True).stdout.strip()
    api = f"{built_demo.settings['mlflow_uri']}/api/2.0/mlflow"
    with httpx.Client(timeout=30) as http:
        experiment = http.post(f"{api}/experiments/create", json={"name": "later"}).json()["experiment_id"]
        run_id = http.post(f"{api}/runs/create", json={"experiment_id": experiment, "tags": [
            {"key": "mlflow.source.git.commit", "value": later}]}).json()["run"]["info"]["run_id"]
        http.post(f"{api}/experiments/delete", json={"experiment_id": experiment}).raise_for_status()
    found = links.run_data(run_id)
    assert [link.target.key for link in found if link.target] == [(ws.DATA_FILE, versions[-1].commit)]
    assert f"mlflow.source.git.commit = {later[:7]}, a commit whose .dvc file records" in found[0].evidence


# -- consistency badges ------------------------------------------------------------------------------------------
def _problems(badges) -> list[str]:
    return [b.problem for b in badges]


def test_deployment_badges_follow_the_alias_and_the_data_version(built_demo, links):
    from mlflow.tracking import MlflowClient

    trained = training_record(built_demo)
    champion = trained["champion"]
    current = ws.versions(built_demo.workspace)[-1]  # the workspace is left at the newest version
    older = next(r for r in trained["runs"] if r.get("model_version") and r["version"] != current.tag)
    served = next(d for d in links.deployment_list() if d.name == "diabetes-v2")
    url = next(e["url"] for e in built_demo.settings["endpoints"] if e["name"] == "diabetes-v2")
    # a second deployment pinned to the champion's version number, beside the demo's `@champion` ones
    settings = {**built_demo.settings, "endpoints": [*built_demo.settings["endpoints"], {
        "name": "pinned", "url": url, "protocol": "v2", "model": "diabetes",
        "model_uri": f"models:/{training.MODEL_NAME}/{champion['model_version']}"}]}
    pinned_backend = create("deployments", "endpoints", settings)
    pinned_links = Links(links.data, links.runs, pinned_backend)
    client = MlflowClient(built_demo.settings["mlflow_uri"])

    def badges() -> tuple[list, list]:
        links.refresh()
        pinned_links.refresh()
        pinned = next(d for d in pinned_links.deployment_list() if d.name == "pinned")
        return links.badges_of(Ref("deployment", served.key, served.name)), pinned_links.deployment_badges(pinned)

    try:
        stale = champion["version"] != current.tag
        on_alias, pinned = badges()
        assert _problems(on_alias) == (["serves a model trained on older data"] if stale else []), on_alias
        assert "not serving @champion" not in _problems(pinned)
        # the alias moves to a model of older data: the `@champion` deployments now serve it, the pinned one not
        client.set_registered_model_alias(training.MODEL_NAME, training.ALIAS, older["model_version"])
        on_alias, pinned = badges()
        assert _problems(on_alias) == ["serves a model trained on older data"], on_alias
        assert current.commit[:7] in on_alias[0].evidence
        assert older["run_id"][:12] in on_alias[0].evidence
        assert "not serving @champion" in _problems(pinned)
        moved = next(b for b in pinned if b.problem == "not serving @champion")
        assert f"serves diabetes v{champion['model_version']}; @champion is v{older['model_version']}" in (
            moved.evidence)
        trace = links.trace("diabetes-v2")
        assert sorted((about, b.problem) for about, b in trace.badges) == [  # both serve `@champion`
            ("diabetes-mlflow", "serves a model trained on older data"),
            ("diabetes-v2", "serves a model trained on older data")]
        out = io.StringIO()
        Console(file=out, width=80, no_color=True).print(_trace_renderable(trace))
        assert "! serves a model trained on older data" in out.getvalue()
    finally:  # the alias back where the demo put it: the badges go
        client.set_registered_model_alias(training.MODEL_NAME, training.ALIAS, champion["model_version"])
        pinned_backend.close()
    on_alias, pinned = badges()
    assert "not serving @champion" not in _problems(pinned)
    assert ("serves a model trained on older data" in _problems(on_alias)) == (champion["version"] != current.tag)


def _trace_renderable(trace):
    from console.linking import trace_renderable

    return trace_renderable(trace)


def test_a_run_whose_data_left_the_cache_and_the_remote_cannot_be_reproduced(built_demo, links, tmp_path):
    import shutil

    repo = tmp_path / "repo"
    shutil.copytree(ws.repo_path(built_demo.workspace), repo, symlinks=True)
    shutil.copytree(built_demo.workspace / "dvc-remote", tmp_path / "dvc-remote")
    ws._dvc(repo, "remote", "modify", "--local", "storage", "url", str(tmp_path / "dvc-remote"))
    data = create("data", "dvc", {**built_demo.settings, "repo": str(repo)})
    copy = Links(data, links.runs)
    oldest = ws.versions(built_demo.workspace)[0]
    runs = training_record(built_demo)["runs"]
    lost = next(r["run_id"] for r in runs if r["version"] == oldest.tag)
    kept = next(r["run_id"] for r in runs if r["version"] != oldest.tag)
    assert copy.run_badges(lost) == [] and copy.run_badges(kept) == []
    cached = repo / ".dvc" / "cache" / "files" / "md5" / oldest.md5[:2] / oldest.md5[2:]
    pushed = tmp_path / "dvc-remote" / "files" / "md5" / oldest.md5[:2] / oldest.md5[2:]
    saved = tmp_path / "saved"
    shutil.move(cached, saved)
    pushed.unlink()
    copy.refresh()
    badges = copy.run_badges(lost)
    assert _problems(badges) == ["cannot be reproduced"], badges
    assert f"{ws.DATA_FILE}@{oldest.commit[:7]}" in badges[0].evidence
    assert "not in the DVC cache, not in the remote either" in badges[0].evidence
    assert copy.run_badges(kept) == []
    assert copy.trace(lost).badges and copy.trace(lost).badges[0][1].problem == "cannot be reproduced"
    shutil.move(saved, cached)  # back in the cache: it can be reproduced again
    copy.refresh()
    assert copy.run_badges(lost) == []


def test_available_while_a_condition_is_false_is_a_badge():
    fake = Links(deployments=create("deployments", "fake", {}))
    by_name = {d.name: fake.deployment_badges(d) for d in fake.deployment_list()}
    assert _problems(by_name["recommender"]) == ["Available while a condition is False"]
    assert "ServicesReady=False: ServiceMissing" in by_name["recommender"][0].evidence
    assert by_name["iris"] == [] and by_name["price-forecast"] == []


async def test_the_deployments_pane_marks_a_badged_row_and_says_why(built_demo):
    from mlflow.tracking import MlflowClient
    from textual.widgets import Static

    from console.panes.deployments.screen import DeploymentsScreen

    trained = training_record(built_demo)
    champion = trained["champion"]
    older = next(r for r in trained["runs"] if r.get("model_version") and r["version"] != champion["version"])
    client = MlflowClient(built_demo.settings["mlflow_uri"])
    client.set_registered_model_alias(training.MODEL_NAME, training.ALIAS, older["model_version"])
    try:
        app = demo_app(built_demo, "deployments")
        async with app.run_test(size=(80, 24)) as pilot:
            pane = app.screen
            assert isinstance(pane, DeploymentsScreen)

            def marked() -> bool:
                return any(pane._badges.get(d.key) for d in pane.deployments.values() if d.name == "diabetes-v2")

            await until(pilot, marked, "the badge of diabetes-v2")
            await pilot.press(*["down"] * [k[1] for k in pane._rows].index("diabetes-v2"))
            await until(pilot, lambda: "! serves a model trained on older data" in str(
                pane.query_one("#detail", Static).render()), "the badge in the detail box")
            row = pane._rows.index(next(k for k in pane._rows if k[1] == "diabetes-v2"))
            from widgets.fast_table import FastTable

            assert "diabetes-v2 !" in str(pane.query_one("#deployments", FastTable).get_row_at(row))
    finally:
        client.set_registered_model_alias(training.MODEL_NAME, training.ALIAS, champion["model_version"])


async def test_the_runs_pane_marks_a_run_that_cannot_be_reproduced_and_says_why(built_demo, tmp_path, screen_text,
                                                                                  monkeypatch):
    """The "!" comes with the rows, says why, goes on `r` once the data is back, and comes back by itself (the
    pane's tick) when the data is lost again while the pane is shown."""
    import shutil

    from console import linking
    from console.app import make_app
    from console.config import load_config
    from console.panes.runs import screen as runs_screen
    from console.panes.runs.screen import RunsScreen
    from widgets.fast_table import FastTable
    from widgets.status import StatusBar

    repo = tmp_path / "repo"
    shutil.copytree(ws.repo_path(built_demo.workspace), repo, symlinks=True)
    shutil.copytree(built_demo.workspace / "dvc-remote", tmp_path / "dvc-remote")
    ws._dvc(repo, "remote", "modify", "--local", "storage", "url", str(tmp_path / "dvc-remote"))
    config_file = tmp_path / "config.toml"
    config_file.write_text((built_demo.workspace / "config.toml").read_text().replace(
        str(ws.repo_path(built_demo.workspace)), str(repo)))
    oldest = ws.versions(built_demo.workspace)[0]
    runs = training_record(built_demo)["runs"]
    lost = next(r["run_id"] for r in runs if r["version"] == oldest.tag)
    cached = repo / ".dvc" / "cache" / "files" / "md5" / oldest.md5[:2] / oldest.md5[2:]
    pushed = tmp_path / "dvc-remote" / "files" / "md5" / oldest.md5[:2] / oldest.md5[2:]
    saved = tmp_path / "saved"
    shutil.move(cached, saved)
    pushed.unlink()

    config = load_config(config_file)
    monkeypatch.setattr(runs_screen, "LINKS_TICK", 0.5)
    app = make_app(config, config.context("demo", environ={}), initial_pane="runs", cursor_blink=False)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.screen
        assert isinstance(pane, RunsScreen)
        table = pane.query_one("#runs", FastTable)

        def name_cell(run_id: str) -> str:
            ids = [r.run_id for r in pane.runs]
            return str(table.get_row_at(ids.index(run_id))[1]) if run_id in ids else ""

        await until(pilot, lambda: name_cell(lost).endswith(" !"), "the mark on the run whose data is lost")
        marked = {r.run_id for r in pane.runs if name_cell(r.run_id).endswith(" !")}
        assert marked == {r["run_id"] for r in runs if r["version"] == oldest.tag}, marked
        await pilot.press(*["down"] * [r.run_id for r in pane.runs].index(lost))
        status = pane.query_one("#status", StatusBar)
        await until(pilot, lambda: status.text.startswith("cannot be reproduced") and status.level == "warning",
                    "the reason in the status bar")
        assert f"{ws.DATA_FILE}@{oldest.commit[:7]}" in status.text
        await pilot.press("enter")
        from widgets.views import TextView

        await until(pilot, lambda: isinstance(app.screen, TextView), "the run's detail")
        assert "! cannot be reproduced" in screen_text(app)
        await pilot.press("escape")
        shutil.move(saved, cached)  # back in the cache: the run can be reproduced again, and `r` reads it anew
        await until(pilot, lambda: app.screen is pane, "the pane again")
        await pilot.press("r")
        await until(pilot, lambda: not name_cell(lost).endswith(" !"), "the mark to go")
        await until(pilot, lambda: "cannot be reproduced" not in status.text, "the reason to go from the status bar")
        # lost again while the pane is shown, and no key pressed: the tick reads the links again once they are stale
        monkeypatch.setattr(linking, "MAX_AGE", 0.5)
        shutil.move(cached, saved)
        await until(pilot, lambda: name_cell(lost).endswith(" !"), "the mark again, from the pane's tick")


async def test_a_badge_follows_an_alias_moved_while_the_console_runs(built_demo, monkeypatch):
    """The alias moves in the registry while the Deployments pane shows its rows: back on the pane (or at its
    next half-minute tick) the links are read again and the badge appears; moved back, it goes."""
    from mlflow.tracking import MlflowClient

    import console.linking
    from console.panes.deployments.screen import DeploymentsScreen

    monkeypatch.setattr(console.linking, "MAX_AGE", 0.5)  # what the links read is kept half a second, not 30
    trained = training_record(built_demo)
    champion = trained["champion"]
    older = next(r for r in trained["runs"] if r.get("model_version") and r["version"] != champion["version"])
    client = MlflowClient(built_demo.settings["mlflow_uri"])
    app = demo_app(built_demo, "deployments")
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            pane = app.screen
            assert isinstance(pane, DeploymentsScreen)

            def badged() -> bool:  # a badge that names the older model's run
                return any(older["run_id"][:12] in b.evidence for d in pane.deployments.values()
                           if d.name == "diabetes-v2" for b in pane._badges.get(d.key, ()))

            await until(pilot, lambda: pane.deployments and pane._badges_asked[0] > 0, "the first look at the links")
            assert not badged()
            client.set_registered_model_alias(training.MODEL_NAME, training.ALIAS, older["model_version"])
            await pilot.press("2")
            await pilot.pause(0.6)
            await pilot.press("3")
            # sooner than the pane's half-minute tick: coming back to the pane reads the links again
            await until(pilot, badged, "the badge after the alias moved", timeout=20)
            client.set_registered_model_alias(training.MODEL_NAME, training.ALIAS, champion["model_version"])
            await pilot.press("2")
            await pilot.pause(0.6)
            await pilot.press("3")
            await until(pilot, lambda: not badged(), "the badge to go with the alias back", timeout=20)
    finally:
        client.set_registered_model_alias(training.MODEL_NAME, training.ALIAS, champion["model_version"])
