"""The ``mlflow-rest`` runs backend: an MLflow tracking server (``http://``, ``https://``) over its REST API.

MLflow's REST API (``/api/2.0/mlflow/...``) is its stable public contract; this backend speaks it with httpx
and never imports mlflow, so a console that talks to a tracking server needs neither MLflow installed nor a
helper process. The answers are the ones :class:`backends.runs.mlflow_inprocess.MlflowRuns` gives for the same
server. Sorting, filtering and paging are done by the server.

Settings, each a context key or else MLflow's own environment variable: ``mlflow_token``
(``MLFLOW_TRACKING_TOKEN``, sent as a bearer token), ``mlflow_username`` / ``mlflow_password``
(``MLFLOW_TRACKING_USERNAME`` / ``MLFLOW_TRACKING_PASSWORD``, basic auth, preferred to the token as MLflow does),
``mlflow_insecure_tls`` (``MLFLOW_TRACKING_INSECURE_TLS``), ``mlflow_server_cert_path``
(``MLFLOW_TRACKING_SERVER_CERT_PATH``, a CA bundle) and ``mlflow_client_cert_path``
(``MLFLOW_TRACKING_CLIENT_CERT_PATH``, a PEM holding the client certificate and its key). Proxies come from
the environment (``HTTPS_PROXY``, ``NO_PROXY``).
"""

from __future__ import annotations

import json
import os
import re
import ssl
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, cast
from urllib.parse import quote, urlsplit

import httpx

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
from backends.redact import redact
from backends.runs import (
    CHART_POINTS,
    Artifact,
    ColumnSpec,
    DatasetInput,
    Experiment,
    ExperimentStats,
    LoggedModel,
    MetricHistory,
    MetricPoint,
    ModelVersion,
    RegisteredModel,
    RunDetail,
    RunPage,
    RunQuery,
    RunSummary,
)
from backends.runs.mlflow_inprocess import (
    DEFAULT_TIMEOUT,
    MAX_ARTIFACT_DEPTH,
    MAX_ARTIFACTS,
    MlflowRuns,
    _columns,
    _dt,
    order_by,
    tracking_uri_of,
    version_model_id,
)
from backends.runs.mlflow_settings import CREDENTIALS, flag, setting

Json = dict[str, Any]

#: The most runs get-history-bulk-interval takes in one request.
BULK_RUNS = 100
_PAGE = 1000
_HISTORY_PAGE = 25000
_ERRNO = re.compile(r"\[Errno -?\d+\][^\"')]*")


def is_rest_uri(uri: str | None) -> bool:
    """Whether ``uri`` names a tracking server this backend can talk to."""
    return bool(uri) and urlsplit(str(uri)).scheme.lower() in ("http", "https")


def _ms(value: Any) -> datetime | None:
    """A time MLflow gives in milliseconds (a number, or a string for a large int64)."""
    return None if value in (None, "") else _dt(int(value))


def _pairs(items: Sequence[Json] | None) -> dict[str, str]:
    """MLflow's ``[{"key": k, "value": v}, ...]`` as a dict."""
    return {str(i.get("key", "")): str(i.get("value", "")) for i in items or ()}


