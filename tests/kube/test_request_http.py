"""Test requests (``RequestSender``, one pooled httpx client) against real servers on loopback that answer the
way real ones do at the edges: kept-alive and dropped connections, resets, slow answers, chunked answers,
answers cut short, other charsets, redirects, a proxy in the environment.

The good and bad payloads against MLServer, the seldon-core microservice and ``mlflow models serve``
(tests/kube/test_kube_endpoints.py) and the large ones (tests/kube/test_request_large.py) go this way too.
"""

from __future__ import annotations

import base64
import socket
import socketserver
import ssl
import struct
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from backends.deployments.inference import KEPT_BODY_CHARS, RequestSender
from backends.errors import BackendTimeout, Unreachable
from tests.tls_cert import self_signed

RESET = b"<reset>"  # an answer that is a TCP reset, not a word


@pytest.fixture(autouse=True)
def _no_proxy_from_the_environment(monkeypatch):
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy",
                 "NO_PROXY", "no_proxy", "SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)


class Server:
    """A real TCP server; ``answer(request_bytes, n_on_this_connection)`` says what to write back
    (None: close the connection without a word; RESET: reset it). Counts connections and requests."""

    def __init__(self, answer: Callable[[bytes, int], bytes | None], close_after: bool = False) -> None:
        self.answer, self.close_after = answer, close_after
        self.connections = 0
        self.closed = 0  # connections that ended
        self.requests: list[tuple[int, bytes]] = []  # (client port, request)
        self.url = ""
        self.release = threading.Event()  # lets a deliberately slow answer go at the end of the test


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
def server(answer: Callable[[bytes, int], bytes | None], close_after: bool = False,
           tls: tuple[Path, Path] | None = None) -> Iterator[Server]:
    state = Server(answer, close_after)

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            state.connections += 1
            n = 0
            try:
                while True:
                    request = _read_request(self.rfile)
                    if request is None:
                        return
                    n += 1
                    state.requests.append((self.client_address[1], request))
                    reply = state.answer(request, n)
                    if reply is None:
                        return
                    if reply == RESET:
                        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                        self.connection.close()
                        return
                    self.wfile.write(reply)
                    self.wfile.flush()
                    if state.close_after:
                        return
            finally:
                state.closed += 1

    srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    if tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(tls[0]), str(tls[1]))
        srv.socket = context.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    state.url = f"{'https' if tls else 'http'}://127.0.0.1:{srv.server_address[1]}"
    try:
        yield state
    finally:
        state.release.set()
        srv.shutdown()
        srv.server_close()


