"""The Metrics pane's backend for a real Prometheus, over its HTTP API (``/api/v1``) with
prometheus-api-client's ``PrometheusConnect`` and the ``requests`` session it runs on.

Settings: ``prometheus_url`` (or ``PROMETHEUS_URL``), ``prometheus_token`` (bearer) or
``prometheus_username`` / ``prometheus_password`` (basic auth, also taken from
``https://user:pass@host`` URLs), ``prometheus_ca_file``, ``prometheus_verify`` (default true),
``timeout`` (seconds, default 10), ``refresh_interval`` (default 5), ``dashboards`` (folders).
Secrets never appear in ``endpoint`` or in any error message.
"""

from __future__ import annotations

import codecs
import json
import math
import os
import re
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import urlsplit, urlunsplit

from backends.errors import (
    BackendError,
    BackendTimeout,
    Forbidden,
    InvalidQuery,
    NotConfigured,
    NotFound,
    ServerError,
    Unreachable,
)
from backends.metrics import (
    Alert,
    InstantResult,
    InstantSample,
    RangeResult,
    Series,
    Target,
    labels_of,
)
from backends.metrics.dashboards import ImportReport, load_folders
from backends.redact import redact

if TYPE_CHECKING:
    from requests import PreparedRequest, Response, Session
    from requests.adapters import HTTPAdapter
    from urllib3 import BaseHTTPResponse

_FRACTION = re.compile(r"(\.\d{6})\d+")


def parse_time(text: str | None) -> datetime | None:
    """An RFC 3339 time from the API (nanoseconds allowed); ``None`` for empty or year 1."""
    if not text or text.startswith("0001-01-01"):
        return None
    text = _FRACTION.sub(r"\1", text.replace("Z", "+00:00"))
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _float(text: Any) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.nan


def _ts(when: datetime) -> str:
    return f"{when.timestamp():.3f}"


# -- decoding answers a piece at a time ------------------------------------------------------------
# A query over 10,000 series answers tens of MB of JSON. One json.loads of it holds the interpreter lock
# for seconds, and the UI thread can neither draw nor take a key meanwhile. So the first levels of an
# answer (the body, ``data``, its ``result`` list) are walked here and each element is decoded on its own,
# a short hold each; and a series' ``values`` are only located, then decoded for the series that are kept.

_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")
_WALKED_DEPTH = 3  # body, data, data.result: deeper values are decoded whole


class _Values:
    """The ``values`` of a series in the answer's text, not decoded yet."""

    __slots__ = ("text", "start", "end")

    def __init__(self, text: str, start: int, end: int) -> None:
        self.text, self.start, self.end = text, start, end

    def decode(self) -> Any:
        return json.loads(self.text[self.start:self.end])


def answer_text(content: bytes, piece: int = 1 << 20) -> str:
    """The answer's bytes as text, decoded a megabyte at a time (for the same reason)."""
    if content.isascii():  # the common case: a plain copy, quick at any size
        return content.decode("ascii")
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    view = memoryview(content)
    parts = [decoder.decode(view[i:i + piece]) for i in range(0, len(view), piece)]
    parts.append(decoder.decode(b"", final=True))
    return "".join(parts)


def _skip_space(text: str, pos: int) -> int:
    """Where the white space at ``pos`` ends (``_SPACE`` matches the empty string too)."""
    match = _SPACE.match(text, pos)
    assert match is not None
    return match.end()


def decode_answer(text: str) -> Any:
    """The JSON ``text`` as ``json.loads`` gives it, except that a series' ``values`` list comes as a
    :class:`_Values` to decode later (see :func:`_series_values`). Raises ``ValueError`` when it is not JSON."""
    value, end = _walk(text, _skip_space(text, 0), 0)
    if _skip_space(text, end) != len(text):
        raise ValueError("extra data after the JSON value")
    return value


