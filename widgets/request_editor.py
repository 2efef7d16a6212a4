"""A JSON editor for request payloads that points at the first JSON error.

Plain data in and out: ``ctrl+s`` hands the text to ``on_send`` when it parses (a direct call, not a message:
a message would wait for its turn in the queue on the way to the network); otherwise the cursor is moved to
the error and ``RequestEditor.Invalid`` says where and why. Nothing is sent while it is invalid.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from textual.binding import Binding
from textual.message import Message
from textual.widgets import TextArea


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

    def __init__(self, text: str, *, on_send: Callable[[str], None], **kwargs) -> None:
        kwargs.setdefault("soft_wrap", False)
        kwargs.setdefault("show_line_numbers", True)
        super().__init__(text, **kwargs)
        self.problem: JsonProblem | None = None
        self.on_send = on_send

    def point_at(self, problem: JsonProblem) -> None:
        """Put the cursor on the error and mark the editor invalid."""
        self.problem = problem
        self.add_class("-invalid")
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
        problem = self.validate_now()
        if problem is not None:
            self.post_message(self.Invalid(self, problem))
            return
        self.on_send(self.text)

    def action_format(self) -> None:
        problem = self.validate_now()
        if problem is not None:
            self.post_message(self.Invalid(self, problem))
            return
        self.load_text(json.dumps(json.loads(self.text), indent=2, ensure_ascii=False))
