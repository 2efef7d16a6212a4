"""A line chart drawn with braille dots: several series, y-axis unit, legend with last/min/max.

Plain data in, nothing about backends::

    chart = LineChart(title="latency p99", id="latency")
    chart.set_data(
        [ChartSeries("pod=a", [(t0, 0.12), (t1, 0.15), ...]), ChartSeries("pod=b", [...])],
        unit=unit_for_metric("http_request_duration_seconds"),   # -> "seconds"
        start=t0, end=t1,                                        # x range (defaults to the data's)
    )
    chart.set_stale(True)         # keep the drawing, mark it as old data
    chart.set_message("no data")  # replace the drawing with a one-line message
    chart.set_markers([(t2, "1"), (t3, "2")])  # events: a dotted column at each time, its label on top

``points`` are ``(x, y)`` pairs: x is a unix timestamp (``x_kind="time"``, labels in ``tz``) or
any number (``x_kind="number"``, e.g. a training step). NaN values leave a gap, as does a jump in
x larger than ``gap_factor`` times the typical spacing. ``style="line"`` joins the points,
``style="points"`` draws each point alone.

Units (``unit=``): ``"seconds"``, ``"milliseconds"``, ``"bytes"``, ``"ratio"`` (0..1 shown as %),
``"percent"`` (0..100), ``""`` (plain number with k/M/G), anything else is used as a suffix.
:func:`unit_for_metric` guesses one from a metric name or PromQL text, :func:`format_value`
formats a value in a unit (also used for tables and single stats).

The drawing is cached per size; new data marks only the lines that changed as dirty, so a refresh
that moves nothing sends nothing to the terminal.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

__all__ = ["PALETTE", "ChartSeries", "LineChart", "distinct_digits", "format_value", "unit_for_metric"]

PALETTE = ("cyan", "magenta", "yellow", "green", "bright_blue", "red", "bright_cyan",
           "bright_magenta", "bright_yellow", "bright_green", "blue", "bright_red")

# braille dot bits: [row][col] for the 2x4 dots of one cell
_DOTS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))
_BRAILLE = 0x2800
_MARKER = -2  # the owner of a plot cell that shows a marker (-1: no one's)


@dataclass(frozen=True)
class ChartSeries:
    """One line: a legend name and its (x, y) points, sorted by x."""

    name: str
    points: Sequence[tuple[float, float]]


_UNIT_PATTERNS = (
    (re.compile(r"_seconds(_|\b)|_duration_seconds"), "seconds"),
    (re.compile(r"_milliseconds(_|\b)|_ms(_|\b)"), "milliseconds"),
    (re.compile(r"_bytes(_|\b)"), "bytes"),
    (re.compile(r"_ratio(_|\b)|\bratio\b"), "ratio"),
    (re.compile(r"_percent(_|\b)"), "percent"),
)


def unit_for_metric(name: str) -> str:
    """The unit a metric name (or a PromQL expression) says its values are in, or ``""``.

    * ``histogram_quantile(0.99, rate(x_seconds_bucket[5m]))`` is a duration: "seconds";
    * ``rate(x_seconds_sum[5m]) / rate(x_seconds_count[5m])`` is a mean duration: "seconds";
    * ``rate(x_seconds_bucket[5m])`` and ``rate(x_seconds_count[1m])`` are rates of counts: no unit;
    * ``rate(process_cpu_seconds_total[1m])`` is seconds per second, shown as "seconds".
    """
    if "histogram_quantile" in name:
        bucket = re.search(r"(\w+)_bucket\b", name)
        if bucket:
            return _unit_of(bucket.group(1))
    mean = re.search(r"(\w+)_sum\b.*/.*\b\1_count\b", name, re.DOTALL)
    if mean:
        return _unit_of(mean.group(1))
    if re.search(r"_(count|total|bucket)\b", name) and not re.search(r"_seconds_total\b", name):
        return ""
    return _unit_of(name)


def _unit_of(name: str) -> str:
    for pattern, unit in _UNIT_PATTERNS:
        if pattern.search(name):
            return unit
    return ""


def _si(value: float, suffix: str = "", base: float = 1000.0,
        prefixes: Sequence[str] = ("", "k", "M", "G", "T", "P"), digits: int | None = None) -> str:
    magnitude = abs(value)
    index = 0
    while magnitude >= base and index < len(prefixes) - 1:
        magnitude /= base
        value /= base
        index += 1
    if digits is not None:
        text = f"{value:.{digits}g}"
    elif magnitude != 0 and magnitude < 0.01 and not prefixes[index]:
        text = f"{value:.2g}"
    elif magnitude >= 100:
        text = f"{value:.0f}"
    elif magnitude >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.2f}"
    if "." in text and "e" not in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}{prefixes[index]}{suffix}"


def format_value(value: float | None, unit: str = "", digits: int | None = None) -> str:
    """A short human text for ``value`` in ``unit`` (see the module docstring); ``digits``: that many
    significant digits instead of the usual two or three (after the unit's scaling)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if unit == "seconds":
        magnitude = abs(value)
        if magnitude == 0:
            return "0s"
        if magnitude < 1e-3:
            return _si(value * 1e6, "µs", digits=digits)
        if magnitude < 1:
            return _si(value * 1e3, "ms", digits=digits)
        if magnitude < 600:
            return _si(value, "s", digits=digits)
        if magnitude < 36000:
            return _si(value / 60, "m", digits=digits)
        if magnitude < 86400 * 3:
            return _si(value / 3600, "h", digits=digits)
        return _si(value / 86400, "d", digits=digits)
    if unit == "milliseconds":
        return format_value(value / 1000.0, "seconds", digits)
    if unit == "bytes":
        return _si(value, "B", 1024.0, ("", "Ki", "Mi", "Gi", "Ti", "Pi"), digits)
    if unit == "ratio":
        return _si(value * 100, "%", prefixes=("",), digits=digits)
    if unit == "percent":
        return _si(value, "%", prefixes=("",), digits=digits)
    if unit:
        return _si(value, " " + unit if unit[0].isalpha() and len(unit) > 2 else unit, digits=digits)
    return _si(value, digits=digits)


def distinct_digits(values: Sequence[float], unit: str = "") -> int | None:
    """The significant digits that tell ``values`` apart in ``unit``: None when the usual short texts
    already do (values that differ read differently), else the fewest that do, up to 12."""
    finite = sorted(set(_finite(values)))
    if len({format_value(v, unit) for v in finite}) == len(finite):
        return None
    for digits in range(3, 13):
        if len({format_value(v, unit, digits) for v in finite}) == len(finite):
            return digits
    return 12


def _finite(values: Sequence[float]) -> list[float]:
    return [v for v in values if not (math.isnan(v) or math.isinf(v))]


class LineChart(Widget):
    """A braille line chart of several series with a y axis, x labels and a legend."""

    DEFAULT_CSS = """
    LineChart {
        height: 1fr;
        min-height: 5;
    }
    LineChart .linechart--axis { color: $text-muted; }
    LineChart .linechart--title { text-style: bold; }
    LineChart .linechart--stale { color: $warning; }
    LineChart .linechart--marker { color: $warning; text-style: bold; }
    """
    COMPONENT_CLASSES = {"linechart--axis", "linechart--title", "linechart--stale", "linechart--marker"}

    def __init__(self, title: str = "", *, unit: str = "", style: str = "line",
                 x_kind: str = "time", tz: tzinfo | None = None, show_legend: bool = True,
                 max_legend_rows: int | None = None, gap_factor: float = 2.5,
                 name: str | None = None, id: str | None = None, classes: str | None = None,
                 disabled: bool = False) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.title = title
        self.unit = unit
        self.chart_style = style
        self.x_kind = x_kind
        self.tz = tz
        self.show_legend = show_legend
        self.max_legend_rows = max_legend_rows
        self.gap_factor = gap_factor
        self.series: tuple[ChartSeries, ...] = ()
        self.start: float | None = None
        self.end: float | None = None
        self.stale = False
        self.message = "no data"
        self.note = ""
        self.markers: tuple[tuple[float, str], ...] = ()
        self._cache_key: tuple | None = None
        self._lines: list[Strip] = []

    # -- public API -------------------------------------------------------------------------
    def set_data(self, series: Sequence[ChartSeries], *, unit: str | None = None,
                 start: float | None = None, end: float | None = None, title: str | None = None,
                 note: str = "") -> None:
        """Show ``series`` (replacing what was drawn); clears the stale mark and the message.

        ``note`` is a short text shown after the title (e.g. "20 of 31 series").
        """
        self.series = tuple(series)
        if unit is not None:
            self.unit = unit
        if title is not None:
            self.title = title
        self.start, self.end = start, end
        self.stale = False
        self.note = note
        self.message = "no data" if not any(s.points for s in self.series) else ""
        self._invalidate()

    def set_stale(self, stale: bool = True) -> None:
        """Mark the drawn data as old (the source is down or slow) or fresh again."""
        if stale != self.stale:
            self.stale = stale
            self._invalidate()

    def set_markers(self, markers: Sequence[tuple[float, str]]) -> None:
        """Mark times on the x axis (events): each ``(x, label)`` inside the x range is drawn as a dotted column
        ("┊", readable without colour) with the label's first character on top; the first of two in one column
        wins."""
        markers = tuple(markers)
        if markers != self.markers:
            self.markers = markers
            self._invalidate()

    def set_message(self, message: str) -> None:
        """Replace the drawing with ``message`` (e.g. "loading...", an error)."""
        self.series = ()
        self.message = message
        self._invalidate()

    # -- drawing ----------------------------------------------------------------------------
    def _invalidate(self) -> None:
        """Redraw; once drawn, only the lines that changed are marked dirty (and sent)."""
        width, height = self.size
        if self._cache_key != (width, height) or not self.is_mounted or width <= 0:
            self._cache_key = None
            self.refresh()
            return
        old, new = self._lines, self._draw(width, height)
        self._lines = new
        changed = [y for y in range(height) if y >= len(old) or y >= len(new) or old[y] != new[y]]
        if changed:
            self.refresh(*(Region(0, y, width, 1) for y in changed))

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache_key = None

    def render_line(self, y: int) -> Strip:
        width, height = self.size
        key = (width, height)
        if self._cache_key != key:
            self._lines = self._draw(width, height)
            self._cache_key = key
        if 0 <= y < len(self._lines):
            return self._lines[y]
        return Strip.blank(width, self.rich_style)

    def _x_label(self, x: float, span: float) -> str:
        if self.x_kind != "time":
            return format_value(x)
        when = datetime.fromtimestamp(x, self.tz)
        if span > 2 * 86400:
            return when.strftime("%m-%d %H:%M")
        if span > 600:
            return when.strftime("%H:%M")
        return when.strftime("%H:%M:%S")

    def _draw(self, width: int, height: int) -> list[Strip]:
        base = self.rich_style
        axis = base + self.get_component_rich_style("linechart--axis", partial=True)
        title_style = base + self.get_component_rich_style("linechart--title", partial=True)
        stale_style = base + self.get_component_rich_style("linechart--stale", partial=True)
        lines: list[Strip] = []
        if width <= 0 or height <= 0:
            return lines

        def text_line(parts: list[tuple[str, Style]]) -> Strip:
            return Strip([Segment(t, s) for t, s in parts if t]).adjust_cell_length(width, base)

        if self.title or self.stale or self.note:
            parts = [(self.title, title_style)]
            if self.note:
                parts.append((f"  {self.note}", axis))
            if self.stale:
                parts.append(("  STALE", stale_style))
            lines.append(text_line(parts))
        rows_left = height - len(lines)
        series = [s for s in self.series if s.points]
        if self.message or not series or rows_left < 3:
            if rows_left > 0:
                lines.append(text_line([(self.message or "no data", axis)]))
            while len(lines) < height:
                lines.append(Strip.blank(width, base))
            return lines

        legend_rows = 0
        if self.show_legend:
            cap = self.max_legend_rows or max(1, (rows_left - 2) // 3)
            legend_rows = min(len(series), cap, max(0, rows_left - 3))
        plot_rows = rows_left - 1 - legend_rows

        xs = [p[0] for s in series for p in (s.points[0], s.points[-1])]
        x0 = self.start if self.start is not None else min(xs)
        x1 = self.end if self.end is not None else max(xs)
        if x1 <= x0:
            x1 = x0 + 1
        values = _finite([v for s in series for _, v in s.points])
        if values:
            lo, hi = min(values), max(values)
        else:
            lo, hi = 0.0, 1.0
        if hi == lo:
            pad = abs(hi) * 0.1 or 1.0
            lo, hi = lo - pad, hi + pad
            if values and min(values) >= 0 > lo:
                lo = 0.0
        ticks = (hi, (hi + lo) / 2, lo)
        digits = distinct_digits(ticks, self.unit)  # a narrow range needs more digits to read
        labels = [format_value(v, self.unit, digits) for v in ticks]
        label_w = max(len(t) for t in labels) + 1
        plot_w = width - label_w - 1
        if plot_w < 2:
            plot_w = max(1, width - 1)
            label_w = 0
        grid, ends = self._plot(series, plot_w, plot_rows, x0, x1, lo, hi)
        numbered = bool(getattr(self.app, "no_color", False)) and len(series) > 1
        if numbered:  # without colour, each line ends in its legend number
            for index, end in enumerate(ends[:9]):
                if end is not None:
                    grid[end[0]][0][end[1]] = str(index + 1)
                    grid[end[0]][1][end[1]] = index

        self._draw_markers(grid, plot_w, x0, x1)
        colors = [base + Style(color=PALETTE[i % len(PALETTE)]) for i in range(len(series))]
        marker_style = base + self.get_component_rich_style("linechart--marker", partial=True)
        label_rows = {0: labels[0], plot_rows - 1: labels[2]}
        if plot_rows >= 5:
            label_rows[(plot_rows - 1) // 2] = labels[1]
        for row in range(plot_rows):
            segments: list[Segment] = []
            if label_w:
                text = label_rows.get(row, "")
                segments.append(Segment(text.rjust(label_w - 1) + " ", axis))
                segments.append(Segment("┤" if row in label_rows else "│", axis))
            cells, owners = grid[row]
            run_start = 0
            for col in range(1, plot_w + 1):
                if col == plot_w or owners[col] != owners[run_start]:
                    owner = owners[run_start]
                    chunk = "".join(cells[run_start:col])
                    style = colors[owner] if owner >= 0 else marker_style if owner == _MARKER else base
                    segments.append(Segment(chunk, style))
                    run_start = col
            lines.append(Strip(segments).adjust_cell_length(width, base))

        # x axis labels: left, middle, right under the plot
        span = x1 - x0
        axis_line = [" "] * width
        left = label_w + 1 if label_w else 0
        for frac, align in ((0.0, "l"), (0.5, "c"), (1.0, "r")):
            text = self._x_label(x0 + span * frac, span)
            pos = left + int(round(frac * (plot_w - 1)))
            begin = pos if align == "l" else pos - len(text) + 1 if align == "r" else pos - len(text) // 2
            begin = max(0, min(begin, width - len(text)))
            if all(c == " " for c in axis_line[max(0, begin - 1):begin + len(text) + 1]):
                axis_line[begin:begin + len(text)] = list(text)
        lines.append(Strip([Segment("".join(axis_line)[:width], axis)]).adjust_cell_length(width, base))

        # legend: marker, name, last/min/max
        if legend_rows:
            shown = series if len(series) <= legend_rows else series[:legend_rows - 1]
            figures = []
            for s in shown:
                vals = _finite([v for _, v in s.points])
                last = next((v for _, v in reversed(s.points) if not math.isnan(v)), None)
                figures.append((last, min(vals) if vals else None, max(vals) if vals else None))
            # values that differ (between series, or a series' min and max) read differently
            digits = distinct_digits([v for trio in figures for v in trio if v is not None], self.unit)
            stats = [tuple(f"{name} {format_value(v, self.unit, digits)}"
                           for name, v in zip(("last", "min", "max"), trio)) for trio in figures]
            widths = [max((len(st[i]) for st in stats), default=0) for i in range(3)]
            stat_w = sum(widths) + 6
            if width - 2 - stat_w < 10:  # narrow: the last value only
                stats = [(st[0], "", "") for st in stats]
                widths = [widths[0], 0, 0]
                stat_w = widths[0] + 2
            name_w = max(4, width - 2 - stat_w)
            for i, s in enumerate(shown):
                name = s.name if len(s.name) <= name_w else s.name[:name_w - 1] + "…"
                stat_text = "  ".join(st.ljust(w) for st, w in zip(stats[i], widths) if w)
                marker = f"{i + 1} " if numbered and i < 9 else "━ "
                lines.append(text_line([(marker, colors[i]), (name.ljust(name_w), base),
                                        ("  " + stat_text, axis)]))
            if len(shown) < len(series):
                lines.append(text_line([(f"  +{len(series) - len(shown)} more series", axis)]))
        while len(lines) < height:
            lines.append(Strip.blank(width, base))
        return lines[:height]

    def _draw_markers(self, grid: list[tuple[list[str], list[int]]], cols: int, x0: float, x1: float) -> None:
        """The markers inside ``x0..x1`` into the plot's cells: a dotted column where no line is drawn, the label
        on the top row. Their column is the one the plot puts a point of that x in."""
        if not self.markers or not grid:
            return
        sx = (cols * 2 - 1) / (x1 - x0)
        for x, label in reversed(self.markers):  # the first drawn last: it wins a shared column
            if not x0 <= x <= x1:
                continue
            col = round((x - x0) * sx) >> 1
            for row, (cells, owners) in enumerate(grid):
                if row == 0:
                    cells[col], owners[col] = (label or "┊")[0], _MARKER
                elif cells[col] == " " or owners[col] == _MARKER:
                    cells[col], owners[col] = "┊", _MARKER

    def _plot(self, series: list[ChartSeries], cols: int, rows: int, x0: float, x1: float,
              lo: float, hi: float) -> tuple[list[tuple[list[str], list[int]]], list[tuple[int, int] | None]]:
        """Braille cells and their owning series per row, and each series' last (row, column)."""
        dot_w, dot_h = cols * 2, rows * 4
        bits = bytearray(cols * rows)
        owner = [-1] * (cols * rows)
        sx = (dot_w - 1) / (x1 - x0)
        sy = (dot_h - 1) / (hi - lo)
        join = self.chart_style != "points"
        bottom, inf = dot_h - 1, math.inf
        dots = [bit for pair in _DOTS for bit in pair]  # the bit of dot (dx, dy) in its cell: [(dy & 3) * 2 + (dx & 1)]

        # A dashboard redraws tens of thousands of points each refresh, several to a dot column: the points of
        # one column joined in a row make one vertical run of dots (the path between them is continuous), so a
        # column's run is filled once, and only the steps from one column to the next are traced.
        ends: list[tuple[int, int] | None] = []
        for index, s in enumerate(series):
            points = s.points
            spacing = 0.0
            if len(points) > 2:
                xs = [p[0] for p in points]
                gaps = sorted([b - a for a, b in zip(xs, xs[1:])])
                spacing = gaps[len(gaps) // 2]
            max_gap = spacing * self.gap_factor if spacing > 0 else inf
            joined = False  # whether the next point is joined to the one drawn before it
            px = py = -1
            prev_x = 0.0
            top = low = -1  # the run of dots in column px still to fill (rows top..low)
            for x, v in points:
                if v != v or v == inf or v == -inf:
                    joined = False
                    continue
                dx = round((x - x0) * sx)
                if dx < 0 or dx >= dot_w:
                    joined = False
                    continue
                dy = round((hi - v) * sy)
                dy = 0 if dy < 0 else bottom if dy > bottom else dy
                if joined and dx == px and x - prev_x <= max_gap:
                    if dy < top:
                        top = dy
                    elif dy > low:
                        low = dy
                    py, prev_x = dy, x
                    continue
                if top >= 0:
                    self._fill_run(bits, owner, dots, cols, px, top, low, index)
                if joined and x - prev_x <= max_gap:
                    ddx, ddy = dx - px, dy - py
                    steps = ddx if ddx >= 0 else -ddx
                    if ddy > steps or -ddy > steps:
                        steps = ddy if ddy >= 0 else -ddy
                    for k in range(1, steps):  # the last step is the new column's run
                        ix = px + ddx * k // steps
                        iy = py + ddy * k // steps
                        cell = (iy >> 2) * cols + (ix >> 1)
                        bits[cell] |= dots[(iy & 3) * 2 + (ix & 1)]
                        owner[cell] = index
                top = low = dy
                px, py, prev_x, joined = dx, dy, x, join
            if top >= 0:
                self._fill_run(bits, owner, dots, cols, px, top, low, index)
            ends.append((py >> 2, px >> 1) if px >= 0 else None)
        grid = []
        for row in range(rows):
            start = row * cols
            cells = [chr(_BRAILLE + b) if b else " " for b in bits[start:start + cols]]
            grid.append((cells, owner[start:start + cols]))
        return grid, ends

    @staticmethod
    def _fill_run(bits: bytearray, owner: list[int], dots: list[int], cols: int, dx: int, top: int, low: int,
                  index: int) -> None:
        """The dots of column ``dx`` from row ``top`` down to row ``low``, for series ``index``."""
        for iy in range(top, low + 1):
            cell = (iy >> 2) * cols + (dx >> 1)
            bits[cell] |= dots[(iy & 3) * 2 + (dx & 1)]
            owner[cell] = index
