"""The Textual app: four panes as modes, the `:` line, help, palette, context switching."""

from __future__ import annotations

import asyncio
import importlib
import sys
from collections import deque
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from textual import events, work
from textual.actions import SkipAction
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.command import (
    CommandList,
    CommandPalette,
    DiscoveryHit,
    Hit,
    Hits,
    Provider,
)
from textual.css.query import NoMatches
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input

from console.backend_cache import BackendCache, BackendFactory
from console.commands import GLOBAL_COMMANDS, Command, find_command, split_command_line
from console.config import Config, ConfigError, Context
from console.crash import CrashReports
from console.history import History
from console.panes.base import PANES, PaneScreen, _hidden
from widgets.dialog import DismissOnce

PANE_CLASSES = {
    "data": "console.panes.data:DataScreen",
    "runs": "console.panes.runs.screen:RunsScreen",
    "deployments": "console.panes.deployments.screen:DeploymentsScreen",
    "metrics": "console.panes.metrics.screen:MetricsScreen",
}


class KeyHandled(Message):
    """Follows a key through the queues it goes through: when it reaches the app, the key has been dealt with."""

    def __init__(self, token: object) -> None:
        super().__init__()
        self.token = token


def _screen_of(event: events.Key) -> Screen[Any] | None:
    """The screen that was on top when the key was handed on."""
    return getattr(event, "_handed_to_screen", None)


def _pane_factory(kind: str) -> Callable[[], Screen[Any]]:
    return lambda: pane_class(kind)()


def pane_class(kind: str) -> type[PaneScreen]:
    """The pane's screen class; a pane whose module is not there yet says so plainly."""
    module_name, _, attr = PANE_CLASSES[kind].partition(":")
    try:
        return getattr(importlib.import_module(module_name), attr)
    except ImportError as exc:
        if exc.name != module_name:
            raise
        return type(f"NotBuilt{kind.title()}Screen", (PaneScreen,), {"PANE": kind})


def all_binding_ids() -> set[str]:
    ids = {b.id for b in MlopsConsole.BINDINGS if isinstance(b, Binding) and b.id}
    for kind in PANE_CLASSES:
        for cls in pane_class(kind).__mro__:
            for b in cls.__dict__.get("BINDINGS", []):
                if isinstance(b, Binding) and b.id:
                    ids.add(b.id)
    return ids


def _driver_class() -> Any:
    if sys.platform == "win32":
        return None
    from console.terminal import driver_class

    return driver_class()


_gather = CommandPalette._gather_commands.__wrapped__  # type: ignore[attr-defined]  # Textual's method, unstarted


class Palette(DismissOnce, CommandPalette):
    """Textual's palette, made safe for keys typed in one burst (`ctrl+p`, a few letters, `pageup`,
    `escape`, `enter`): it closes once, a search still running when the palette closes ends quietly instead
    of failing on the list it no longer has, and moving through a list not laid out yet does nothing."""

    @work(exclusive=True, group=CommandPalette._GATHER_COMMANDS_GROUP)
    async def _gather_commands(self, search_value: str) -> None:
        try:
            await _gather(self, search_value)
        except NoMatches:
            if self.is_attached and self.query(CommandList):
                raise

    def _action_command_list(self, action: str) -> None:
        # keys typed ahead of the list's first layout have no lines to move through yet (Textual indexes
        # them only once the list has a size)
        if self.query(CommandList) and not self.query_one(CommandList).scrollable_content_region:
            return
        super()._action_command_list(action)


class ConsoleCommands(Provider):
    """The palette, fed by the same command table as the `:` line."""

    def _entries(self) -> Iterable[tuple[str, str, Callable[[], Any]]]:
        app: MlopsConsole = self.app  # type: ignore[assignment]
        for command in app.command_table():
            if command.takes_arg:
                candidates = app.complete_arg(command)
                for value in candidates:
                    yield (f":{command.name} {value}", command.summary,
                           partial(app.run_command_line, f"{command.name} {value}"))
                if not candidates:
                    yield (f":{command.name} {command.arg_hint}", command.summary,
                           partial(app.open_command_line, f"{command.name} "))
            else:
                yield f":{command.name}", command.summary, partial(app.run_command_line, command.name)

    async def discover(self) -> Hits:
        for text, help_text, callback in self._entries():
            yield DiscoveryHit(text, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, help_text, callback in self._entries():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), callback, help=help_text)


