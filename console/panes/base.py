"""What every pane screen shares: its backend, workers with timeouts, the status bar, confirmation."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from rich.console import RenderableType
from rich.text import Text
from textual import on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input, Static

from backends.errors import BackendError, NotConfigured
from backends.redact import redact
from console.calls import CallsBackend
from console.commands import Command
from widgets.footer import KeyFooter
from widgets.panebar import PaneBar
from widgets.status import StatusBar
from widgets.typeahead import focus_for_typing

if TYPE_CHECKING:
    from console.app import MlopsConsole
    from console.config import Context
    from console.links import Ref
    from widgets.confirm import Choice

log = logging.getLogger("mlops_console")

PANES: tuple[tuple[str, str], ...] = (
    ("data", "Data"), ("runs", "Runs"), ("deployments", "Deployments"), ("metrics", "Metrics"),
)


FIRST_LOAD_DELAY = 0.1  # seconds after mounting: the first frame is painted by then


# j k g G move in the pane's table; a pane that lists them defines action_cursor(where)
NAV_BINDINGS = (
    Binding("j", "cursor('down')", "Down", id="nav.down", show=False),
    Binding("k", "cursor('up')", "Up", id="nav.up", show=False),
    Binding("g", "cursor('top')", "Top", id="nav.top", show=False),
    Binding("G", "cursor('bottom')", "Bottom", id="nav.bottom", show=False),
)


def _hidden(widget: Widget) -> bool:
    """Whether ``widget`` or one of its containers is hidden by the ``hidden`` class (read from the classes,
    which change at once, not from the styles, which follow at the next refresh)."""
    return any(node.has_class("hidden") for node in widget.ancestors_with_self)


def describe_error(error: BaseException) -> str:
    """One line for the status bar. Backend errors carry their own wording; anything else is named.
    Secrets are hidden here: a library's exception text may quote a URL with its password."""
    if isinstance(error, BackendError):
        text = str(error)
        if error.detail:
            text += f": {error.detail}"
        return redact(text)
    return redact(f"internal error: {type(error).__name__}: {error}")


BackendT = TypeVar("BackendT")