def _walk(text: str, pos: int, depth: int) -> tuple[Any, int]:
    char = text[pos:pos + 1]
    if depth > _WALKED_DEPTH or char not in ("{", "["):
        return _DECODER.raw_decode(text, pos)
    close = "}" if char == "{" else "]"
    items: Any = {} if char == "{" else []
    pos = _skip_space(text, pos + 1)
    if text[pos:pos + 1] == close:
        return items, pos + 1
    while True:
        if char == "{":
            key, pos = _DECODER.raw_decode(text, pos)
            if not isinstance(key, str):
                raise ValueError(f"an object key is not a string at {pos}")
            pos = _skip_space(text, pos)
            if text[pos:pos + 1] != ":":
                raise ValueError(f"expecting ':' at {pos}")
            pos = _skip_space(text, pos + 1)
            if depth == _WALKED_DEPTH and key == "values":
                value, pos = _locate_values(text, pos)
            else:
                value, pos = _walk(text, pos, depth + 1)
            items[key] = value
        else:
            value, pos = _walk(text, pos, depth + 1)
            items.append(value)
        pos = _skip_space(text, pos)
        sep = text[pos:pos + 1]
        if sep == close:
            return items, pos + 1
        if sep != ",":
            raise ValueError(f"expecting ',' or {close!r} at {pos}")
        pos = _skip_space(text, pos + 1)


def _locate_values(text: str, pos: int) -> tuple[Any, int]:
    """A series' ``[[t, "v"], ...]``: its points hold numbers and number strings only, so the first
    ``]]`` ends it. Anything else is decoded as usual."""
    if text.startswith("[[", pos):
        end = text.find("]]", pos)
        after = _skip_space(text, end + 2) if end >= 0 else -1
        if end >= 0 and text[after:after + 1] in (",", "}") and "{" not in text[pos:end]:
            return _Values(text, pos, end + 2), end + 2
    return _DECODER.raw_decode(text, pos)


def _series_values(item: dict[str, Any]) -> Any:
    values = item.get("values") or ()
    return values.decode() if isinstance(values, _Values) else values


# -- the session's transport -----------------------------------------------------------------------
# PrometheusConnect decodes an answer with ``response.json()`` and hands back only its ``data.result``. So
# the session's adapter makes responses whose ``json()`` is the piecewise decoding above, and keeps the
# calling thread's last response: the result type, the warnings and, for an error, the status and
# Prometheus' own message are read from it.

def _adapter(answers: threading.local) -> HTTPAdapter:
    """A transport adapter that never retries (the pane has its own backoff: a retry would only hide a failure
    and multiply the wait) and whose responses decode their JSON a piece at a time, once. The thread's last
    response is left in ``answers.last``."""
    from requests import Response
    from requests.adapters import HTTPAdapter

    class Answer(Response):
        def __init__(self, response: Response) -> None:
            super().__init__()
            self.__dict__.update(vars(response))
            self.decoded: Any = None

        def json(self, **kwargs: Any) -> Any:
            if self.decoded is None:
                self.decoded = decode_answer(answer_text(self.content))
            return self.decoded

    class Adapter(HTTPAdapter):
        def build_response(self, req: PreparedRequest, resp: BaseHTTPResponse) -> Response:
            answer = Answer(super().build_response(req, resp))
            answers.last = answer
            return answer

    return Adapter(max_retries=0)


def _root_cause(exc: BaseException) -> BaseException:
    """The error under requests' and urllib3's wrappers, whose text ("Max retries exceeded with url: ...") would
    bury it: for a refused connection, ``[Errno 111] Connection refused``."""
    seen: set[int] = set()
    while id(exc) not in seen:
        seen.add(id(exc))
        inner = getattr(exc, "reason", None)  # urllib3's MaxRetryError
        if not isinstance(inner, BaseException):
            inner = exc.__cause__ or next((a for a in exc.args if isinstance(a, BaseException)), None)
        if inner is None:
            break
        exc = inner
    return exc


