"""Dashboards: YAML files of PromQL panels, and an importer for Grafana dashboard JSON.

A YAML dashboard::

    title: Model serving
    variables:
      - name: deployment                 # used as $deployment (also ${deployment}, [[deployment]])
        label: Deployment
        query: label_values(seldon_api_executor_server_requests_seconds_count, deployment_name)
        default: ".*"
    panels:
      - title: Traffic
        kind: line                       # line | stat | table
        unit: req/s                      # seconds, milliseconds, bytes, ratio, percent, or a suffix
        promql: sum(rate(x_total{deployment_name=~"$deployment"}[$__rate_interval]))
      - title: Latency
        unit: seconds
        targets:                         # several queries in one panel, each with a legend
          - {expr: 'histogram_quantile(0.5, ...)', legend: p50}

Everything a file holds that cannot be used is listed in the :class:`ImportReport`, never
dropped silently. Plain Python; ``yaml`` and ``json`` are imported when a file is read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

BUILTIN_DIR = Path(__file__).resolve().parent / "builtin_dashboards"
KINDS = ("line", "stat", "table")


@dataclass(frozen=True)
class PanelTarget:
    """One PromQL query of a panel; ``legend`` may use ``{{label}}`` placeholders."""

    expr: str
    legend: str = ""


@dataclass(frozen=True)
class Panel:
    title: str
    targets: tuple[PanelTarget, ...]
    unit: str = ""
    kind: str = "line"

    @property
    def promql(self) -> str:
        return self.targets[0].expr if self.targets else ""


@dataclass(frozen=True)
class Variable:
    """A dashboard variable. ``query`` is ``label_values([metric,] label)`` (its values come from
    the server), ``options`` a fixed list; ``default`` is used until the user sets one."""

    name: str
    label: str = ""
    query: str = ""
    options: tuple[str, ...] = ()
    default: str = ".*"


@dataclass(frozen=True)
class Dashboard:
    title: str
    panels: tuple[Panel, ...]
    variables: tuple[Variable, ...] = ()
    source: str = ""
    description: str = ""


@dataclass(frozen=True)
class ImportReport:
    """A loaded (or failed) dashboard file and what could not be taken from it."""

    source: str
    dashboard: Dashboard | None
    skipped: tuple[str, ...] = ()


# -- variables ----------------------------------------------------------------------------------
_VAR = re.compile(r"\$\{(\w+)(?::[\w-]+)?\}|\[\[(\w+)(?::[\w-]+)?\]\]|\$(\w+)")


def regex_literal(value: str) -> str:
    """A regex (RE2) matching ``value`` exactly: its regex characters escaped. Dashes need no escape and read
    better without one (a Kubernetes name's)."""
    return re.sub(r"([.\\+*?()|\[\]{}^$])", r"\\\1", value)


def promql_string(value: str) -> str:
    """``value`` as a PromQL string literal, quotes included (its backslashes and quotes escaped)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def exact_regex(value: str) -> str:
    """A variable's value matching ``value`` exactly in a ``label=~"$var"`` matcher: written as a PromQL string's
    text, whose backslashes are escapes of their own (``re.escape``'s ``\\-`` or ``\\.`` alone is a parse error
    there)."""
    return promql_string(regex_literal(value))[1:-1]


def _duration(seconds: float) -> str:
    return f"{max(1, int(round(seconds)))}s"


def expand(expr: str, values: Mapping[str, str], step: float = 15.0,
           window: float | None = None) -> str:
    """``expr`` with ``$name`` / ``${name}`` / ``[[name]]`` replaced from ``values`` and
    Grafana's ``$__interval``, ``$__rate_interval`` and ``$__range`` from the query ``step``
    and ``window``. Unknown variables are left as they are (Prometheus will then say so)."""
    builtins = {
        "__interval": _duration(step),
        "__rate_interval": _duration(max(60.0, 4 * step)),
        "__range": _duration(window if window else 3600),
    }

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2) or match.group(3)
        if name in values:
            return str(values[name])
        if name in builtins:
            return builtins[name]
        return match.group(0)

    return _VAR.sub(replace, expr)


def variables_used(dashboard: Dashboard) -> set[str]:
    names = set()
    for panel in dashboard.panels:
        for target in panel.targets:
            for m in _VAR.finditer(target.expr):
                names.add(m.group(1) or m.group(2) or m.group(3))
    return names


_LABEL_VALUES = re.compile(r"^\s*label_values\(\s*(?:(?P<match>.+?)\s*,\s*)?(?P<label>\w+)\s*\)\s*$")


def parse_label_values(query: str) -> tuple[str | None, str] | None:
    """``label_values(metric{sel}, label)`` -> ``("metric{sel}", "label")``; ``None`` otherwise."""
    m = _LABEL_VALUES.match(query or "")
    if not m:
        return None
    return m.group("match"), m.group("label")


def legend_for(template: str, labels: Mapping[str, str]) -> str:
    """A Grafana ``legendFormat`` (``{{pod}} {{code}}``) filled from ``labels``."""
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: labels.get(m.group(1), ""), template)


# -- YAML ---------------------------------------------------------------------------------------
def _text(value: Any) -> str:
    return "" if value is None else str(value)


def load_yaml(path: str | Path) -> ImportReport:
    """Read one YAML dashboard file."""
    import yaml

    path = Path(path)
    source = str(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        return ImportReport(source, None, (f"cannot read the file: {exc.strerror or exc}",))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        return ImportReport(source, None, (f"not valid YAML: {where}{problem}",))
    if not isinstance(data, dict):
        return ImportReport(source, None, ("not a dashboard: expected a mapping with 'panels'",))
    skipped: list[str] = []
    panels: list[Panel] = []
    for index, raw in enumerate(data.get("panels") or (), start=1):
        if not isinstance(raw, dict):
            skipped.append(f"panel {index}: not a mapping")
            continue
        title = _text(raw.get("title")) or f"panel {index}"
        targets: list[PanelTarget] = []
        if raw.get("promql"):
            targets.append(PanelTarget(_text(raw["promql"]).strip(), _text(raw.get("legend"))))
        for t_index, t in enumerate(raw.get("targets") or (), start=1):
            if isinstance(t, str):
                targets.append(PanelTarget(t.strip()))
            elif isinstance(t, dict) and t.get("expr"):
                targets.append(PanelTarget(_text(t["expr"]).strip(), _text(t.get("legend"))))
            else:
                skipped.append(f"panel '{title}': target {t_index} has no 'expr'")
        if not targets:
            skipped.append(f"panel '{title}': no 'promql' or 'targets'")
            continue
        kind = _text(raw.get("kind") or "line").lower()
        if kind not in KINDS:
            skipped.append(f"panel '{title}': unknown kind '{kind}', shown as a line chart")
            kind = "line"
        panels.append(Panel(title, tuple(targets), _text(raw.get("unit")), kind))
    variables: list[Variable] = []
    for index, raw in enumerate(data.get("variables") or (), start=1):
        if not isinstance(raw, dict) or not raw.get("name"):
            skipped.append(f"variable {index}: needs a 'name'")
            continue
        options = tuple(_text(o) for o in raw.get("options") or ())
        variables.append(Variable(
            name=_text(raw["name"]).lstrip("$"), label=_text(raw.get("label")),
            query=_text(raw.get("query")), options=options,
            default=_text(raw.get("default", ".*")),
        ))
    if not panels:
        skipped.append("no usable panels")
    dashboard = Dashboard(
        title=_text(data.get("title")) or path.stem, panels=tuple(panels),
        variables=tuple(variables), source=source, description=_text(data.get("description")),
    ) if panels else None
    return ImportReport(source, dashboard, tuple(skipped))


# -- Grafana ------------------------------------------------------------------------------------
_GRAFANA_KINDS = {
    "timeseries": "line", "graph": "line", "stat": "stat", "singlestat": "stat", "gauge": "stat",
    "bargauge": "stat", "table": "table", "table-old": "table",
}
_GRAFANA_UNITS = {
    "s": "seconds", "dtdurations": "seconds", "ms": "milliseconds", "bytes": "bytes",
    "decbytes": "bytes", "percentunit": "ratio", "percent": "percent", "reqps": "req/s",
    "rps": "req/s", "ops": "ops/s", "short": "", "none": "", "": "",
}


def _grafana_unit(unit: str, title: str, skipped: list[str]) -> str:
    if unit in _GRAFANA_UNITS:
        return _GRAFANA_UNITS[unit]
    skipped.append(f"panel '{title}': unit '{unit}' not known, shown as a suffix")
    return unit


def _datasource_type(ds: Any) -> str:
    if isinstance(ds, dict):
        return _text(ds.get("type"))
    return ""


def _walk_panels(panels: Iterable[Any]) -> Iterable[dict[str, Any]]:
    for panel in panels or ():
        if not isinstance(panel, dict):
            continue
        if panel.get("type") == "row":
            yield from _walk_panels(panel.get("panels") or ())
        else:
            yield panel


def _grafana_default(var: dict[str, Any]) -> str:
    current = var.get("current") or {}
    value = current.get("value") if isinstance(current, dict) else None
    if isinstance(value, list):
        value = "|".join(str(v) for v in value)
    if value in (None, "", "$__all") or value == ["$__all"]:
        return _text(var.get("allValue")) or ".*"
    return _text(value)


def import_grafana(path: str | Path) -> ImportReport:
    """Turn a Grafana dashboard JSON file into a :class:`Dashboard`: its Prometheus panels'
    targets, titles, units and template variables. Everything else is listed in ``skipped``."""
    import json

    path = Path(path)
    source = str(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        return ImportReport(source, None, (f"cannot read the file: {exc.strerror or exc}",))
    except json.JSONDecodeError as exc:
        return ImportReport(source, None, (f"not valid JSON: line {exc.lineno}: {exc.msg}",))
    if isinstance(data, dict) and isinstance(data.get("dashboard"), dict):
        data = data["dashboard"]
    if not isinstance(data, dict) or not ("panels" in data or "rows" in data):
        return ImportReport(source, None, ("not a Grafana dashboard: no 'panels'",))
    skipped: list[str] = []
    raw_panels = list(_walk_panels(data.get("panels") or ()))
    for row in data.get("rows") or ():  # the pre-5.0 layout
        if isinstance(row, dict):
            raw_panels.extend(_walk_panels(row.get("panels") or ()))
    panels: list[Panel] = []
    for raw in raw_panels:
        kind_name = _text(raw.get("type"))
        title = _text(raw.get("title")) or f"panel {raw.get('id', '?')}"
        kind = _GRAFANA_KINDS.get(kind_name)
        if kind is None:
            skipped.append(f"panel '{title}': type '{kind_name}' is not supported")
            continue
        ds_type = _datasource_type(raw.get("datasource"))
        if ds_type and ds_type != "prometheus" and not ds_type.startswith("$"):
            skipped.append(f"panel '{title}': datasource '{ds_type}' is not Prometheus")
            continue
        targets: list[PanelTarget] = []
        for target in raw.get("targets") or ():
            ref = _text(target.get("refId")) or "?"
            t_ds = _datasource_type(target.get("datasource"))
            if t_ds and t_ds not in ("prometheus", "__expr__") and not t_ds.startswith("$"):
                skipped.append(f"panel '{title}': target {ref} uses datasource '{t_ds}'")
                continue
            if t_ds == "__expr__" or target.get("type") in ("math", "reduce", "resample"):
                skipped.append(f"panel '{title}': target {ref} is a Grafana expression")
                continue
            if target.get("hide"):
                skipped.append(f"panel '{title}': target {ref} is hidden in Grafana")
                continue
            expr = _text(target.get("expr")).strip()
            if not expr:
                skipped.append(f"panel '{title}': target {ref} has no PromQL expression")
                continue
            legend = _text(target.get("legendFormat"))
            targets.append(PanelTarget(expr, "" if legend == "__auto" else legend))
        if not targets:
            skipped.append(f"panel '{title}': no Prometheus queries")
            continue
        defaults = ((raw.get("fieldConfig") or {}).get("defaults") or {})
        unit = _text(defaults.get("unit"))
        if not unit and raw.get("yaxes"):
            unit = _text((raw["yaxes"][0] or {}).get("format"))
        if not unit:
            unit = _text(raw.get("format"))
        panels.append(Panel(title, tuple(targets), _grafana_unit(unit, title, skipped), kind))
    variables: list[Variable] = []
    for var in ((data.get("templating") or {}).get("list") or ()):
        if not isinstance(var, dict) or not var.get("name"):
            continue
        name, var_type = _text(var["name"]), _text(var.get("type"))
        label = _text(var.get("label"))
        if var_type == "query":
            query = var.get("query")
            if isinstance(query, dict):
                query = query.get("query")
            query = _text(query)
            if parse_label_values(query) is None:
                skipped.append(f"variable '{name}': query '{query}' is not label_values(...); "
                               "set it by hand")
                query = ""
            variables.append(Variable(name, label, query, (), _grafana_default(var)))
        elif var_type == "custom":
            options = tuple(o.strip() for o in _text(var.get("query")).split(",") if o.strip())
            variables.append(Variable(name, label, "", options, _grafana_default(var)))
        elif var_type in ("constant", "textbox"):
            variables.append(Variable(name, label, "", (), _text(var.get("query"))
                                      or _grafana_default(var)))
        elif var_type == "interval":
            options = tuple(o.strip() for o in _text(var.get("query")).split(",") if o.strip())
            variables.append(Variable(name, label, "", options, _grafana_default(var)))
        elif var_type == "datasource":
            skipped.append(f"variable '{name}': datasource variables are not needed "
                           "(the context's Prometheus is used)")
        else:
            skipped.append(f"variable '{name}': type '{var_type}' is not supported")
    if not panels:
        skipped.append("no usable panels")
    dashboard = Dashboard(
        title=_text(data.get("title")) or path.stem, panels=tuple(panels),
        variables=tuple(variables), source=source, description=_text(data.get("description")),
    ) if panels else None
    return ImportReport(source, dashboard, tuple(skipped))


# -- folders ------------------------------------------------------------------------------------
def load_file(path: str | Path) -> ImportReport:
    path = Path(path)
    if path.suffix.lower() == ".json":
        return import_grafana(path)
    return load_yaml(path)


def load_folders(folders: Iterable[str | Path] = (), builtin: bool = True) -> tuple[ImportReport, ...]:
    """The built-in dashboards (first), then every ``*.yaml``, ``*.yml`` and Grafana ``*.json``
    in ``folders`` in name order. A missing folder is reported, not raised."""
    reports: list[ImportReport] = []
    sources = [BUILTIN_DIR] if builtin else []
    sources += [Path(str(f)).expanduser() for f in folders or ()]
    for folder in sources:
        if folder.is_file():
            reports.append(load_file(folder))
            continue
        if not folder.is_dir():
            reports.append(ImportReport(str(folder), None, ("folder not found",)))
            continue
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() in (".yaml", ".yml", ".json") and path.is_file():
                report = load_file(path)
                if folder == BUILTIN_DIR:  # named as what it is, not by where the package lies
                    label = f"built-in ({path.name})"
                    board = report.dashboard and replace(report.dashboard, source=label)
                    report = replace(report, source=label, dashboard=board)
                reports.append(report)
    return tuple(reports)
