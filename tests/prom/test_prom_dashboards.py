"""Built-in and Grafana-imported dashboards: loaded, reported, and their PromQL run on a real Prometheus."""

from __future__ import annotations

import math
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from backends.metrics.dashboards import (
    exact_regex,
    expand,
    import_grafana,
    legend_for,
    load_folders,
    parse_label_values,
)
from backends.metrics.prometheus import PrometheusMetrics

from .conftest import wait_for

HERE = Path(__file__).resolve().parent
GRAFANA = HERE / "grafana-seldon-sample.json"


def test_builtin_model_serving_dashboard_has_the_four_golden_signals():
    reports = load_folders()
    builtin = reports[0]
    assert builtin.skipped == ()
    board = builtin.dashboard
    assert board.title.startswith("Model serving")
    titles = " | ".join(p.title for p in board.panels).lower()
    for signal in ("latency", "traffic", "errors", "saturation"):
        assert signal in titles
    latency = board.panels[0]
    assert [t.legend for t in latency.targets] == ["p50", "p95", "p99"]
    assert latency.unit == "seconds" and latency.kind == "line"
    assert {v.name for v in board.variables} == {"deployment", "namespace"}
    assert parse_label_values(board.variables[0].query) == (
        "seldon_api_executor_server_requests_seconds_count", "deployment_name")
    for panel in board.panels:
        for target in panel.targets:
            assert "$deployment" in target.expr and "$namespace" in target.expr
            assert "seldon_api_executor" in target.expr or "rest_server" in target.expr \
                or "model_infer" in target.expr or "container_" in target.expr


def test_builtin_dashboard_numbers_match_the_exporter(settings, exporter):
    backend = PrometheusMetrics.from_settings(settings)
    board = load_folders()[0].dashboard
    seldon = exporter.metrics["seldon"]
    for _ in range(20):
        seldon.labels("iris", "seldon", "200", "POST").observe(0.02)
    for _ in range(2):
        seldon.labels("iris", "seldon", "500", "POST").observe(0.3)
    count = 'sum(seldon_api_executor_server_requests_seconds_count{deployment_name="iris"})'
    wait_for(lambda: backend.instant_query(count).samples[0].value == 77.0, 10, what="new observations scraped")
    values = {"deployment": "iris", "namespace": "seldon"}
    by_title = {p.title: p for p in board.panels}

    def instant(expr: str) -> float:
        samples = backend.instant_query(expand(expr, values, step=5)).samples
        assert samples, expr
        return samples[0].value

    latency = by_title["Latency p50 / p95 / p99"]
    # rate() needs a scrape on each side of the new observations: wait for the errors they add
    wait_for(lambda: instant(by_title["Errors (5xx share)"].targets[0].expr) > 0, 10, what="the 5xx rate")
    p50, p95, p99 = (instant(t.expr) for t in latency.targets)
    assert 0.01 < p50 <= 0.025
    assert 0.25 < p99 <= 0.5
    assert p50 <= p95 <= p99
    traffic = instant(by_title["Traffic"].targets[0].expr)
    assert traffic > 0
    errors = instant(by_title["Errors (5xx share)"].targets[0].expr)
    assert errors == pytest.approx(2 / 22, rel=0.3)
    # the other deployment has nothing: the variable really filters
    none = backend.instant_query(expand(latency.targets[0].expr, {"deployment": "wine", "namespace": ".*"}, 5))
    assert not none.samples or math.isnan(none.samples[0].value)
    # every target of the dashboard is valid PromQL for the real server (a range query, as the pane runs it);
    # the Seldon executor's panels have data, those that need MLServer's or the kubelet's metrics have none
    end = datetime.now(UTC)
    charted = {}
    for panel in board.panels:
        for index, target in enumerate(panel.targets):
            expr = expand(target.expr, values, step=5, window=300)
            result = backend.range_query(expr, end - timedelta(minutes=5), end, 5)
            assert result.query == expr and result.step == 5 and result.warnings == ()
            charted[(panel.title, index)] = len(result.series)
    assert charted == {
        ("Latency p50 / p95 / p99", 0): 1, ("Latency p50 / p95 / p99", 1): 1, ("Latency p50 / p95 / p99", 2): 1,
        ("Traffic", 0): 1, ("Errors (5xx share)", 0): 1, ("Errors (5xx share)", 1): 0,
        ("Saturation (requests in flight)", 0): 0, ("Saturation (CPU cores)", 0): 0,
        ("Requests by status code", 0): 2,
    }


def test_a_variable_matching_one_name_exactly_is_valid_promql_and_matches_only_that_name(settings, exporter):
    """A deployment's name set as a dashboard variable (a link does so): dots, dashes and quotes as Kubernetes
    names and scrape addresses carry them must parse, and a dot must not match any character."""
    backend = PrometheusMetrics.from_settings(settings)
    instance = exporter.address  # 127.0.0.1:PORT: dots and a colon
    assert [dict(s.labels)["instance"] for s in backend.instant_query(
        expand('up{instance=~"$i"}', {"i": exact_regex(instance)})).samples] == [instance]
    lookalike = instance.replace(".", "x", 1)  # 127x0.0.1: matched by an unescaped dot
    assert backend.instant_query(expand('up{instance=~"$i"}', {"i": exact_regex(lookalike)})).samples == ()
    for name in ("diabetes-v2", 'we"ird.name', "a+b(c)"):  # each parses, and matches no series
        assert backend.instant_query(expand('up{job=~"$j"}', {"j": exact_regex(name)})).samples == ()


