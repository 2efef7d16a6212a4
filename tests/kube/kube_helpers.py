"""Small helpers shared by the Deployments tests (importable: tests/kube is put on sys.path)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

IRIS_FEATURES = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]
GOOD_ROW = [5.1, 3.5, 1.4, 0.2]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.05):
    """Poll ``predicate`` until it returns something truthy; that value, or AssertionError."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s (last: {last!r})")


class SlowServer:
    """A model server that answers every POST with ``{}`` after ``delay`` seconds (GETs at once)."""

    def __init__(self, url: str, delay: float) -> None:
        self.url, self.delay, self.posts = url, delay, 0
        self.received: list[datetime] = []  # when each POST arrived


@contextmanager
def slow_server(delay: float) -> Iterator[SlowServer]:
    server: SlowServer

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def _answer(self, delay: float) -> None:
            time.sleep(delay)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def do_POST(self):
            server.received.append(datetime.now(UTC))
            server.posts += 1
            self._answer(server.delay)

        def do_GET(self):
            self._answer(0)

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    server = SlowServer(f"http://127.0.0.1:{srv.server_address[1]}", delay)
    try:
        yield server
    finally:
        srv.shutdown()
        srv.server_close()
