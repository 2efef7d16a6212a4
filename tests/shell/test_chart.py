"""The line chart's numbers: a narrow range or close series still read as different numbers."""

from __future__ import annotations

from textual.app import App, ComposeResult

from widgets.chart import ChartSeries, LineChart, distinct_digits, format_value


class ChartApp(App):
    def compose(self) -> ComposeResult:
        yield LineChart("r2 by step", x_kind="number", id="chart")


def _text(chart: LineChart) -> list[str]:
    return [chart.render_line(y).text for y in range(chart.size.height)]


async def test_close_values_get_the_digits_that_tell_them_apart():
    # two runs' r2 (0.39599 and 0.39518): two or three significant digits make both "0.4"
    app = ChartApp()
    async with app.run_test(size=(80, 20)) as pilot:
        chart = app.query_one(LineChart)
        chart.set_data([ChartSeries("enet-0.05-1.0", [(0, 0.39599)]), ChartSeries("enet-0.01-1.0", [(0, 0.39518)])])
        await pilot.pause()
        lines = _text(chart)
        labels = [line.split("┤")[0].strip() for line in lines if "┤" in line]
        assert labels == ["0.396", "0.3956", "0.3952"]
        legend = [line for line in lines if "last" in line]
        assert "last 0.396" in legend[0] and "last 0.395" in legend[1]


async def test_ordinary_ranges_keep_the_short_numbers():
    app = ChartApp()
    async with app.run_test(size=(80, 20)) as pilot:
        chart = app.query_one(LineChart)
        chart.set_data([ChartSeries("train_rmse", [(i, 80.0 - 3 * i) for i in range(8)])])
        await pilot.pause()
        lines = _text(chart)
        labels = [line.split("┤")[0].strip() for line in lines if "┤" in line]
        assert labels == ["80", "69.5", "59"]
        assert "last 59  min 59  max 80" in " ".join(lines[-5:])


def test_digits_in_units():
    assert distinct_digits([1.5, 2.5]) is None
    mib = 2 ** 20
    digits = distinct_digits([512.1 * mib, 512.3 * mib], "bytes")
    assert format_value(512.1 * mib, "bytes", digits) == "512.1MiB"
    assert format_value(512.3 * mib, "bytes", digits) == "512.3MiB"
    assert format_value(0.2501, "seconds", distinct_digits([0.2501, 0.2502], "seconds")) == "250.1ms"


_DOTS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))


def _traced(series, cols, rows, x0, x1, lo, hi, join, gap_factor):
    """The plain way to draw: every point, and every step between two joined points, dot by dot."""
    import math

    dot_w, dot_h = cols * 2, rows * 4
    bits, owner = bytearray(cols * rows), [-1] * (cols * rows)
    sx, sy = (dot_w - 1) / (x1 - x0), (dot_h - 1) / (hi - lo)
    ends = []

    def dot(ix, iy, index):
        cell = (iy >> 2) * cols + (ix >> 1)
        bits[cell] |= _DOTS[iy & 3][ix & 1]
        owner[cell] = index

    for index, s in enumerate(series):
        ends.append(None)
        points = s.points
        gaps = sorted(b[0] - a[0] for a, b in zip(points, points[1:]))
        spacing = gaps[len(gaps) // 2] if len(points) > 2 else 0.0
        max_gap = spacing * gap_factor if spacing > 0 else math.inf
        prev = prev_x = None
        for x, v in points:
            if not math.isfinite(v):
                prev = None
                continue
            dx, dy = int(round((x - x0) * sx)), min(max(int(round((hi - v) * sy)), 0), dot_h - 1)
            if not 0 <= dx < dot_w:
                prev = None
                continue
            if join and prev is not None and x - prev_x <= max_gap:
                px, py = prev
                steps = max(abs(dx - px), abs(dy - py))
                for k in range(1, steps + 1):
                    dot(px + (dx - px) * k // steps, py + (dy - py) * k // steps, index)
            else:
                dot(dx, dy, index)
            prev, prev_x, ends[index] = (dx, dy), x, (dy >> 2, dx >> 1)
    grid = [([chr(0x2800 + b) if b else " " for b in bits[r * cols:(r + 1) * cols]], owner[r * cols:(r + 1) * cols])
            for r in range(rows)]
    return grid, ends


def test_the_plot_is_the_same_as_tracing_every_point():
    # the chart fills the dots of one column at once instead of tracing each point (a dashboard draws tens of
    # thousands a refresh): the picture must be the same, dot for dot and colour for colour
    import random

    rng = random.Random(20261207)
    for _ in range(300):
        n = rng.choice([1, 2, 3, 10, 60, 721])
        series = []
        for i in range(rng.randint(1, 5)):
            x, points = 0.0, []
            for _k in range(n):
                x += rng.choice([10, 10, 10, 5, 40, 0.5])
                points.append((x, rng.choice([rng.uniform(-5, 5)] * 4 + [float("nan"), float("inf"), 7.0, -7.0])))
            series.append(ChartSeries(f"s{i}", points))
        cols, rows = rng.randint(1, 70), rng.randint(1, 12)
        x0 = rng.uniform(-50, 10)
        x1 = x0 + rng.uniform(1, 8000)
        lo, hi = -5.0, 5.0 + rng.random()
        for style in ("line", "points"):
            chart = LineChart("t", style=style)
            assert chart._plot(series, cols, rows, x0, x1, lo, hi) == _traced(
                series, cols, rows, x0, x1, lo, hi, style != "points", chart.gap_factor), (style, cols, rows)


async def test_markers_inside_the_window_are_drawn_at_their_column_and_others_not():
    app = ChartApp()
    async with app.run_test(size=(60, 14)) as pilot:
        chart = app.query_one(LineChart)
        chart.set_data([ChartSeries("rate", [(x, float(x)) for x in range(0, 101, 10)])], start=0, end=100)
        chart.set_markers([(25, "a"), (150, "b"), (-5, "c")])  # b after the window, c before it
        await pilot.pause()
        lines = _text(chart)
        plot = [line for line in lines if "┤" in line or "│" in line]
        left = plot[0].index("┤") + 1
        plot_w = chart.size.width - left
        column = left + (round(25 * (2 * plot_w - 1) / 100) >> 1)
        assert plot[0][column] == "a", plot
        cells = [line[left:] for line in plot]
        assert not any(label in cell for cell in cells for label in "bc"), cells
        dotted = {i + left for cell in cells for i, ch in enumerate(cell) if ch == "┊"}
        assert dotted == {column}, cells
        assert sum(line[column] == "┊" for line in plot[1:]) >= len(plot) - 3  # the line crosses one or two cells
        chart.set_markers(())
        await pilot.pause()
        assert not any("┊" in line or line[column] == "a" for line in _text(chart)[1:len(plot) + 1])