class PaneScreen(CallsBackend, Screen[None], Generic[BackendT]):
    """Base of the four panes. Subclasses set ``PANE`` and override ``compose_body`` and ``reload``."""

    PANE: ClassVar[str] = ""
    # the pane's `:` commands (see console/commands.py); not COMMANDS, which Textual reads as palette providers
    LINE_COMMANDS: ClassVar[tuple[Command, ...]] = ()
    FILTER_TARGET: ClassVar[str] = ""  # id of the table that the pane's `/` box (Input#filter) filters
    FILTER_AS_YOU_TYPE: ClassVar[bool] = True  # False: the box holds a query, applied on enter
    # Where focus goes when the pane is shown or rebuilt (Textual's AUTO_FOCUS): the pane's main table, never a
    # hidden text field (which would take every key the user types into a box nobody can see).
    AUTO_FOCUS: ClassVar[str | None] = "FastTable, DataTable"
    BINDINGS = [
        Binding("r", "refresh", "Refresh", id="pane.refresh"),
        # links across the panes (console/linking.py)
        Binding("L", "links", "Links", id="pane.links", show=False),  # in help; the footer keeps the pane's own keys
        Binding("backspace", "link_back('backspace')", "Back (links)", id="pane.link_back", show=False),
        Binding("alt+left", "link_back('alt+left')", "Back (links)", id="pane.link_back_alt", show=False),
    ]

    def __init__(self) -> None:
        super().__init__(id=f"pane-{self.PANE}")
        self.filter_text = ""
        self._rebuilding = False  # while the body is replaced (`:ctx`): no calls, answers dropped

    # -- what the pane works with -------------------------------------------------------------
    @property
    def console_app(self) -> MlopsConsole:
        return self.app  # type: ignore[return-value]

    @property
    def settings(self) -> Context:
        return self.console_app.context

    @property
    def read_only(self) -> bool:
        return self.settings.read_only

    @property
    def backend(self) -> BackendT | None:
        """The pane's backend (its contract is ``BackendT``), or None when it could not be built."""
        backend: BackendT | None = self.console_app.backends.get(self.PANE)[0]
        return backend

    @property
    def api(self) -> BackendT:
        """The backend, where the pane only gets once it was built (a load, an action: ``check_action`` refuses
        the pane's actions without one)."""
        backend = self.backend
        if backend is None:
            raise NotConfigured(f"the {self.PANE} pane has no backend", hint="check the context's settings")
        return backend

    @property
    def backend_problem(self) -> BaseException | None:
        return self.console_app.backends.get(self.PANE)[1]

    # -- layout ----------------------------------------------------------------------------------
    def _known_unconfigured(self) -> bool:
        """True when the backend was built and failed; False when it works or is not built yet."""
        state = self.console_app.backends.peek(self.PANE)
        return state is not None and state[0] is None

    def compose(self) -> ComposeResult:
        # The backend is built after the first frame (building it imports its module), so the body
        # is composed first and replaced by the "not configured" text if building it fails.
        bar = PaneBar(list(PANES), self.PANE, self.settings.name, self.read_only, id="panebar")
        bar.trail = self.console_app.link_nav.crumbs()
        yield bar
        if self._known_unconfigured():
            yield Static(self.not_configured_text(), id="not-configured", classes="not-configured")
        else:
            yield from self.compose_body()
        yield StatusBar(id="status")
        yield KeyFooter()

    def compose_body(self) -> ComposeResult:
        yield from ()

    # -- focus -------------------------------------------------------------------------------------
    def set_focus(self, widget: Widget | None, scroll_visible: bool = True, from_app_focus: bool = False) -> None:
        # Textual moves focus by itself (the first focusable widget after a recompose, the neighbour of a
        # removed one) and counts a `display: none` widget as focusable: redirect that to the main table.
        if widget is not None and _hidden(widget):
            widget = self.default_focus()
        super().set_focus(widget, scroll_visible, from_app_focus)

    def default_focus(self) -> Widget | None:
        """The widget the pane's keys work on: the first shown match of ``AUTO_FOCUS``."""
        for widget in self.query(self.AUTO_FOCUS or "*"):
            if widget.focusable and not _hidden(widget):
                return widget
        return None

    def focus_default(self) -> None:
        """Focus the main table at once; with none shown, nothing (the pane's own keys still work)."""
        self.set_focus(self.default_focus())

    def not_configured_text(self) -> RenderableType:
        problem = self.backend_problem
        text = Text()
        text.append(f"{dict(PANES)[self.PANE]} pane: not configured\n\n", style="bold")
        text.append(describe_error(problem) if problem else "no backend")
        return text

    def on_mount(self) -> None:
        # Textual runs every class's on_mount, subclass first: a pane sets its widgets up in its own
        # on_mount (without calling super()) and the first load starts here, after it - once the
        # first frame has reached the terminal, so that building the backend and a worker busy
        # importing its library never delay it.
        self.set_timer(FIRST_LOAD_DELAY, self._first_load)

    def _first_load(self) -> None:
        app, context = self.console_app, self.settings
        if app.backends.peek(self.PANE) is not None:
            self.call_later(self._backend_ready)
            return

        def built(state: tuple[Any, BaseException | None]) -> None:
            app.backends.adopt(self.PANE, context, state)
            self.call_later(self._backend_ready)

        # importing the backend's module happens in the worker, off the UI thread
        self.call_backend("backend", app.backends.build, self.PANE, context, on_result=built, timeout=0)

    async def _backend_ready(self) -> None:
        self.console_app.backends.freeze_long_lived(self.PANE)
        if self.backend is None:
            if not self.query("#not-configured"):
                await self.recompose()
            return
        self.reload()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # a pane with no backend offers only what needs none
        if self._known_unconfigured() and action != "refresh":
            return False
        return True

    # -- hooks -------------------------------------------------------------------------------------
    def reload(self) -> None:
        """(Re)load everything from the backend. Called on mount, on ``r`` and after ``:ctx``."""

    async def context_changed(self) -> None:
        """The app switched context: rebuild the pane from the new backend."""
        self.drop_calls()
        backend = self.backend  # built now, so that the new body matches it
        self.filter_text = ""  # the new context's table starts unfiltered, as the recomposed (hidden) box is
        self._rebuilding = True  # keys acted on meanwhile (`r`) ask nothing: the reload below does
        try:
            await self.recompose()
        finally:
            self._rebuilding = False
        self.focus_default()
        if backend is not None:
            self.reload()

    def action_refresh(self) -> None:
        self.console_app.link_nav.refresh()
        if self.backend is not None:
            self.reload()

    # -- links across the panes (console/linking.py) -------------------------------------------------------
    def link_subject(self) -> Ref | None:
        """The selected row, as the links name it; None: nothing here links elsewhere."""
        return None

    def link_hint(self) -> str:
        """What `L` says when ``link_subject`` is None."""
        return "L: select a row first (nothing selected here links elsewhere)"

    def select_link(self, ref: Ref) -> None:
        """Select the row ``ref`` names (once it is loaded, if it is not yet)."""
        self.set_status(f"{ref.label}: this pane cannot select it", "warning")

    def action_links(self) -> None:
        from console.linking import open_menu

        open_menu(self)

    def action_link_back(self, key: str = "backspace") -> None:
        from console.linking import go_back

        go_back(self, key)

    # -- the `/` filter box: a pane yields Input(id="filter", classes="filter hidden") and overrides
    # filter_changed() to re-show its table (or, with FILTER_AS_YOU_TYPE off, filter_submitted()) -----
    def filter_changed(self) -> None:
        """``self.filter_text`` changed."""

    def filter_submitted(self, text: str) -> None:
        """Enter in the box of a pane that filters on enter: apply ``text``."""

    def action_filter(self) -> None:
        """`/` (a priority binding: acted on as it arrives) opens the filter; the keys typed right after it go
        into the filter, not to the table (``type_into``). In a text field `/` is just a slash."""
        for box in self.query("#filter").results(Input):
            self.open_text_field(box, self.filter_text)

    def open_text_field(self, box: Input, value: str) -> None:
        if self._text_field_focused():
            raise SkipAction()  # the key types into the field that has focus
        box.remove_class("hidden")
        box.value = value
        focus_for_typing(box)

    def _text_field_focused(self) -> bool:
        check = getattr(self.app, "text_field_focused", None)
        return bool(check and check())

    @on(Input.Changed, "#filter")
    def _filter_typed(self, event: Input.Changed) -> None:
        if self.FILTER_AS_YOU_TYPE:
            self.filter_text = event.value.strip()
            if not self._rebuilding:  # while the body is replaced (:ctx) its tables are gone; the reload filters
                self.filter_changed()

    @on(Input.Submitted, "#filter")
    def _filter_entered(self, event: Input.Submitted) -> None:
        self._focus_filter_target()
        if not self.FILTER_AS_YOU_TYPE:
            self.filter_submitted(event.value.strip())
        elif not self.filter_text:
            self.query_one("#filter", Input).add_class("hidden")

    def action_clear_filter(self) -> None:
        for box in self.query("#filter").results(Input):
            if self.filter_text or not box.has_class("hidden"):
                box.value = ""
                box.add_class("hidden")
                if self.filter_text:
                    self.filter_text = ""
                    self.filter_changed()
                self._focus_filter_target()

    def _focus_filter_target(self) -> None:
        for table in self.query(f"#{self.FILTER_TARGET}"):
            table.focus()

    # -- status ------------------------------------------------------------------------------------
    def set_status(self, text: str, level: str = "info") -> None:
        text = redact(text)  # the one way text reaches the status bar (and, for errors, the log)
        try:
            self.query_one("#status", StatusBar).set(text, level)
        except Exception:  # the screen is being recomposed
            return
        if level == "error":
            log.warning("%s pane: %s", self.PANE, text)

    def clear_busy(self, text: str | None = None) -> None:
        """Take "busy" words out of the status bar (only ``text``, when given): the work they announced is over,
        and a dialog or result now stands where they would go stale."""
        try:
            status = self.query_one("#status", StatusBar)
        except Exception:  # the screen is being recomposed
            return
        if status.level == "busy" and (text is None or status.text == text):
            status.set("", "info")

    def show_error(self, error: BaseException, doing: str = "") -> None:
        prefix = f"{doing} failed: " if doing else ""
        self.set_status(prefix + describe_error(error), "error")
        if not isinstance(error, BackendError):
            log.error("unexpected error in %s pane", self.PANE, exc_info=error)

    def refuse_if_read_only(self, what: str) -> bool:
        """True (and a message) when the context is read-only."""
        if self.read_only:
            self.set_status(f"read-only context {self.settings.name!r}: {what} refused", "error")
            return True
        return False

    # -- backend calls (console/calls.py) ----------------------------------------------------------
    def call_timeout(self) -> float:
        return self.settings.timeout

    def show_busy(self, text: str) -> None:
        self.set_status(text, "busy")

    def calls_paused(self) -> bool:
        return self._rebuilding

    def answered(self, group: str) -> None:
        if group != "backend":
            # a backend's library may load more of itself on its first call (DVC opening the workspace
            # loads scmrepo, dulwich ...): what is there after the first answer is long-lived too
            self.console_app.backends.freeze_long_lived(f"{self.PANE}:answered")

    # -- dialogs -------------------------------------------------------------------------------------
    async def confirm(self, title: str, body: RenderableType, choices: tuple[Choice, ...] | None = None
                      ) -> str | None:
        """Ask; returns the chosen value (``"yes"`` for the default dialog) or None when cancelled."""
        from widgets.confirm import YES_NO, ConfirmDialog

        self.clear_busy()  # "planning the checkout ..." is done once the question is asked
        return await self.app.push_screen_wait(ConfirmDialog(title, body, choices or YES_NO))
