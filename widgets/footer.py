"""The key footer: the screen's most important keys that fit the width, always ending with `? Help`.

Textual's footer shows every key in binding order and cuts what does not fit, so at 80 columns a pane lost
its own keys while `q Quit` stayed. This one ranks the keys (the screen's own first, in the order they are
declared; then the focused widget's; then the app's; `r`, `:`, `q` and the palette last), keeps as many as
fit, and puts `? Help` at the end, where help lists them all. It is also rebuilt once per burst of binding
changes (at start-up several arrive in one refresh) and again when the width changes.
"""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

HELP_ACTION = "help"
# shown only when there is room left, in this order, after every other key
LAST = {"filter": 0, "refresh": 1, "command_line": 2, "quit": 3, "command_palette": 4}


def _width(key_display: str, description: str) -> int:
    """Columns a compact FooterKey takes: key, a space, description, one column of margin."""
    return len(key_display) + (len(description) + 1 if description else 0) + 1


class KeyFooter(Footer):
    _rebuild_pending = False

    def __init__(self) -> None:
        super().__init__(compact=True, show_command_palette=False)

    def entries(self) -> list[tuple[Binding, bool, str]]:
        """The shown bindings of this screen, one per action, most important first (help not included)."""
        screen = self.screen
        ranked: list[tuple[tuple[int, int], Binding, bool, str]] = []
        seen: set[str] = set()
        for order, active in enumerate(screen.active_bindings.values()):
            binding = active.binding
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            if binding.action in LAST:
                group = 3
            elif active.node is screen:
                group = 0
            elif active.node is self.app:
                group = 2
            else:
                group = 1
            ranked.append(((group, LAST.get(binding.action, order)), binding, active.enabled, active.tooltip))
        palette = screen.active_bindings.get(self.app.COMMAND_PALETTE_BINDING)
        if palette is not None and self.app.ENABLE_COMMAND_PALETTE and "command_palette" not in seen:
            ranked.append(((3, LAST["command_palette"]), palette.binding, palette.enabled, palette.tooltip))
        ranked.sort(key=lambda item: item[0])
        return [(binding, enabled, tooltip) for _, binding, enabled, tooltip in ranked]

    def fitting(self, width: int) -> list[tuple[Binding, bool, str]]:
        """The entries that fit in ``width`` columns with `? Help` at the end."""
        entries = self.entries()
        help_entries = [e for e in entries if e[0].action == HELP_ACTION]
        others = [e for e in entries if e[0].action != HELP_ACTION]
        budget = width - sum(_width(self.app.get_key_display(b), b.description) for b, _, _ in help_entries)
        chosen = []
        for entry in others:
            cost = _width(self.app.get_key_display(entry[0]), entry[0].description)
            if cost <= budget:
                chosen.append(entry)
                budget -= cost
        return chosen + help_entries

    def compose(self):
        if not self._bindings_ready:
            return
        for binding, enabled, tooltip in self.fitting(self.app.size.width):
            yield FooterKey(binding.key, self.app.get_key_display(binding), binding.description, binding.action,
                            disabled=not enabled, tooltip=tooltip or binding.description
                            ).data_bind(compact=Footer.compact)

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus or not self.is_attached or screen is not self.screen:
            return
        self._schedule_rebuild()

    def on_resize(self, event: events.Resize) -> None:
        self._schedule_rebuild()  # the width the keys were fitted to may have been the terminal's first guess

    def _schedule_rebuild(self) -> None:
        if not self._rebuild_pending:
            self._rebuild_pending = True
            self.call_after_refresh(self._rebuild)

    async def _rebuild(self) -> None:
        self._rebuild_pending = False
        await self.recompose()