def ok(body: bytes = b'{"ok": true}', extra: bytes = b"") -> bytes:
    return (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + extra +
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


def send(sender: RequestSender, url: str, body: str = '{"x": 1}'):
    return sender.send(f"{url}/invocations", body)[1]


def eventually(condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.02)


def head_lines(request: bytes) -> list[bytes]:
    return [line.lower() for line in request.partition(b"\r\n\r\n")[0].split(b"\r\n")]


def test_requests_share_one_kept_alive_connection_until_the_sender_closes():
    with server(lambda req, n: ok(b'{"n": %d}' % n)) as srv:
        sender = RequestSender(timeout=5)
        first, second = send(sender, srv.url), send(sender, srv.url, '{"x": 2}')
        assert (first.status, first.body, second.body) == (200, '{"n": 1}', '{"n": 2}')
        assert srv.connections == 1
        assert len({port for port, _ in srv.requests}) == 1, "both requests on one kept-alive connection"
        head, _, body = srv.requests[1][1].partition(b"\r\n\r\n")
        assert body == b'{"x": 2}'
        lines = head_lines(srv.requests[1][1])
        assert head.split(b"\r\n")[0] == b"POST /invocations HTTP/1.1"
        assert b"content-type: application/json" in lines
        assert f"host: {srv.url.removeprefix('http://')}".encode() in lines
        assert b"user-agent: mlops-console" in lines
        assert second.content_type == "application/json"
        # the metadata GETs go on the same connection
        assert sender.get_json(f"{srv.url}/v2/models/m") == {"n": 3}
        assert srv.connections == 1
        sender.close()
        eventually(lambda: srv.closed == 1, "the kept connection closed by the sender")


def test_a_connection_the_server_closed_while_idle_is_not_used():
    with server(lambda req, n: ok(), close_after=True) as srv:
        sender = RequestSender(timeout=5)
        for _ in range(3):
            assert send(sender, srv.url).status == 200
        assert srv.connections == 3 and len(srv.requests) == 3
        sender.close()


def test_a_kept_connection_dropped_as_the_request_left_is_retried_once_on_a_new_one():
    # the server answers the first request of each connection and drops the connection at the second,
    # without a byte: what a server does when its keep-alive timer fires as the request arrives
    with server(lambda req, n: ok() if n == 1 else None) as srv:
        sender = RequestSender(timeout=5)
        assert send(sender, srv.url).status == 200
        assert send(sender, srv.url).status == 200
        assert srv.connections == 2 and len(srv.requests) == 3
        sender.close()


def test_a_kept_connection_reset_as_the_request_left_is_retried_once_on_a_new_one():
    with server(lambda req, n: ok() if n == 1 else RESET) as srv:
        sender = RequestSender(timeout=5)
        assert send(sender, srv.url).status == 200
        assert send(sender, srv.url).status == 200
        assert srv.connections == 2 and len(srv.requests) == 3
        sender.close()


def test_a_fresh_connection_closed_without_an_answer_is_not_retried():
    with server(lambda req, n: None) as srv:
        sender = RequestSender(timeout=5)
        with pytest.raises(Unreachable) as err:
            send(sender, srv.url)
        assert err.value.detail == "the server closed the connection without answering"
        assert srv.url.removeprefix("http://") in str(err.value)
        assert len(srv.requests) == 1, "a request that may have reached the model is not sent twice"


def test_a_reset_says_so_and_is_not_retried_on_a_fresh_connection():
    with server(lambda req, n: RESET) as srv:
        with pytest.raises(Unreachable) as err:
            send(RequestSender(timeout=5), srv.url)
        assert "Connection reset by peer" in err.value.detail
        assert str(err.value).startswith("cannot reach the model server")
        assert len(srv.requests) == 1


def test_a_slow_server_times_out_with_the_contexts_timeout():
    def slow(req: bytes, n: int) -> bytes:
        srv.release.wait(30)
        return ok()

    with server(slow) as srv:
        with pytest.raises(BackendTimeout) as err:
            send(RequestSender(timeout=0.5), srv.url)
        assert str(err.value).startswith("no answer within 0.5 s")
        assert "raise `timeout` in the context" in str(err.value)
        assert len(srv.requests) == 1, "a request that timed out is not sent again"


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


def test_an_answer_of_megabytes_keeps_its_beginning_and_says_how_much_more():
    big = b'{"outputs": [' + b",".join(b"%d" % (i % 10) for i in range(1_500_000)) + b"]}"
    with server(lambda req, n: ok(big)) as srv:
        payload = '{"x": [' + ",".join(["1.5"] * 300_000) + "]}"
        response = send(RequestSender(timeout=30), srv.url, payload)
        assert response.status == 200
        assert len(response.body) == KEPT_BODY_CHARS and response.body_cut == len(big) - KEPT_BODY_CHARS
        assert big.decode().startswith(response.body)
        assert srv.requests[0][1].partition(b"\r\n\r\n")[2] == payload.encode()


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
        assert send(sender, srv.url).status == 200
        assert srv.connections == 2 and len(srv.requests) == 2
        sender.close()


def test_a_redirect_is_an_answer_not_followed():
    moved = b"HTTP/1.1 307 Temporary Redirect\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n"
    with server(lambda req, n: moved) as srv:
        response = send(RequestSender(timeout=5), srv.url)
        assert response.status == 307 and not response.ok
        assert len(srv.requests) == 1


def test_credentials_in_the_url_go_as_basic_auth_and_never_into_an_error():
    with server(lambda req, n: ok()) as srv:
        url = srv.url.replace("http://", "http://ml-user:s3cret-pw@")
        assert send(RequestSender(timeout=5), url).status == 200
        auth = "authorization: basic " + base64.b64encode(b"ml-user:s3cret-pw").decode().lower()
        assert auth.encode() in head_lines(srv.requests[0][1])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(Unreachable) as err:
        send(RequestSender(timeout=5), f"http://ml-user:s3cret-pw@127.0.0.1:{port}")
    assert "s3cret-pw" not in f"{err.value} {err.value.endpoint} {err.value.detail}"
    assert f"ml-user:***@127.0.0.1:{port}" in str(err.value)


def test_a_proxy_in_the_environment_is_used_and_no_proxy_is_honoured(monkeypatch):
    # a real forward proxy would see the absolute URL in the request line; this one answers with it
    def proxy(req: bytes, n: int) -> bytes:
        return ok(b'{"proxied": "%s"}' % req.split(b" ")[1])

    with server(proxy) as prx, server(lambda req, n: ok(b'{"direct": true}')) as direct:
        monkeypatch.setenv("HTTP_PROXY", prx.url)
        sender = RequestSender(timeout=5)
        response = send(sender, "http://model.invalid:8080")
        assert response.body == '{"proxied": "http://model.invalid:8080/invocations"}'
        sender.close()
        # NO_PROXY names what is reached straight (e.g. a port-forward on localhost)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
        sender = RequestSender(timeout=5)
        assert send(sender, direct.url).body == '{"direct": true}'
        assert send(sender, "http://model.invalid:8080").body.startswith('{"proxied"')
        assert len(direct.requests) == 1 and len(prx.requests) == 2
        sender.close()


def test_https_checks_the_certificate_against_the_ca_file_of_the_environment(tmp_path, monkeypatch):
    try:
        cert, key = self_signed(tmp_path)
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"openssl could not make a test certificate: {exc}")
    with server(lambda req, n: ok(b'{"n": %d}' % n), tls=(cert, key)) as srv:
        with pytest.raises(Unreachable) as err:
            send(RequestSender(timeout=5), srv.url)
        assert "CERTIFICATE_VERIFY_FAILED" in err.value.detail and not srv.requests
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        sender = RequestSender(timeout=5)
        assert [send(sender, srv.url).body for _ in range(2)] == ['{"n": 1}', '{"n": 2}']
        assert srv.connections == 1
        sender.close()


