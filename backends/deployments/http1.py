"""Test-request POSTs to plain ``http://`` model servers: kept-alive sockets and h11.

h11 is the HTTP/1.1 state machine httpx itself parses with. Without httpx's request and response
objects, its connection pool and its transport layers around it, a small request and its answer take
about 0.8 of the time httpx takes. Those layers are most of what the console added on top of the model
server's own time. ``RequestSender`` uses this for ``http://`` URLs when no proxy is set in the
environment (``HTTP_PROXY``, ``ALL_PROXY``) and the URL carries no credentials; everything else (https,
proxies, the metadata GETs) goes through httpx.

Behaves as httpx does where it matters to a user: connect, write and read each have the timeout; a
server's answer of any status comes back as it is; gzip is never asked for. An idle connection the server
has closed is noticed before it is used; if the server closes a reused connection before answering a byte
(it timed the connection out as the request left), the request goes once more on a new connection, as
browsers do.
"""

from __future__ import annotations

import os
import re
import select
import socket
import threading
from typing import NamedTuple
from urllib.parse import urlsplit

import h11

_PROXY_VARS = ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")
_CHARSET = re.compile(r"charset\s*=\s*\"?([\w.:-]+)", re.IGNORECASE)
_RECV = 65536


class Answer(NamedTuple):
    status: int
    headers: tuple[tuple[str, str], ...]  # names in lower case, in the order they came
    body: bytes

    @property
    def text(self) -> str:
        """The body decoded with the charset the server named (UTF-8 when it named none)."""
        charset = "utf-8"
        for name, value in self.headers:
            if name == "content-type":
                m = _CHARSET.search(value)
                if m:
                    charset = m.group(1)
                break
        try:
            return self.body.decode(charset, errors="replace")
        except LookupError:  # a charset Python does not know
            return self.body.decode("utf-8", errors="replace")


class ProtocolFailure(OSError):
    """The server broke HTTP/1.1 or closed the connection in the middle of an answer."""


class _Unanswered(Exception):
    """The connection was closed before a byte of the answer came (a kept-alive one the server dropped)."""


def applies(url: str) -> bool:
    """Whether a request to ``url`` can go this way (httpx would send it straight, over plain HTTP)."""
    if not url.startswith("http://"):
        return False
    if any(os.environ.get(name) for name in _PROXY_VARS):
        return False
    return "@" not in urlsplit(url).netloc


class Http1Pool:
    """POSTs over kept-alive connections, one idle socket per server kept at most; thread-safe."""

    def __init__(self) -> None:
        self._idle: dict[tuple[str, int], tuple[socket.socket, h11.Connection]] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for sock, _ in idle.values():
            sock.close()

    def post(self, url: str, body: bytes, headers: tuple[tuple[str, str], ...], timeout: float) -> Answer:
        """POST ``body`` to ``url``. Raises ``TimeoutError``, ``OSError`` (connection refused, reset ...)
        or :class:`ProtocolFailure`; an HTTP answer of any status is returned."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or 80
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        given = {name.lower() for name, _ in headers}
        head = [(name, value) for name, value in (("Host", parts.netloc), ("Accept", "*/*"),
                                                  ("User-Agent", "mlops-console"))
                if name.lower() not in given]
        head += [(name, value) for name, value in headers if name.lower() != "content-length"]
        head.append(("Content-Length", str(len(body))))
        try:
            request = h11.Request(method="POST", target=target, headers=head)
        except h11.LocalProtocolError as exc:  # a header value HTTP cannot carry
            raise ProtocolFailure(f"cannot send this request: {exc}") from None
        for attempt in (1, 2):
            sock, conn, reused = self._take(host, port, timeout)
            try:
                answer, reusable = _exchange(sock, conn, request, body)
            except _Unanswered:
                sock.close()
                if reused and attempt == 1:
                    continue
                raise ProtocolFailure("the server closed the connection without answering") from None
            except BaseException:
                sock.close()
                raise
            if reusable:
                self._give_back(host, port, sock, conn)
            else:
                sock.close()
            return answer
        raise AssertionError("unreachable")  # pragma: no cover

    def _take(self, host: str, port: int, timeout: float) -> tuple[socket.socket, h11.Connection, bool]:
        with self._lock:
            kept = self._idle.pop((host, port), None)
        if kept is not None:
            sock, conn = kept
            # readable while idle means the server closed it (or sent what nobody asked for): not usable
            if not _readable(sock):
                sock.settimeout(timeout)
                return sock, conn, True
            sock.close()
        sock = socket.create_connection((host, port), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock, h11.Connection(h11.CLIENT), False

    def _give_back(self, host: str, port: int, sock: socket.socket, conn: h11.Connection) -> None:
        with self._lock:
            old = self._idle.pop((host, port), None)
            self._idle[(host, port)] = (sock, conn)
        if old is not None:
            old[0].close()


def _readable(sock: socket.socket) -> bool:
    """Whether ``sock`` has something to read (or its end was closed), without waiting."""
    if hasattr(select, "poll"):  # select() cannot watch a descriptor numbered 1024 or more
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))
    return bool(select.select([sock], [], [], 0)[0])


def _exchange(sock: socket.socket, conn: h11.Connection, request: h11.Request,
              body: bytes) -> tuple[Answer, bool]:
    """Send one request on ``sock`` and read its answer; (answer, whether the connection can be reused)."""
    try:
        sock.sendall(conn.send(request) + conn.send(h11.Data(data=body)) + conn.send(h11.EndOfMessage()))
    except (BrokenPipeError, ConnectionResetError):
        raise _Unanswered from None
    received = 0
    start = b""  # the answer's first bytes, to show when they are not HTTP
    closed = False
    status = 0
    headers: tuple[tuple[str, str], ...] = ()
    chunks: list[bytes] = []
    while True:
        try:
            event = conn.next_event()
        except h11.RemoteProtocolError as exc:
            if received == 0:
                raise _Unanswered from None
            if status == 0:
                raise ProtocolFailure(f"the server did not answer in HTTP/1.1: {start!r}") from None
            if closed:
                raise ProtocolFailure(f"the server closed the connection in the middle of its answer ({exc})") from None
            raise ProtocolFailure(f"the server broke HTTP/1.1: {exc}") from None
        if event is h11.NEED_DATA:
            try:
                data = sock.recv(_RECV)
            except ConnectionResetError:
                if received == 0:
                    raise _Unanswered from None
                raise
            if len(start) < 60:
                start += data[:60 - len(start)]
            received += len(data)
            closed = not data
            conn.receive_data(data)  # b"": the server closed its side
        elif isinstance(event, h11.Response):
            status = event.status_code
            headers = tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in event.headers)
        elif isinstance(event, h11.Data):
            chunks.append(bytes(event.data))
        elif isinstance(event, h11.EndOfMessage):
            break
        elif isinstance(event, h11.ConnectionClosed):
            if received == 0:
                raise _Unanswered
            raise ProtocolFailure("the server closed the connection in the middle of its answer")
        # an InformationalResponse (100 Continue) needs nothing
    reusable = conn.our_state is h11.DONE and conn.their_state is h11.DONE
    if reusable:
        conn.start_next_cycle()
    return Answer(status, headers, b"".join(chunks)), reusable
