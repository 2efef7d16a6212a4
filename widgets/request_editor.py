"""A JSON editor for request payloads that points at the first JSON error.

Plain data in and out: ``ctrl+s`` hands the text to ``on_send`` when it parses (a direct call, not a message:
a message would wait for its turn in the queue on the way to the network); otherwise the cursor is moved to
the error and ``RequestEditor.Invalid`` says where and why. Nothing is sent while it is invalid.

A payload of more than ``EDITABLE_CHARS`` characters (loaded from a file, pasted, or written by $EDITOR) is
not laid out: a text area lays out every line of its text, and each key in a 5 MB payload took seconds. The
editor then holds it aside, shows a read-only summary with its beginning, and sends it as it is.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from textual.binding import Binding
from textual.message import Message
from textual.widgets import TextArea
from textual.widgets.text_area import Selection

EDITABLE_CHARS = 100_000
PREVIEW_CHARS = 4_000  # of a large payload, shown in its summary


def size_text(n: int) -> str:
    """``n`` bytes or characters for people: 930 B, 48.8 KB, 5.0 MB."""
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


@dataclass(frozen=True)
class JsonProblem:
    line: int  # 1-based, as people count
    column: int  # 1-based
    message: str

    def __str__(self) -> str:
        return f"invalid JSON at line {self.line}, column {self.column}: {self.message}"


def check_json(text: str) -> JsonProblem | None:
    """None when ``text`` is valid JSON, else where it breaks."""
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        return JsonProblem(exc.lineno, exc.colno, exc.msg)
    return None


class RequestEditor(TextArea):
    """``ctrl+s`` sends (when the JSON is valid), ``ctrl+f`` re-indents it."""

    DEFAULT_CSS = """
    RequestEditor { height: 1fr; min-height: 5; }
    RequestEditor.-invalid { border: tall $error; }
    """
    BINDINGS = [
        Binding("ctrl+s", "send", "Send", id="request.send"),
        Binding("ctrl+f", "format", "Format JSON", id="request.format"),
    ]

    class Invalid(Message):
        def __init__(self, editor: RequestEditor, problem: JsonProblem) -> None:
            super().__init__()
            self.editor = editor
            self.problem = problem

        @property
        def control(self) -> RequestEditor:
            return self.editor

    class Notice(Message):
        """Something the editor did or refused, for the dialog's message line."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, text: str, *, on_send: Callable[[str], None], **kwargs) -> None:
        kwargs.setdefault("soft_wrap", False)
        kwargs.setdefault("show_line_numbers", True)
        super().__init__("", **kwargs)
        self.problem: JsonProblem | None = None
        self.on_send = on_send
        self.large: str | None = None  # a payload too large to lay out, sent as it is
        self.set_payload(text)

    @property
    def payload(self) -> str:
        """What ``ctrl+s`` sends: the text, or the large payload held aside."""
        return self.large if self.large is not None else self.text

    def set_payload(self, text: str, source: str = "") -> None:
        """Edit ``text``; above ``EDITABLE_CHARS`` hold it aside and show a summary (``source``: where it
        came from)."""
        self.problem = None
        self.remove_class("-invalid")
        if len(text) <= EDITABLE_CHARS:
            self.large = None
            self.read_only = False
            self.show_line_numbers = True
            self.load_text(text)
            return
        self.large = text
        self.read_only = True
        self.show_line_numbers = False
        lines = text.count("\n") + 1
        preview = text[:PREVIEW_CHARS]
        size = size_text(len(text) if text.isascii() else len(text.encode("utf-8", "replace")))
        self.load_text(
            f"{size} payload, {lines:,} line(s)\n" + (f"from {source}\n" if source else "")
            + "too large to edit here:\n  ctrl+s sends it as it is\n  ctrl+e edits it in $EDITOR\n"
            f"  ctrl+l loads another file\n\nIts first {len(preview):,} characters:\n\n{preview}"
            + ("\n..." if len(text) > len(preview) else ""))

    async def _on_paste(self, event) -> None:
        if len(event.text) > EDITABLE_CHARS:
            # laid out in the editor, a paste this large would hold the screen for minutes
            event.prevent_default()
            event.stop()
            self.set_payload(event.text, "the clipboard")
            self.post_message(self.Notice("pasted payload kept whole as the request; too large to edit here"))
        # otherwise TextArea's own paste handler runs next, as usual

    def point_at(self, problem: JsonProblem) -> None:
        """Put the cursor on the error and mark the editor invalid."""
        self.problem = problem
        self.add_class("-invalid")
        if self.large is not None:  # the summary has no such line
            self.focus()
            return
        row = max(0, problem.line - 1)
        lines = self.text.split("\n")
        row = min(row, max(0, len(lines) - 1))
        col = max(0, min(problem.column - 1, len(lines[row]) if lines else 0))
        self.move_cursor((row, col))
        self.focus()

    def validate_now(self) -> JsonProblem | None:
        problem = check_json(self.text)
        if problem is None:
            self.problem = None
            self.remove_class("-invalid")
        else:
            self.point_at(problem)
        return problem

    def action_send(self) -> None:
        if self.large is not None:  # checked where it is sent, off the UI thread (it may be megabytes)
            self.on_send(self.large)
            return
        problem = self.validate_now()
        if problem is not None:
            self.post_message(self.Invalid(self, problem))
            return
        self.on_send(self.payload)

    def action_redo(self) -> None:
        # Textual's redo redraws before it puts the cursor back, so a cursor beyond the end of the redone text
        # (an undo that made it longer, then ctrl+y) fails there and ends the app; from the start it cannot
        self.selection = Selection.cursor((0, 0))
        super().action_redo()

    def action_format(self) -> None:
        if self.large is not None:
            self.post_message(self.Notice("too large to format here: ctrl+e edits it in $EDITOR"))
            return
        problem = self.validate_now()
        if problem is not None:
            self.post_message(self.Invalid(self, problem))
            return
        self.load_text(json.dumps(json.loads(self.text), indent=2, ensure_ascii=False))
