"""Dialogs of the Deployments pane: pods and events (with a pod's log tail), and the test request editor."""

from __future__ import annotations

import asyncio
import difflib
import json
import os
import shlex
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult, SuspendNotSupported
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Label, Static

from backends.deployments import (
    INFERENCE_SERVICE,
    Deployment,
    Event,
    Exchange,
    Pod,
    PredictionRequest,
    PredictionResponse,
    RequestTemplate,
    Revision,
)
from backends.deployments.inference import KEPT_BODY_CHARS, parse_payload, request_record
from backends.redact import redact
from console.calls import CallsBackend
from console.format import age, short_time
from console.history import private_file
from console.panes.base import describe_error
from widgets.data_table import DataTable
from widgets.dialog import Dialog
from widgets.fast_table import FastTable
from widgets.path_prompt import PathPrompt
from widgets.request_editor import JsonProblem, RequestEditor, size_text


class PodsEventsView(CallsBackend, Dialog[None]):
    """Pods (phase, ready, restarts, age), events (newest first, warnings marked) and a pod's log tail."""

    DEFAULT_CSS = """
    PodsEventsView { align: center middle; }
    PodsEventsView > Vertical { width: 98%; height: 95%; border: thick $primary; background: $surface; }
    PodsEventsView .title { text-style: bold; padding: 0 1; background: $boost; width: 100%; }
    PodsEventsView #pods { height: auto; max-height: 8; }
    PodsEventsView #events { height: auto; max-height: 10; }
    PodsEventsView #log-scroll { height: 1fr; min-height: 3; }
    PodsEventsView #foot { color: $text-muted; padding: 0 1; }
    """
    BINDINGS = [
        Binding("escape,q", "dismiss", "Close", id="dialog.close"),
        Binding("l", "log", "Log tail", id="deployments.log"),
    ]

    def __init__(self, deployment: Deployment, pods: tuple[Pod, ...], events: tuple[Event, ...],
                 load_log: Callable[[str], str], now: datetime) -> None:
        super().__init__()
        self.deployment, self.pods, self.events = deployment, pods, events
        self.load_log, self.now = load_log, now

    def compose(self) -> ComposeResult:
        d = self.deployment
        with Vertical():
            yield Label(f"{d.namespace}/{d.name}: {len(self.pods)} pod(s)", classes="title", markup=False)
            yield DataTable(id="pods", cursor_type="row", zebra_stripes=True)
            warnings = sum(1 for e in self.events if e.warning)
            yield Label(f"Events, newest first ({len(self.events)}, {warnings} warning(s))", classes="title",
                        markup=False)
            yield DataTable(id="events", cursor_type="row", zebra_stripes=True)
            yield Label("Log tail (enter or l on a pod)", id="log-title", classes="title", markup=False)
            with VerticalScroll(id="log-scroll"):
                yield Static("", id="log", markup=False)
            yield Label("enter/l: log tail of the pod   tab: next table   escape: close", id="foot", markup=False)

    def on_mount(self) -> None:
        pods = self.query_one("#pods", DataTable)
        pods.add_columns("pod", "phase", "ready", "restarts", "age", "reason")
        for p in self.pods:
            phase = Text(p.phase, style="" if p.phase in ("Running", "Succeeded") else "bold")
            restarts = Text(str(p.restarts), style="bold" if p.restarts else "")
            pods.add_row(p.name, phase, p.ready, restarts, age(p.created, self.now), p.reason, key=p.name)
        events = self.query_one("#events", DataTable)
        events.add_columns("age", "type", "reason", "object", "count", "message")
        for e in self.events:
            kind = Text("! Warning", style="bold reverse") if e.warning else Text("Normal")
            events.add_row(age(e.last_seen, self.now), kind, e.reason, f"{e.object_kind}/{e.object_name}",
                           str(e.count), e.message)
        if not self.pods:
            self.query_one("#log", Static).update("no pods")
        pods.focus()

    @on(DataTable.RowSelected, "#pods")
    def _pod_selected(self, _event: DataTable.RowSelected) -> None:
        self.action_log()

    def action_log(self) -> None:
        table = self.query_one("#pods", DataTable)
        if not self.pods or table.row_count == 0:
            return
        pod = self.pods[min(table.cursor_row, len(self.pods) - 1)]
        self.query_one("#log-title", Label).update(f"Log tail of {pod.name} (loading)")
        self._fetch_log(pod.name)

    def _fetch_log(self, pod: str) -> None:
        # one group: the log of the pod chosen last is the one shown
        self.call_backend("log", self.load_log, pod, on_result=lambda text: self._log_loaded(pod, text),
                          on_error=lambda error: self._log_failed(pod, error))

    def _log_failed(self, pod: str, error: BaseException) -> None:
        self.query_one("#log-title", Label).update(f"Log tail of {pod}: failed")
        self.query_one("#log", Static).update(Text(describe_error(error), style="bold"))

    def _log_loaded(self, pod: str, text: str) -> None:
        text = text or "(empty log)"
        self.query_one("#log-title", Label).update(f"Log tail of {pod} ({len(text.splitlines())} lines)")
        self.query_one("#log", Static).update(Text(text))
        self.query_one("#log-scroll", VerticalScroll).scroll_end(animate=False)


