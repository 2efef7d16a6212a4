"""The panes' side of the links (console/links.py): the `L` menu, jumps to another pane's row, the trail that
`backspace` goes back along (shown in the pane bar), and the `:trace` view.

The panes stay unaware of each other: a pane says which row is selected (``link_subject``) and selects the row
a link names (``select_link``); everything between is here."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from backends.deployments.contract import Deployment
from console.links import CHAMPION_ALIAS, Badge, ChartEvents, Link, Links, Ref, Trace
from console.noticed import NoticedJournal, journal_path

if TYPE_CHECKING:
    from console.app import MlopsConsole
    from console.panes.base import PaneScreen

MAX_AGE = 30.0  # seconds a resolver's answers are reused (also dropped by `r` and `:ctx`)
TRAIL_SHOWN = 2  # crumbs the pane bar shows (the newest)


class LinkNavigator:
    """One per app: the resolver of the current context and the trail of rows jumped from."""

    def __init__(self, app: MlopsConsole) -> None:
        self.app = app
        self.trail: list[Ref] = []
        self._links: Links | None = None
        self._context: Any = None
        self._built_at = 0.0
        self.generation = 0  # counts the times the links were read anew (a pane's badges are asked again)
        # deployments the watch streamed before the resolver was built: (context, latest of each), handed to it
        self._unseen: tuple[Any, dict[tuple[str, ...], Deployment]] = (None, {})
        self._seen_lock = threading.Lock()

    def resolver(self) -> Links:
        """The resolver over the context's backends (built here when a pane has not built its own yet). Called
        from worker threads."""
        context = self.app.context
        if self._links is None or self._context is not context:
            alias = getattr(context, "champion_alias", None) or CHAMPION_ALIAS
            backends = self.app.backends  # built when a question first needs one (cheap: no I/O)
            journal = NoticedJournal(journal_path(context))
            links = Links(champion_alias=alias, provide=lambda kind: backends.get(kind)[0], journal=journal)
            with self._seen_lock:
                (seen_in, unseen), self._unseen = self._unseen, (None, {})
                self._links, self._context, self._built_at = links, context, time.monotonic()
            for d in unseen.values() if seen_in is context else ():
                links.saw(d)  # the state the pane showed first: a change from it is an event
            self.generation += 1
        elif time.monotonic() - self._built_at > MAX_AGE:
            self._links.refresh()
            self._built_at = time.monotonic()
            self.generation += 1
        return self._links

    def fresh(self) -> bool:
        """The resolver's answers are younger than :data:`MAX_AGE` (a pane need not ask again)."""
        return self._links is not None and self._context is self.app.context and (
            time.monotonic() - self._built_at <= MAX_AGE)

    def refresh(self) -> None:
        if self._links is not None:
            self._links.refresh()
            self._built_at = time.monotonic()
            self.generation += 1

    def links_of(self, ref: Ref) -> list[Link]:
        return self.resolver().links_of(ref)

    def badges_of(self, ref: Ref) -> list[Badge]:
        return self.resolver().badges_of(ref)

    def trace(self, spec: str) -> Trace:
        return self.resolver().trace(spec)

    def dashboard_values(self, ref: Ref) -> tuple[dict[str, str], str]:
        links = self.resolver()
        d = next((d for d in links.deployment_list() if d.key == ref.key[:2]), None)
        if d is None:
            return {}, f"no deployment {ref.key[1]} any more: the dashboard shows every model server"
        return links.dashboard_values(d)

    def events(self, ref: Ref, start: datetime, end: datetime) -> ChartEvents | None:
        """What changed in the systems linked to the deployment of ``ref`` between ``start`` and ``end`` (None: no
        such deployment any more). Called from a worker thread."""
        links = self.resolver()
        d = next((d for d in links.deployment_list() if d.key[:2] == ref.key[:2]), None)
        return None if d is None else links.events(d, start, end)

    def saw_deployment(self, d: Deployment) -> None:
        """A deployment as the Deployments pane's watch streamed it: remembered by the resolver, so that a state it
        went through between two reads is known. Before one is built (building one here would block), the latest
        of each is kept and handed to it when it is."""
        context = self.app.context
        with self._seen_lock:
            if self._links is None or self._context is not context:
                if self._unseen[0] is not context:
                    self._unseen = (context, {})
                self._unseen[1][d.key] = d
                return
            links = self._links
        links.saw(d)

    # -- the trail -------------------------------------------------------------------------------------------
    def crumbs(self) -> list[str]:
        return [ref.label for ref in self.trail]

    def show_trail(self) -> None:
        from widgets.panebar import PaneBar

        crumbs = self.crumbs()
        for screen in self.app.pane_screens():
            for bar in screen.query("#panebar").results(PaneBar):
                bar.set_trail(crumbs)


