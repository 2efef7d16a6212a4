"""A search the tracking server is slow to answer: the Runs pane says how long it has taken, that escape abandons
it, and, for a sort by a metric, why and what helps. The real ``mlflow server`` behind a relay that holds its
sorted searches for a while (a slow store, or a slow link), through the REST backend."""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from console.panes.runs.screen import SLOW_SEARCH_S

from .test_runs_pane import loaded, row_ids, runs_app, until


class _SlowRelay(BaseHTTPRequestHandler):
    """Relays to the server; a runs/search that sorts by a metric waits ``hold`` seconds first."""

    upstream = ""
    hold = 0.0
    held: list[str]

    def log_message(self, *args) -> None:
        pass

    def _relay(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)) or None
        if self.path.endswith("/runs/search") and b"metrics." in (body or b"") and self.hold:
            self.held.append(self.path)
            time.sleep(self.hold)
        request = urllib.request.Request(self.upstream + self.path, data=body, method=self.command,
                                         headers={k: v for k, v in self.headers.items() if k.lower() != "host"})
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                status, headers, data = answer.status, answer.headers, answer.read()
        except urllib.error.HTTPError as error:
            status, headers, data = error.code, error.headers, error.read()
        try:
            self.send_response(status)
            for name, value in headers.items():
                if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:  # the console gave up on it and closed the connection
            pass

    do_GET = do_POST = _relay


@pytest.fixture
def slow_relay(running_server):
    handler = type("Relay", (_SlowRelay,), {"upstream": running_server.uri, "held": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield handler, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def status_text(screen) -> str:
    return screen.query_one("#status").text


async def test_a_slow_sort_says_how_long_and_why_and_escape_abandons_it(running_server, slow_relay):
    relay, url = slow_relay
    app = runs_app(url, timeout=30)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(pilot, app, 7)
        before = row_ids(screen)
        relay.hold = SLOW_SEARCH_S + 3
        app.run_command_line(":sort -metrics.rmse")
        await until(pilot, lambda: "escape abandons it" in status_text(screen), timeout=5, what="the elapsed time")
        assert " 1 s" in status_text(screen) or " 2 s" in status_text(screen)
        await until(pilot, lambda: "PostgreSQL or MySQL" in status_text(screen), timeout=5, what="why and what helps")
        assert "sorts by a metric" in status_text(screen)
        await pilot.press("escape")
        await until(pilot, lambda: "abandoned" in status_text(screen), timeout=5, what="the search abandoned")
        assert not screen.is_busy("runs")
        assert screen.sort != ("metrics.rmse", True) and row_ids(screen) == before
        # the late answer is dropped: the table keeps the query it shows
        await pilot.pause(relay.hold)
        assert screen.sort != ("metrics.rmse", True) and row_ids(screen) == before
        assert relay.held, "the sort went through the relay"
        # the same sort, answered at once, applies
        relay.hold = 0.0
        app.run_command_line(":sort -metrics.rmse")
        await until(pilot, lambda: screen.sort == ("metrics.rmse", True), what="the sort applied")
        assert row_ids(screen)[0] == max(running_server.runs, key=lambda r: r["rmse"])["run_id"]
        assert "searching" not in status_text(screen)