class MlopsConsole(CrashReports, App):
    TITLE = "mlops-console"
    CSS_PATH = Path(__file__).parent / "console.tcss"
    COMMANDS = {ConsoleCommands}
    ENABLE_COMMAND_PALETTE = True
    MODES = {kind: _pane_factory(kind) for kind in PANE_CLASSES}
    BINDINGS = [
        Binding("1", "pane('data')", "Data", id="app.data", show=False),
        Binding("2", "pane('runs')", "Runs", id="app.runs", show=False),
        Binding("3", "pane('deployments')", "Deploy", id="app.deployments", show=False),
        Binding("4", "pane('metrics')", "Metrics", id="app.metrics", show=False),
        # priority: acted on as it arrives, so that what is typed right after it goes into the line (see
        # hold_keys); in a text field it is just a colon
        Binding("colon", "command_line", "Command", id="app.command", priority=True),
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("q", "quit", "Quit", id="app.quit"),
        # quits from anywhere, as in k9s and lazygit (Textual only says "press ctrl+q", a key that terminals
        # with flow control swallow); in a text field with a selection it copies, as Textual's fields do
        Binding("ctrl+c", "interrupt", "Quit (copy in a field with a selection)", id="app.interrupt",
                show=False, priority=True),
    ]

    def __init__(self, config: Config, context: Context, *, backend_factory: BackendFactory | None = None,
                 now: Callable[[], datetime] | None = None, initial_pane: str = "data",
                 cursor_blink: bool = True) -> None:
        # the app starts in the initial pane's mode (no default screen first, no switch)
        self.DEFAULT_MODE = initial_pane  # type: ignore[misc]  # a ClassVar in Textual, read once in __init__
        super().__init__(driver_class=_driver_class())
        self.cursor_blink = cursor_blink
        self.config = config
        self.context = context
        self.backends = BackendCache(context, backend_factory)  # the panes' backends, shared
        self._now = now
        self.initial_pane = initial_pane
        self.command_history: list[str] = History("command_history")
        self._waiting_keys: deque[events.Event] = deque()  # keys not handed on yet, in the order typed
        self._key_in_flight: object | None = None  # the marker of the key being dealt with
        self._holding: object | None = None  # keys wait while a text field is being opened (type-ahead)
        self._switching = asyncio.Lock()  # one :ctx at a time
        from console.linking import LinkNavigator

        self.link_nav = LinkNavigator(self)  # links across the panes, and the trail back
        if config.keymap:
            self.set_keymap(dict(config.keymap))

    # -- type-ahead -----------------------------------------------------------------------------------
    # Textual hands each key to the widget focused when the key arrives. Keys typed quickly after `:` or
    # `/` (a fast typist, a paste, or an SSH link that delivers several keys at once) would reach the table
    # the text field is opened from, and act there as its keys. Instead they are held from the moment the
    # field is asked for until it has focus, then handed on in order.
    def text_field_focused(self) -> bool:
        """Whether keys now type into a text field (an input or an editable text area)."""
        focused = self.focused
        if isinstance(focused, Input):
            return True
        text_area = sys.modules.get("textual.widgets._text_area")  # not imported: no text area to be in
        return text_area is not None and isinstance(focused, text_area.TextArea) and not focused.read_only

    def hold_keys(self) -> None:
        """Hold the keys that arrive from now on, until ``type_into`` (or, at the latest, one second)."""
        if self._holding is None:
            token = self._holding = object()
            # never more than a moment, whatever happens (this hold only: a later one keeps its own)
            self.set_timer(1.0, lambda: self._release_keys() if self._holding is token else None)

    def type_into(self, field: Widget) -> None:
        """Focus ``field`` and hand it the keys held so far, in the order they came."""
        self.hold_keys()
        field.focus()  # takes effect in turn, in this queue: the release comes right after it
        self.call_later(self._release_keys)

    async def _release_keys(self) -> None:
        self._holding = None
        await self._next_keys()

    # One key at a time. Textual hands a key to the focused widget and checks the widget's own bindings (ctrl+u,
    # the arrows, home in a text field) only once the key has bubbled back up to the app, a few turns of the
    # loop later. The keys of one burst (a paste of keys, tmux send-keys, a slow SSH link catching up) would
    # overtake it: `ctrl+u rate` typed into a field would insert "rate" and then delete the line. So the next
    # key is handed on only when the one before has been dealt with all the way up (a marker message that
    # follows it through the same queues says so), or its widget is gone.
    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.Paste)) and not self.screen_stack:
            return  # keys typed after `q`, or on their way back up, as the app closes: nothing is left to act
        if isinstance(event, events.Key) and event.is_forwarded and _screen_of(event) not in (None, self.screen):
            # back up from the screen it was handed to, but another screen is on top now (a dialog an answer
            # opened, a view that closed): the bindings looked up here would be the new screen's, which the key
            # was never meant for
            return
        if isinstance(event, (events.Key, events.Paste)) and not event.is_forwarded:
            self._waiting_keys.append(event)
            await self._next_keys()
            return
        await super().on_event(event)

    async def _next_keys(self) -> None:
        while self._waiting_keys and self._key_in_flight is None and self._holding is None and self.screen_stack:
            event = self._waiting_keys.popleft()
            self._focus_shown_widget()
            target: Widget = self.focused or self.screen
            event._handed_to_screen = self.screen  # type: ignore[attr-defined]
            await super().on_event(event)  # a priority binding acts now; any other key goes to the target
            if event.is_forwarded and target.is_attached:
                token = self._key_in_flight = object()
                target.post_message(KeyHandled(token))
                self._watch_key(token, target, 0)

    def _watch_key(self, token: object, target: Widget, checks: int) -> None:
        """Let the next key go if ``target`` went away before its marker came back (a dialog the key closed)."""
        def check() -> Any:
            if self._key_in_flight is not token:
                return None
            if not target.is_attached or checks >= 20:  # 20 x 25 ms: a stuck marker never holds keys long
                return self._key_done(token)
            self._watch_key(token, target, checks + 1)
            return None

        self.set_timer(0.025, check)

    async def on_key_handled(self, message: KeyHandled) -> None:
        message.stop()
        await self._key_done(message.token)

    async def _key_done(self, token: object) -> None:
        if self._key_in_flight is token:
            self._key_in_flight = None
            await self._next_keys()

    def _focus_shown_widget(self) -> None:
        """A key never goes to a widget the user cannot see: if the focused one was hidden (its line closed,
        its view replaced) after it took focus, the pane's main table takes it first."""
        focused, screen = self.focused, self.screen
        if focused is not None and isinstance(screen, PaneScreen) and _hidden(focused):
            screen.set_focus(screen.default_focus())

    # -- clock and backends ---------------------------------------------------------------------------
    def now(self) -> datetime:
        return self._now() if self._now else datetime.now(UTC)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if not self.cursor_blink and hasattr(event.widget, "cursor_blink"):
            event.widget.cursor_blink = False  # frozen screens for snapshot tests

    # -- panes -------------------------------------------------------------------------------------------
    def action_pane(self, kind: str) -> None:
        if self.current_mode != kind:
            self.switch_mode(kind)

    def pane_screens(self) -> list[PaneScreen]:
        """The pane screens that exist so far (modes are built on first visit)."""
        screens: list[PaneScreen] = []
        for stack in self._screen_stacks.values():
            screens.extend(s for s in stack if isinstance(s, PaneScreen))
        return screens

    def current_pane(self) -> PaneScreen | None:
        for screen in reversed(self.screen_stack):
            if isinstance(screen, PaneScreen):
                return screen
        return None

    # -- the command table ------------------------------------------------------------------------------
    def command_table(self) -> tuple[Command, ...]:
        pane = self.current_pane()
        return GLOBAL_COMMANDS + (pane.LINE_COMMANDS if pane else ())

    def complete_arg(self, command: Command) -> list[str]:
        if not command.complete:
            return []
        for target in (self.current_pane(), self):
            method = getattr(target, command.complete, None)
            if method is not None:
                return list(method())
        return []

    def complete_line(self, text: str) -> list[str]:
        text = text.lstrip(":")
        name, sep, arg = text.partition(" ")
        commands = self.command_table()
        if not sep:
            primary = [c.name for c in commands if c.name.startswith(name)]
            aliases = [a for c in commands for a in c.aliases if a.startswith(name) and c.name not in primary]
            return primary + aliases
        command = find_command(name, (commands,))
        if command is None:
            return []
        return [f"{name} {value}" for value in self.complete_arg(command) if value.startswith(arg)]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # a question is answered (or cancelled) before anything else is done
        if action in ("command_line", "command_palette") and not getattr(self.screen, "ALLOWS_COMMANDS", True):
            return False
        return True

    def action_command_line(self, initial: str = "") -> None:
        from widgets.command_line import CommandLine

        if self.text_field_focused() or isinstance(self.screen, CommandLine):
            raise SkipAction()  # a colon typed into the field (or into the line, open but not focused yet)
        self.open_command_line(initial)

    def open_command_line(self, initial: str = "") -> None:
        """Open the `:` line; also what a palette entry that needs an argument does (whatever has focus)."""
        from widgets.command_line import CommandLine

        if isinstance(self.screen, CommandLine):
            return

        def done(line: str | None) -> None:
            if line:
                self.run_command_line(line)

        self.hold_keys()  # what is typed next goes into the line once it is open
        self.push_screen(CommandLine(self.complete_line, initial, self.command_history), done)

    def run_command_line(self, line: str) -> None:
        name, arg = split_command_line(line)
        if not name:
            return
        self.command_history.append(line.lstrip(":"))
        pane = self.current_pane()
        command = find_command(name, (GLOBAL_COMMANDS,))
        target: Any = self
        if command is None and pane is not None:
            command, target = find_command(name, (pane.LINE_COMMANDS,)), pane
        if command is None:
            self._say(f"unknown command :{name} (tab after : lists them)", "error")
            return
        if command.takes_arg and not arg:
            self._say(f":{command.name} needs {command.arg_hint or 'an argument'}", "error")
            return
        result = getattr(target, command.handler)(arg)
        if hasattr(result, "__await__"):
            self.run_worker(result, group="app.command", exit_on_error=False)

    def _say(self, text: str, level: str = "info") -> None:
        pane = self.current_pane()
        if pane is not None:
            pane.set_status(text, level)
        else:
            from backends.redact import redact

            self.notify(redact(text), severity="error" if level == "error" else "information")

    # global command handlers
    def command_pane_data(self, _arg: str) -> None:
        self.action_pane("data")

    def command_pane_runs(self, _arg: str) -> None:
        self.action_pane("runs")

    def command_pane_deployments(self, _arg: str) -> None:
        self.action_pane("deployments")

    def command_pane_metrics(self, _arg: str) -> None:
        self.action_pane("metrics")

    def command_help(self, _arg: str) -> None:
        self.action_help()

    def command_refresh(self, _arg: str) -> None:
        pane = self.current_pane()
        if pane is not None:
            pane.action_refresh()

    async def command_quit(self, _arg: str) -> None:
        await self.action_quit()  # as `q` does: while a checkout runs, it asks first

    def command_trace(self, arg: str) -> None:
        from console.linking import run_trace

        run_trace(self, arg)

    def complete_ctx(self) -> list[str]:
        return self.config.context_names()

    async def command_ctx(self, name: str) -> None:
        try:
            context = self.config.context(name)
        except ConfigError as exc:
            self._say(exc.message, "error")
            return
        async with self._switching:  # one switch at a time: two in one burst would rebuild a pane twice at once
            self.context = context
            self.backends.switch(context)
            self.link_nav.trail.clear()  # its rows are the old context's
            for screen in self.pane_screens():
                await screen.context_changed()
        self._say(f"context {name!r}" + (" (read-only)" if context.read_only else ""), "ok")

    def action_command_palette(self) -> None:
        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(Palette())  # no fixed id: one closed in the same burst may not be gone yet

    async def action_interrupt(self) -> None:
        focused = self.focused
        copy = getattr(focused, "action_copy", None)
        if getattr(focused, "selected_text", "") and copy is not None:
            copy()
            return
        await self.action_quit()

    async def action_quit(self) -> None:
        """Quit; while a checkout is changing the workspace, only after asking, and after putting it back."""
        if not self.backends.operation_running():
            self.exit()
            return
        from widgets.confirm import Choice, ConfirmDialog

        if isinstance(self.screen, ConfirmDialog):
            return  # one question at a time

        async def answered(answer: str | None) -> None:
            if answer:
                self._say("stopping the checkout and putting the old version back ...", "busy")
                await asyncio.to_thread(self.backends.stop_operations)
                self.exit()

        self.push_screen(ConfirmDialog(
            "A checkout is under way",
            "Quitting now stops it and puts the old version back (nothing is left half done). Or keep working "
            "until it has finished.", (Choice("y", "Stop it and quit", "yes"), Choice("n", "Keep working", ""))),
            answered)

    # -- help and palette -----------------------------------------------------------------------------------
    def help_table(self) -> Any:
        from rich.table import Table

        pane = self.current_pane()
        keys = Table(title=f"Keys ({dict(PANES).get(pane.PANE, '') if pane else ''} pane)", expand=True,
                     show_edge=False)
        keys.add_column("key", no_wrap=True)
        keys.add_column("action")
        keys.add_column("id", style="dim")
        seen = set()
        pane_node = self.screen

        def rank(item) -> int:  # the pane's own keys first, then the app's, then the focused widget's
            node = item[1].node
            return 0 if node is pane_node else 1 if node is self else 2

        for _key, active in sorted(self.screen.active_bindings.items(), key=rank):
            binding = active.binding
            if ((binding.action, binding.id) in seen or binding.action.startswith("app.focus")
                    or not binding.description):
                continue  # Textual's own undescribed system keys (ctrl+c's "help_quit" is replaced above)
            seen.add((binding.action, binding.id))
            keys.add_row(self.get_key_display(binding), binding.description or binding.action, binding.id or "")
        commands = Table(title="Commands (:)", expand=True, show_edge=False)
        commands.add_column("command", no_wrap=True)
        commands.add_column("what it does")
        for command in self.command_table():
            names = " ".join(f":{n}" for n in command.names())
            commands.add_row(f"{names} {command.arg_hint}".strip(), command.summary)
        outer = Table.grid(expand=True)
        outer.add_row(keys)
        outer.add_row("")
        outer.add_row(commands)
        return outer

    def action_help(self) -> None:
        from widgets.views import TextView

        self.push_screen(TextView("Help", self.help_table(), footer="escape: close   keys can be remapped "
                                  "in the config's keymap table by id"))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Help", "Keys and commands of this pane", self.action_help)


def make_app(config: Config | None = None, context: Context | None = None, *,
             backend_factory: BackendFactory | None = None, now: Callable[[], datetime] | None = None,
             initial_pane: str = "data", cursor_blink: bool = True) -> MlopsConsole:
    """The one factory the CLI and the tests share."""
    config = config or Config()
    context = context or config.context(None)
    return MlopsConsole(config, context, backend_factory=backend_factory, now=now, initial_pane=initial_pane,
                        cursor_blink=cursor_blink)
