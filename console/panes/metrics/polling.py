"""Live refresh of the Metrics pane: what one poll asks (``Job``, ``run_poll``) and when the next one runs
(``Poller``).

One poll runs every query of the current view in one thread worker; the next poll is armed only when the
last one finished (never overlapping), and not at all while the pane is hidden, a dialog is open or live
refresh is paused. When the server is down or slow the last data stays on screen marked stale and polls
back off (up to a minute) until it answers again.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from textual.timer import Timer

from backends.errors import InvalidQuery
from backends.metrics import MetricsSource, step_for
from console.panes.base import PaneScreen

MAX_SERIES = 20
MAX_BACKOFF = 60.0
#: errors that say the server itself is not there (the poll stops at the first one)
QUERY_ERRORS = (InvalidQuery,)


@dataclass(frozen=True)
class Job:
    """One query of a poll: ``panel`` -1 is the query view; ``kind`` range or instant."""

    panel: int
    target: int
    kind: str
    query: str
    legend: str = ""


def run_poll(backend: MetricsSource, jobs: Sequence[Job], start: datetime, end: datetime, step: float,
             now: datetime | None = None) -> list[tuple[Job, Any]]:
    """Run ``jobs`` one after the other (in a worker thread): range queries over ``start..end``,
    instant ones at ``now`` (default ``end``). A query the server rejects gives its error in
    place of a result; anything else (unreachable, timeout) ends the poll."""
    out: list[tuple[Job, Any]] = []
    for job in jobs:
        try:
            if job.kind == "range":
                out.append((job, backend.range_query(job.query, start, end, step, MAX_SERIES)))
            else:
                out.append((job, backend.instant_query(job.query, now or end)))
        except QUERY_ERRORS as exc:
            out.append((job, exc))
    return out


def poll_span(now: datetime, seconds: int, width: int) -> tuple[datetime, datetime, float]:
    """``start``, ``end`` and ``step`` of the charts of a window of ``seconds`` drawn ``width`` cells wide."""
    step = step_for(seconds, width)
    # evaluation times on whole multiples of the step: polls within one step get the same
    # points, so nothing on screen changes and nothing is sent to the terminal
    end = datetime.fromtimestamp(math.floor(now.timestamp() / step) * step, now.tzinfo)
    start = end - timedelta(seconds=math.ceil(seconds / step) * step)
    return start, end, step


@dataclass(frozen=True)
class AsSeries:
    """Labels only, so instant samples get the same legend names as range series."""

    labels: tuple[tuple[str, str], ...]

    @property
    def name(self) -> str:
        return dict(self.labels).get("__name__", "")

    def label(self, key: str, default: str = "") -> str:
        return dict(self.labels).get(key, default)


class Poller:
    """When the pane polls: its timer, live refresh (paused or not), whether the pane is shown, and the
    backoff while the server fails. ``poll`` starts a poll; the pane calls ``begin`` as it does, and
    ``answered`` or ``failed`` then ``finished`` when the poll's answer is in."""

    GROUP = "poll"  # the pane's worker group of polls

    def __init__(self, pane: PaneScreen, poll: Callable[[], None]) -> None:
        self._pane = pane
        self._poll = poll
        self.live = True
        self.visible = False
        self.failures = 0
        self.polls = 0
        self.stale = False
        self.last_ok: datetime | None = None
        self._timer: Timer | None = None
        self._again = False

    @property
    def interval(self) -> float:
        built = self._pane.console_app.backends.peek(self._pane.PANE)
        backend: MetricsSource | None = built[0] if built else None
        value = (backend.refresh_interval if backend is not None else 0) or self._pane.settings.refresh_interval
        return max(0.5, float(value))

    @property
    def busy(self) -> bool:
        return self._pane.is_busy(self.GROUP)

    def begin(self) -> bool:
        """A poll is to start: False while the last one is still out (the next one then follows it at once)."""
        if self.busy:
            self._again = True
            return False
        self.cancel()
        self._again = False
        self.polls += 1
        return True

    def again(self) -> None:
        """Poll once more as soon as the poll out has finished."""
        self._again = True

    def answered(self, end: datetime) -> bool:
        """A poll answered with data up to ``end``; True when that ends a run of failures."""
        recovered = self.failures > 0
        self.failures = 0
        self.stale = False
        self.last_ok = end
        return recovered

    def failed(self, had_data: bool) -> float:
        """A poll failed: what is shown (if anything) is stale now. Returns the delay before the next try."""
        self.failures += 1
        self.stale = had_data
        return min(MAX_BACKOFF, self.interval * 2 ** min(self.failures - 1, 6))

    def finished(self, delay: float) -> None:
        """The poll's answer is shown: the next poll runs in ``delay`` seconds (at once if one was asked for)."""
        if self._again:
            self._again = False
            self._pane.call_after_refresh(self._poll)
        else:
            self.arm(delay)

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def arm(self, delay: float) -> None:
        self.cancel()
        if self.live and self.visible:
            self._timer = self._pane.set_timer(delay, self._tick)

    def _tick(self) -> None:
        self._timer = None
        if self.live and self.visible:
            self._poll()

    def toggle(self) -> bool:
        """Pause or resume live refresh; True when it runs now."""
        self.live = not self.live
        if not self.live:
            self.cancel()
        return self.live

    def hide(self) -> None:
        self.visible = False
        self.cancel()

    def show(self) -> None:
        """The pane is shown again: a poll at once if it was hidden and none is armed or out."""
        was_visible, self.visible = self.visible, True
        if not was_visible and self.live and self._timer is None and not self.busy:
            self._poll()
