"""The console the demo opens: the app, with the demo's notes said once as each pane is first shown."""

from __future__ import annotations

from typing import Any

from textual.screen import ModalScreen

from console.app import MlopsConsole

NOTE_TITLE = "demo"
NOTE_SECONDS = 15.0


class DemoConsole(MlopsConsole):
    """The console with the demo's notes (pane -> text), each said once when its pane is first shown. A note
    gives way to a dialog: it would cover the dialog, and the key that opened it shows the note was seen."""

    def __init__(self, *args: Any, notes: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.notes = dict(notes)

    def on_mount(self) -> None:
        self.set_interval(0.3, self._say_notes)

    def _say_notes(self) -> None:
        pane_screen = self.current_pane()
        note = self.notes.pop(pane_screen.PANE, None) if pane_screen is not None else None
        if note:
            self.notify(note, title=NOTE_TITLE, timeout=NOTE_SECONDS)

    def notes_shown(self) -> list[str]:
        """The demo's notes on the screen now."""
        return [n.message for n in self._notifications if n.title == NOTE_TITLE]

    def push_screen(self, screen: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(screen, ModalScreen):
            for note in [n for n in self._notifications if n.title == NOTE_TITLE]:
                self._unnotify(note, refresh=False)
            self._refresh_notifications()
        return super().push_screen(screen, *args, **kwargs)
