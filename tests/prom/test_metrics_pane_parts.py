"""The Metrics pane's plain parts, without a server: the span of a poll, the queries of a dashboard, finding a
dashboard by title, and the status lines of answers, alerts and targets."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from backends.metrics import Alert, RangeResult, Series, Target, step_for
from backends.metrics.dashboards import Dashboard, ImportReport, Panel, PanelTarget, Variable
from console.panes.metrics.alerts import alerts_view, targets_view
from console.panes.metrics.dashboards import dashboard_jobs, find_dashboard
from console.panes.metrics.polling import Job, poll_span
from console.panes.metrics.query import answer_status

NOW = datetime(2026, 5, 1, 12, 0, 7, tzinfo=UTC)


def test_polls_within_one_step_ask_for_the_same_span():
    start, end, step = poll_span(NOW, 3600, 72)
    assert step == step_for(3600, 72) == 25.0
    assert end.timestamp() % step == 0 and end <= NOW < end + timedelta(seconds=step)
    assert (end - start).total_seconds() == math.ceil(3600 / step) * step >= 3600
    assert poll_span(end + timedelta(seconds=step - 1), 3600, 72) == (start, end, step)
    assert poll_span(end + timedelta(seconds=step), 3600, 72)[1] == end + timedelta(seconds=step)


BOARD = Dashboard("Model serving", (
    Panel("Traffic", (PanelTarget('rate(requests_total{deployment=~"$deployment"}[$__rate_interval])',
                                  "{{pod}}"),)),
    Panel("Codes", (PanelTarget("sum by (code) (requests_total)"), PanelTarget("up")), kind="table"),
), (Variable("deployment"),))


def test_a_dashboard_asks_each_target_of_each_panel_with_its_variables():
    jobs = dashboard_jobs(BOARD, {"deployment": "iris"}, 300, 72)
    assert jobs == [
        Job(0, 0, "range", 'rate(requests_total{deployment=~"iris"}[60s])', "{{pod}}"),
        Job(1, 0, "instant", "sum by (code) (requests_total)"),
        Job(1, 1, "instant", "up"),
    ]
    assert dashboard_jobs(BOARD, {}, 300, 72)[0].query == 'rate(requests_total{deployment=~".*"}[60s])'


def test_a_dashboard_is_found_by_its_title_or_the_start_of_it_in_any_case():
    reports = (ImportReport("broken.json", None, ("not JSON",)), ImportReport("a.yaml", BOARD),
               ImportReport("b.yaml", Dashboard("Model training", ())))
    assert find_dashboard(reports, "model serving") == 1
    assert find_dashboard(reports, " Model T") == 2
    assert find_dashboard(reports, "broken") is None
    assert find_dashboard(reports, "latency") is None


def _answer(series: int, total: int, warnings: tuple[str, ...] = ()) -> RangeResult:
    return RangeResult("q", NOW, NOW, 15.0, tuple(Series((("i", str(i)),), ((0.0, 1.0),)) for i in range(series)),
                       total, warnings)


def test_the_status_line_says_what_the_chart_shows():
    assert answer_status("q", _answer(3, 3), "1h") == ("3 series over 1h, step 15s", "info")
    assert answer_status("q", _answer(0, 0), "5m") == ("no data for q in the last 5m", "info")
    assert answer_status("q", _answer(1, 1, ("slow",)), "1h") == ("Prometheus warns: slow", "warning")
    text, level = answer_status("q", _answer(20, 25), "1h")
    assert level == "warning" and text.startswith("25 series: showing the first 20, 5 left out")


def test_alerts_and_targets_are_counted_in_the_status_line_and_the_title():
    alerts = (Alert("HighLatency", "firing", (("severity", "page"),), (("summary", "p99 over 1s"),), NOW),
              Alert("Down", "pending", (), (), None))
    status, view = alerts_view(alerts, NOW, "http://prom:9090")
    assert status == "1 firing, 1 pending alert(s)"
    assert view.title_text == "Alerts: 1 firing, 1 pending (http://prom:9090)"
    assert [row[1:4] for row in view.rows] == [("HighLatency", "page", "2026-05-01 12:00 (0s)"), ("Down", "-", "-")]
    targets = (Target("node", "a:9100", "http://a:9100/metrics", "up", NOW, "", 0.002),
               Target("node", "b:9100", "http://b:9100/metrics", "down", None, "refused", math.nan))
    status, view = targets_view(targets, NOW, "http://prom:9090")
    assert status == "2 target(s), 1 not up"
    assert view.title_text == "Targets: 1 up, 1 not up (http://prom:9090)"
    assert [row[3:] for row in view.rows] == [("0s ago", "2ms", ""), ("never", "-", "refused")]
