"""Prometheus behind TLS and basic auth (its own --web.config.file), behind a bearer-token proxy,
and stopped and started again under the backend's feet."""

from __future__ import annotations

import json
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import certifi
import httpx
import pytest

from backends.errors import Forbidden, NotConfigured, Unreachable
from backends.metrics.prometheus import PrometheusMetrics

try:  # bcrypt hashes for Prometheus' basic_auth_users, through the system's libxcrypt
    import crypt
except ImportError:  # Python >= 3.13
    crypt = None

from ..tls_cert import self_signed
from .conftest import TEMPERATURES, start_prometheus, wait_for

USER, PASSWORD, TOKEN = "admin", "s3cret-pass", "tok-123456"


def _cert(folder):
    return self_signed(folder)


@pytest.fixture(scope="module")
def secure_prometheus(tmp_path_factory, exporter):
    if crypt is None:
        pytest.skip("the crypt module (Python < 3.13) is needed to hash the basic-auth password")
    workdir = tmp_path_factory.mktemp("prom-secure")
    try:
        cert, key = _cert(workdir)
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"openssl could not make a test certificate: {exc}")
    hashed = crypt.crypt(PASSWORD, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16))
    web = workdir / "web.yml"
    web.write_text(f"tls_server_config:\n  cert_file: {cert}\n  key_file: {key}\n"
                   f"basic_auth_users:\n  {USER}: '{hashed}'\n")
    server = start_prometheus(workdir, {"exporter": exporter.address}, web_config=web, scheme="https",
                              probe={"verify": False, "auth": (USER, PASSWORD)})
    server.cert = cert
    yield server
    server.stop()


def test_tls_is_verified_by_default(secure_prometheus):
    backend = PrometheusMetrics.from_settings({"prometheus_url": secure_prometheus.url,
                                               "prometheus_username": USER, "prometheus_password": PASSWORD})
    with pytest.raises(Unreachable) as err:
        backend.metric_names()
    assert "TLS" in str(err.value) and "prometheus_ca_file" in err.value.hint


def test_ca_file_and_basic_auth(secure_prometheus, recwarn):
    settings = {"prometheus_url": secure_prometheus.url, "prometheus_ca_file": str(secure_prometheus.cert),
                "prometheus_username": USER, "prometheus_password": PASSWORD, "timeout": 5}
    backend = PrometheusMetrics.from_settings(settings)
    values = wait_for(lambda: {dict(s.labels)["room"]: s.value
                               for s in backend.instant_query("mlc_room_temperature_celsius").samples},
                      20, what="the secure Prometheus to scrape")
    assert values == TEMPERATURES
    wrong = PrometheusMetrics.from_settings({**settings, "prometheus_password": "wrong-" + PASSWORD})
    with pytest.raises(Forbidden) as err:
        wrong.alerts()
    assert err.value.status == 401
    assert PASSWORD not in str(err.value) and "wrong-" not in str(err.value)
    assert "prometheus_username" in err.value.hint
    insecure = PrometheusMetrics.from_settings({**settings, "prometheus_ca_file": None,
                                                "prometheus_verify": False})
    assert "mlc_room_temperature_celsius" in insecure.metric_names()
    assert "MlcAlwaysFiring" in {a.name for a in insecure.alerts()}
    # asked for in the settings: not a warning on every request
    assert not [w for w in recwarn if "Unverified HTTPS request" in str(w.message)]
    missing = PrometheusMetrics.from_settings({**settings, "prometheus_ca_file": "/nonexistent/ca.pem"})
    with pytest.raises(NotConfigured, match="does not exist"):
        missing.targets()


def test_the_settings_hold_when_requests_ca_bundle_is_set(secure_prometheus, monkeypatch):
    """requests lets REQUESTS_CA_BUNDLE (set on many machines) override a session's own verify setting."""
    bundle = certifi.where()  # a CA bundle without the test's CA
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", bundle)
    monkeypatch.setenv("CURL_CA_BUNDLE", bundle)
    settings = {"prometheus_url": secure_prometheus.url, "prometheus_ca_file": str(secure_prometheus.cert),
                "prometheus_username": USER, "prometheus_password": PASSWORD, "timeout": 5}
    for backend in (PrometheusMetrics.from_settings(settings),
                    PrometheusMetrics.from_settings({**settings, "prometheus_ca_file": None,
                                                     "prometheus_verify": False})):
        assert "MlcAlwaysFiring" in {a.name for a in wait_for(backend.alerts, 20, what="the rules evaluated")}
        assert "exporter" in {t.job for t in backend.targets()}
        assert backend.instant_query("1 + 2").samples[0].value == 3.0


def test_a_ca_named_by_ssl_cert_file(secure_prometheus, monkeypatch):
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SSL_CERT_FILE", str(secure_prometheus.cert))
    backend = PrometheusMetrics.from_settings({"prometheus_url": secure_prometheus.url, "prometheus_username": USER,
                                               "prometheus_password": PASSWORD, "timeout": 5})
    assert "exporter" in {t.job for t in backend.targets()}


class _BearerProxy(BaseHTTPRequestHandler):
    """An auth proxy in front of the real Prometheus: wants `Authorization: Bearer TOKEN`."""

    upstream = ""

    def _forward(self):
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            body = json.dumps({"status": "error", "errorType": "unauthorized", "error": "bad token"}).encode()
            self.send_response(401)
        else:
            length = int(self.headers.get("Content-Length") or 0)
            answer = httpx.request(self.command, self.upstream + self.path,
                                   content=self.rfile.read(length) if length else None,
                                   headers={"Content-Type": self.headers.get("Content-Type", "")}, timeout=5)
            body = answer.content
            self.send_response(answer.status_code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _forward

    def log_message(self, *args):
        pass


def test_bearer_token_behind_a_proxy(prometheus):
    handler = type("Proxy", (_BearerProxy,), {"upstream": prometheus.url})
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{proxy.server_address[1]}"
        good = PrometheusMetrics.from_settings({"prometheus_url": url, "prometheus_token": TOKEN})
        assert good.label_values("room") == tuple(sorted(TEMPERATURES))
        assert good.instant_query("1 + 2").samples[0].value == 3.0
        assert "MlcAlwaysFiring" in {a.name for a in good.alerts()}
        bad = PrometheusMetrics.from_settings({"prometheus_url": url, "prometheus_token": "nope-987"})
        with pytest.raises(Forbidden) as err:
            bad.metric_names()
        assert "nope-987" not in str(err.value) and TOKEN not in repr(bad)
    finally:
        proxy.shutdown()
        proxy.server_close()


def test_prometheus_stopped_and_started_again(secure_prometheus):
    backend = PrometheusMetrics.from_settings({
        "prometheus_url": secure_prometheus.url, "prometheus_ca_file": str(secure_prometheus.cert),
        "prometheus_username": USER, "prometheus_password": PASSWORD, "timeout": 3})
    count = "count_over_time(up[10m])"
    before = wait_for(lambda: [s.value for s in backend.instant_query(count).samples if s.value >= 3], 20,
                      what="three scrapes by the secure Prometheus")[0]
    secure_prometheus.stop()
    with pytest.raises(Unreachable) as err:
        backend.instant_query("up")
    assert secure_prometheus.url in str(err.value)
    secure_prometheus.start()
    # the same backend object recovers; the data scraped before the restart is still there
    samples = wait_for(lambda: backend.instant_query(count).samples, 20, what="Prometheus back")
    assert samples[0].value >= before