class MlflowRestRuns:
    """Experiments, runs and the model registry of one MLflow tracking server, over REST."""

    SETTINGS = (*MlflowRuns.SETTINGS, *CREDENTIALS)  # mlflow_registry_uri: used when it is a server too

    def __init__(self, tracking_uri: str, *, registry_uri: str | None = None, timeout: float = DEFAULT_TIMEOUT,
                 token: str | None = None, username: str | None = None, password: str | None = None,
                 insecure_tls: bool = False, server_cert_path: str | None = None,
                 client_cert_path: str | None = None) -> None:
        if not is_rest_uri(tracking_uri):
            raise NotConfigured("the MLflow REST backend needs an http:// or https:// tracking URI",
                                endpoint=redact(tracking_uri), hint="use runs_backend = \"mlflow\" for a local store")
        self.tracking_uri = tracking_uri
        self.registry_uri: str = registry_uri if registry_uri and is_rest_uri(registry_uri) else tracking_uri
        self.timeout = float(timeout)
        self._token, self._username, self._password = token, username, password
        self.insecure_tls = insecure_tls
        self.server_cert_path = server_cert_path
        self.client_cert_path = client_cert_path
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()
        self._no_logged_models = False  # the server answered 404 to logged-models/search (MLflow 2)

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> MlflowRestRuns:
        registry = settings.get("mlflow_registry_uri")
        return cls(
            tracking_uri_of(settings), registry_uri=str(registry) if registry else None,
            timeout=float(settings.get("timeout") or DEFAULT_TIMEOUT),
            token=setting(settings, "mlflow_token"),
            username=setting(settings, "mlflow_username"),
            password=setting(settings, "mlflow_password"),
            insecure_tls=flag(settings, "mlflow_insecure_tls"),
            server_cert_path=setting(settings, "mlflow_server_cert_path"),
            client_cert_path=setting(settings, "mlflow_client_cert_path"),
        )

    @property
    def endpoint(self) -> str:
        return redact(self.tracking_uri)

    def __repr__(self) -> str:  # no token or password, ever
        return f"MlflowRestRuns({self.endpoint!r})"

    def import_library(self) -> None:
        """Nothing beyond httpx, imported with this module."""

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    # -- plumbing -------------------------------------------------------------------------------

    def _http(self) -> httpx.Client:
        with self._lock:
            if self._client is not None:
                return self._client
            verify: ssl.SSLContext | bool = True
            try:
                if self.insecure_tls or self.server_cert_path or self.client_cert_path:
                    ca = self.server_cert_path if self.server_cert_path and not self.insecure_tls else None
                    verify = ssl.create_default_context(cafile=os.path.expanduser(ca) if ca else None)
                    if self.insecure_tls:
                        verify.check_hostname = False
                        verify.verify_mode = ssl.CERT_NONE
                    if self.client_cert_path:
                        verify.load_cert_chain(os.path.expanduser(self.client_cert_path))
            except (OSError, ssl.SSLError) as exc:
                raise NotConfigured(
                    "cannot read the TLS certificate for the tracking server", endpoint=self.endpoint, detail=str(exc),
                    hint="check mlflow_server_cert_path / mlflow_client_cert_path "
                         "(or MLFLOW_TRACKING_SERVER_CERT_PATH / MLFLOW_TRACKING_CLIENT_CERT_PATH)") from None
            headers = {"Accept": "application/json"}
            auth: httpx.Auth | None = None
            if self._username and self._password:
                auth = httpx.BasicAuth(self._username, self._password)
            elif self._token:
                headers["Authorization"] = f"Bearer {self._token}"
            self._client = httpx.Client(timeout=self.timeout, verify=verify, auth=auth, headers=headers,
                                        trust_env=True, follow_redirects=True)
            return self._client

    def _url(self, path: str, *, registry: bool = False, api: str = "api") -> str:
        base = (self.registry_uri if registry else self.tracking_uri).rstrip("/")
        return f"{base}/{api}/2.0/mlflow/{path}"

    def _request(self, method: str, path: str, what: str, *, params: Any = None,
                 body: Json | None = None, rejected: str | None = None, registry: bool = False,
                 api: str = "api", raw: bool = False) -> Any:
        """One request; its JSON answer (``raw``: its text), or the failure as a BackendError."""
        client = self._http()
        url = self._url(path, registry=registry, api=api)
        try:
            resp = client.request(method, url, params=params, json=body)
        except httpx.TimeoutException as exc:
            raise BackendTimeout(f"{what}: no answer in {self.timeout:g} s", endpoint=self.endpoint,
                                 detail=redact(str(exc)) or type(exc).__name__,
                                 hint="is the tracking server overloaded? raise the context's timeout") from None
        except httpx.TransportError as exc:
            text = redact(str(exc)) or type(exc).__name__
            short = _ERRNO.search(text)
            raise Unreachable(f"{what}: tracking server unreachable", endpoint=self.endpoint,
                              detail=short.group(0).strip() if short else text,
                              hint="is `mlflow server` running there? retrying") from None
        if resp.status_code >= 400:
            raise self._http_error(resp, what, rejected)
        if raw:
            return resp.text
        try:
            return resp.json()
        except ValueError:
            raise ServerError(f"{what}: the answer is not MLflow's JSON", endpoint=self.endpoint,
                              status=resp.status_code, detail=redact(resp.text[:200]),
                              hint="is this URI an MLflow tracking server (not a login page or proxy)?") from None

    def _http_error(self, resp: httpx.Response, what: str, rejected: str | None) -> BackendError:
        status = resp.status_code
        code, message = "", ""
        try:
            answer = resp.json()
        except ValueError:
            answer = None
        if isinstance(answer, dict):
            code, message = str(answer.get("error_code") or ""), str(answer.get("message") or "")
        detail = redact(message or resp.text[:200].strip() or resp.reason_phrase)
        if status in (401, 403) or code in ("PERMISSION_DENIED", "UNAUTHENTICATED"):
            return Forbidden(what, endpoint=self.endpoint, status=status, detail=detail,
                             hint="check mlflow_token / mlflow_username (or MLFLOW_TRACKING_TOKEN / "
                                  "MLFLOW_TRACKING_USERNAME)")
        if status == 400 and code in ("INVALID_PARAMETER_VALUE", "BAD_REQUEST", "INVALID_STATE", ""):
            return InvalidQuery(rejected or what, endpoint=self.endpoint, detail=detail)
        if status == 404 or code in ("RESOURCE_DOES_NOT_EXIST", "NOT_FOUND", "ENDPOINT_NOT_FOUND"):
            if not code:  # an HTML page: no such route on this server
                detail = f"the server has no {urlsplit(str(resp.request.url)).path}"
            return NotFound(what, endpoint=self.endpoint, status=status if not code else None, detail=detail)
        return ServerError(what, endpoint=self.endpoint, status=status, detail=detail)

    def _pages(self, method: str, path: str, what: str, key: str, *, params: Mapping[str, Any] | None = None,
               body: Json | None = None, registry: bool = False) -> list[Json]:
        """Every item under ``key`` of a paged answer, following ``next_page_token``."""
        out: list[Json] = []
        token: str | None = None
        while True:
            if body is not None:
                answer = self._request(method, path, what, body={**body, **({"page_token": token} if token else {})},
                                       registry=registry)
            else:
                answer = self._request(method, path, what, registry=registry,
                                       params={**(params or {}), **({"page_token": token} if token else {})})
            out.extend(answer.get(key) or ())
            token = answer.get("next_page_token") or None
            if not token:
                return out

    # -- experiments ----------------------------------------------------------------------------

    def list_experiments(self) -> tuple[Experiment, ...]:
        found = self._pages("POST", "experiments/search", "could not list experiments", "experiments",
                            body={"max_results": _PAGE, "order_by": ["name ASC"]})
        return tuple(
            Experiment(
                experiment_id=str(e.get("experiment_id", "")),
                name=str(e.get("name", "")),
                lifecycle_stage=str(e.get("lifecycle_stage") or "active"),
                artifact_location=str(e.get("artifact_location") or ""),
                created=_ms(e.get("creation_time")),
                last_update=_ms(e.get("last_update_time")),
                tags=tuple(sorted(_pairs(e.get("tags")).items())),
            )
            for e in found
        )

    def experiment_stats(self, experiment_id: str, cap: int = 1000) -> ExperimentStats:
        answer = self._request("POST", "runs/search", f"could not count the runs of experiment {experiment_id}",
                               body={"experiment_ids": [experiment_id], "max_results": cap,
                                     "order_by": ["attributes.start_time DESC"]})
        runs = answer.get("runs") or []
        last = _ms(runs[0].get("info", {}).get("start_time")) if runs else None
        return ExperimentStats(experiment_id=experiment_id, run_count=len(runs),
                               capped=bool(answer.get("next_page_token")), last_run=last)

    # -- runs -----------------------------------------------------------------------------------

    @staticmethod
    def _summary(run: Json) -> RunSummary:
        info, data = run.get("info") or {}, run.get("data") or {}
        tags = _pairs(data.get("tags"))
        metrics = {str(m.get("key", "")): float(m.get("value", 0.0)) for m in data.get("metrics") or ()}
        return RunSummary(
            run_id=str(info.get("run_id") or info.get("run_uuid") or ""),
            run_name=str(info.get("run_name") or tags.get("mlflow.runName", "") or ""),
            experiment_id=str(info.get("experiment_id", "")),
            status=str(info.get("status") or "RUNNING"),
            start_time=_ms(info.get("start_time")),
            end_time=_ms(info.get("end_time")),
            params=tuple(sorted(_pairs(data.get("params")).items())),
            metrics=tuple(sorted(metrics.items())),
            tags=tuple(sorted(tags.items())),
            user=str(info.get("user_id") or ""),
        )

    def search_runs(self, query: RunQuery, page_token: str | None = None) -> RunPage:
        if not query.experiment_ids:
            return RunPage(runs=(), next_token=None, query=query)
        body: Json = {"experiment_ids": list(query.experiment_ids), "max_results": query.page_size}
        clauses = order_by(query.sort, self.endpoint)
        if query.filter:
            body["filter"] = query.filter
        if clauses:
            body["order_by"] = clauses
        if page_token:
            body["page_token"] = page_token
        answer = self._request("POST", "runs/search", "could not search runs", body=body,
                               rejected="the run search was rejected")
        return RunPage(runs=tuple(self._summary(r) for r in answer.get("runs") or ()),
                       next_token=answer.get("next_page_token") or None, query=query)

    def get_run(self, run_id: str) -> RunDetail:
        run = self._request("GET", "runs/get", f"could not load run {run_id}", params={"run_id": run_id})["run"]
        summary = self._summary(run)
        tags = dict(summary.tags)
        artifacts: tuple[Artifact, ...] = ()
        problem = ""
        try:
            artifacts = self._artifact_tree(lambda p: self._list_artifacts(
                "artifacts/list", {"run_id": run_id, **({"path": p} if p else {})}))
        except BackendError as exc:  # the rest of the detail is still worth showing
            problem = str(self._retell(exc, "could not list the artifacts"))
        return RunDetail(
            summary=summary,
            git_commit=tags.get("mlflow.source.git.commit"),
            source=tags.get("mlflow.source.name"),
            artifact_uri=str((run.get("info") or {}).get("artifact_uri") or ""),
            artifacts=artifacts,
            models=self._models(run, summary),
            datasets=self._datasets(run),
            artifacts_problem=problem,
        )

    @staticmethod
    def _retell(exc: BackendError, what: str) -> BackendError:
        """``exc`` with ``what`` as its message (its kind, server and details kept)."""
        return type(exc)(what, endpoint=exc.endpoint, hint=exc.hint, status=exc.status, detail=exc.detail)

    def _list_artifacts(self, path: str, params: Mapping[str, Any]) -> list[Json]:
        return self._pages("GET", path, "could not list the artifacts", "files", params=params)

    def _artifact_tree(self, lister: Callable[[str | None], list[Json]]) -> tuple[Artifact, ...]:
        budget = [MAX_ARTIFACTS]

        def walk(path: str | None, depth: int) -> tuple[tuple[Artifact, ...], bool]:
            out: list[Artifact] = []
            files = sorted(lister(path), key=lambda f: (not f.get("is_dir", False), str(f.get("path", ""))))
            for info in files:
                if budget[0] <= 0:
                    return tuple(out), True
                budget[0] -= 1
                item_path = str(info.get("path", ""))
                if info.get("is_dir"):
                    if depth + 1 < MAX_ARTIFACT_DEPTH:
                        children, cut = walk(item_path, depth + 1)
                    else:
                        children, cut = (), True
                    out.append(Artifact(item_path, True, None, depth, children, cut))
                else:
                    size = info.get("file_size")
                    out.append(Artifact(item_path, False, int(size) if size is not None else None, depth))
            return tuple(out), False

        return walk(None, 0)[0]

    def _models(self, run: Json, summary: RunSummary) -> tuple[LoggedModel, ...]:
        models: list[LoggedModel] = []
        seen: set[str] = set()
        # MLflow 3: models are entities of their own, linked from the run's outputs
        ids = [str(o.get("model_id")) for o in (run.get("outputs") or {}).get("model_outputs") or ()
               if o.get("model_id")]
        found = self._logged_models_of(summary, ids) if ids else {}
        for model_id in ids:
            if model_id in seen:
                continue
            seen.add(model_id)
            models.append(self._logged_model(model_id, found.get(model_id)))
        # MLflow 2: the run's tag lists each logged model with flavors and signature
        history = summary.tag("mlflow.log-model.history")
        if history:
            try:
                entries = json.loads(history)
            except ValueError:
                entries = []
            for entry in entries if isinstance(entries, list) else ():
                path = entry.get("artifact_path", "model")
                if entry.get("model_id") in seen or path in seen:
                    continue
                seen.add(path)
                sig = entry.get("signature") or {}
                models.append(LoggedModel(
                    name=path, uri=f"runs:/{summary.run_id}/{path}",
                    flavors=tuple(sorted((entry.get("flavors") or {}).keys())),
                    inputs=_columns(sig.get("inputs")), outputs=_columns(sig.get("outputs")),
                ))
        return tuple(models)

    def _logged_models_of(self, summary: RunSummary, ids: list[str]) -> dict[str, Json]:
        """The run's logged models by id, in one search (``logged-models/search``); {} when the server has no
        such call (before MLflow 3) or the search fails: each model is then fetched on its own."""
        if self._no_logged_models:
            return {}
        quoted = summary.run_id.replace("'", "")
        try:
            found = self._pages("POST", "logged-models/search", "could not search the logged models", "models",
                                body={"experiment_ids": [summary.experiment_id], "max_results": 100,
                                      "filter": f"source_run_id = '{quoted}'"})
        except NotFound:
            self._no_logged_models = True
            return {}
        except BackendError:
            return {}
        out = {}
        for model in found:
            info = model.get("info") or {}
            if info.get("model_id") in ids:
                out[str(info["model_id"])] = info
        return out

    def _logged_model(self, model_id: str, info: Json | None) -> LoggedModel:
        path = f"logged-models/{quote(model_id, safe='')}"
        if info is None:
            try:
                info = cast(Json, self._request("GET", path, "could not load the logged model")["model"]["info"])
            except BackendError as exc:
                return LoggedModel(name=model_id, model_id=model_id, problem=str(exc))
        flavors: tuple[str, ...] = ()
        inputs: tuple[ColumnSpec, ...] = ()
        outputs: tuple[ColumnSpec, ...] = ()
        artifacts: tuple[Artifact, ...] = ()
        problem = ""
        try:
            flavors, inputs, outputs = self._read_mlmodel(model_id)
            artifacts = self._artifact_tree(lambda p: self._list_artifacts(
                f"{path}/artifacts/directories", {"artifact_directory_path": p} if p else {}))
        except BackendError as exc:
            problem = str(self._retell(exc, "could not read the model's MLmodel file"))
        return LoggedModel(name=str(info.get("name") or model_id), model_id=model_id, uri=f"models:/{model_id}",
                           flavors=flavors, inputs=inputs, outputs=outputs, artifacts=artifacts, problem=problem)

    def _read_mlmodel(self, model_id: str) -> tuple[tuple[str, ...], tuple[ColumnSpec, ...], tuple[ColumnSpec, ...]]:
        """Flavors and signature from the model's ``MLmodel`` file, read through the server."""
        import yaml

        text = self._request("GET", f"logged-models/{quote(model_id, safe='')}/artifacts/files",
                             "could not read the model's MLmodel file", params={"artifact_file_path": "MLmodel"},
                             api="ajax-api", raw=True)
        try:
            meta = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise ServerError("the model's MLmodel file is not YAML", endpoint=self.endpoint,
                              detail=str(exc)) from None
        if not isinstance(meta, dict):
            meta = {}
        sig = meta.get("signature") or {}
        return (tuple(sorted((meta.get("flavors") or {}).keys())), _columns(sig.get("inputs")),
                _columns(sig.get("outputs")))

    @staticmethod
    def _datasets(run: Json) -> tuple[DatasetInput, ...]:
        out = []
        for di in (run.get("inputs") or {}).get("dataset_inputs") or ():
            ds = di.get("dataset") or {}
            context = _pairs(di.get("tags")).get("mlflow.data.context", "")
            out.append(DatasetInput(name=str(ds.get("name", "")), digest=str(ds.get("digest") or ""),
                                    source_type=str(ds.get("source_type") or ""), context=context,
                                    profile=str(ds.get("profile") or ""), schema=str(ds.get("schema") or "")))
        return tuple(out)

    @staticmethod
    def _points(metrics: Sequence[Json]) -> tuple[MetricPoint, ...]:
        pts = {MetricPoint(step=int(m.get("step", 0)), value=float(m.get("value", 0.0)),
                           timestamp=cast(datetime, _ms(m.get("timestamp", 0)))) for m in metrics}
        return tuple(sorted(pts, key=lambda p: (p.step, p.timestamp)))

    def metric_history(self, run_id: str, key: str) -> MetricHistory:
        found = self._pages("GET", "metrics/get-history", f"could not load the history of {key!r} for run {run_id}",
                            "metrics", params={"run_id": run_id, "metric_key": key, "max_results": _HISTORY_PAGE})
        return MetricHistory(run_id=run_id, key=key, points=self._points(found))

    def metric_histories(self, run_ids: Sequence[str], key: str,
                         max_points: int = CHART_POINTS) -> tuple[MetricHistory, ...]:
        """The history of ``key`` for many runs, each sampled by the server to at most ``max_points`` points (its
        first and last step kept), as MLflow's own UI charts them: one request a hundred runs
        (``metrics/get-history-bulk-interval``); in the order of ``run_ids``."""
        by_run: dict[str, list[Json]] = {run_id: [] for run_id in run_ids}
        ids = list(by_run)
        for start in range(0, len(ids), BULK_RUNS):
            answer = self._request(
                "GET", "metrics/get-history-bulk-interval", f"could not load the history of {key!r}",
                params=[*(("run_ids", run_id) for run_id in ids[start:start + BULK_RUNS]),
                        ("metric_key", key), ("max_results", max_points)],
                api="ajax-api")
            for m in answer.get("metrics") or ():
                by_run.setdefault(str(m.get("run_id", "")), []).append(m)
        return tuple(MetricHistory(run_id=run_id, key=key, points=self._points(by_run.get(run_id, [])))
                     for run_id in run_ids)

    # -- model registry -------------------------------------------------------------------------

    def list_registered_models(self) -> tuple[RegisteredModel, ...]:
        found = self._pages("GET", "registered-models/search", "could not list registered models",
                            "registered_models", params={"max_results": _PAGE, "order_by": "name ASC"},
                            registry=True)
        return tuple(
            RegisteredModel(
                name=str(m.get("name", "")),
                description=str(m.get("description") or ""),
                created=_ms(m.get("creation_timestamp")),
                updated=_ms(m.get("last_updated_timestamp")),
                aliases=tuple(sorted((str(a.get("alias", "")), str(a.get("version", "")))
                                     for a in m.get("aliases") or ())),
                latest_versions=tuple(str(v.get("version", "")) for v in m.get("latest_versions") or ()),
                tags=tuple(sorted(_pairs(m.get("tags")).items())),
            )
            for m in found
        )

    def model_versions(self, name: str) -> tuple[ModelVersion, ...]:
        what = f"could not list the versions of model {name!r}"
        model = self._request("GET", "registered-models/get", what, params={"name": name},
                              registry=True)["registered_model"]
        by_version: dict[str, list[str]] = {}
        for alias in model.get("aliases") or ():
            by_version.setdefault(str(alias.get("version", "")), []).append(str(alias.get("alias", "")))
        quoted = name.replace("'", "\\'")
        found = self._pages("GET", "model-versions/search", what, "model_versions",
                            params={"filter": f"name = '{quoted}'", "max_results": _PAGE}, registry=True)
        versions = []
        for v in found:
            version = str(v.get("version", ""))
            aliases = tuple(sorted(set(map(str, v.get("aliases") or ())) | set(by_version.get(version, ()))))
            stage = str(v.get("current_stage") or "")
            versions.append(ModelVersion(
                name=str(v.get("name", name)), version=version, status=str(v.get("status") or ""),
                stage="" if stage == "None" else stage, aliases=aliases, created=_ms(v.get("creation_timestamp")),
                run_id=str(v.get("run_id")) if v.get("run_id") else None, source=str(v.get("source") or ""),
                description=str(v.get("description") or ""),
                model_id=version_model_id(v.get("model_id"), v.get("source")),
            ))
        versions.sort(key=lambda v: int(v.version) if v.version.isdigit() else 0, reverse=True)
        return tuple(versions)


__all__ = ["CHART_POINTS", "MlflowRestRuns", "is_rest_uri"]
