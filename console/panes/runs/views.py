"""The Runs pane's views: run detail text, metric chart, model registry, compare rows."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from rich.tree import Tree
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Label, OptionList

from backends.runs import (
    CHART_POINTS,
    Artifact,
    MetricHistory,
    ModelVersion,
    RegisteredModel,
    RunDetail,
    RunSummary,
)
from console.calls import CallsBackend
from console.format import human_size, short_time
from widgets.chart import ChartSeries, LineChart
from widgets.compare import CompareRow
from widgets.data_table import DataTable
from widgets.dialog import Dialog

LOWER_IS_BETTER = ("rmse", "mse", "mae", "loss", "error", "err", "mape", "perplexity", "logloss")
HIGHER_IS_BETTER = ("r2", "acc", "accuracy", "auc", "f1", "precision", "recall", "score", "map", "ndcg")


def higher_is_better(key: str) -> bool | None:
    """Whether a larger value of metric ``key`` is better; None when the name does not say."""
    name = key.lower()
    if any(name == w or name.endswith("_" + w) or name.endswith("." + w) or name.startswith(w + "_")
           for w in LOWER_IS_BETTER):
        return False
    if any(name == w or name.endswith("_" + w) or name.endswith("." + w) or name.startswith(w + "_")
           for w in HIGHER_IS_BETTER):
        return True
    return None


def fmt_number(value: float | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return str(value)
    return f"{value:.5g}"


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    s = int(round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{(s % 3600) // 60:02d}m"


# -- run detail -----------------------------------------------------------------------------------------

def _kv_table(title: str, pairs: Sequence[tuple[str, str]]) -> Table:
    table = Table(title=title, title_justify="left", show_edge=False, expand=False, title_style="bold")
    table.add_column("key", style="bold", no_wrap=True)
    table.add_column("value")
    for k, v in pairs:
        table.add_row(k, v)
    if not pairs:
        table.add_row("-", "(none)")
    return table


def _artifact_tree(label: str, artifacts: Sequence[Artifact]) -> Tree:
    tree = Tree(Text(label, style="bold"))

    def add(node: Tree, items: Sequence[Artifact]) -> None:
        for a in items:
            if a.is_dir:
                more = " ..." if a.truncated else ""
                child = node.add(Text(f"{a.name}/  {human_size(a.total_size)}{more}"))
                add(child, a.children)
            else:
                node.add(Text(f"{a.name}  {human_size(a.size)}"))

    add(tree, artifacts)
    if not artifacts:
        tree.add(Text("(no artifacts)", style="dim"))
    return tree


def run_detail_renderable(detail: RunDetail) -> RenderableType:
    run = detail.summary
    duration = run.duration.total_seconds() if run.duration else None
    head = Text()
    head.append(f"{run.run_name or run.run_id}\n", style="bold")
    head.append(f"run id     {run.run_id}\nexperiment {run.experiment_id}\nstatus     {run.status}\n"
                f"started    {short_time(run.start_time)} UTC   duration {fmt_duration(duration)}\n"
                f"user       {run.user or '-'}\n")
    head.append(f"git commit {detail.git_commit or '(not recorded)'}\n")
    head.append(f"source     {detail.source or '-'}\n")
    head.append(f"artifacts  {detail.artifact_uri or '-'}\n")
    parts: list[RenderableType] = [head]
    parts.append(_kv_table("Parameters", list(run.params)))
    parts.append(_kv_table("Metrics (latest)", [(k, fmt_number(v)) for k, v in run.metrics]))
    parts.append(_kv_table("Tags", [(k, v) for k, v in run.tags if not k.startswith("mlflow.log-model")]))
    if detail.artifacts_problem:
        parts.append(Text(f"artifacts: {detail.artifacts_problem}", style="bold reverse"))
    else:
        parts.append(_artifact_tree("Artifacts", detail.artifacts))
    for model in detail.models:
        text = Text()
        text.append(f"\nLogged model {model.name}", style="bold")
        text.append(f"  {model.uri}\n" if model.uri else "\n")
        if model.problem:
            text.append(f"  {model.problem}\n", style="bold reverse")
        text.append(f"  flavors: {', '.join(model.flavors) or '-'}\n")
        parts.append(text)
        sig = Table(title="  signature", title_justify="left", show_edge=False)
        sig.add_column("", style="dim")
        sig.add_column("name", style="bold")
        sig.add_column("type")
        for side, cols in (("input", model.inputs), ("output", model.outputs)):
            for c in cols:
                sig.add_row(side, c.name, c.type + ("" if c.required else " (optional)"))
        if not model.inputs and not model.outputs:
            sig.add_row("-", "(no signature logged)", "")
        parts.append(sig)
        if model.artifacts:
            parts.append(_artifact_tree(f"  {model.name} files", model.artifacts))
    if not detail.models:
        parts.append(Text("\nLogged model: (none)", style="dim"))
    ds = Table(title="Dataset inputs", title_justify="left", show_edge=False, title_style="bold")
    for col in ("name", "digest", "context", "source", "profile"):
        ds.add_column(col)
    for d in detail.datasets:
        ds.add_row(d.name, d.digest, d.context or "-", d.source_type or "-", d.profile or "-")
    if not detail.datasets:
        ds.add_row("(none)", "", "", "", "")
    parts.append(Text(""))
    parts.append(ds)
    return Group(*parts)


# -- compare --------------------------------------------------------------------------------------------

def compare_rows(runs: Sequence[RunSummary]) -> list[CompareRow]:
    rows: list[CompareRow] = []
    params = sorted({k for r in runs for k, _ in r.params})
    metrics = sorted({k for r in runs for k, _ in r.metrics})
    for key in params:
        rows.append(CompareRow("param", key, tuple(r.param(key) or "-" for r in runs)))
    for key in metrics:
        values = [r.metric(key) for r in runs]
        best = None
        better = higher_is_better(key)
        present = [(v, i) for i, v in enumerate(values) if v is not None and not math.isnan(v)]
        if better is not None and len(present) > 1 and len({v for v, _ in present}) > 1:
            best = (max if better else min)(present)[1]
        rows.append(CompareRow("metric", key, tuple(fmt_number(v) for v in values), best))
    rows.append(CompareRow("run", "status", tuple(r.status for r in runs)))
    rows.append(CompareRow("run", "duration", tuple(
        fmt_duration(r.duration.total_seconds() if r.duration else None) for r in runs)))
    return rows


# -- metric chart ---------------------------------------------------------------------------------------

class MetricChartView(CallsBackend, Dialog[None]):
    """The history of one metric for several runs; ``up``/``down`` in the list chooses the metric."""

    DEFAULT_CSS = """
    MetricChartView { align: center middle; }
    MetricChartView > Vertical { width: 98%; height: 95%; border: thick $primary; background: $surface; }
    MetricChartView #title { text-style: bold; padding: 0 1; }
    MetricChartView #hint { color: $text-muted; padding: 0 1; }
    MetricChartView OptionList { width: 24; height: 1fr; }
    MetricChartView LineChart { height: 1fr; width: 1fr; }
    """
    BINDINGS = [
        Binding("escape,q", "dismiss", "Close", id="chart.close"),
        Binding("p", "toggle_style", "Line/points", id="chart.style"),
        Binding("x", "toggle_axis", "Step/time", id="chart.axis"),
    ]

    def __init__(self, runs: Sequence[RunSummary], keys: Sequence[str], key: str,
                 load: Callable[[str, str], MetricHistory],
                 load_many: Callable[[Sequence[str], str], tuple[MetricHistory, ...]] | None = None) -> None:
        """``load_many``: the store's call for many runs at once, each history sampled to ``CHART_POINTS``
        (``backends.runs.SampledHistories``); without it each run's whole history is read."""
        super().__init__()
        self.runs, self.keys, self.key, self.load, self.load_many = tuple(runs), tuple(keys), key, load, load_many
        self.style_name = "line"
        self.axis = "step"
        self.histories: tuple[MetricHistory, ...] = ()

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Metric history of {len(self.runs)} run(s)", id="title")
            with Horizontal():
                yield OptionList(*self.keys, id="metrics")
                yield LineChart(self.key, x_kind="number", id="chart")
            yield Label("", id="hint")

    def on_mount(self) -> None:
        options = self.query_one("#metrics", OptionList)
        if self.key in self.keys:
            options.highlighted = self.keys.index(self.key)
        options.focus()
        self._hint()
        self._fetch(self.key)

    def _hint(self) -> None:
        self.query_one("#hint", Label).update(
            f"up/down: metric   p: {'points' if self.style_name == 'line' else 'line'}   "
            f"x: by {'time' if self.axis == 'step' else 'step'}   escape: close")

    @on(OptionList.OptionHighlighted, "#metrics")
    def _metric_chosen(self, event: OptionList.OptionHighlighted) -> None:
        key = self.keys[event.option_index]
        if key != self.key:
            self.key = key
            self._fetch(key)

    def _fetch(self, key: str) -> None:
        self.query_one("#chart", LineChart).set_message(f"loading {key} ...")
        self._load_histories(key)

    def _load_histories(self, key: str) -> None:
        runs, load, many = self.runs, self.load, self.load_many

        def fetch() -> tuple[MetricHistory, ...]:
            if many is not None:
                return many([run.run_id for run in runs], key)
            return tuple(load(run.run_id, key) for run in runs)

        # one group: choosing another metric drops the answer for the one before
        self.call_backend("histories", fetch, on_result=self._histories_loaded, on_error=self._histories_failed)

    def _histories_failed(self, error: BaseException) -> None:
        from console.panes.base import describe_error

        self.query_one("#chart", LineChart).set_message(describe_error(error))

    def _histories_loaded(self, histories: tuple[MetricHistory, ...]) -> None:
        self.histories = histories
        self._draw()

    def _draw(self) -> None:
        chart = self.query_one("#chart", LineChart)
        chart.chart_style = self.style_name
        chart.x_kind = "number" if self.axis == "step" else "time"
        names = {r.run_id: r.run_name or r.run_id[:8] for r in self.runs}
        series = []
        for h in self.histories:
            if self.axis == "step":
                pts = [(float(p.step), p.value) for p in h.points]
            else:
                pts = [(p.timestamp.timestamp(), p.value) for p in h.points]
            series.append(ChartSeries(names.get(h.run_id, h.run_id[:8]), pts))
        total = sum(len(h.points) for h in self.histories)
        note = f"{total} points"
        if self.load_many is not None and any(len(h.points) >= CHART_POINTS for h in self.histories):
            note += f", sampled to {CHART_POINTS} a run"
        chart.set_data(series, title=f"{self.key} by {self.axis}", note=note)

    def action_toggle_style(self) -> None:
        self.style_name = "points" if self.style_name == "line" else "line"
        self._hint()
        self._draw()

    def action_toggle_axis(self) -> None:
        self.axis = "time" if self.axis == "step" else "step"
        self._hint()
        self._draw()