SHOWN_CHARS = 32_000  # of a response body on screen: wrapping much more would hold the UI for a while
HISTORY_ENTRIES = 50  # per deployment, the oldest dropped first


def describe_response(response: PredictionResponse) -> Content:
    """Status, latency and the pretty-printed body, as the server sent it (a long body is cut at about
    ``SHOWN_CHARS`` characters, at a line end where there is one; the history keeps its first
    ``KEPT_BODY_CHARS`` characters)."""
    if response.status is None:
        return Content.assemble(("NO RESPONSE", "bold reverse"), f"  after {response.latency_s * 1000:.0f} ms\n\n",
                                redact(response.error))
    body = response.pretty_body or "(empty body)"
    rest = ""
    if len(body) > SHOWN_CHARS:
        cut = body.rfind("\n", 0, SHOWN_CHARS)
        if cut < SHOWN_CHARS // 2:  # no line end near: cut inside the line
            cut = SHOWN_CHARS
        rest = (f"\n\n... {len(body) - cut:,} more characters not shown; "
                "ctrl+o saves what the history keeps of each body")
        body = body[:cut]
    if response.body_cut:
        total = len(response.body) + response.body_cut
        rest += (f"\n\nThe answer had {total:,} characters: the history keeps the first "
                 f"{len(response.body):,} and not the last {response.body_cut:,}.")
    return Content.assemble(
        (f"HTTP {response.status}", "bold" if response.ok else "bold reverse"),
        f"  {response.latency_s * 1000:.0f} ms",
        (f"  {response.content_type}" if response.content_type else "", "dim"),
        "\n\n",
        body,
        (rest, "bold"),
    )


TAG_ROUTING_HINT = 'no tag URLs: set serving.kserve.io/enable-tag-routing: "true"; nothing was sent'
SIDE_BY_SIDE_MIN = 30  # characters per answer: narrower, the answers are stacked
DIFF_MARK = "\u2260 "  # before a line that is not in the other answer (a sign, not a colour: NO_COLOR)


def differing_lines(a: list[str], b: list[str]) -> tuple[set[int], set[int]]:
    """The indexes of the lines of ``a`` and of ``b`` that the other answer does not have at that place."""
    only_a: set[int] = set()
    only_b: set[int] = set()
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op != "equal":
            only_a.update(range(i1, i2))
            only_b.update(range(j1, j2))
    return only_a, only_b


