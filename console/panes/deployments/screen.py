"""Deployments pane: SeldonDeployments, InferenceServices and Seldon Core 2 resources (or plain endpoints) kept
live by a watch; YAML, pods and events, Seldon Core 2 Servers, and test prediction requests."""

from __future__ import annotations

from typing import Any

from rich.syntax import Syntax
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input, Label, Static
from textual.worker import get_current_worker

from backends.deployments import (
    ADDED,
    AVAILABLE,
    CREATING,
    DELETED,
    FAILED,
    KIND_SHORT,
    MODIFIED,
    PROBLEM,
    RELISTED,
    Deployment,
    Deployments,
    Exchange,
    ModelServers,
    RevisionRequests,
    WatchEvent,
)
from backends.errors import BackendError, NotConfigured
from backends.redact import redact
from console.commands import Command
from console.format import age
from console.links import FLAG_PROBLEM, Badge, Ref
from console.panes.base import NAV_BINDINGS, PaneScreen, describe_error
from console.panes.deployments.views import PodsEventsView, RequestView
from widgets.fast_table import FastTable
from widgets.status import StatusBar
from widgets.views import TextView

COLUMNS = (("namespace", "namespace"), ("name", "name"), ("kind", "kind"), ("state", "state"),
           ("replicas", "ready/desired"), ("protocol", "protocol"), ("impl", "implementation"),
           ("model", "model / image"),
           ("traffic", "traffic"), ("age", "age"), ("reason", "reason"))
STATE_STYLE = {AVAILABLE: "", CREATING: "italic", FAILED: "bold reverse"}


class DeploymentsChanged(Message):
    """A watch event (posted from the watch thread); ``generation`` drops events of an older watch."""

    def __init__(self, generation: int, event: WatchEvent) -> None:
        super().__init__()
        self.generation, self.event = generation, event


_STATE_CELLS: dict[tuple[str, bool], Text] = {}


def state_cell(d: Deployment) -> Text:
    """The state column's cell; one shared Text per state (the table copies cells, never changes them)."""
    flagged = d.flagged
    cell = _STATE_CELLS.get((d.state, flagged))
    if cell is None:
        cell = (Text(f"{d.state} !", style="bold reverse") if flagged
                else Text(d.state, style=STATE_STYLE.get(d.state, "dim")))
        if len(_STATE_CELLS) < 64:  # states are a handful; an odd controller's are not kept forever
            _STATE_CELLS[(d.state, flagged)] = cell
    return cell


def row_key(d: Deployment) -> str:
    return "/".join(d.key)


def reason_text(d: Deployment) -> str:
    if d.flagged:
        c = d.false_conditions[0]
        return redact(f"{c.type}=False: {c.reason or c.message}".strip())
    return redact(d.reason)  # a server's own words may quote the URL it was reached at


