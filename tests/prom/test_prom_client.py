"""How PrometheusMetrics talks HTTP, through prometheus-api-client's session: one kept-alive session for the
library's calls and the others (alerts), with the same credentials and headers; no retries of its own (the pane
has its backoff); a proxy from the environment honoured, its password never shown.

Between the backend and the session's real Prometheus sits a small relay these tests start: it forwards every
request and records what it saw."""

from __future__ import annotations

import base64
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from backends.errors import ServerError, Unreachable
from backends.metrics.prometheus import PrometheusMetrics

from .conftest import TEMPERATURES, free_port

USER, PASSWORD = "reader", "relay-pass-42"
PROXY_USER, PROXY_PASSWORD = "puser", "proxy-pass-77"


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class _Relay(BaseHTTPRequestHandler):
    """Forwards to ``upstream`` (or, as a forward proxy, to the absolute URL asked for), after answering the
    first ``failures`` requests with 503; records each request."""

    protocol_version = "HTTP/1.1"  # keep-alive, as Prometheus does
    upstream: str | None = None
    failures = 0
    proxy_authorization: str | None = None
    seen: list[dict[str, object]]

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        content = self.rfile.read(length) if length else None
        self.seen.append({"method": self.command, "path": self.path, "client": self.client_address,
                          "authorization": self.headers.get("Authorization"),
                          "proxy_authorization": self.headers.get("Proxy-Authorization"),
                          "accept": self.headers.get("Accept")})
        kind = "application/json"
        if self.proxy_authorization and self.headers.get("Proxy-Authorization") != self.proxy_authorization:
            status, body = 407, b"proxy authentication required"
        elif len(self.seen) <= self.failures:
            status, body, kind = 503, b"Service Unavailable", "text/plain"
        else:
            url = self.path if self.upstream is None else self.upstream + self.path
            answer = httpx.request(self.command, url, content=content, timeout=10, trust_env=False,
                                   headers={"Content-Type": self.headers.get("Content-Type", "")})
            status, body = answer.status_code, answer.content
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _forward

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def relay():
    """Start a relay: ``relay(upstream=..., failures=..., proxy_authorization=...)`` -> (url, seen)."""
    servers = []

    def start(**attributes):
        seen: list[dict[str, object]] = []
        handler = type("Relay", (_Relay,), {**attributes, "seen": seen})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}", seen

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def no_proxy_settings(monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return monkeypatch


def test_a_failed_answer_is_reported_once_not_retried(prometheus, relay, no_proxy_settings):
    url, seen = relay(upstream=prometheus.url, failures=1)
    backend = PrometheusMetrics.from_settings({"prometheus_url": url, "timeout": 5})
    # a GET the library would retry on 503 with its default urllib3 retries (1 s backoff), and then succeed
    with pytest.raises(ServerError) as err:
        backend.metric_names()
    assert err.value.status == 503 and err.value.detail == "Service Unavailable"
    assert len(seen) == 1
    # the next call (the pane's own retry, after its backoff) gets through
    assert "mlc_room_temperature_celsius" in backend.metric_names()
    assert len(seen) == 2


def test_every_call_goes_through_one_kept_alive_session(prometheus, relay, no_proxy_settings):
    url, seen = relay(upstream=prometheus.url)
    backend = PrometheusMetrics.from_settings({"prometheus_url": url, "prometheus_username": USER,
                                               "prometheus_password": PASSWORD, "timeout": 5})
    values = {dict(s.labels)["room"]: s.value for s in backend.instant_query("mlc_room_temperature_celsius").samples}
    assert values == TEMPERATURES
    assert backend.label_values("room") == tuple(sorted(TEMPERATURES))
    assert "MlcAlwaysFiring" in {a.name for a in backend.alerts()}  # not a library call: the session's own
    assert "exporter" in {t.job for t in backend.targets()}
    paths = [str(request["path"]).split("?")[0] for request in seen]
    assert paths == ["/api/v1/query", "/api/v1/label/room/values", "/api/v1/alerts", "/api/v1/targets"]
    assert {request["authorization"] for request in seen} == {_basic(USER, PASSWORD)}
    assert {request["accept"] for request in seen} == {"application/json"}
    assert len({request["client"] for request in seen}) == 1  # one connection, kept alive
    backend.close()
    assert "mlc_room_temperature_celsius" in backend.metric_names()  # a closed backend opens a new session
    assert len({request["client"] for request in seen}) == 2


def test_a_proxy_from_the_environment_carries_every_call(prometheus, relay, no_proxy_settings):
    proxy, seen = relay(proxy_authorization=_basic(PROXY_USER, PROXY_PASSWORD))
    port = proxy.rsplit(":", 1)[1]
    no_proxy_settings.setenv("HTTP_PROXY", f"http://{PROXY_USER}:{PROXY_PASSWORD}@127.0.0.1:{port}")
    backend = PrometheusMetrics.from_settings({"prometheus_url": prometheus.url, "timeout": 5})
    assert "room" in backend.label_names("mlc_room_temperature_celsius")
    assert backend.instant_query("1 + 2").samples[0].value == 3.0
    assert "MlcAlwaysFiring" in {a.name for a in backend.alerts()}
    # a forward proxy is asked for the absolute URL
    assert [str(request["path"]).split("?")[0] for request in seen] == [
        f"{prometheus.url}/api/v1/labels", f"{prometheus.url}/api/v1/query", f"{prometheus.url}/api/v1/alerts"]
    assert {request["proxy_authorization"] for request in seen} == {_basic(PROXY_USER, PROXY_PASSWORD)}

    no_proxy_settings.setenv("HTTP_PROXY", f"http://{PROXY_USER}:{PROXY_PASSWORD}@127.0.0.1:{free_port()}")
    down = PrometheusMetrics.from_settings({"prometheus_url": prometheus.url, "timeout": 5})
    with pytest.raises(Unreachable) as err:
        down.alerts()
    assert "proxy" in str(err.value) and "HTTP_PROXY" in str(err.value)
    assert PROXY_PASSWORD not in str(err.value) and PROXY_PASSWORD not in (err.value.detail or "")

    no_proxy_settings.setenv("NO_PROXY", "127.0.0.1")  # the same dead proxy, not asked for this host
    direct = PrometheusMetrics.from_settings({"prometheus_url": prometheus.url, "timeout": 5})
    assert "MlcAlwaysFiring" in {a.name for a in direct.alerts()}
