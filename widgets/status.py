"""A one-line status bar: what the pane is doing, what failed, whether data is stale."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

LEVEL_STYLE = {"info": "", "busy": "italic", "ok": "bold", "warning": "bold reverse", "error": "bold reverse"}
LEVEL_PREFIX = {"info": "", "busy": "... ", "ok": "OK ", "warning": "! ", "error": "ERROR "}


class StatusBar(Static):
    """``set(text, level)`` with level one of info, busy, ok, warning, error. Errors stay until replaced."""

    DEFAULT_CSS = """
    StatusBar { height: auto; max-height: 3; padding: 0 1; background: $panel; }
    StatusBar.-error { background: $error 30%; }
    StatusBar.-warning { background: $warning 30%; }
    """

    level: reactive[str] = reactive("info")

    def __init__(self, text: str = "", **kwargs) -> None:
        super().__init__(text, markup=False, **kwargs)
        self.text = text

    def set(self, text: str, level: str = "info") -> None:
        self.text = text
        self.level = level
        self.update(Text(LEVEL_PREFIX.get(level, "") + text, style=LEVEL_STYLE.get(level, "")))

    def watch_level(self, old: str, new: str) -> None:
        self.remove_class(f"-{old}")
        self.add_class(f"-{new}")
