"""A one-line PromQL editor: completion of metric names, label names and label values, and history.

The widget knows nothing of Prometheus: ``complete(context)`` is given a :class:`CompletionContext`
(what kind of word is being typed, its prefix, the metric and label around it) and returns
candidate words; the caller may answer from a cache and later call :meth:`PromQLEditor.recomplete`.
The candidates are listed under the line; ``tab`` takes the first and, pressed again, the next
(``shift+tab`` the previous), the one taken shown in the list. ``up`` / ``down`` walk the history,
``enter`` posts :class:`PromQLEditor.Run`, ``escape`` posts :class:`PromQLEditor.Cancelled`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.suggester import Suggester
from textual.widgets import Input, Label

from widgets.typeahead import focus_for_typing

FUNCTIONS = (
    "abs", "absent", "avg", "avg_over_time", "bottomk", "ceil", "changes", "clamp_max", "clamp_min",
    "count", "count_over_time", "delta", "deriv", "floor", "group", "histogram_quantile", "idelta",
    "increase", "irate", "label_join", "label_replace", "max", "max_over_time", "min",
    "min_over_time", "predict_linear", "quantile", "quantile_over_time", "rate", "resets", "round",
    "scalar", "sort", "sort_desc", "stddev", "sum", "sum_over_time", "time", "topk", "vector",
)
DURATIONS = ("1m", "5m", "15m", "1h", "$__rate_interval")


@dataclass(frozen=True)
class CompletionContext:
    """``kind``: ``metric`` (a metric or function name), ``label`` (a label name inside ``{}`` or
    ``by (...)``), ``value`` (a label value after ``label=``), ``duration`` (inside ``[]``) or ``""``.
    ``start`` is where the word being completed begins in the text."""

    kind: str
    prefix: str
    start: int
    metric: str = ""
    label: str = ""
    quoted: bool = False


_IDENT = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*$")


def completion_context(text: str) -> CompletionContext:
    """What is being typed at the end of ``text``."""
    depth = {"{": -1, "[": -1}
    for index, char in enumerate(text):
        if char in "{[":
            depth[char] = index
        elif char == "}":
            depth["{"] = -1
        elif char == "]":
            depth["["] = -1
    brace, bracket = depth["{"], depth["["]
    if brace >= 0 and brace > bracket:
        metric_match = _IDENT.search(text[:brace])
        metric = metric_match.group(0) if metric_match else ""
        inner_start = brace + 1
        inner = text[inner_start:]
        last_comma = inner.rfind(",")
        part_start = inner_start + last_comma + 1
        part = text[part_start:]
        value = re.match(r'\s*([A-Za-z_]\w*)\s*(=~|!~|!=|=)\s*("?)([^"]*)$', part)
        if value:
            quoted = bool(value.group(3))
            start = part_start + value.start(4) if quoted else part_start + value.end(2)
            return CompletionContext("value", value.group(4), start, metric, value.group(1), quoted)
        label = re.match(r"\s*([A-Za-z_]\w*)?$", part)
        if label:
            word = label.group(1) or ""
            return CompletionContext("label", word, len(text) - len(word), metric)
        return CompletionContext("", "", len(text))
    if bracket >= 0:
        word = text[bracket + 1:]
        return CompletionContext("duration", word, bracket + 1)
    grouping = re.search(r"\b(by|without)\s*\(([^()]*)$", text)
    if grouping:
        tail = re.search(r"(\w*)$", grouping.group(2))
        word = tail.group(1) if tail else ""
        metric_match = re.search(r"([A-Za-z_:][A-Za-z0-9_:]*)\s*[{\[]", text)
        return CompletionContext("label", word, len(text) - len(word),
                                 metric_match.group(1) if metric_match else "")
    match = _IDENT.search(text)
    word = match.group(0) if match else ""
    before = text[:len(text) - len(word)]
    if before and before[-1] in "0123456789.)}]\"'":
        return CompletionContext("", "", len(text))  # a number, or right after a closed expression
    return CompletionContext("metric", word, len(text) - len(word))


@dataclass(frozen=True)
class _Cycle:
    """``tab`` walking the candidates: the text before and after the cursor when it started, the
    candidates then, which one is in the line, and the line it made (any other edit ends the walk)."""

    before: str
    after: str
    context: CompletionContext
    words: tuple[str, ...]
    index: int
    value: str


def candidate_line(words: Sequence[str], current: int, width: int) -> Text:
    """The candidates on one line of ``width`` cells, ``current`` (-1: none) highlighted and always in
    view; ``+N``: N more that do not fit, ``<``: some before."""
    if not words:
        return Text()
    text = Text()
    if current >= 0:
        text.append(f"{current + 1}/{len(words)}  ", style="bold")
    start = 0
    room = width - text.cell_len - 2 - len(f"  +{len(words)}")
    while start < current and sum(len(w) + 2 for w in words[start:current + 1]) > room:
        start += 1
    if start:
        text.append("< ")
    for index in range(start, len(words)):
        rest = len(words) - index - 1
        reserve = len(f"+{rest}") + 2 if rest else 0
        if index > start and text.cell_len + len(words[index]) > width - reserve:
            text.append(f"+{rest + 1}")
            break
        text.append(words[index], style="reverse bold" if index == current else "")
        text.append("  ")
    text.rstrip()
    return text


def apply_completion(text: str, context: CompletionContext, word: str) -> str:
    """``text`` with the word at ``context.start`` replaced by ``word`` (values get their quotes)."""
    if context.kind == "value":
        word = (word if context.quoted else '"' + word) + '"'
    return text[:context.start] + word


class _Suggester(Suggester):
    def __init__(self, editor: PromQLEditor) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.editor = editor

    async def get_suggestion(self, value: str) -> str | None:
        context, words = self.editor.candidates(value)
        if not context.prefix and context.kind != "value":
            return None  # nothing typed yet: list the candidates, but do not guess one
        for word in words:
            full = apply_completion(value, context, word)
            if full.startswith(value) and full != value:
                return full
        return None


class PromQLEditor(Vertical):
    """The editor line and, under it, the candidates for the word being typed."""

    DEFAULT_CSS = """
    PromQLEditor { height: auto; }
    PromQLEditor Input { border: tall $accent; }
    PromQLEditor #candidates { height: 1; padding: 0 1; color: $text-muted; }
    """
    BINDINGS = [
        Binding("tab", "accept(1)", "Complete", id="promql.complete", priority=True),
        Binding("shift+tab", "accept(-1)", "Previous", id="promql.previous", priority=True, show=False),
        Binding("up", "history(-1)", "Older", id="promql.older", show=False),
        Binding("down", "history(1)", "Newer", id="promql.newer", show=False),
        Binding("escape", "cancel", "Cancel", id="promql.cancel"),
    ]

    class Run(Message):
        def __init__(self, query: str) -> None:
            super().__init__()
            self.query = query

    class Cancelled(Message):
        pass

    def __init__(self, complete: Callable[[CompletionContext], Sequence[str]],
                 history: list[str] | None = None, *, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.complete = complete
        self.history = history if history is not None else []
        self._history_index = len(self.history)
        self._cycle: _Cycle | None = None

    def compose(self) -> ComposeResult:
        yield Input(placeholder="PromQL (tab completes, up/down history, enter runs, escape cancels)",
                    suggester=_Suggester(self), id="promql-input")
        yield Label("", id="candidates")

    @property
    def input(self) -> Input:
        return self.query_one("#promql-input", Input)

    def open(self, text: str) -> None:
        """Show the editor holding ``text``, focused, cursor at the end."""
        self._history_index = len(self.history)
        self.input.value = text
        self.input.cursor_position = len(text)
        focus_for_typing(self.input)  # keys typed right after opening go in, in order
        self.recomplete()

    def candidates(self, text: str) -> tuple[CompletionContext, list[str]]:
        context = completion_context(text)
        if not context.kind:
            return context, []
        words = [w for w in self.complete(context) if w.startswith(context.prefix) and w != context.prefix]
        return context, words

    def _show_candidates(self) -> None:
        label = self.query_one("#candidates", Label)
        width = self.content_region.width - label.styles.padding.width or 78  # the label is as wide as its text
        if self._cycle is not None:
            label.update(candidate_line(self._cycle.words, self._cycle.index, width))
            return
        value = self.input.value[:self.input.cursor_position]
        _context, words = self.candidates(value)
        label.update(candidate_line(words, -1, width))

    def recomplete(self) -> None:
        """Show the candidates again (e.g. after the caller's cache was filled)."""
        self._show_candidates()
        if self.input.suggester is not None and self.input.value:
            self.run_worker(self.input.suggester._get_suggestion(self.input, self.input.value),
                            group="promql-suggest", exclusive=True, exit_on_error=False)

    @on(Input.Changed, "#promql-input")
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        if self._cycle is not None and event.value != self._cycle.value:
            self._cycle = None  # typed, deleted or walked the history: the walk is over
        self._show_candidates()

    @on(Input.Submitted, "#promql-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        query = event.value.strip()
        if query:
            if not self.history or self.history[-1] != query:
                self.history.append(query)
            self.post_message(self.Run(query))

    def action_accept(self, step: int = 1) -> None:
        """``tab`` (``step`` 1) puts the next candidate in the line, ``shift+tab`` (-1) the previous one."""
        cycle = self._cycle
        if cycle is None or self.input.value != cycle.value:
            value, cursor = self.input.value, self.input.cursor_position
            context, words = self.candidates(value[:cursor])
            if not words:
                return
            cycle = _Cycle(value[:cursor], value[cursor:], context, tuple(words), -1 if step > 0 else 0, value)
        index = (cycle.index + step) % len(cycle.words)
        completed = apply_completion(cycle.before, cycle.context, cycle.words[index])
        # a single candidate is simply taken: the next tab completes what follows it
        self._cycle = _Cycle(cycle.before, cycle.after, cycle.context, cycle.words, index,
                             completed + cycle.after) if len(cycle.words) > 1 else None
        self.input.value = completed + cycle.after
        self.input.cursor_position = len(completed)
        self._show_candidates()

    def action_history(self, delta: int) -> None:
        if not self.history:
            return
        index = min(max(self._history_index + delta, 0), len(self.history))
        self._history_index = index
        self.input.value = self.history[index] if index < len(self.history) else ""
        self.input.cursor_position = len(self.input.value)

    def action_cancel(self) -> None:
        self.post_message(self.Cancelled())