def test_refused_and_unresolvable_say_so():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(Unreachable) as err:
        send(RequestSender(timeout=5), f"http://127.0.0.1:{port}")
    assert "Connection refused" in err.value.detail and f"127.0.0.1:{port}" in str(err.value)
    assert str(err.value).startswith("cannot reach the model server")
    with pytest.raises(Unreachable) as err:
        send(RequestSender(timeout=5), "http://model.invalid:8080")
    assert "no address for model.invalid" in str(err.value) and err.value.detail
    with pytest.raises(Unreachable) as err:
        send(RequestSender(timeout=5), "http://ml-user:s3cret-pw@127.0.0.1:80a")
    assert str(err.value).startswith("cannot send to this address: it is not a valid URL")
    assert err.value.detail == "Invalid port: '80a'" and "s3cret-pw" not in str(err.value)


def test_a_port_that_does_not_speak_http_says_so():
    # sshd answers a line it cannot read with its banner and a complaint, then hangs up
    sshd = b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\nInvalid SSH identification string.\r\n"
    with server(lambda req, n: sshd, close_after=True) as srv:
        with pytest.raises(Unreachable) as err:
            send(RequestSender(timeout=5), srv.url)
        assert str(err.value).startswith("cannot reach the model server")
        assert err.value.detail == "the server closed the connection without answering"
    # a head that is not HTTP's is quoted
    with server(lambda req, n: b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n\r\n") as srv:
        with pytest.raises(Unreachable) as err:
            send(RequestSender(timeout=5), srv.url)
        assert err.value.detail == "the server did not answer in HTTP/1.1: b'SSH-2.0-OpenSSH_9.2p1 Debian-2'"
