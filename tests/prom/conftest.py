"""A real Prometheus for the Metrics tests, scraping exporters these tests control.

Started once per session on 127.0.0.1 with a 1 s scrape and rule evaluation interval:
- job ``exporter``: gauges with known values and label sets, a counter, a Seldon-style histogram,
  60 series of one metric (for the series cap), ``mlc_alert_trigger`` (0 until a test sets it),
  the working-set memory of three model pods (``container_memory_working_set_bytes``, for label
  value completion) and a Seldon-style request count per deployment that grows at a fixed rate
  (``seldon_api_executor_client_requests_seconds_count``, for ``rate()``);
- job ``flaky``: a second exporter a test stops to see the target go down;
- job ``gone``: a port nothing listens on (its target is always down);
- rules file: ``MlcTriggerHigh`` (``mlc_alert_trigger > 0`` for 4 s: pending, then firing),
  ``MlcAlwaysFiring`` and ``MlcModelMemoryHigh`` (pending for an hour: wine's memory is over 2 MiB).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import SummaryMetricFamily

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"

TEMPERATURES = {"kitchen": 21.5, "garage": 7.25, "attic": 30.0}
MEMORY_BYTES = {"iris": 1048576.0, "wine": 3145728.0}
MANY_SERIES = 60
#: model pods: name -> (namespace, working-set bytes)
POD_MEMORY = {
    "iris-default-0-classifier-7d9f": ("seldon", 384 * 2**20),
    "wine-default-0-classifier-7d9f": ("seldon", 256 * 2**20),
    "income-default-0-classifier-7d9f": ("models", 128 * 2**20),
}
#: requests per second each Seldon deployment's executor sends its model: deployment -> (namespace, rate)
CLIENT_REQUEST_RATES = {"iris": ("seldon", 3.0), "wine": ("seldon", 2.0), "income": ("models", 1.0)}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, timeout: float = 20.0, interval: float = 0.2, what: str = "condition"):
    """Poll ``check()`` until it returns something truthy; fail the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except Exception as exc:  # noqa: BLE001 - reported below if it never succeeds
            last_exc = exc
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last error: {last_exc})")


@dataclass
class Exporter:
    port: int
    registry: CollectorRegistry
    metrics: dict = field(default_factory=dict)
    server: object = None
    thread: object = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


def start_exporter(registry: CollectorRegistry, port: int | None = None) -> Exporter:
    port = port or free_port()
    server, thread = start_http_server(port, addr="127.0.0.1", registry=registry)
    return Exporter(port, registry, server=server, thread=thread)


class SteadyRequests:
    """``seldon_api_executor_client_requests_seconds`` (a summary: ``_count`` and ``_sum``) per
    deployment, counting up from 0 at ``rates`` requests per second since the exporter started."""

    NAME = "seldon_api_executor_client_requests_seconds"
    LABELS = ("deployment_name", "namespace", "code")

    def __init__(self, rates: dict[str, tuple[str, float]]) -> None:
        self.rates = rates
        self.started = time.monotonic()

    def _family(self) -> SummaryMetricFamily:
        return SummaryMetricFamily(self.NAME, "Seldon executor calls to the model", labels=self.LABELS)

    def describe(self):
        return [self._family()]

    def collect(self):
        elapsed = time.monotonic() - self.started
        family = self._family()
        for deployment, (namespace, rate) in self.rates.items():
            family.add_metric([deployment, namespace, "200"], count_value=rate * elapsed,
                              sum_value=0.01 * rate * elapsed)
        yield family


def build_main_exporter() -> Exporter:
    registry = CollectorRegistry()
    temp = Gauge("mlc_room_temperature_celsius", "Room temperature", ["room"], registry=registry)
    for room, value in TEMPERATURES.items():
        temp.labels(room=room).set(value)
    memory = Gauge("mlc_model_memory_bytes", "Model memory", ["model"], registry=registry)
    for model, value in MEMORY_BYTES.items():
        memory.labels(model=model).set(value)
    requests = Counter("mlc_requests", "Requests served", ["code"], registry=registry)
    requests.labels(code="200").inc(100)
    requests.labels(code="500").inc(3)
    many = Gauge("mlc_many_series", "Many series", ["idx"], registry=registry)
    for i in range(MANY_SERIES):
        many.labels(idx=f"{i:02d}").set(i)
    trigger = Gauge("mlc_alert_trigger", "Set to 1 to fire MlcTriggerHigh", registry=registry)
    seldon = Histogram(
        "seldon_api_executor_server_requests_seconds", "Seldon executor latency",
        ["deployment_name", "namespace", "code", "method"], registry=registry,
        buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
    )
    for _ in range(50):
        seldon.labels("iris", "seldon", "200", "POST").observe(0.02)
    for _ in range(5):
        seldon.labels("iris", "seldon", "500", "POST").observe(0.3)
    pods = Gauge("container_memory_working_set_bytes", "Working set of a container",
                 ["namespace", "pod", "container"], registry=registry)
    for pod, (namespace, value) in POD_MEMORY.items():
        pods.labels(namespace=namespace, pod=pod, container="classifier").set(value)
    client_requests = SteadyRequests(CLIENT_REQUEST_RATES)
    registry.register(client_requests)
    exporter = start_exporter(registry)
    exporter.metrics.update(temp=temp, memory=memory, requests=requests, many=many,
                            trigger=trigger, seldon=seldon, pods=pods, client_requests=client_requests)
    return exporter


