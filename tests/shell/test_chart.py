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