class PrometheusMetrics:
    """:class:`backends.metrics.MetricsSource` for one Prometheus server."""

    def __init__(self, url: str, *, token: str | None = None, username: str | None = None,
                 password: str | None = None, ca_file: str | None = None, verify: bool = True,
                 timeout: float = 10.0, refresh_interval: float = 5.0,
                 dashboard_folders: tuple[str, ...] = ()) -> None:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise NotConfigured(f"prometheus_url {url!r} is not an http(s) URL",
                                hint="give something like http://localhost:9090")
        if parts.username and not username and not token:
            username, password = parts.username, parts.password or ""
        host = parts.hostname + (f":{parts.port}" if parts.port else "")
        if ":" in parts.hostname:  # IPv6 literal
            host = f"[{parts.hostname}]" + (f":{parts.port}" if parts.port else "")
        self.base_url = urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))
        self.endpoint = self.base_url
        self._token = token or None
        self._basic = (username, password or "") if username else None
        self.ca_file = ca_file or None
        self.verify = verify
        self.timeout = float(timeout)
        self.refresh_interval = float(refresh_interval)
        self.dashboard_folders = tuple(dashboard_folders)
        self._host = parts.hostname
        self._prom: Any = None  # PrometheusConnect, made on first use
        self._session: Session | None = None
        self._lock = threading.Lock()
        self._answers = threading.local()  # each thread's last response (see _adapter)

    @staticmethod
    def import_library() -> None:
        """prometheus-api-client (and requests), imported where the app builds the backend (in a worker) so
        that they are among the objects the app moves out of the garbage collector's way."""
        import prometheus_api_client.prometheus_connect  # noqa: F401

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> PrometheusMetrics:
        url = settings.get("prometheus_url") or os.environ.get("PROMETHEUS_URL")
        if not url:
            raise NotConfigured(
                "no Prometheus configured",
                hint="set prometheus_url in the context, pass --prometheus-url, or export PROMETHEUS_URL",
            )
        verify = settings.get("prometheus_verify", True)
        if isinstance(verify, str):
            verify = verify.strip().lower() not in ("0", "false", "no", "off")
        return cls(
            str(url),
            token=settings.get("prometheus_token") or None,
            username=settings.get("prometheus_username") or None,
            password=settings.get("prometheus_password") or None,
            ca_file=settings.get("prometheus_ca_file") or None,
            verify=bool(verify),
            timeout=float(settings.get("timeout") or 10.0),
            refresh_interval=float(settings.get("refresh_interval") or 5.0),
            dashboard_folders=tuple(str(f) for f in settings.get("dashboards") or ()),
        )

    def __repr__(self) -> str:  # never the secrets
        return f"PrometheusMetrics({self.endpoint!r})"

    # -- HTTP -------------------------------------------------------------------------------
    def _connect(self) -> tuple[Any, Session]:
        with self._lock:
            if self._prom is None or self._session is None:
                self._prom, self._session = self._open()
            return self._prom, self._session

    def _open(self) -> tuple[Any, Session]:
        """PrometheusConnect on one session that carries the TLS settings, the credentials and the headers
        for every call, the library's and those it has no method for."""
        import warnings

        import requests
        from prometheus_api_client import PrometheusConnect
        from urllib3.exceptions import InsecureRequestWarning
        from urllib3.util.retry import Retry

        verify: bool | str = self.verify
        if self.ca_file:
            verify = os.path.expanduser(self.ca_file)
            if not os.path.isfile(verify):
                raise NotConfigured(f"prometheus_ca_file {verify} does not exist", endpoint=self.endpoint)
        elif not verify:
            # asked for in the settings, so not worth a warning on every request
            unverified = f"Unverified HTTPS request is being made to host '{re.escape(self._host)}'"
            warnings.filterwarnings("ignore", unverified, InsecureRequestWarning)
        session = requests.Session()
        # the proxies (NO_PROXY honoured) and CA bundle the environment gives, read once here rather than
        # by requests on every request (0.2 ms each)
        environment = session.merge_environment_settings(self.base_url, {}, None, verify, None)
        session.trust_env = False
        session.proxies, session.verify = environment["proxies"], environment["verify"]
        if session.verify is True:  # no CA named for requests: the one OpenSSL's variables name, if any
            session.verify = os.environ.get("SSL_CERT_FILE") or os.environ.get("SSL_CERT_DIR") or True
        session.headers["Accept"] = "application/json"
        if self._token:
            session.headers["Authorization"] = f"Bearer {self._token}"
        session.auth = self._basic
        adapter = _adapter(self._answers)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        # retry: the library's default is 3 retries, with backoff, on connection errors and 5xx answers
        prom = PrometheusConnect(self.base_url, session=session, retry=Retry(total=0, read=False),
                                 timeout=self.timeout, method="POST")
        session.mount(self.base_url, adapter)  # in place of the one the library mounts on its URL
        return prom, session

    def close(self) -> None:
        with self._lock:
            if self._prom is not None:
                self._prom.close()
            self._prom = self._session = None

    def _ask(self, path: str, call: Callable[[Any], Any] | None = None,
             params: dict[str, str] | None = None) -> tuple[Any, dict[str, Any]]:
        """``call(prom)`` through PrometheusConnect, or with no ``call`` a GET of ``path`` (what the library
        has no method for) through its session; its value and the answer's body. Raises the
        :class:`BackendError` that says what went wrong."""
        import requests
        from prometheus_api_client import PrometheusApiClientException

        prom, session = self._connect()
        self._answers.last = None
        try:
            try:
                if call is not None:
                    value = call(prom)
                else:
                    value = session.get(self.base_url + path, params=params, timeout=self.timeout).json()["data"]
            except requests.Timeout:
                raise BackendTimeout(
                    f"Prometheus did not answer within {self.timeout:g}s", endpoint=self.endpoint,
                    hint="it may be overloaded; try a shorter range or raise `timeout`",
                ) from None
            except requests.ConnectionError as exc:
                text = redact(str(_root_cause(exc)))
                if isinstance(exc, requests.exceptions.ProxyError):
                    raise Unreachable(
                        "cannot connect to Prometheus through the proxy", endpoint=self.endpoint, detail=text,
                        hint="check HTTPS_PROXY / HTTP_PROXY / NO_PROXY",
                    ) from None
                if "CERTIFICATE" in text.upper() or "SSL" in text.upper():
                    raise Unreachable(
                        "TLS verification of Prometheus failed", endpoint=self.endpoint, detail=text,
                        hint="set prometheus_ca_file to its CA, or prometheus_verify = false",
                    ) from None
                raise Unreachable(
                    "cannot connect to Prometheus", endpoint=self.endpoint, detail=text,
                    hint="is it running? check prometheus_url / --prometheus-url / PROMETHEUS_URL",
                ) from None
            except requests.RequestException as exc:
                raise Unreachable(f"talking to Prometheus failed: {type(exc).__name__}",
                                  endpoint=self.endpoint, detail=redact(str(_root_cause(exc)))) from None
            except (PrometheusApiClientException, ValueError, LookupError, TypeError):
                # a status other than 200 (the library's exception), or an answer that is not the API's JSON
                if self._answers.last is None:
                    raise
                self._refuse(self._answers.last, path)
            answer = self._answers.last
            body = answer.json()
            if not (isinstance(body, dict) and body.get("status") == "success"):
                self._refuse(answer, path)
            return value, body
        finally:
            self._answers.last = None  # not kept alive: it holds the whole answer

    def _refuse(self, answer: Response, path: str) -> NoReturn:
        what = path.rsplit("/", 1)[-1] if "label" not in path else "label"
        try:
            body = answer.json()
        except ValueError:
            body = None
        status = answer.status_code
        error = ""
        error_type = ""
        if isinstance(body, dict):
            error = str(body.get("error") or "")
            error_type = str(body.get("errorType") or "")
        else:
            error = answer_text(answer.content).strip()[:300]
        if status in (400, 422) and error_type in ("bad_data", "execution", ""):
            raise InvalidQuery("Prometheus rejected the query", endpoint=self.endpoint,
                               status=status, detail=error)
        if status == 401:
            raise Forbidden("Prometheus wants credentials", endpoint=self.endpoint, status=status,
                            detail=error,
                            hint="set prometheus_token, or prometheus_username and prometheus_password")
        if status == 403:
            raise Forbidden("Prometheus refused access", endpoint=self.endpoint, status=status,
                            detail=error, hint="check the token's permissions")
        if status == 404:
            raise NotFound(f"no Prometheus API at {self.endpoint}{path}", endpoint=self.endpoint,
                           status=status, detail=error,
                           hint="check the URL path (behind a proxy it may need a prefix)")
        if status == 503 and error_type in ("timeout", "canceled"):
            raise BackendTimeout(f"Prometheus gave up on the {what} query",
                                 endpoint=self.endpoint, status=status, detail=error,
                                 hint="try a shorter range or a simpler query")
        if status == 200 and body is None:
            raise ServerError("the answer is not the Prometheus API (not JSON)",
                              endpoint=self.endpoint, status=status, detail=error,
                              hint="check prometheus_url: a login page or proxy may be in the way")
        raise ServerError(f"Prometheus answered {status} to the {what} request",
                          endpoint=self.endpoint, status=status, detail=error)

    # -- queries ----------------------------------------------------------------------------
    def range_query(self, query: str, start: datetime, end: datetime, step: float,
                    max_series: int = 50) -> RangeResult:
        if not query.strip():
            raise InvalidQuery("the query is empty", endpoint=self.endpoint, detail="empty query")
        params = {"timeout": f"{self.timeout:g}s"}
        found, body = self._ask("/api/v1/query_range", lambda prom: prom.custom_query_range(
            query, start_time=start, end_time=end, step=f"{step:g}", params=params))
        result = found or []
        warnings = tuple(body.get("warnings") or ())
        # the points of the series that are cut are never decoded
        labelled = sorted(((labels_of(item.get("metric") or {}), index) for index, item in enumerate(result)))
        series = tuple(
            Series(labels, tuple((float(t), _float(v)) for t, v in _series_values(result[index])))
            for labels, index in labelled[:max_series]
        )
        return RangeResult(query, start, end, float(step), series, len(result), warnings)

    def instant_query(self, query: str, time: datetime | None = None,
                      max_series: int = 200) -> InstantResult:
        if not query.strip():
            raise InvalidQuery("the query is empty", endpoint=self.endpoint, detail="empty query")
        params = {"timeout": f"{self.timeout:g}s"}
        if time is not None:
            params["time"] = _ts(time)
        result, body = self._ask("/api/v1/query", lambda prom: prom.custom_query(query, params=params))
        kind = (body.get("data") or {}).get("resultType", "vector")
        warnings = tuple(body.get("warnings") or ())
        samples: list[InstantSample] = []
        if kind in ("scalar", "string") and result:
            samples.append(InstantSample((), _float(result[1]),
                                         datetime.fromtimestamp(float(result[0]), UTC)))
        elif kind == "vector":
            for item in result or ():
                t, v = item.get("value") or (0, "NaN")
                samples.append(InstantSample(labels_of(item.get("metric") or {}), _float(v),
                                             datetime.fromtimestamp(float(t), UTC)))
        elif kind == "matrix":  # a range selector asked for instantly: show the last value
            for item in result or ():
                values = _series_values(item)
                if values:
                    t, v = values[-1]
                    samples.append(InstantSample(labels_of(item.get("metric") or {}), _float(v),
                                                 datetime.fromtimestamp(float(t), UTC)))
        samples.sort(key=lambda s: s.labels)
        when = time or (samples[0].timestamp if samples else datetime.now(UTC))
        return InstantResult(query, when, kind, tuple(samples[:max_series]), len(samples),
                             warnings)

    # -- completion -------------------------------------------------------------------------
    def metric_names(self) -> tuple[str, ...]:
        data, _ = self._ask("/api/v1/label/__name__/values", lambda prom: prom.get_label_values("__name__"))
        return tuple(sorted(data or ()))

    def label_names(self, match: str | None = None) -> tuple[str, ...]:
        params = {"match[]": match} if match else None
        data, _ = self._ask("/api/v1/labels", lambda prom: prom.get_label_names(params=params))
        return tuple(sorted(n for n in data or () if n != "__name__"))

    def label_values(self, label: str, match: str | None = None) -> tuple[str, ...]:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", label or ""):
            raise InvalidQuery(f"{label!r} is not a label name", endpoint=self.endpoint,
                               detail="label names are letters, digits and _")
        params = {"match[]": match} if match else None
        data, _ = self._ask(f"/api/v1/label/{label}/values",
                            lambda prom: prom.get_label_values(label, params=params))
        return tuple(sorted(data or ()))

    # -- alerts, targets, dashboards --------------------------------------------------------
    def alerts(self) -> tuple[Alert, ...]:
        data, _ = self._ask("/api/v1/alerts")  # not in the library: through its session
        alerts = []
        for item in (data or {}).get("alerts") or ():
            labels = item.get("labels") or {}
            alerts.append(Alert(
                name=labels.get("alertname", ""), state=item.get("state", ""),
                labels=labels_of(labels), annotations=labels_of(item.get("annotations") or {}),
                active_at=parse_time(item.get("activeAt")), value=str(item.get("value", "")),
            ))
        order = {"firing": 0, "pending": 1}
        alerts.sort(key=lambda a: (order.get(a.state, 2), a.name, a.labels))
        return tuple(alerts)

    def targets(self) -> tuple[Target, ...]:
        data, _ = self._ask("/api/v1/targets", lambda prom: prom.get_targets(state="active"))
        targets = []
        for item in (data or {}).get("activeTargets") or ():
            labels = item.get("labels") or {}
            targets.append(Target(
                job=labels.get("job", item.get("scrapePool", "")),
                instance=labels.get("instance", ""), scrape_url=item.get("scrapeUrl", ""),
                health=item.get("health", "unknown"), last_scrape=parse_time(item.get("lastScrape")),
                last_error=item.get("lastError", "") or "",
                last_scrape_duration=_float(item.get("lastScrapeDuration")),
                labels=labels_of(labels),
            ))
        targets.sort(key=lambda t: (t.job, t.instance))
        return tuple(targets)

    def dashboards(self) -> tuple[ImportReport, ...]:
        return load_folders(self.dashboard_folders)


__all__ = ["PrometheusMetrics", "parse_time", "BackendError"]
