"""For the tests that hunt secrets: which files under some folders hold a given text, and a server that
answers every request with a 500 (a tracking server or DVC remote behind a URL with a password)."""

from __future__ import annotations

import contextlib
import os
import stat
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def files_holding(secret: str, *roots: str | os.PathLike[str]) -> list[str]:
    """Every file under ``roots`` whose bytes hold ``secret`` (a log, a saved request, a history ...)."""
    needle = secret.encode()
    found = []
    for root in roots:
        for path in Path(root).rglob("*"):
            if path.is_file() and not path.is_symlink():
                try:
                    if needle in path.read_bytes():
                        found.append(str(path))
                except OSError:
                    continue
    return found


def mode(path: str | os.PathLike[str]) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


class _Answers500(BaseHTTPRequestHandler):
    """What a server behind a broken proxy or with a failing disk or database answers every request with."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._fail()

    def do_HEAD(self) -> None:
        self._fail(body=False)

    def do_POST(self) -> None:
        self._fail()

    def do_PUT(self) -> None:
        self._fail()

    def _fail(self, body: bool = True) -> None:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:  # an upload sent in chunks: read it to its end before answering
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                self.rfile.read(size + 2)
                if size == 0:
                    break
        else:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
        text = b"Internal Server Error"
        self.send_response(500)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        if body:
            self.wfile.write(text)

    def log_message(self, *args) -> None:
        pass


@contextlib.contextmanager
def server_answering_500():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Answers500)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()