class DeploymentsScreen(PaneScreen[Deployments]):
    PANE = "deployments"
    FILTER_TARGET = "deployments"
    DEFAULT_CSS = """
    DeploymentsScreen #detail { height: auto; max-height: 8; padding: 0 1; background: $boost; }
    DeploymentsScreen #deployments-title { width: 100%; }
    """
    BINDINGS = [
        Binding("t", "test_request", "Test request", id="deployments.test"),
        Binding("y", "yaml", "YAML", id="deployments.yaml"),
        Binding("v", "pods", "Pods/events", id="deployments.pods"),
        Binding("s", "servers", "Seldon Core 2 Servers", id="deployments.servers", show=False),
        Binding("enter", "pods", "Open", id="deployments.open", show=False),
        Binding("slash", "filter", "Filter", id="deployments.filter", priority=True),  # see PaneScreen.action_filter
        Binding("escape", "clear_filter", "Clear filter", id="deployments.clear_filter", show=False),
        *NAV_BINDINGS,
    ]
    LINE_COMMANDS = (
        Command("ns", "Show one namespace, or all of them (:ns all)", "command_ns", takes_arg=True,
                complete="complete_ns", arg_hint="NAME|all", aliases=("namespace",)),
        Command("kind", "Show one kind: SeldonDeployments (sdep), InferenceServices (isvc), Seldon Core 2 Models "
                "(mlm), Pipelines (mlp), Experiments (mlx), or all", "command_kind",
                takes_arg=True, complete="complete_kind", arg_hint="sdep|isvc|mlm|mlp|mlx|all"),
        Command("servers", "Seldon Core 2 Servers: replicas and the models loaded on them", "command_servers"),
        Command("compare", "Canary vs main: the golden signals of each predictor or revision side by side, live",
                "command_compare", complete="complete_compare", arg_hint="[NAME]"),
    )

    def __init__(self) -> None:
        super().__init__()
        self.deployments: dict[tuple[str, ...], Deployment] = {}
        self.scope: tuple[str, ...] | None = None  # None: the context's namespaces; (): all
        self.kind = ""  # the one kind shown (SeldonDeployment / InferenceService); "": all of them
        self.stale = False
        self.loaded = False
        self.histories: dict[tuple[str, ...], list[Exchange]] = {}
        self.last_bodies: dict[tuple[str, ...], str] = {}
        self.known_namespaces: set[str] = set()
        self._namespaces_fetched = False
        self._generation = 0
        self._listed_generation = -1  # the watch generation whose first answer (a list or a problem) has arrived
        self._watch_backend: Any = None
        self._streams: dict[int, Any] = {}  # generation -> the watch stream its thread follows
        self._rows: list[tuple[str, ...]] = []
        self._row_index: dict[tuple[str, ...], int] = {}
        self._rebuild_pending = False
        self._problem: BaseException | None = None
        self._count_said: tuple[str, str] | None = None  # (suffix, text) of the last count on the status line
        self._notes: dict[str, None] = {}  # what this watch could not list (a kind not allowed), said once each
        self._link_key: tuple[str, ...] | None = None  # the deployment a link asked for, until it is shown
        #: where the links disagree about a shown deployment (console/links.py), beyond the pane's own "!" flag
        self._badges: dict[tuple[str, ...], list[Badge]] = {}
        self._badges_asked: tuple[int, tuple[tuple[tuple[str, ...], str], ...]] = (0, ())
        self._badges_problem = ""

    # -- layout ------------------------------------------------------------------------------------------
    def compose_body(self) -> ComposeResult:
        yield Label("Deployments", id="deployments-title", classes="pane-title")
        yield Input(placeholder="filter by namespace, name, state, model (escape clears)", id="filter",
                    classes="hidden")
        table = FastTable(id="deployments")
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        yield table
        yield Static("", id="detail", classes="deployment-detail", markup=False)

    def on_mount(self) -> None:
        if not self._known_unconfigured():  # peeks: the backend is built in a worker, never here
            self.query_one("#deployments", FastTable).focus()
            self.set_interval(30, self._refresh_ages)

    def on_unmount(self) -> None:
        self._stop_watch()

    async def context_changed(self) -> None:
        """Another cluster: forget what this one showed (its watch, namespace, request histories)."""
        self._stop_watch()
        previous = self._watch_backend
        if previous is not None and previous is not self.backend:
            previous.close()  # the old cluster's connections
        self._generation += 1
        self.deployments, self.scope, self.loaded, self.stale = {}, None, False, False
        self.histories.clear()
        self.known_namespaces.clear()
        self._namespaces_fetched = False
        self._rows, self._row_index = [], {}
        await super().context_changed()

    # -- scope -------------------------------------------------------------------------------------------
    def effective_scope(self) -> tuple[str, ...]:
        if self.scope is not None:
            return self.scope
        backend = self.backend
        return tuple(backend.namespaces) if backend is not None else ()

    def scope_text(self) -> str:
        scope = self.effective_scope()
        return ", ".join(scope) if scope else "all namespaces"

    # -- loading: a watch, not polling -------------------------------------------------------------------
    def reload(self) -> None:
        """Start (or restart) the watch: it lists, then follows changes."""
        if self.backend is None:
            return
        self._start_watch()

    def _fetch_namespaces(self) -> None:
        """For `:ns` completion; once per cluster, after the first list (never competing with it)."""
        self._namespaces_fetched = True
        self.call_backend("namespaces", self.api.list_namespaces, on_result=self._namespaces_loaded,
                          on_error=lambda _e: None)

    def _namespaces_loaded(self, names: tuple[str, ...]) -> None:
        self.known_namespaces.update(names)

    def _stop_watch(self) -> None:
        for generation in list(self._streams):
            stream = self._streams.pop(generation, None)
            if stream is not None:
                stream.stop()

    def _start_watch(self) -> None:
        """The watch is the one backend call that is not ``call_backend`` (console/calls.py): a long-lived thread
        that streams every change as a message until it is stopped (a new scope, a new context, the pane closed).
        Its timeouts and reconnects are the backend's; a change from an older watch is dropped by generation."""
        self._stop_watch()
        self._generation += 1
        self._notes = {}
        generation = self._generation
        backend = self._watch_backend = self.api
        scope = self.effective_scope()
        self.busy_later(f"listing deployments in {self.scope_text()}",
                        lambda: generation == self._generation and self._listed_generation != generation)

        def follow() -> None:
            worker = get_current_worker()
            stream = backend.watch(scope)
            self._streams[generation] = stream  # so that _stop_watch can end it from the UI thread
            try:
                if worker.is_cancelled or generation != self._generation:
                    return
                for event in stream:
                    if worker.is_cancelled or generation != self._generation:
                        break
                    self.post_message(DeploymentsChanged(generation, event))
            except Exception as exc:  # noqa: BLE001 - the watch itself broke: say so
                if not worker.is_cancelled:
                    self.post_message(DeploymentsChanged(generation, WatchEvent(PROBLEM, error=exc)))
            finally:
                self._streams.pop(generation, None)
                stream.stop()

        self.run_worker(follow, name="deployments.watch", group="deployments.watch", thread=True,
                        exclusive=True, exit_on_error=False)

    def on_deployments_changed(self, message: DeploymentsChanged) -> None:
        if message.generation != self._generation:
            return  # an older watch (namespace or context changed since)
        event = message.event
        if event.kind in (RELISTED, PROBLEM):
            self._listed_generation = message.generation
        if event.kind == PROBLEM:
            self._problem = event.error
            self.stale = self.loaded
            kept = " (showing the last data read)" if self.loaded else ""
            if isinstance(event.error, NotConfigured):  # not retried: the hint says what to change
                self.set_status(f"{describe_error(event.error)}; r retries{kept}", "error")
            else:
                retry = f"; retrying in {event.retry_in:g} s" if event.retry_in else ""
                problem = event.error or BackendError("the watch stopped")  # a PROBLEM event carries its error
                self.set_status(f"watch: {describe_error(problem)}{retry}{kept}", "error")
            self._set_title()
            return
        recovered = self._problem is not None
        self._problem = None
        if self.stale:
            self.stale = False
        if event.kind == RELISTED:
            scope, kinds = set(event.scope), set(event.kinds)
            self.deployments = {k: d for k, d in self.deployments.items()
                                if (scope and k[0] not in scope) or (kinds and d.kind not in kinds)}
            for d in event.deployments:
                self.deployments[d.key] = d
                self.console_app.link_nav.saw_deployment(d)
            self._notes.update(dict.fromkeys(event.notes))
            self.loaded = True
            self._rebuild()
            if not self._namespaces_fetched:
                self._fetch_namespaces()
            self._say_count(", watch reconnected" if recovered else ", watching for changes")
        elif event.kind in (ADDED, MODIFIED) and event.deployment is not None:
            d = event.deployment
            is_new = d.key not in self.deployments
            self.deployments[d.key] = d
            self.console_app.link_nav.saw_deployment(d)  # a state it passes through is an event on its charts
            self.known_namespaces.add(d.namespace)
            if is_new or not self._update_row(d):
                self._schedule_rebuild()
            if recovered:
                self._say_count(", watch reconnected")
        elif event.kind == DELETED and event.deployment is not None:
            if self.deployments.pop(event.deployment.key, None) is not None:
                self._schedule_rebuild()
            self.set_status(f"{event.deployment.namespace}/{event.deployment.name} deleted", "info")
        self._set_title()

    def _say_count(self, suffix: str) -> None:
        """The number of deployments the table shows, on the status line; it follows the table's rebuilds
        for as long as nothing else has been said since."""
        shown, total = len(self._rows), len(self.deployments)
        count = f"{shown} deployment(s)" if shown == total else f"{shown} of {total} deployment(s) shown"
        text = f"{count} in {self.scope_text()}{suffix}"
        if self._notes:
            text += "; " + "; ".join(redact(n) for n in self._notes)
        self._count_said = (suffix, text)
        self.set_status(text, "warning" if self._notes else "info")

    def _recount(self) -> None:
        said = self._count_said
        if said is not None and self.query_one("#status", StatusBar).text == said[1]:
            self._say_count(said[0])

    # -- the table ------------------------------------------------------------------------------------------
    def _set_title(self) -> None:
        text = Text("Deployments", style="bold")
        backend = self.backend
        endpoint = backend.endpoint if backend is not None else ""
        if endpoint:
            text.append(f"  {redact(endpoint)}")
        text.append(f"  ns: {self.scope_text()}")
        if self.kind:
            text.append(f"  kind: {KIND_SHORT.get(self.kind, self.kind)}")
        shown = len(self._rows)
        total = len(self.deployments)
        text.append(f"  {shown}/{total}" if shown != total else f"  {total}")
        if self.filter_text:
            text.append(f"  filter: {self.filter_text}")
        if self.stale:
            text.append("  [stale]", style="bold reverse")
        self.query_one("#deployments-title", Label).update(text)

    def matches(self, d: Deployment) -> bool:
        if self.kind and d.kind != self.kind:
            return False
        needle = self.filter_text.lower()
        return not needle or needle in " ".join((d.namespace, d.name, d.kind_short, d.kind, d.state, d.model_text,
                                                 d.protocol, d.implementation, reason_text(d))).lower()

    def shown_deployments(self) -> list[Deployment]:
        items = sorted(self.deployments.values(), key=lambda d: (d.namespace, d.name, d.kind))
        return [d for d in items if self.matches(d)] if self.filter_text or self.kind else items

    def _cells(self, d: Deployment, now: Any = None) -> list[Any]:
        name = f"{d.name} !" if self._badges.get(d.key) else d.name
        return [d.namespace, name, d.kind_short, state_cell(d), d.replicas_text, d.protocol, d.implementation,
                d.model_text, d.traffic_text, age(d.created, now or self.console_app.now()), reason_text(d)]

    def _schedule_rebuild(self) -> None:
        if not self._rebuild_pending:
            self._rebuild_pending = True
            self.call_after_refresh(self._rebuild)

    def _rebuild(self) -> None:
        self._rebuild_pending = False
        table = self.query_one("#deployments", FastTable)
        selected = self.selected()
        rows = self.shown_deployments()
        self._rows = [d.key for d in rows]
        self._row_index = {key: i for i, key in enumerate(self._rows)}
        now = self.console_app.now()
        table.set_rows([(row_key(d), self._cells(d, now)) for d in rows])
        if selected is not None and selected.key in self._row_index:
            table.move_cursor(row=self._row_index[selected.key])
        elif rows:
            table.move_cursor(row=min(table.cursor_row, len(rows) - 1))
        self._set_title()
        self._show_detail()
        self._recount()
        self._link_landed()
        self._check_links([d for d in rows if d.predictors])

    def _update_row(self, d: Deployment) -> bool:
        """Change one row in place; False when the table must be rebuilt instead."""
        if self._rebuild_pending or not self.matches(d) or d.key not in self._row_index:
            return False
        table = self.query_one("#deployments", FastTable)
        key = row_key(d)
        for (col, _), value in zip(COLUMNS, self._cells(d)):
            table.update_cell(key, col, value)
        selected = self.selected()
        if selected is not None and selected.key == d.key:
            self._show_detail()
        return True

    def _refresh_ages(self) -> None:
        if self.deployments and not self._rebuild_pending:
            table = self.query_one("#deployments", FastTable)
            now = self.console_app.now()
            for key in self._rows:
                d = self.deployments.get(key)
                if d is not None:
                    table.update_cell(row_key(d), "age", age(d.created, now))
            if self.is_current:  # the links are read again once they are older than they may be kept
                self._recheck_links()

    def on_screen_resume(self) -> None:
        if self.deployments and not self._rebuild_pending:
            self._recheck_links()

    def _recheck_links(self) -> None:
        """The badges follow what changed outside the table (an alias moved, data committed) within a minute."""
        self._check_links([d for key in self._rows if (d := self.deployments.get(key)) is not None and d.predictors])

    def selected(self) -> Deployment | None:
        table = self.query_one("#deployments", FastTable)
        if not self._rows or table.row_count == 0:
            return None
        row = table.cursor_row
        if 0 <= row < len(self._rows):
            return self.deployments.get(self._rows[row])
        return None

    @on(FastTable.RowSelected, "#deployments")
    def _selected(self, _event: FastTable.RowSelected) -> None:
        self.action_pods()

    @on(FastTable.RowHighlighted, "#deployments")
    def _highlighted(self, _event: FastTable.RowHighlighted) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        d = self.selected()
        detail = self.query_one("#detail", Static)
        if d is None:
            detail.update("" if self.deployments or not self.loaded else
                          f"no deployments in {self.scope_text()}")
            return
        text = Text()
        text.append(f"{d.namespace}/{d.name}", style="bold")
        text.append(f"  {d.state}")
        if d.reason:
            text.append(f": {redact(d.reason)}")
        backend = self.backend
        target = backend.prediction_url(d) if backend is not None else d.address_url
        text.append(f"\nsend to: {redact(target) or '(no address yet)'}")
        # the Kubernetes backend's routing headers: Host through an ingress, Seldon-Model through seldon-mesh
        headers = getattr(backend, "request_headers", None)
        routes = [f"{k}: {v}" for k, v in headers(d, target) if k in ("Host", "Seldon-Model")] \
            if headers and target else []
        if routes:
            text.append(f" ({', '.join(routes)})")
        if d.details:  # before the conditions: the detail box is a few lines high
            text.append("\n" + "  ".join(f"{label}: {redact(value)}" for label, value in d.details))
        for badge in self._badges.get(d.key, ()):
            text.append(f"\n{badge}", style="bold")
        if self._badges_problem:
            text.append(f"\n{self._badges_problem}", style="italic")
        if d.conditions:
            text.append("\nconditions: ")
            for c in d.conditions:
                text.append(f"{c.type}={c.status} ", style="bold reverse" if c.status == "False" else "")
        detail.update(text)

    # -- links across the panes (console/linking.py) -------------------------------------------------------------
    def _check_links(self, rows: list[Deployment]) -> None:
        """Ask the links (in a worker: the registry and the data are read) where they disagree about the shown
        deployments; again when the rows or their models change, or the links were read again since."""
        nav = self.console_app.link_nav
        asked = (nav.generation, tuple((d.key, ",".join(p.model_uri for p in d.predictors)) for d in rows))
        if not asked[1] or (asked == self._badges_asked and nav.fresh()):
            return
        self._badges_asked = asked

        def read() -> dict[tuple[str, ...], list[Badge]]:
            links = nav.resolver()
            # the pane flags Available-with-a-False-condition itself (the state cell's "!")
            return {d.key: [b for b in links.deployment_badges(d) if not b.problem.endswith(FLAG_PROBLEM)]
                    for d in rows}

        def show(badges: dict[tuple[str, ...], list[Badge]]) -> None:
            changed = {k for k in set(badges) | set(self._badges) if bool(badges.get(k)) != bool(self._badges.get(k))}
            self._badges, self._badges_problem = badges, ""
            if changed:
                self._schedule_rebuild()
            else:
                self._show_detail()

        def failed(error: BaseException) -> None:
            self._badges_problem = f"the links could not be checked: {describe_error(error)}"
            self._show_detail()

        self.call_backend("deployments.badges", read, on_result=show, on_error=failed)

    def link_subject(self) -> Ref | None:
        from console.links import deployment_ref

        d = self.selected()
        return deployment_ref(d) if d is not None else None

    def select_link(self, ref: Ref) -> None:
        key = tuple(ref.key)  # a Deployment.key
        self._link_key = key
        if not self.loaded:
            return  # the first list selects it
        if self.filter_text and key not in self._row_index:
            self.action_clear_filter()
        self._schedule_rebuild()

    def _link_landed(self) -> None:
        key = self._link_key
        if key is None or not self.loaded:
            return
        self._link_key = None
        if key not in self._row_index:
            self.set_status(f"{key[1]} is not among the deployments shown ({self.scope_text()})", "warning")
            return
        table = self.query_one("#deployments", FastTable)
        table.move_cursor(row=self._row_index[key])
        table.focus()
        self.set_status(f"{key[0]}/{key[1]} (backspace: back)")

    def action_cursor(self, where: str) -> None:
        table = self.query_one("#deployments", FastTable)
        {"down": table.action_cursor_down, "up": table.action_cursor_up,
         "top": table.action_scroll_top, "bottom": table.action_scroll_bottom}[where]()

    # -- filter (the box itself is PaneScreen's) ----------------------------------------------------------
    def filter_changed(self) -> None:
        self._schedule_rebuild()

    # -- :ns -------------------------------------------------------------------------------------------------
    def complete_ns(self) -> list[str]:
        names = set(self.known_namespaces) | {k[0] for k in self.deployments}
        backend = self.backend
        if backend is not None:
            names.update(backend.namespaces)  # the configured ones, whatever the scope now
        return ["all", *sorted(names)]

    def command_ns(self, arg: str) -> None:
        if self.backend is None:
            self.set_status(describe_error(self.backend_problem) if self.backend_problem else "no backend", "error")
            return
        name = arg.strip()
        self.scope = () if name in ("all", "*", "-A") else (name,)
        self.deployments = {}
        self.loaded = False
        self._schedule_rebuild()
        self._start_watch()

    # -- :kind ------------------------------------------------------------------------------------------------
    def complete_kind(self) -> list[str]:
        return ["all", *KIND_SHORT.values()]

    def command_kind(self, arg: str) -> None:
        wanted = arg.strip().lower()
        by_name = {short: kind for kind, short in KIND_SHORT.items()} | {k.lower(): k for k in KIND_SHORT}
        if wanted in ("", "all", "*"):
            self.kind = ""
        elif wanted in by_name:
            self.kind = by_name[wanted]
        else:
            self.set_status(f":kind {arg.strip()}: not a kind; use one of {', '.join(KIND_SHORT.values())}, all",
                            "error")
            return
        self._schedule_rebuild()

    # -- actions on the selected deployment ----------------------------------------------------------------
    def _need_selected(self, doing: str) -> Deployment | None:
        d = self.selected()
        if d is None:
            self.set_status(f"{doing}: no deployment selected", "warning")
        return d

    def action_yaml(self) -> None:
        d = self._need_selected("YAML")
        if d is None:
            return
        self.call_backend("yaml", self.api.get_yaml, d.namespace, d.name, d.kind, busy=f"reading {d.name}",
                          on_result=lambda text: self._show_yaml(d, text),
                          on_error=lambda e: self.show_error(e, f"YAML of {d.name}"))

    def _show_yaml(self, d: Deployment, text: str) -> None:
        self.set_status(f"{d.namespace}/{d.name}: YAML (secrets redacted)")
        body = Syntax(redact(text), "yaml", theme="ansi_dark", background_color="default", word_wrap=True)
        self.app.push_screen(TextView(f"{d.namespace}/{d.name} (secrets redacted)", body))

    def action_pods(self) -> None:
        d = self._need_selected("pods and events")
        if d is None:
            return
        backend = self.api

        def load() -> tuple[Any, Any]:
            return backend.pods(d.namespace, d.name, d.kind), backend.events(d.namespace, d.name, d.kind)

        self.call_backend("pods", load, busy=f"reading pods and events of {d.name}",
                          on_result=lambda result: self._show_pods(d, *result),
                          on_error=lambda e: self.show_error(e, f"pods of {d.name}"))

    # -- :compare ----------------------------------------------------------------------------------------------
    def complete_compare(self) -> list[str]:
        from console.compare_sides import sides_of

        return sorted({d.name for d in self.deployments.values() if sides_of(d)[0]})

    def command_compare(self, arg: str = "") -> None:
        from console.panes.deployments.compare import open_compare

        name = arg.strip()
        if name:  # NAME or NAMESPACE/NAME, the shown row first
            found = [d for d in self.deployments.values() if name in (d.name, f"{d.namespace}/{d.name}")]
            selected = self.selected()
            d = selected if selected in found else (found[0] if found else None)
            if d is None:
                self.set_status(f"compare: no deployment {name} in {self.scope_text()}", "error")
                return
        else:
            d = self._need_selected("compare")
            if d is None:
                return
        open_compare(self, d)

    def command_servers(self, _arg: str = "") -> None:
        self.action_servers()

    def action_servers(self) -> None:
        backend = self.api
        if not isinstance(backend, ModelServers):
            self.set_status("Seldon Core 2 Servers: only a Kubernetes context has them", "warning")
            return
        scope = self.effective_scope()
        self.call_backend("servers", backend.list_servers, scope,
                          busy=f"reading Seldon Core 2 Servers in {self.scope_text()}",
                          on_result=self._show_servers, on_error=lambda e: self.show_error(e, "Seldon Core 2 Servers"))

    def _show_servers(self, servers: Any) -> None:
        from rich.table import Table

        where = self.scope_text()
        if not servers:
            self.set_status(f"no Seldon Core 2 Servers in {where}", "info")
            return
        table = Table(box=None, pad_edge=False, show_edge=False)
        for label in ("namespace", "name", "state", "replicas", "loaded", "config", "age", "reason"):
            table.add_column(label, no_wrap=label not in ("reason",))
        now = self.console_app.now()
        for sv in servers:
            desired = "?" if sv.desired is None else str(sv.desired)
            table.add_row(sv.namespace, sv.name, sv.state, f"{sv.replicas}/{desired}", str(sv.loaded_models),
                          sv.server_config, age(sv.created, now), redact(sv.reason))
        self.set_status(f"{len(servers)} Seldon Core 2 Server(s) in {where}")
        self.app.push_screen(TextView(f"Seldon Core 2 Servers in {where} (loaded: model replicas)", table))

    def _show_pods(self, d: Deployment, pods: Any, events: Any) -> None:
        backend = self.api
        warnings = sum(1 for e in events if e.warning)
        self.set_status(f"{d.namespace}/{d.name}: {len(pods)} pod(s), {len(events)} event(s), "
                        f"{warnings} warning(s)", "warning" if warnings else "info")
        self.app.push_screen(PodsEventsView(d, pods, events, lambda pod: backend.pod_log(d.namespace, pod, 200),
                                            self.console_app.now()))

    def action_test_request(self) -> None:
        d = self._need_selected("test request")
        if d is None:
            return
        self.call_backend("template", self.api.request_template, d, busy=f"preparing a request for {d.name}",
                          on_result=lambda template: self._open_request(d, template),
                          on_error=lambda e: self.show_error(e, f"request template for {d.name}"))

    def _open_request(self, d: Deployment, template: Any) -> None:
        backend = self.api
        history = self.histories.setdefault(d.key, [])
        # the last payload again, unless the history could not keep it whole
        body = history[-1].request.body if history and not history[-1].request.body_cut else None
        self.set_status(f"{d.namespace}/{d.name}: ctrl+s sends to {template.url or '(no address)'}")
        by_revision = ((lambda rev, text: backend.send_revision(d, rev, text))
                       if isinstance(backend, RevisionRequests) and d.tag_targets else None)
        self.app.push_screen(RequestView(d, template, history, lambda text: backend.send(d, text, template.url or None),
                                         self.console_app.now, body=body, send_revision=by_revision))
