"""Test requests to plain-HTTP model servers (``backends.deployments.http1`` under ``RequestSender``), against real
servers on loopback that answer the way real ones do at the edges: kept-alive and dropped connections,
chunked answers, answers cut short, other charsets, a proxy in the environment.

The good and bad payloads against MLServer, the seldon-core microservice and ``mlflow models serve``
(tests/kube/test_kube_endpoints.py) go this way too.
"""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from backends.deployments import http1
from backends.deployments.inference import RequestSender
from backends.errors import Unreachable


@pytest.fixture(autouse=True)
def _no_proxy_from_the_environment(monkeypatch):
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)


class Server:
    """A real TCP server; ``answer(request_bytes, n_on_this_connection)`` says what to write back
    (None: close the connection without a word). Counts connections and requests."""

    def __init__(self, answer: Callable[[bytes, int], bytes | None], close_after: bool = False) -> None:
        self.answer, self.close_after = answer, close_after
        self.connections = 0
        self.requests: list[tuple[int, bytes]] = []  # (client port, request)
        self.url = ""


def _read_request(f) -> bytes | None:
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        line = f.readline()
        if not line:
            return None
        head += line
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return head + f.read(length)


@contextmanager
def server(answer: Callable[[bytes, int], bytes | None], close_after: bool = False) -> Iterator[Server]:
    state = Server(answer, close_after)

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            state.connections += 1
            n = 0
            while True:
                request = _read_request(self.rfile)
                if request is None:
                    return
                n += 1
                state.requests.append((self.client_address[1], request))
                reply = state.answer(request, n)
                if reply is None:
                    return
                self.wfile.write(reply)
                self.wfile.flush()
                if state.close_after:
                    return

    srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    state.url = f"http://127.0.0.1:{srv.server_address[1]}"
    try:
        yield state
    finally:
        srv.shutdown()
        srv.server_close()


def ok(body: bytes = b'{"ok": true}', extra: bytes = b"") -> bytes:
    return (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + extra +
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


def send(sender: RequestSender, url: str, body: str = '{"x": 1}'):
    return sender.send(f"{url}/invocations", body)[1]


def test_plain_http_goes_through_http1_and_keeps_the_connection():
    with server(lambda req, n: ok(b'{"n": %d}' % n)) as srv:
        sender = RequestSender(timeout=5)
        first, second = send(sender, srv.url), send(sender, srv.url, '{"x": 2}')
        assert sender._http1 is not None and sender._client is None, "plain HTTP must not build the httpx client"
        assert (first.status, first.body, second.body) == (200, '{"n": 1}', '{"n": 2}')
        assert srv.connections == 1
        ports = {port for port, _ in srv.requests}
        assert len(ports) == 1, "both requests on one kept-alive connection"
        head, _, body = srv.requests[1][1].partition(b"\r\n\r\n")
        assert body == b'{"x": 2}'
        lines = head.split(b"\r\n")
        assert lines[0] == b"POST /invocations HTTP/1.1"
        assert b"content-type: application/json" in [x.lower() for x in lines]
        assert f"host: {srv.url.removeprefix('http://')}".encode() in [x.lower() for x in lines]
        assert second.content_type == "application/json"
        sender.close()


def test_a_connection_the_server_closed_while_idle_is_not_used():
    with server(lambda req, n: ok(), close_after=True) as srv:
        sender = RequestSender(timeout=5)
        for _ in range(3):
            assert send(sender, srv.url).status == 200
        assert srv.connections == 3 and len(srv.requests) == 3


def test_a_kept_connection_dropped_as_the_request_left_is_retried_once_on_a_new_one():
    # the server answers the first request of each connection and drops the connection at the second,
    # without a byte: what a server does when its keep-alive timer fires as the request arrives
    with server(lambda req, n: ok() if n == 1 else None) as srv:
        sender = RequestSender(timeout=5)
        assert send(sender, srv.url).status == 200
        assert send(sender, srv.url).status == 200
        assert srv.connections == 2 and len(srv.requests) == 3


def test_a_fresh_connection_closed_without_an_answer_is_not_retried():
    with server(lambda req, n: None) as srv:
        sender = RequestSender(timeout=5)
        with pytest.raises(Unreachable) as err:
            send(sender, srv.url)
        assert err.value.detail == "the server closed the connection without answering"
        assert srv.url.removeprefix("http://") in str(err.value)
        assert len(srv.requests) == 1, "a request that may have reached the model is not sent twice"


def test_chunked_answers_and_other_charsets_come_whole():
    chunked = (b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain; charset=latin-1\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n"
               b"a\r\nTraceback \r\n" + b"%x\r\n" % len("(most recent call last): é".encode("latin-1")) +
               "(most recent call last): é".encode("latin-1") + b"\r\n0\r\n\r\n")
    with server(lambda req, n: chunked) as srv:
        response = send(RequestSender(timeout=5), srv.url)
        assert response.status == 500
        assert response.body == "Traceback (most recent call last): é"
        assert not response.ok


def test_an_answer_cut_short_is_an_error_not_a_short_body():
    with server(lambda req, n: b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"part", close_after=True) as srv:
        with pytest.raises(Unreachable) as err:
            send(RequestSender(timeout=5), srv.url)
        assert err.value.detail.startswith("the server closed the connection in the middle of its answer (")
        assert "received 6 bytes, expected 100" in err.value.detail


def test_connection_close_answers_are_not_kept():
    with server(lambda req, n: ok(extra=b"Connection: close\r\n"), close_after=True) as srv:
        sender = RequestSender(timeout=5)
        assert send(sender, srv.url).status == 200
        assert sender._http1._idle == {}
        assert send(sender, srv.url).status == 200
        assert srv.connections == 2


def test_a_proxy_in_the_environment_is_used_through_httpx(monkeypatch):
    # a real forward proxy would see the absolute URL in the request line; this one answers with it
    def proxy(req: bytes, n: int) -> bytes:
        return ok(b'{"proxied": "%s"}' % req.split(b" ")[1])

    with server(proxy) as prx:
        target = "http://model.invalid:8080"
        monkeypatch.setenv("HTTP_PROXY", prx.url)
        assert not http1.applies(f"{target}/invocations")
        sender = RequestSender(timeout=5)
        response = send(sender, target)
        assert response.body == '{"proxied": "http://model.invalid:8080/invocations"}'
        assert sender._http1 is None
        sender.close()


def test_what_goes_through_httpx():
    assert http1.applies("http://127.0.0.1:9000/invocations")
    assert not http1.applies("https://ingress.example/seldon/ns/m/api/v1.0/predictions")
    assert not http1.applies("http://user:secret@127.0.0.1:9000/invocations")


def test_refused_and_unresolvable_say_so():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(Unreachable) as err:
        send(RequestSender(timeout=5), f"http://127.0.0.1:{port}")
    assert "Connection refused" in err.value.detail and f"127.0.0.1:{port}" in str(err.value)
    with pytest.raises(Unreachable) as err:
        send(RequestSender(timeout=5), "http://model.invalid:8080")
    assert "model.invalid" in str(err.value) and err.value.detail


def test_a_port_that_does_not_speak_http_says_so():
    with server(lambda req, n: b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n", close_after=True) as srv:
        with pytest.raises(Unreachable) as err:
            send(RequestSender(timeout=5), srv.url)
        assert err.value.detail == "the server did not answer in HTTP/1.1: b'SSH-2.0-OpenSSH_9.2p1 Debian-2\\r\\n'"