RULES = """
groups:
  - name: mlc
    rules:
      - alert: MlcTriggerHigh
        expr: mlc_alert_trigger > 0
        for: 4s
        labels:
          severity: page
        annotations:
          summary: "trigger is {{ $value }}"
      - alert: MlcAlwaysFiring
        expr: vector(1)
        labels:
          severity: info
        annotations:
          summary: always on
      - alert: MlcModelMemoryHigh
        expr: mlc_model_memory_bytes > 2 * 1024 * 1024
        for: 1h
        labels:
          severity: warning
        annotations:
          summary: "{{ $labels.model }} uses {{ $value | humanize1024 }}B"
"""


@dataclass
class PrometheusServer:
    port: int
    workdir: Path
    proc: subprocess.Popen | None = None
    web_config: Path | None = None  # TLS and basic auth (Prometheus' --web.config.file)
    scheme: str = "http"
    probe: dict = field(default_factory=dict)  # httpx arguments for the readiness probe

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        log = open(self.workdir / "prometheus.log", "ab")
        self.proc = subprocess.Popen(
            [PROMETHEUS, f"--config.file={self.workdir / 'prom.yml'}",
             f"--web.listen-address=127.0.0.1:{self.port}",
             f"--storage.tsdb.path={self.workdir / 'data'}", "--log.level=warn"]
            + ([f"--web.config.file={self.web_config}"] if self.web_config else []),
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        log.close()

        def ready():
            if self.proc.poll() is not None:
                raise RuntimeError((self.workdir / "prometheus.log").read_text()[-2000:])
            return httpx.get(f"{self.url}/-/ready", timeout=1, **self.probe).status_code == 200

        wait_for(ready, timeout, what="Prometheus /-/ready")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None


def write_config(workdir: Path, jobs: dict[str, str]) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "rules.yml").write_text(RULES)
    scrape = "\n".join(
        f"  - job_name: {job}\n    static_configs:\n      - targets: ['{target}']"
        for job, target in jobs.items()
    )
    (workdir / "prom.yml").write_text(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n"
        f"rule_files:\n  - {workdir / 'rules.yml'}\nscrape_configs:\n{scrape}\n"
    )


def start_prometheus(workdir: Path, jobs: dict[str, str], **options) -> PrometheusServer:
    if not Path(PROMETHEUS).exists():
        pytest.skip("the prometheus binary is not installed (apt-get install prometheus)")
    write_config(workdir, jobs)
    server = PrometheusServer(free_port(), workdir, **options)
    server.start()
    return server


@pytest.fixture(scope="session")
def exporter():
    exp = build_main_exporter()
    yield exp
    exp.stop()


@pytest.fixture(scope="session")
def flaky_exporter():
    registry = CollectorRegistry()
    Gauge("mlc_flaky_up", "A gauge on the exporter that goes away", registry=registry).set(1)
    exp = start_exporter(registry)
    yield exp
    exp.stop()


@pytest.fixture(scope="session")
def gone_target():
    """An address where nothing answers: a port held for the session (bound, never listening),
    so every scrape of it is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind(("127.0.0.1", 0))
        yield f"127.0.0.1:{held.getsockname()[1]}"


@pytest.fixture(scope="session")
def prometheus(tmp_path_factory, exporter, flaky_exporter, gone_target):
    """The session's Prometheus, already holding a few scrapes of both exporters (and of ``gone``)."""
    server = start_prometheus(tmp_path_factory.mktemp("prom"),
                              {"exporter": exporter.address, "flaky": flaky_exporter.address,
                               "gone": gone_target})

    def scraped():
        r = httpx.get(f"{server.url}/api/v1/query",
                      params={"query": "count_over_time(mlc_room_temperature_celsius[1m])"}, timeout=2)
        result = r.json()["data"]["result"]
        return result and min(float(x["value"][1]) for x in result) >= 3

    wait_for(scraped, 30, what="three scrapes of the exporter")
    yield server
    server.stop()


@pytest.fixture
def settings(prometheus):
    return {"name": "test", "prometheus_url": prometheus.url, "timeout": 5.0}
