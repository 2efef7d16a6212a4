"""The one way the UI calls a backend: in a worker thread, with a timeout, stale answers dropped.

Screens and dialogs mix in :class:`CallsBackend` and call ``call_backend`` (answer through callbacks) or
``await run_backend`` (inside an async worker, for a sequence such as plan, confirm, check out). A call has a
group: a newer call in the same group makes the older one stale, and its answer is dropped. After the timeout
(the context's, unless given; 0 waits as long as it takes) the UI gives up on the call and says so: the thread
cannot be killed, but its answer, if it ever comes, is dropped. Words about a slow call ("reading ...") appear
only if it is still out after ``BUSY_DELAY``: a quick answer never flashes them.

The Kubernetes watch is the one other way: a long-lived thread of the Deployments pane that streams changes
(see ``console/panes/deployments/screen.py``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import count
from typing import Any

from textual.message import Message

from backends.errors import BackendTimeout

BUSY_DELAY = 0.2  # seconds a call must be out before the UI says it is busy


class BackendDone(Message):
    """A backend call finished in a worker thread (posted from that thread)."""

    def __init__(self, group: str, token: int, result: Any, error: BaseException | None) -> None:
        super().__init__()
        self.group, self.token, self.result, self.error = group, token, result, error


class CallDropped(Exception):
    """A call awaited with ``run_backend`` will never be answered: a newer call replaced it or the screen was
    rebuilt. The awaiting code stops quietly."""


@dataclass
class _Call:
    on_result: Callable[[Any], Any]
    on_error: Callable[[BaseException], Any] | None
    on_drop: Callable[[], Any] | None
    busy: str | None = None
    doing: str = ""


_tokens = count(1)
_threads: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    """The threads backend calls run in: enough that calls nobody waits for any more (timed out, but their
    thread cannot be killed) never hold up new ones."""
    global _threads
    if _threads is None:
        _threads = ThreadPoolExecutor(max_workers=32, thread_name_prefix="backend-call")
    return _threads


class CallsBackend:
    """Mixed into a Screen (or ModalScreen): backend calls off the UI thread. The host may override
    ``call_timeout``, ``show_busy``, ``clear_busy``, ``show_error`` and ``calls_paused``."""

    _calls: dict[tuple[str, int], _Call]
    _pending: dict[str, int]

    def _call_state(self) -> tuple[dict[tuple[str, int], _Call], dict[str, int]]:
        try:
            return self._calls, self._pending
        except AttributeError:  # set on first use: the host's __init__ need not know about it
            self._calls, self._pending = {}, {}
            return self._calls, self._pending

    # -- hooks ---------------------------------------------------------------------------------------
    def call_timeout(self) -> float:
        """Seconds to wait for a call when none is given: the context's ``timeout``."""
        app: Any = getattr(self, "app")  # noqa: B009 - the host is a Textual DOM node
        return float(app.context.timeout)

    def show_busy(self, text: str) -> None:
        """Say that ``text`` is under way (the host's status line)."""

    def clear_busy(self, text: str | None = None) -> None:
        """Take the words ``show_busy`` put up away (only ``text``, when given)."""

    def show_error(self, error: BaseException, doing: str = "") -> None:
        """A call without ``on_error`` failed."""

    def calls_paused(self) -> bool:
        """True while the host is being rebuilt: calls are not made and answers are dropped."""
        return False

    # -- calls ---------------------------------------------------------------------------------------
    def call_backend(self, group: str, fn: Callable[..., Any], *args: Any,
                     on_result: Callable[[Any], Any],
                     on_error: Callable[[BaseException], Any] | None = None,
                     timeout: float | None = None, busy: str | None = None,
                     on_drop: Callable[[], Any] | None = None, doing: str = "",
                     outlives_host: bool = False) -> None:
        """Run ``fn(*args)`` in an exclusive thread worker of ``group``; the answer comes back on the UI thread
        through ``on_result`` (an error through ``on_error``, default ``show_error``). ``busy``: words shown if
        the call is still out after ``BUSY_DELAY``. ``on_drop``: called if the answer will never be delivered
        (replaced by a newer call of the group, or the host rebuilt). ``doing`` names the work in a timeout's
        message ("the pull did not finish within ..."). ``outlives_host``: the answer is handled even after the
        host closed (a test request's answer still goes into the history), and sooner: by a loop callback, not
        through the host's message queue."""
        calls, pending = self._call_state()
        if self.calls_paused():
            if on_drop is not None:
                on_drop()
            return
        token = next(_tokens)
        previous = pending.get(group)
        if previous is not None:
            self._drop(group, previous)
        pending[group] = token
        calls[(group, token)] = _Call(on_result, on_error, on_drop, busy, doing)
        host: Any = self
        loop = asyncio.get_running_loop()

        def work() -> None:
            try:
                result, error = fn(*args), None
            except BaseException as exc:  # noqa: BLE001 - handed to the UI thread
                result, error = None, exc
            if outlives_host:
                try:
                    loop.call_soon_threadsafe(self.on_backend_done, BackendDone(group, token, result, error))
                except RuntimeError:  # the app has exited
                    pass
            elif host.is_attached:  # a host that is gone has nobody to tell
                host.post_message(BackendDone(group, token, result, error))

        # straight to a thread, in this very call: a Textual worker would start its thread only on a later turn
        # of the loop, after the frame, which a test request's round trip would pay for every time
        loop.run_in_executor(_pool(), work)
        limit = self.call_timeout() if timeout is None else timeout
        if limit:
            loop.call_later(limit, self._timed_out, group, token, limit)  # a loop timer: cheaper than a Textual one
        if busy:
            self.busy_later(busy, lambda: self.is_busy(group, token))

    async def run_backend(self, group: str, fn: Callable[..., Any], *args: Any,
                          timeout: float | None = None, busy: str | None = None, doing: str = "") -> Any:
        """``fn(*args)`` as ``call_backend`` runs it, awaited: its result, or its error raised (a timeout as
        :class:`BackendTimeout`; :class:`CallDropped` if it was replaced or the host rebuilt)."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        def settle(how: Callable[[Any], Any]) -> Callable[[Any], None]:
            def done(value: Any) -> None:
                if not future.done():
                    how(value)
            return done

        self.call_backend(group, fn, *args, on_result=settle(future.set_result),
                          on_error=settle(future.set_exception), timeout=timeout, busy=busy,
                          on_drop=lambda: settle(future.set_exception)(CallDropped(group)), doing=doing)
        return await future

    def is_busy(self, group: str, token: int | None = None) -> bool:
        """Whether ``group`` has a call out; with ``token``: whether that very call is still out."""
        calls, pending = self._call_state()
        current = pending.get(group)
        return current is not None and (token is None or current == token) and (group, current) in calls

    def pending_token(self, group: str) -> int | None:
        """The token of the call ``group`` has out (for ``is_busy``), if any."""
        return self._call_state()[1].get(group)

    def busy_later(self, text: str, still_busy: Callable[[], bool], delay: float = BUSY_DELAY) -> None:
        """Say ``text`` as busy only if ``still_busy()`` after ``delay`` (for work made of several calls)."""
        def check() -> None:
            if still_busy():
                self.show_busy(text)

        host: Any = self
        host.set_timer(delay, check)

    def drop_call(self, group: str) -> bool:
        """Give up on the call ``group`` has out (the user abandoned it): its answer, if it ever comes, is dropped.
        Whether there was one."""
        token = self._call_state()[1].pop(group, None)
        if token is None or (group, token) not in self._calls:
            return False
        self._drop(group, token)
        return True

    def drop_calls(self) -> None:
        """Forget every call out (the host is rebuilt): their answers will be dropped."""
        calls, pending = self._call_state()
        for group, token in list(calls):
            self._drop(group, token)
        pending.clear()

    def _drop(self, group: str, token: int) -> None:
        call = self._calls.pop((group, token), None)
        if call is None:
            return
        if call.busy:
            self.clear_busy(call.busy)
        if call.on_drop is not None:
            call.on_drop()

    def _timed_out(self, group: str, token: int, limit: float) -> None:
        calls, pending = self._call_state()
        host: Any = self
        if (group, token) not in calls or not host.is_attached:  # answered in time, or nobody left to tell
            return
        call = calls.pop((group, token))
        if pending.get(group) == token:
            pending.pop(group, None)
        if call.busy:
            self.clear_busy(call.busy)
        if call.doing:  # work that changes things: it may go on, and the user must know to look
            error = BackendTimeout(f"the {call.doing} did not finish within {limit:g} s; gave up waiting",
                                   hint="it may still be running: press r in a while to see where it stands")
        else:
            error = BackendTimeout(f"no answer after {limit:g} s; gave up waiting (a late answer is ignored)",
                                   hint="press r to retry")
        (call.on_error or self.show_error)(error)

    def on_backend_done(self, message: BackendDone) -> None:
        message.stop()
        calls, pending = self._call_state()
        call = calls.pop((message.group, message.token), None)
        if call is None:
            return  # stale or timed out
        if pending.get(message.group) == message.token:
            pending.pop(message.group, None)
        if self.calls_paused():  # arriving while the body is replaced (the reload after it asks again)
            if call.on_drop is not None:
                call.on_drop()
            return
        if call.busy:
            self.clear_busy(call.busy)
        if message.error is not None:
            (call.on_error or self.show_error)(message.error)
        else:
            call.on_result(message.result)
            self.answered(message.group)

    def answered(self, group: str) -> None:
        """A call of ``group`` was answered (after its ``on_result``)."""