def describe_revisions(answers: list[tuple[Revision, PredictionResponse]], width: int) -> Any:
    """The answers of the tagged revisions to the same request, side by side (stacked when ``width`` is too
    narrow for that): revision, tag, percent, HTTP status, latency and the pretty body, the lines that differ
    marked."""
    from rich.console import Group
    from rich.rule import Rule
    from rich.table import Table

    bodies = [(r.pretty_body or "(empty body)") if r.status is not None else redact(r.error) for _, r in answers]
    lines = [b.splitlines() for b in bodies]
    marked: list[set[int]] = [set() for _ in answers]
    for i in range(1, len(answers)):  # each one against the first (the previous revision, as KServe lists them)
        a, b = differing_lines(lines[0], lines[i])
        marked[0] |= a
        marked[i] |= b
    cells = []
    # the same number of header lines in each, so that side by side their bodies start on the same line
    any_rolled = any(rev.rolled_out for rev, _ in answers)
    for (rev, response), body_lines, marks in zip(answers, lines, marked):
        percent = "" if rev.percent is None else f"  {rev.percent}%"
        rolled = (f"{rev.rolled_out} rolled out" if rev.rolled_out else "-") + "\n" if any_rolled else ""
        text = Text(f"{rev.tag}  {rev.revision}{percent}\n{rolled}", style="bold")
        if response.status is None:
            text.append("NO RESPONSE", style="bold reverse")
        else:
            text.append(f"HTTP {response.status}", style="bold" if response.ok else "bold reverse")
        text.append(f"  {response.latency_s * 1000:.0f} ms\n")
        for n, line in enumerate(body_lines[:SHOWN_CHARS // 40]):
            if n in marks:
                text.append(DIFF_MARK + line + "\n", style="bold")
            else:
                text.append("  " + line + "\n")
        cells.append(text)
    differ = sum(len(m) for m in marked[1:])
    summary = Text("the same answer" if not any(marked) else
                   f"{differ} line(s) differ, marked {DIFF_MARK.strip()}", style="" if not any(marked) else "bold")
    if width >= SIDE_BY_SIDE_MIN * len(cells) + 2 * (len(cells) - 1):
        table = Table(box=None, show_header=False, expand=True, padding=(0, 1), pad_edge=False)
        for _ in cells:
            table.add_column(ratio=1, overflow="fold")
        table.add_row(*cells)
        return Group(summary, table)
    rule = Rule(characters="\u2500", style="dim")  # as wide as the view draws it (a scrollbar or not)
    parts: list[Any] = [summary]
    for cell in cells:
        parts += [rule, cell]
    return Group(*parts)


@dataclass(frozen=True)
class RequestSent:
    """What a send brings back: the answer, or why there is none."""

    body: str
    result: tuple[PredictionRequest, PredictionResponse] | None
    error: BaseException | None
    elapsed: float


class RequestView(CallsBackend, Dialog[None]):
    """The test request editor: JSON payload, the response, and this deployment's history."""

    DEFAULT_CSS = """
    RequestView { align: center middle; }
    RequestView > Vertical { width: 98%; height: 96%; border: thick $primary; background: $surface; }
    RequestView .title { text-style: bold; padding: 0 1; background: $boost; width: 100%; }
    RequestView #url { padding: 0 1; width: 100%; }
    RequestView #panes { height: 1fr; }
    RequestView #left, RequestView #right { width: 1fr; height: 100%; }
    RequestView #json-error { padding: 0 1; height: auto; }
    RequestView #response-scroll { height: 1fr; border: round $panel; }
    RequestView #history { height: auto; max-height: 7; }
    RequestView #foot { color: $text-muted; padding: 0 1; }
    """
    BINDINGS = [
        Binding("escape", "dismiss", "Close", id="dialog.close"),
        Binding("ctrl+r", "replay", "Replay", id="request.replay"),
        Binding("ctrl+o", "save", "Save history", id="request.save"),
        Binding("ctrl+l", "load_file", "Load payload", id="request.load"),
        # priority: in the editor ctrl+e would move to the line's end
        Binding("ctrl+e", "external_edit", "Edit in $EDITOR", id="request.external_edit", priority=True),
        Binding("ctrl+b", "both", "Both revisions", id="request.both"),
    ]

    def __init__(self, deployment: Deployment, template: RequestTemplate, history: list[Exchange],
                 send: Callable[[str], tuple[PredictionRequest, PredictionResponse]], now: Callable[[], datetime],
                 body: str | None = None, save_dir: Path | None = None,
                 send_revision: Callable[[Revision, str], tuple[PredictionRequest, PredictionResponse]] | None = None,
                 ) -> None:
        super().__init__()
        self.deployment, self.template, self.history = deployment, template, history
        self.send_fn, self.now = send, now
        self.send_revision = send_revision  # to one tagged revision of an InferenceService (ctrl+b)
        self.initial_body = body if body is not None else template.body
        self.save_dir = save_dir or Path.cwd()
        self._in_flight: dict[str, datetime] = {}  # history row key -> sent at
        self._next_key = len(history) + 1
        self._last_path = ""  # the file ctrl+l loaded last, offered again

    def compose(self) -> ComposeResult:
        d, t = self.deployment, self.template
        with Vertical():
            src = f"  template: {t.source}" if t.source else ""
            yield Label(f"Test request: {d.namespace}/{d.name}  protocol {t.protocol}{src}", classes="title",
                        markup=False)
            url = redact(t.url) or "(no address: set ingress_url, or wait for status.address.url)"
            # the headers that route it: Host through an ingress, Seldon-Model through Seldon Core 2's mesh
            routes = "".join(f"  {k}: {v}" for k, v in t.headers if k.lower() in ("host", "seldon-model"))
            yield Label(f"{t.method} {url}{routes}", id="url", markup=False)
            with Horizontal(id="panes"):
                with Vertical(id="left"):
                    yield RequestEditor(self.initial_body, on_send=self.send_body, id="editor")
                    yield Static("", id="json-error", markup=False)
                with Vertical(id="right"):
                    yield Label("Response", id="response-title", classes="title", markup=False)
                    with VerticalScroll(id="response-scroll"):
                        yield Static("ctrl+s sends the request", id="response", markup=False)
            yield Label("History", id="history-title", classes="title", markup=False)
            yield FastTable(id="history")
            both = "ctrl+b both revisions  " if d.kind == INFERENCE_SERVICE else ""
            yield Label(f"{both}ctrl+s send  ctrl+f format  ctrl+l load file  ctrl+e $EDITOR  ctrl+r replay  "
                        "ctrl+o save history  escape: close", id="foot", markup=False)

    def on_mount(self) -> None:
        # the widgets an answer updates, looked up once
        self._response = self.query_one("#response", Static)
        self._response_title = self.query_one("#response-title", Label)
        self._json_error = self.query_one("#json-error", Static)
        self._history_table = table = self.query_one("#history", FastTable)
        self._history_title = self.query_one("#history-title", Label)
        self._title_says_sending = self._error_shown = self._title_says_both = False
        table.set_columns([(label, label, "left") for label in ("#", "sent", "status", "latency", "payload")],
                          [(str(i + 1), self._history_cells(str(i + 1), ex.sent_at, ex.request.body, ex.response))
                           for i, ex in enumerate(self.history)])
        if self.history:
            table.move_cursor(row=len(self.history) - 1)
            self._show_response(self.history[-1].response)
            self._history_title.update(f"History ({len(self.history)})", layout=False)  # a full-width line
        self.query_one("#editor", RequestEditor).focus()

    @property
    def sending(self) -> bool:
        return bool(self._in_flight)

    @staticmethod
    def _history_cells(key: str, sent_at: datetime | None, body: str, response: PredictionResponse) -> tuple:
        """A history row: #, sent, status, latency, payload."""
        status = Text("-" if response.status is None else str(response.status),
                      style="" if response.ok else "bold reverse")
        preview = " ".join(body[:200].split())[:60]
        return key, short_time(sent_at), status, f"{response.latency_s * 1000:.0f} ms", preview

    def _show_response(self, response: PredictionResponse) -> None:
        self._response.update(describe_response(response))
        if self._title_says_both and not self._title_says_sending:
            self._response_title.update("Response", layout=False)  # after the answers of both revisions
            self._title_says_both = False

    # -- sending --------------------------------------------------------------------------------------
    @on(RequestEditor.Invalid)
    def _invalid(self, event: RequestEditor.Invalid) -> None:
        self._show_problem(event.problem)

    @on(RequestEditor.Notice)
    def _notice(self, event: RequestEditor.Notice) -> None:
        self._say(event.text)

    def _say(self, text: str, error: bool = False) -> None:
        self._json_error.update(Text(text, style="bold reverse") if error else Text(text))
        self._error_shown = True

    def _show_problem(self, problem: JsonProblem) -> None:
        self._json_error.update(Text(f"{problem} - nothing was sent", style="bold reverse"))
        self._error_shown = True

    def send_body(self, body: str) -> None:
        key = str(self._next_key)
        self._next_key += 1
        self._in_flight[key] = self.now()
        send, start = self.send_fn, time.perf_counter()

        def sent(result: Any = None, error: BaseException | None = None) -> None:
            self._answered(key, RequestSent(body, result, error, time.perf_counter() - start))

        def send_and_format(text: str) -> tuple[PredictionRequest, PredictionResponse]:
            result = send(text)
            _ = result[1].pretty_body  # pretty-printed in the worker: the UI thread finds it done
            return result

        # an answer that comes after the dialog closed still goes into the history (outlives_host). Each request is
        # its own group (none replaces another); the backend keeps the context's timeout, the UI gives up a little
        # after it.
        self.call_backend(f"request.{key}", send_and_format, body, on_result=sent,
                          on_error=lambda error: sent(error=error), on_drop=lambda: self._in_flight.pop(key, None),
                          timeout=self.call_timeout() + 5, outlives_host=True)
        # nothing changes on screen until the answer, or "sending" after 50 ms if it is slow: drawing while
        # the request is out holds the interpreter the worker needs
        asyncio.get_running_loop().call_later(0.05, self._show_sending)  # a loop timer: cheaper than a Textual one

    def _show_sending(self) -> None:
        if self.sending and self.is_attached:
            self._response_title.update("Response (sending...)", layout=False)
            self._title_says_sending = True

    def _answer_arrived(self) -> None:
        """An answer is in: "sending" goes once none is out, and the last problem goes."""
        if self._title_says_sending and not self._in_flight:
            self._response_title.update("Response", layout=False)
            self._title_says_sending = False
        if self._error_shown:
            self._json_error.update("")
            self._error_shown = False

    def _answered(self, key: str, message: RequestSent) -> None:
        sent_at = self._in_flight.pop(key, None)
        error = message.error
        problem = None
        if error is not None and getattr(error, "line", None) is not None:
            located: Any = error  # the editor's JSON error says where the payload went wrong
            problem = JsonProblem(located.line, located.column, getattr(error, "detail", "") or str(error))
            response = None  # nothing was sent: no history entry
        elif error is not None:
            request = request_record(self.template.url, message.body, self.template.protocol)
            response = PredictionResponse(None, message.elapsed, error=describe_error(error))
        else:
            assert message.result is not None  # no error: the request was sent and answered
            request, response = message.result
        if response is not None:
            self.history.append(Exchange(self.deployment.key, request, response, sent_at))
            del self.history[:-HISTORY_ENTRIES]
        if not self.is_attached:  # closed while the request was out: the history has it
            return
        self._answer_arrived()
        if problem is not None:
            self.query_one("#editor", RequestEditor).point_at(problem)
            self._show_problem(problem)
            return
        assert response is not None  # only a JSON problem leaves no response
        self._show_response(response)
        # the answer is drawn first; its history row follows once that frame is on screen
        self.call_after_refresh(self._add_history_row, key, sent_at, message.body, response)

    def _add_history_row(self, key: str, sent_at: datetime | None, body: str, response: PredictionResponse) -> None:
        if not self.is_attached:
            return
        table = self._history_table
        table.add_row(*self._history_cells(key, sent_at, body, response), key=key)
        dropped = table.row_count - len(self.history)
        if dropped > 0:  # the oldest entries left the history
            table.set_rows([(str(table.row_key_at(i)), table.get_row_at(i)) for i in range(dropped, table.row_count)])
        table.move_cursor(row=table.row_count - 1)
        self._history_title.update(f"History ({len(self.history)})", layout=False)  # a full-width line

    # -- canary vs main: the same request to each tagged revision ----------------------------------------
    def action_both(self) -> None:
        targets = self.deployment.tag_targets
        if self.send_revision is None or len(targets) < 2:
            self._say(TAG_ROUTING_HINT, error=True)
            return
        body = self.query_one("#editor", RequestEditor).payload
        n = self._next_key
        self._next_key += 1
        send, start = self.send_revision, time.perf_counter()
        answers: dict[str, RequestSent] = {}
        exchanges: dict[str, Exchange] = {}  # the history entry of each answer, by key
        keys = [f"{n} {rev.tag}" for rev in targets]
        for key in keys:
            self._in_flight[key] = self.now()

        def send_and_format(rev: Revision, text: str) -> tuple[PredictionRequest, PredictionResponse]:
            result = send(rev, text)
            _ = result[1].pretty_body  # pretty-printed in the worker
            return result

        for key, rev in zip(keys, targets):
            def sent(result: Any = None, error: BaseException | None = None, key: str = key, rev: Revision = rev,
                     ) -> None:
                answers[key] = RequestSent(body, result, error, time.perf_counter() - start)
                exchange = self._revision_answered(key, rev, answers[key])
                if exchange is not None:
                    exchanges[key] = exchange
                if len(answers) == len(keys):
                    self._revisions_done(keys, targets, answers, exchanges)

            def failed(error: BaseException, sent: Callable[..., None] = sent) -> None:
                sent(error=error)

            def dropped(key: str = key) -> None:
                self._in_flight.pop(key, None)

            self.call_backend(f"request.{key}", send_and_format, rev, body, on_result=sent, on_error=failed,
                              on_drop=dropped,
                              timeout=self.call_timeout() + 5, outlives_host=True)
        asyncio.get_running_loop().call_later(0.05, self._show_sending)

    def _revision_answered(self, key: str, rev: Revision, message: RequestSent) -> Exchange | None:
        """One revision's answer into the history at once (the dialog may be closed by then)."""
        sent_at = self._in_flight.get(key)
        if message.error is not None and getattr(message.error, "line", None) is not None:
            return None  # the payload is not valid: nothing was sent
        if message.error is not None:
            request = request_record(rev.url, message.body, self.template.protocol)
            response = PredictionResponse(None, message.elapsed, error=describe_error(message.error))
        else:
            assert message.result is not None
            request, response = message.result
        exchange = Exchange(self.deployment.key, request, response, sent_at,
                            notes=(f"revision {rev.revision} ({rev.tag})",))
        self.history.append(exchange)
        del self.history[:-HISTORY_ENTRIES]
        return exchange

    def _revisions_done(self, keys: list[str], targets: tuple[Revision, ...], answers: dict[str, RequestSent],
                        exchanges: dict[str, Exchange]) -> None:
        sent = {key: self._in_flight.pop(key, None) for key in keys}
        if not self.is_attached:
            return
        self._answer_arrived()
        for key in keys:
            error = answers[key].error
            if error is not None and getattr(error, "line", None) is not None:
                located: Any = error
                problem = JsonProblem(located.line, located.column, getattr(error, "detail", "") or str(error))
                self.query_one("#editor", RequestEditor).point_at(problem)
                self._show_problem(problem)
                return
        shown = [exchanges[key] for key in keys]
        pairs = [(rev, ex.response) for rev, ex in zip(targets, shown)]
        width = self.query_one("#response-scroll", VerticalScroll).scrollable_content_region.width
        self._response.update(describe_revisions(pairs, width))
        self._response_title.update("Response: " + " vs ".join(r.tag for r in targets), layout=False)
        self._title_says_both = True
        for key, ex in zip(keys, shown):
            self.call_after_refresh(self._add_history_row, key, sent[key], ex.request.body, ex.response)

    def action_replay(self) -> None:
        if not self.history:
            return
        table = self._history_table
        index = min(max(table.cursor_row, 0), len(self.history) - 1)
        ex = self.history[index]
        if ex.request.body_cut:
            self._say(f"the payload of {table.row_key_at(index) or 'that request'} was too large to keep whole "
                      f"(the history keeps {KEPT_BODY_CHARS:,} characters): ctrl+l loads it again", error=True)
            return
        editor = self.query_one("#editor", RequestEditor)
        editor.set_payload(ex.request.body)
        self.send_body(ex.request.body)

    def action_save(self) -> None:
        d = self.deployment
        path = self.save_dir / f"requests-{d.namespace}-{d.name}.jsonl"
        lines = []
        for ex in self.history:
            try:
                payload: Any = json.loads(ex.request.body)
            except ValueError:
                payload = ex.request.body
            r = ex.response
            lines.append(json.dumps({
                "sent_at": ex.sent_at.isoformat() if ex.sent_at else None, "url": ex.request.url,
                "protocol": ex.request.protocol, "request": payload, "status": r.status,
                "latency_ms": round(r.latency_s * 1000, 1), "response": r.body, "error": r.error or None,
                # what the history did not keep of a large body (its first part is above)
                **({"request_chars_not_kept": ex.request.body_cut} if ex.request.body_cut else {}),
                **({"response_chars_not_kept": r.body_cut} if r.body_cut else {})}))
        try:
            with private_file(path, "w") as f:  # secrets hidden in every line (a URL's password, a token)
                f.write("".join(redact(line) + "\n" for line in lines))
        except OSError as exc:
            self.query_one("#json-error", Static).update(Text(f"cannot save: {exc}", style="bold reverse"))
            return
        self.query_one("#json-error", Static).update(f"saved {len(lines)} request(s) to {path}")
        self.notify(f"saved {len(lines)} request(s) to {path}", title="history saved")

    # -- large payloads: from a file, or edited in $EDITOR --------------------------------------------------
    def action_load_file(self) -> None:
        def chosen(path: str | None) -> None:
            if path:
                self._say(f"reading {path}")
                self._load_file(path)

        self.app.push_screen(PathPrompt("Load the request payload from a file (JSON)", self._last_path), chosen)

    def _load_file(self, path: str) -> None:
        def read() -> tuple[str | None, str | None]:
            try:
                text = Path(path).read_text(encoding="utf-8")
                parse_payload(text)  # a file that is not JSON is refused here, before it replaces anything
                return text, None
            except OSError as exc:
                return None, f"cannot read {path}: {exc.strerror or exc}"
            except UnicodeDecodeError as exc:
                return None, f"{path} is not UTF-8 text (byte {exc.start}); nothing was loaded"
            except Exception as exc:  # noqa: BLE001 - InvalidPayload, said in the dialog
                return None, f"{path}: {exc}; nothing was loaded"

        self.call_backend("load", read, on_result=lambda answer: self._file_loaded(path, *answer), timeout=0)

    def _file_loaded(self, path: str, text: str | None, error: str | None) -> None:
        if not self.is_attached:
            return
        if text is None:
            self._say(error or "nothing was loaded", error=True)
            return
        self._last_path = path
        self.query_one("#editor", RequestEditor).set_payload(text, path)
        self._say(f"loaded {size_text(len(text))} from {path}; ctrl+s sends it")

    def action_external_edit(self) -> None:
        """Edit the payload in $VISUAL / $EDITOR (else vi), the console suspended meanwhile, as git and k9s do."""
        editor = self.query_one("#editor", RequestEditor)
        command = shlex.split(os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi")
        fd, name = tempfile.mkstemp(prefix="mlops-console-request-", suffix=".json")  # mode 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(editor.payload)
            try:
                with self.app.suspend():
                    status = subprocess.call([*command, name])
            except SuspendNotSupported:  # no terminal to hand over (a headless run): the editor runs as it is
                status = subprocess.call([*command, name], stdin=subprocess.DEVNULL)
            text = Path(name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self._say(f"editing in {command[0]} failed: {exc}; the payload is unchanged", error=True)
            return
        finally:
            try:
                os.unlink(name)
            except OSError:
                pass
        if status != 0:
            self._say(f"{command[0]} exited with status {status}; the payload is unchanged", error=True)
            return
        if text != editor.payload:
            editor.set_payload(text, f"$EDITOR ({command[0]})")
            self._say(f"payload from {command[0]}: {size_text(len(text))}")
        editor.focus()