# -- model registry -------------------------------------------------------------------------------------

class RegistryView(CallsBackend, Dialog[str | None]):
    """Registered models and their versions; ``enter`` on a version dismisses with its source run id."""

    DEFAULT_CSS = """
    RegistryView { align: center middle; }
    RegistryView > Vertical { width: 98%; height: 95%; border: thick $primary; background: $surface; }
    RegistryView .title { text-style: bold; padding: 0 1; }
    RegistryView #hint { color: $text-muted; padding: 0 1; }
    RegistryView #models { height: 1fr; }
    RegistryView #versions { height: 2fr; }
    """
    BINDINGS = [Binding("escape,q", "dismiss(None)", "Close", id="registry.close"),
                Binding("L", "links", "Links", id="registry.links")]

    def __init__(self, list_models: Callable[[], tuple[RegisteredModel, ...]],
                 list_versions: Callable[[str], tuple[ModelVersion, ...]],
                 initial: tuple[str, str] | None = None) -> None:
        super().__init__()
        self.list_models, self.list_versions = list_models, list_versions
        self.initial = initial  # (model, version) to select once listed (a link followed here)
        self.models: tuple[RegisteredModel, ...] = ()
        self.versions: tuple[ModelVersion, ...] = ()
        self.model_name: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Registered models", classes="title", id="models-title")
            yield DataTable(id="models", cursor_type="row", zebra_stripes=True)
            yield Label("Versions", classes="title", id="versions-title")
            yield DataTable(id="versions", cursor_type="row", zebra_stripes=True)
            yield Label("tab: models/versions   enter on a version: open its source run   L: its links   "
                        "escape: close", id="hint")

    def on_mount(self) -> None:
        self.query_one("#models", DataTable).add_columns("name", "latest", "aliases", "updated", "description")
        versions = self.query_one("#versions", DataTable)
        for label, width in (("version", 7), ("aliases", 18), ("stage", 10), ("status", 8), ("created", 16),
                             ("source run", 12), ("source", 40)):
            versions.add_column(label, width=width)
        self.query_one("#models", DataTable).focus()
        self._run("models", self.list_models)

    def _run(self, what: str, fn: Callable[..., Any], *args: Any) -> None:
        # models and versions are separate groups: a newer versions call drops the answer for the model before
        self.call_backend(what.partition(":")[0], fn, *args, on_result=lambda result: self._loaded(what, result),
                          on_error=self._failed)

    def _failed(self, error: BaseException) -> None:
        from console.panes.base import describe_error

        self.query_one("#hint", Label).update(Text("ERROR " + describe_error(error), style="bold reverse"))

    def _loaded(self, what: str, result: Any) -> None:
        if what == "models":
            self.models = result
            table = self.query_one("#models", DataTable)
            table.clear()
            for m in self.models:
                aliases = ", ".join(f"@{a}=v{v}" for a, v in m.aliases) or "-"
                table.add_row(m.name, ", ".join(f"v{v}" for v in m.latest_versions) or "-", aliases,
                              short_time(m.updated), m.description or "", key=m.name)
            self.query_one("#models-title", Label).update(f"Registered models ({len(self.models)})")
            names = [m.name for m in self.models]
            if self.initial and self.initial[0] in names:
                table.move_cursor(row=names.index(self.initial[0]))
                self._show_versions(self.initial[0])
            elif self.models:
                self._show_versions(self.models[0].name)
        elif what.startswith("versions:") and what[len("versions:"):] == self.model_name:
            self.versions = result
            table = self.query_one("#versions", DataTable)
            table.clear()
            for v in self.versions:
                table.add_row(f"v{v.version}", ", ".join("@" + a for a in v.aliases) or "-", v.stage or "-",
                              v.status or "-", short_time(v.created), (v.run_id or "-")[:12], v.source,
                              key=v.version)
            self.query_one("#versions-title", Label).update(
                f"Versions of {self.model_name} ({len(self.versions)})")
            numbers = [v.version for v in self.versions]
            if self.initial and self.initial[0] == self.model_name and self.initial[1] in numbers:
                table.move_cursor(row=numbers.index(self.initial[1]))
                table.focus()
                self.initial = None

    def _show_versions(self, name: str) -> None:
        if name == self.model_name:
            return
        self.model_name = name
        self.query_one("#versions", DataTable).clear()
        self._run(f"versions:{name}", self.list_versions, name)

    @on(DataTable.RowHighlighted, "#models")
    def _model_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key is not None and event.row_key.value:
            self._show_versions(event.row_key.value)

    @on(DataTable.RowSelected, "#models")
    def _model_selected(self, event: DataTable.RowSelected) -> None:
        self.query_one("#versions", DataTable).focus()

    def action_links(self) -> None:
        """`L` on a version: the links menu of the pane underneath, for that version."""
        from console.linking import open_menu
        from console.links import model_ref

        table = self.query_one("#versions", DataTable)
        row = table.cursor_row
        if not self.versions or not 0 <= row < len(self.versions):
            self.query_one("#hint", Label).update("L: choose a version first (tab moves to the versions)")
            return
        pane = self.app.current_pane()  # type: ignore[attr-defined]  # the console's app
        self.dismiss(None)
        if pane is not None:
            open_menu(pane, model_ref(self.versions[row]))

    @on(DataTable.RowSelected, "#versions")
    def _version_selected(self, event: DataTable.RowSelected) -> None:
        version = next((v for v in self.versions if v.version == event.row_key.value), None)
        if version is None:
            return
        if not version.run_id:
            self.query_one("#hint", Label).update(f"v{version.version} has no source run recorded")
            return
        self.dismiss(version.run_id)
