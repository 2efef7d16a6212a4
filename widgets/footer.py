"""The key footer, redrawn once per burst of binding changes.

Textual's footer rebuilds itself after every bindings change; at start-up (screen shown, focus
moved, ...) that is several rebuilds in one refresh, each restyling every key. This one coalesces
them into one.
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer


class KeyFooter(Footer):
    _rebuild_pending = False

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus or not self.is_attached or screen is not self.screen:
            return
        if not self._rebuild_pending:
            self._rebuild_pending = True
            self.call_after_refresh(self._rebuild)

    async def _rebuild(self) -> None:
        self._rebuild_pending = False
        await self.recompose()