def open_menu(pane: PaneScreen[Any], subject: Ref | None = None) -> None:
    """`L`: the links of ``subject`` (default: the pane's selected row), in a menu; `enter` jumps."""
    subject = subject or pane.link_subject()
    if subject is None:
        pane.set_status(pane.link_hint(), "warning")
        return
    from console.panes.base import describe_error
    from widgets.link_menu import LinkMenu, MenuEntry

    nav = pane.console_app.link_nav
    found: list[Link] = []
    # the menu opens at once and fills in when the links are known: the keys typed meanwhile go to it
    menu = LinkMenu(f"{subject.label} links to")

    def show(links: list[Link]) -> None:
        found[:] = links
        menu.set_entries([MenuEntry(link.relation, link.target.label if link.target else "", link.evidence)
                          for link in links])

    def failed(error: BaseException) -> None:
        menu.set_problem(f"could not follow the links: {describe_error(error)}")

    def chosen(index: int | None) -> None:
        target = found[index].target if index is not None and index < len(found) else None
        if target is not None:
            pane.app.run_worker(jump(pane.console_app, subject, target), group="links.jump",
                                exclusive=True, exit_on_error=False)

    pane.app.push_screen(menu, chosen)
    pane.call_backend("links", nav.links_of, subject, on_result=show, on_error=failed)


async def jump(app: MlopsConsole, origin: Ref | None, target: Ref) -> None:
    """Show ``target``'s pane with it selected; ``origin`` goes on the trail (None: going back)."""
    nav = app.link_nav
    if origin is not None:
        nav.trail.append(origin)
    if app.current_mode != target.pane:
        await app.switch_mode(target.pane)
    nav.show_trail()
    pane = app.current_pane()
    if pane is not None:
        pane.select_link(target)


def go_back(pane: PaneScreen[Any], key: str = "backspace") -> None:
    app = pane.console_app
    nav = app.link_nav
    if not nav.trail:
        pane.set_status(f"{key}: no link followed yet to go back along (L on a row follows one)", "warning")
        return
    target = nav.trail.pop()
    app.run_worker(jump(app, None, target), group="links.jump", exclusive=True, exit_on_error=False)


# -- :trace ----------------------------------------------------------------------------------------------------
def _num(value: float | None, unit: str = "", scale: float = 1.0) -> str:
    if value is None:
        return "no sample"
    return f"{value * scale:.3g}{unit}"


def trace_renderable(trace: Trace) -> RenderableType:
    parts: list[RenderableType] = []

    def section(title: str) -> None:
        parts.append(Text(f"\n{title}", style="bold underline"))

    if trace.badges:  # first: what disagrees is what the trace is opened for most often
        section("Where the links disagree")
        parts.append(Text("\n".join(f"{about}: {badge}" for about, badge in trace.badges), style="bold"))

    section("Data version")
    for output, version, evidence in trace.data:
        cache = {True: "in cache", False: "NOT in cache", None: "cache unknown"}[version.in_cache]
        remote = {True: "in remote", False: "NOT in remote", None: "no remote"}[version.in_remote]
        parts.append(Text(f"{output} @ {version.short}  {version.date:%Y-%m-%d %H:%M}  {cache}, {remote}\n"
                          f"  {version.message}\n  evidence: {evidence}"))
    if not trace.data:
        parts.append(Text("-", style="italic"))
    section("Run")
    if trace.run is not None:
        run = trace.run
        metrics = "  ".join(f"{k}={v:.4g}" for k, v in sorted(run.metrics)[:6]) or "no metrics"
        parts.append(Text(f"{run.run_name or '-'}  {run.run_id}  {run.status}\n  {metrics}"))
    else:
        parts.append(Text("-", style="italic"))
    section("Registered version")
    for mv in trace.versions:
        aliases = " ".join("@" + a for a in mv.aliases) or "no alias"
        parts.append(Text(f"{mv.name} v{mv.version}  {aliases}  {mv.stage or ''}".rstrip()))
    if not trace.versions:
        parts.append(Text("- (no registered version)", style="italic"))
    section("Deployments serving it")
    if trace.deployments:
        table = Table(show_edge=False, expand=True, box=None)
        for column in ("deployment", "state", "req/s", "p95", "errors"):
            table.add_column(column, no_wrap=column != "deployment")
        serving = {s.deployment: s for s in trace.serving}
        notes = []
        for d, evidence in trace.deployments:
            now = serving.get(d.name)
            table.add_row(f"{d.namespace}/{d.name}", d.state,
                          _num(now.request_rate if now else None),
                          _num(now.p95_latency if now else None, " ms", 1000.0),
                          _num(now.error_ratio if now else None, "%", 100.0))
            notes.append(f"{d.name}: {evidence}")
            if now and now.note:
                notes.append(f"{d.name} metrics: {now.note}")
        parts.append(table)
        parts.append(Text("\n".join(notes), style="dim"))
    else:
        parts.append(Text("-", style="italic"))
    if trace.notes:
        section("Not known")
        parts.append(Text("\n".join(trace.notes), style="italic"))
    return Group(*parts)


def run_trace(app: MlopsConsole, spec: str) -> None:
    pane = app.current_pane()
    if pane is None:
        return

    def show(trace: Trace) -> None:
        from widgets.views import TextView

        pane.clear_busy()
        app.push_screen(TextView(f"Trace of {trace.subject}", trace_renderable(trace)))

    pane.call_backend("trace", app.link_nav.trace, spec, on_result=show, busy=f"tracing {spec}")
