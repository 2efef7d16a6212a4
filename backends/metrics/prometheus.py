"""The Metrics pane's backend for a real Prometheus, over its HTTP API (``/api/v1``) with httpx.

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
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
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
        self._client_obj: Any = None
        self._lock = threading.Lock()

    @staticmethod
    def import_library() -> None:
        """httpx, imported where the app builds the backend (in a worker) so that it is among the objects
        the app moves out of the garbage collector's way (about 17,000; 3 ms per full collection)."""
        import httpx  # noqa: F401

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
    def _client(self) -> Any:
        with self._lock:
            if self._client_obj is None:
                import httpx

                verify: Any = self.verify
                if self.ca_file:
                    import ssl

                    path = os.path.expanduser(self.ca_file)
                    if not os.path.isfile(path):
                        raise NotConfigured(f"prometheus_ca_file {path} does not exist",
                                            endpoint=self.endpoint)
                    verify = ssl.create_default_context(cafile=path)
                headers = {"Accept": "application/json"}
                if self._token:
                    headers["Authorization"] = f"Bearer {self._token}"
                self._client_obj = httpx.Client(
                    base_url=self.base_url, headers=headers, verify=verify,
                    auth=httpx.BasicAuth(*self._basic) if self._basic else None,
                    timeout=httpx.Timeout(self.timeout), follow_redirects=True,
                )
            return self._client_obj

    def close(self) -> None:
        with self._lock:
            if self._client_obj is not None:
                self._client_obj.close()
                self._client_obj = None

    def _call(self, path: str, params: Any = None, form: Any = None) -> Any:
        import httpx

        client = self._client()
        what = path.rsplit("/", 1)[-1] if "label" not in path else "label"
        try:
            if form is not None:
                response = client.post(path, data=form)
            else:
                response = client.get(path, params=params)
        except httpx.TimeoutException:
            raise BackendTimeout(
                f"Prometheus did not answer within {self.timeout:g}s", endpoint=self.endpoint,
                hint="it may be overloaded; try a shorter range or raise `timeout`",
            ) from None
        except httpx.ConnectError as exc:
            text = str(exc)
            if "CERTIFICATE" in text.upper() or "SSL" in text.upper():
                raise Unreachable(
                    "TLS verification of Prometheus failed", endpoint=self.endpoint, detail=text,
                    hint="set prometheus_ca_file to its CA, or prometheus_verify = false",
                ) from None
            raise Unreachable(
                "cannot connect to Prometheus", endpoint=self.endpoint, detail=text,
                hint="is it running? check prometheus_url / --prometheus-url / PROMETHEUS_URL",
            ) from None
        except httpx.HTTPError as exc:
            raise Unreachable(f"talking to Prometheus failed: {type(exc).__name__}",
                              endpoint=self.endpoint, detail=str(exc)) from None
        try:
            body = decode_answer(answer_text(response.content))
        except ValueError:
            body = None
        status = response.status_code
        if isinstance(body, dict) and body.get("status") == "success":
            return body.get("data"), tuple(body.get("warnings") or ())
        error = ""
        error_type = ""
        if isinstance(body, dict):
            error = str(body.get("error") or "")
            error_type = str(body.get("errorType") or "")
        else:
            error = response.text.strip()[:300]
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
        form = {"query": query, "start": _ts(start), "end": _ts(end), "step": f"{step:g}",
                "timeout": f"{self.timeout:g}s"}
        data, warnings = self._call("/api/v1/query_range", form=form)
        result = data.get("result") or []
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
        form = {"query": query, "timeout": f"{self.timeout:g}s"}
        if time is not None:
            form["time"] = _ts(time)
        data, warnings = self._call("/api/v1/query", form=form)
        kind = data.get("resultType", "vector")
        result = data.get("result")
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
        data, _ = self._call("/api/v1/label/__name__/values")
        return tuple(sorted(data or ()))

    def label_names(self, match: str | None = None) -> tuple[str, ...]:
        params = {"match[]": match} if match else None
        data, _ = self._call("/api/v1/labels", params=params)
        return tuple(sorted(n for n in data or () if n != "__name__"))

    def label_values(self, label: str, match: str | None = None) -> tuple[str, ...]:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", label or ""):
            raise InvalidQuery(f"{label!r} is not a label name", endpoint=self.endpoint,
                               detail="label names are letters, digits and _")
        params = {"match[]": match} if match else None
        data, _ = self._call(f"/api/v1/label/{label}/values", params=params)
        return tuple(sorted(data or ()))

    # -- alerts, targets, dashboards --------------------------------------------------------
    def alerts(self) -> tuple[Alert, ...]:
        data, _ = self._call("/api/v1/alerts")
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
        data, _ = self._call("/api/v1/targets", params={"state": "active"})
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
