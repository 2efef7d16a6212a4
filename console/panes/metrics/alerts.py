"""The Metrics pane's alerts and scrape targets, each shown as a table over the pane."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

from rich.text import Text

from backends.metrics import Alert, Target
from console.format import age, short_time
from widgets.chart import format_value
from widgets.views import TableView


def alerts_view(alerts: Sequence[Alert], now: datetime, endpoint: str) -> tuple[str, TableView]:
    """The status line and the table of the firing and pending ``alerts`` of the server at ``endpoint``."""
    firing = sum(1 for a in alerts if a.state == "firing")
    rows = []
    for alert in alerts:
        labels = ", ".join(f"{k}={v}" for k, v in alert.labels if k not in ("alertname", "severity"))
        notes = "; ".join(v for k, v in alert.annotations if k in ("summary", "description")) or \
            "; ".join(f"{k}: {v}" for k, v in alert.annotations)
        since = f"{short_time(alert.active_at)} ({age(alert.active_at, now)})" if alert.active_at else "-"
        rows.append((Text(alert.state.upper(), style="bold reverse" if alert.state == "firing" else "bold"),
                     alert.name, alert.severity or "-", since, labels, notes))
    return f"{firing} firing, {len(alerts) - firing} pending alert(s)", TableView(
        f"Alerts: {firing} firing, {len(alerts) - firing} pending ({endpoint})",
        ("state", "alert", "severity", "since", "labels", "summary"), rows,
        "" if rows else "no firing or pending alerts")


def targets_view(targets: Sequence[Target], now: datetime, endpoint: str) -> tuple[str, TableView]:
    """The status line and the table of the scrape ``targets`` of the server at ``endpoint``."""
    down = sum(1 for t in targets if t.health != "up")
    rows = []
    for target in targets:
        duration = "-" if math.isnan(target.last_scrape_duration) else \
            format_value(target.last_scrape_duration, "seconds")
        rows.append((Text(target.health.upper(), style="" if target.health == "up" else "bold reverse"),
                     target.job, target.instance,
                     f"{age(target.last_scrape, now)} ago" if target.last_scrape else "never",
                     duration, target.last_error or ""))
    return f"{len(targets)} target(s), {down} not up", TableView(
        f"Targets: {len(targets) - down} up, {down} not up ({endpoint})",
        ("health", "job", "instance", "last scrape", "took", "last error"), rows,
        "" if rows else "no active scrape targets")