def test_grafana_import_keeps_queries_titles_units_and_variables():
    report = import_grafana(GRAFANA)
    board = report.dashboard
    assert board.title == "Seldon Core model serving"
    assert [(p.title, p.kind, p.unit) for p in board.panels] == [
        ("Requests per second", "line", "req/s"),
        ("Latency (quantile $quantile)", "line", "seconds"),
        ("Success rate", "stat", "ratio"),
        ("Requests by deployment", "table", ""),
        ("GPU temperature", "line", "celsius"),
    ]
    rps = board.panels[0]
    assert len(rps.targets) == 1 and rps.targets[0].legend == "{{code}}"
    assert legend_for(rps.targets[0].legend, {"code": "200"}) == "200"
    variables = {v.name: v for v in board.variables}
    assert set(variables) == {"namespace", "deployment", "quantile", "pods"}
    assert variables["namespace"].default == ".*"
    assert variables["namespace"].query.startswith("label_values(")
    assert variables["deployment"].default == "iris"
    assert variables["quantile"].options == ("0.5", "0.9", "0.99") and variables["quantile"].default == "0.9"
    assert variables["pods"].query == ""


def test_grafana_import_lists_what_it_could_not_import():
    skipped = "\n".join(import_grafana(GRAFANA).skipped)
    expected = [
        "panel 'About': type 'text' is not supported",
        "panel 'Latency heatmap': type 'heatmap' is not supported",
        "panel 'Model logs': type 'logs' is not supported",
        "panel 'Requests per second': target B is hidden in Grafana",
        "panel 'GPU temperature': target B is a Grafana expression",
        "panel 'GPU temperature': unit 'celsius' not known",
        "variable 'datasource': datasource variables are not needed",
        "variable 'pods': query 'query_result(count by (pod) (up))' is not label_values",
        "variable 'filters': type 'adhoc' is not supported",
    ]
    for line in expected:
        assert line in skipped
    assert len(import_grafana(GRAFANA).skipped) == len(expected)


def test_grafana_queries_run_on_the_real_server(settings):
    backend = PrometheusMetrics.from_settings(settings)
    board = import_grafana(GRAFANA).dashboard
    values = {v.name: v.default for v in board.variables}
    answers = {p.title: [backend.instant_query(expand(t.expr, values, step=5)) for t in p.targets]
               for p in board.panels}
    assert {title: [len(a.samples) for a in found] for title, found in answers.items()} == {
        "Requests per second": [2], "Latency (quantile $quantile)": [1], "Success rate": [1],
        "Requests by deployment": [1], "GPU temperature": [0],
    }
    # the variables' defaults reached the server: iris' responses by code, the quantile asked for
    assert {dict(s.labels)["code"] for s in answers["Requests per second"][0].samples} == {"200", "500"}
    assert "histogram_quantile(0.9," in answers["Latency (quantile $quantile)"][0].query
    (by_deployment,) = answers["Requests by deployment"][0].samples
    assert dict(by_deployment.labels) == {"deployment_name": "iris"} and by_deployment.value >= 55


def test_folders_report_broken_files_and_missing_folders(tmp_path):
    folder = tmp_path / "boards"
    folder.mkdir()
    (folder / "good.yaml").write_text(
        "title: Mine\npanels:\n  - title: Up\n    promql: up\n    kind: stat\n"
        "  - title: Odd\n    promql: up\n    kind: pie\n  - title: Empty\n")
    (folder / "broken.yaml").write_text("title: Broken\npanels:\n  - title: [unclosed\n")
    (folder / "notes.txt").write_text("ignored")
    shutil.copy(GRAFANA, folder / "seldon.json")
    reports = load_folders([folder, tmp_path / "nowhere"])
    by_name = {Path(r.source).name: r for r in reports}
    assert list(by_name) == ["built-in (model-serving.yaml)", "broken.yaml", "good.yaml", "seldon.json", "nowhere"]
    assert by_name["broken.yaml"].dashboard is None
    assert "not valid YAML: line 4" in by_name["broken.yaml"].skipped[0]
    good = by_name["good.yaml"]
    assert [(p.title, p.kind) for p in good.dashboard.panels] == [("Up", "stat"), ("Odd", "line")]
    assert good.skipped == ("panel 'Odd': unknown kind 'pie', shown as a line chart",
                            "panel 'Empty': no 'promql' or 'targets'")
    assert by_name["nowhere"].skipped == ("folder not found",)
    assert by_name["seldon.json"].dashboard.title == "Seldon Core model serving"
    backend = PrometheusMetrics.from_settings({"prometheus_url": "http://127.0.0.1:1",
                                               "dashboards": [str(folder)]})
    assert [Path(r.source).name for r in backend.dashboards()] == list(by_name)[:-1]


def test_variable_expansion():
    values = {"deployment": "iris", "ns": "seldon"}
    expr = 'x{d=~"$deployment", n="${ns}", m="[[ns]]", r="${ns:regex}", u="$unknown"}[$__rate_interval]'
    assert expand(expr, values, step=30) == 'x{d=~"iris", n="seldon", m="seldon", r="seldon", u="$unknown"}[120s]'
    assert expand("rate(x[$__interval])", {}, step=5) == "rate(x[5s])"
    assert expand("rate(x[$__rate_interval])", {}, step=5) == "rate(x[60s])"
    assert expand("$deployment_name", values) == "$deployment_name"
