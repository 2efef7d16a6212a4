"""Events on the charts of a linked deployment (the model-serving dashboard a link opened for it): what changed in
the deployment, the registry and the data during the charts' window, as lettered markers on the charts and a list
of their times and meanings under the grid (`:events` shows them all).

The events are read (console/links.py: ``Links.events``) with the charts' poll, at most every
:data:`EVERY` seconds: they ask three systems. Not linked: nothing is asked, nothing is shown.
"""

from __future__ import annotations

import time
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.text import Text
from textual.widgets import Static

from console.links import ChartEvents, Ref
from console.panes.base import describe_error
from widgets.dashboard import DashboardGrid

if TYPE_CHECKING:
    from console.panes.metrics.screen import MetricsScreen

EVERY = 15.0  # seconds between two reads of the events
#: the markers' labels, newest first: letters, as the charts end their lines in digits without colour
LABELS = "abcdefghijklmnopqrstuvwxyz"
GROUP = "chart-events"  # the pane's call group of the reads


def marker_label(index: int) -> str:
    return LABELS[index] if index < len(LABELS) else "*"


def _when(at: datetime, tz: tzinfo | None, long: bool) -> str:
    return at.astimezone(tz).strftime("%m-%d %H:%M" if long else "%H:%M")


class EventList(Static):
    """The events under the dashboard grid: newest first, as many as fit, and how many more there are."""

    DEFAULT_CSS = """
    EventList { height: auto; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(self, *, tz: tzinfo | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__("", id=id, classes=classes)
        self.tz = tz
        self._shown: tuple[ChartEvents, bool, int] | None = None

    def rows(self) -> int:
        """The lines it takes: more on a taller screen, never so many that the charts lose their room."""
        return max(1, min(6, self.screen.size.height // 8))

    def show(self, answer: ChartEvents, long: bool) -> None:
        rows = self.rows()
        if self._shown == (answer, long, rows):
            return  # unchanged: nothing is sent to the terminal again
        self._shown = (answer, long, rows)
        lines = [Text(problem, style="italic", no_wrap=True, overflow="ellipsis") for problem in answer.problems]
        events = answer.events
        if not events and not answer.problems:
            lines.append(Text("no change in the linked systems in this window", style="dim"))
        for index, event in enumerate(events):
            line = Text(no_wrap=True, overflow="ellipsis")
            line.append(marker_label(index), style="bold reverse")
            line.append(f" {_when(event.at, self.tz, long)} {event}")
            lines.append(line)
        if len(lines) > rows:
            more = len(lines) - (rows - 1)
            lines = lines[:rows - 1] + [Text(f"+{more} more (:events lists them all)", style="dim")]
        self.update(Text("\n").join(lines))


def events_renderable(answer: ChartEvents, tz: tzinfo | None) -> RenderableType:
    """Every event of the window, for `:events`."""
    parts: list[RenderableType] = []
    if answer.problems:
        parts.append(Text("\n".join(answer.problems), style="italic"))
    for index, event in enumerate(answer.events):
        parts.append(Text(f"{marker_label(index)}  {event.at.astimezone(tz):%Y-%m-%d %H:%M:%S}  {event}"))
    if not answer.events:
        parts.append(Text("no change in the linked systems in this window", style="italic"))
    parts.append(Text("\nThe deployment's Kubernetes events and conditions, the changes the console saw itself; the "
                      "versions of the model it serves registered and alias moves noticed; the commits of the data "
                      "its model trained on.", style="dim"))
    return Group(*parts)


class ChartEventsFeed:
    """When the linked charts' events are read, and what the last read gave (markers and list)."""

    def __init__(self, pane: MetricsScreen) -> None:
        self.pane = pane
        self.answer: ChartEvents | None = None
        self.window: tuple[Ref, datetime] | None = None  # what the answer covers: the deployment, its start
        self._asked: tuple[Ref, float, float] | None = None  # the deployment, the window's length, when (monotonic)

    def clear(self) -> None:
        """Not linked (any more): no markers, no list."""
        self.answer = self.window = self._asked = None
        for listing in self.pane.query("#chart-events").results(EventList):
            listing.add_class("hidden")
        for grid in self.pane.query("#dashboard").results(DashboardGrid):
            grid.set_markers(())

    def polled(self, start: datetime, end: datetime) -> None:
        """The charts were drawn: read the events again if it is time (see :data:`EVERY`) and mark them."""
        ref = self.pane.link_subject()
        if ref is None:
            if self.answer is not None or self._asked is not None:
                self.clear()
            return
        self._mark()
        length = (end - start).total_seconds()
        asked = self._asked
        if asked is not None and asked[:2] == (ref, length) and time.monotonic() - asked[2] < EVERY:
            return
        self._asked = (ref, length, time.monotonic())
        nav = self.pane.console_app.link_nav
        until = max(end, self.pane.console_app.now())  # a change noticed just now lies after the charts' last step
        self.pane.call_backend(GROUP, nav.events, ref, start, until,
                               on_result=lambda answer: self._show(ref, start, answer),
                               on_error=lambda error: self._show(ref, start, ChartEvents(problems=(
                                   f"events: {describe_error(error)}",))))

    def _show(self, ref: Ref, start: datetime, answer: ChartEvents | None) -> None:
        if self.pane.link_subject() != ref:
            return  # the charts are no longer that deployment's
        if answer is None:
            answer = ChartEvents(problems=(f"no deployment {ref.key[1]} any more: no events",))
        self.answer, self.window = answer, (ref, start)
        self._mark()

    def _mark(self) -> None:
        answer = self.answer
        if answer is None:
            return
        listing = self.pane.query_one("#chart-events", EventList)
        listing.remove_class("hidden")
        listing.show(answer, long=self.pane.window[1] > 2 * 86400)
        markers = [(e.at.timestamp(), marker_label(i)) for i, e in enumerate(answer.events)]
        self.pane.query_one("#dashboard", DashboardGrid).set_markers(markers)
