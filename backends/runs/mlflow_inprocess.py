"""The ``mlflow`` runs backend: any MLflow tracking URI through ``MlflowClient``.

``mlflow`` is imported inside methods only, so importing this module is cheap; the constructor does
no I/O. Sorting, filtering and paging are done by the store (``order_by``, ``filter_string``,
``max_results`` / ``page_token``): nothing here loads a whole experiment.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

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
from backends.registry import Setting
from backends.runs import (
    SORT_KINDS,
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
    SortKey,
)

DEFAULT_TIMEOUT = 10.0
#: The artifacts tree stops after this many entries or this depth (a run may log thousands).
MAX_ARTIFACTS = 300
MAX_ARTIFACT_DEPTH = 4

_ERRNO = re.compile(r"\[Errno -?\d+\][^\"')]*")


def order_by(sort: tuple[SortKey, ...], endpoint: str | None = None) -> list[str]:
    """MLflow's ``order_by`` clauses for the neutral sort keys. Metric, param and tag names go in backticks,
    so that a dot or a space stays part of the name. Raises InvalidQuery for a key MLflow cannot take."""
    clauses = []
    for key in sort:
        problem = ""
        if key.kind not in SORT_KINDS or not key.name:
            problem = "expected metrics.NAME, params.NAME, tags.NAME or attributes.NAME"
        elif '"' in key.name or "`" in key.name:
            # MLflow turns the backticks into quotes and splits the clause shell-like: a quote breaks it
            problem = 'names cannot hold " or `'
        if problem:
            raise InvalidQuery("the run search was rejected", endpoint=endpoint,
                               detail=f"bad sort key {key.column!r}: {problem}")
        column = f"attributes.{key.name}" if key.kind == "attributes" else f"{key.kind}.`{key.name}`"
        clauses.append(f"{column} {'DESC' if key.descending else 'ASC'}")
    return clauses


def _check_order_by(clauses: list[str]) -> None:
    """Parse ``order_by`` here, with MLflow's own parser: a tracking server answers a clause it cannot parse
    with a 500 that the client retries for minutes, as if the server were down."""
    if clauses:
        from mlflow.utils.search_utils import SearchUtils

        for clause in clauses:
            SearchUtils.parse_order_by_for_search_runs(clause)


def _dt(ms: int | None) -> datetime | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def _local_path(uri: str) -> Path | None:
    """The file system path of a local store (file store or sqlite), None for a server/database."""
    if uri.startswith("sqlite:///"):
        path = uri[len("sqlite:///"):]
        if path in ("", ":memory:"):
            return None
        return Path(path if path.startswith("/") else path)
    parts = urlsplit(uri)
    if parts.scheme == "file":
        return Path(parts.path)
    if parts.scheme == "" or (len(parts.scheme) == 1 and uri[1:3] in (":/", ":\\")):
        return Path(uri).expanduser()
    return None


def _columns(schema: Any) -> tuple[ColumnSpec, ...]:
    """Columns of a signature half, given as the JSON MLflow stores (a list of dicts or a string)."""
    if not schema:
        return ()
    if isinstance(schema, str):
        try:
            schema = json.loads(schema)
        except ValueError:
            return ()
    out = []
    for i, col in enumerate(schema if isinstance(schema, list) else ()):
        if not isinstance(col, dict):
            continue
        kind = str(col.get("type", "?"))
        if kind == "tensor":
            spec = col.get("tensor-spec") or {}
            shape = spec.get("shape")
            kind = f"tensor {spec.get('dtype', '?')}" + (f" {tuple(shape)}" if shape is not None else "")
        name = col.get("name") or (f"[{i}]" if len(schema) > 1 else "-")
        out.append(ColumnSpec(name=str(name), type=kind, required=bool(col.get("required", True))))
    return tuple(out)


def version_model_id(model_id: str | None, source: str | None) -> str:
    """The logged model a registered version comes from (MLflow 3): its ``model_id``, which servers leave out
    of their answers, else the id in a ``models:/<model_id>`` source."""
    if model_id:
        return model_id
    rest = (source or "").removeprefix("models:/")
    return rest if rest != source and rest.startswith("m-") and "/" not in rest else ""


def tracking_uri_of(settings: Mapping[str, Any]) -> str:
    """The tracking URI the context names: ``mlflow_uri``, else ``MLFLOW_TRACKING_URI``, else ``./mlruns`` or
    ``./mlflow.db`` in the repo. Raises NotConfigured, saying what to set, when there is none."""
    uri = settings.get("mlflow_uri") or os.environ.get("MLFLOW_TRACKING_URI")
    if not uri:
        repo = Path(str(settings.get("repo") or ".")).expanduser()
        if (repo / "mlruns").is_dir():
            uri = str((repo / "mlruns").resolve())
        elif (repo / "mlflow.db").is_file():
            uri = f"sqlite:///{(repo / 'mlflow.db').resolve()}"
    if not uri:
        raise NotConfigured(
            "no MLflow tracking store configured",
            hint="set mlflow_uri in the context, pass --mlflow-uri, or export MLFLOW_TRACKING_URI "
                 "(./mlruns, sqlite:///mlflow.db, http://host:5000)",
        )
    return str(uri)


_frozen = False
_REGISTRY_LOCK = threading.Lock()


def _freeze_imports() -> None:
    """Move the objects importing mlflow created (about 250,000 modules, classes and functions that
    live as long as the process) out of the garbage collector's reach, once.

    Without this every full collection walks them: pauses of 0.1-0.4 s that an interactive program
    feels as frozen frames. Only the collector's bookkeeping changes; nothing is kept alive that the
    modules did not already keep alive.
    """
    global _frozen
    if not _frozen:
        import gc

        gc.freeze()
        _frozen = True


def _every_page(search: Any) -> list[Any]:
    """All results of an MlflowClient ``search_*`` call, by name, following its page tokens."""
    out: list[Any] = []
    token = None
    while True:
        page = search(max_results=1000, page_token=token, order_by=["name ASC"])
        out.extend(page)
        token = page.token
        if not token:
            return out


class MlflowRuns:
    """Experiments, runs and the model registry of one MLflow tracking URI."""

    #: read beyond the shared keys (mlflow_uri, repo, timeout)
    SETTINGS = (Setting("mlflow_registry_uri", str, "the model registry's URI when it is not the tracking store's"),)

    def __init__(self, tracking_uri: str, *, registry_uri: str | None = None,
                 timeout: float = DEFAULT_TIMEOUT) -> None:
        self.tracking_uri = tracking_uri
        self.registry_uri = registry_uri or tracking_uri
        self.timeout = float(timeout)
        self._client: Any = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> MlflowRuns:
        timeout = settings.get("timeout") or DEFAULT_TIMEOUT
        return cls(tracking_uri_of(settings), registry_uri=settings.get("mlflow_registry_uri"),
                   timeout=float(timeout))

    @property
    def endpoint(self) -> str:
        return redact(self.tracking_uri)

    # -- plumbing -------------------------------------------------------------------------------

    def _client_or_raise(self) -> Any:
        with self._lock:
            if self._client is not None:
                return self._client
            path = _local_path(self.tracking_uri)
            if path is not None and not path.exists():
                raise NotFound(
                    "no MLflow store at this path",
                    endpoint=self.endpoint,
                    hint="check mlflow_uri / --mlflow-uri / MLFLOW_TRACKING_URI (nothing is created here)",
                )
            # a server that is down must fail in seconds, not after minutes of retries
            os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", str(max(1, math.ceil(self.timeout))))
            os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
            if path is not None and path.is_dir():
                # MLflow 3 refuses to open a ./mlruns file store unless told to; reading one is fine
                os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
            import logging

            for name in ("mlflow", "alembic"):
                logging.getLogger(name).setLevel(logging.WARNING)
            try:
                from mlflow import MlflowClient
            except ImportError as exc:
                raise NotConfigured(f"MLflow is not installed for {sys.executable}", endpoint=self.endpoint,
                                    detail=str(exc), hint="pip install 'mlops-console[mlflow]'") from None
            try:
                # MlflowClient opens the tracking store here, so a bad URI fails now
                self._client = MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.registry_uri)
                if self.tracking_uri.startswith("sqlite:"):
                    from backends.runs import mlflow_sqlite

                    mlflow_sqlite.install(getattr(getattr(self._client, "_tracking_client", None), "store", None))
                _freeze_imports()  # after the store (and SQLAlchemy for a database store) is loaded
            except Exception as exc:  # noqa: BLE001 - translated below
                self._client = None
                raise self._translate(exc, "could not open the MLflow store") from exc
            return self._client

    def _translate(self, exc: BaseException, what: str, rejected: str | None = None) -> BackendError:
        """``exc`` said as a BackendError; ``what`` failed, or, when the server refused the request
        itself (a bad filter or sort key), ``rejected`` says so when given."""
        if isinstance(exc, BackendError):
            return exc
        from mlflow.exceptions import MlflowException

        text = getattr(exc, "message", None) or str(exc)
        chain: list[BaseException] = []
        cur: BaseException | None = exc
        while cur is not None and len(chain) < 8:
            chain.append(cur)
            cur = cur.__cause__ or cur.__context__
        names = {type(e).__name__ for e in chain}
        if any("Timeout" in n for n in names) or "timeout exception" in text:
            return BackendTimeout(
                f"{what}: no answer in {self.timeout:g} s", endpoint=self.endpoint, detail=text,
                hint="is the tracking server overloaded? raise the context's timeout")
        if ("ConnectionError" in names or "NewConnectionError" in names
                or "Failed to establish a new connection" in text or "Max retries exceeded" in text
                or "Connection refused" in text or "Name or service not known" in text):
            short = _ERRNO.search(text)
            return Unreachable(
                f"{what}: tracking server unreachable", endpoint=self.endpoint,
                detail=short.group(0).strip() if short else text,
                hint="is `mlflow server` running there? retrying")
        if rejected and any(type(e) is ValueError for e in chain):
            # MLflow parses the filter and order_by in the client (a store's own parser on a server):
            # a ValueError there is the query's fault, not the server's
            return InvalidQuery(rejected, endpoint=self.endpoint, detail=re.sub(r"^[A-Z_]+: ", "", text))
        if isinstance(exc, MlflowException):
            code = exc.error_code
            status = exc.get_http_status_code()
            detail = re.sub(r"^[A-Z_]+: ", "", text)
            if code in ("INVALID_PARAMETER_VALUE", "BAD_REQUEST", "INVALID_STATE") and status == 400:
                return InvalidQuery(rejected or what, endpoint=self.endpoint, detail=detail)
            if code in ("RESOURCE_DOES_NOT_EXIST", "NOT_FOUND", "ENDPOINT_NOT_FOUND"):
                return NotFound(what, endpoint=self.endpoint, detail=detail)
            if code in ("PERMISSION_DENIED", "UNAUTHENTICATED") or status in (401, 403):
                return Forbidden(what, endpoint=self.endpoint, status=status, detail=detail,
                                 hint="check MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_TOKEN")
            rest_status = None
            m = re.search(r"response code (\d{3})", text) or re.search(r"HTTP (\d{3})", text)
            if m:
                rest_status = int(m.group(1))
            return ServerError(what, endpoint=self.endpoint,
                               status=rest_status or (status if status != 500 or code != "INTERNAL_ERROR" else None),
                               detail=detail)
        return ServerError(f"{what}: {type(exc).__name__}: {text}", endpoint=self.endpoint, detail=text)

    def _call(self, what: str, fn: Any, *args: Any, rejected: str | None = None, **kwargs: Any) -> Any:
        client = self._client_or_raise()
        try:
            return fn(client, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - translated
            raise self._translate(exc, what, rejected) from exc

    def _registry_call(self, what: str, fn: Any) -> Any:
        """A model registry call. MLflow's file-store registry looks logged models up through the
        process's default tracking URI (creating ./mlflow.db in the current directory); for a file
        store that lookup is pointed at this store for the duration of the call."""
        path = _local_path(self.tracking_uri)
        if path is None or not path.is_dir():
            return self._call(what, fn)
        self._client_or_raise()
        try:
            from mlflow.tracking._tracking_service.utils import _use_tracking_uri
        except ImportError:  # a future MLflow without the helper: call as is
            return self._call(what, fn)
        with _REGISTRY_LOCK, _use_tracking_uri(self.tracking_uri):
            return self._call(what, fn)

    # -- experiments ----------------------------------------------------------------------------

    def list_experiments(self) -> tuple[Experiment, ...]:
        def fetch(client: Any) -> list[Any]:
            return _every_page(client.search_experiments)

        exps = self._call("could not list experiments", fetch)
        return tuple(
            Experiment(
                experiment_id=str(e.experiment_id),
                name=e.name,
                lifecycle_stage=e.lifecycle_stage,
                artifact_location=e.artifact_location or "",
                created=_dt(e.creation_time),
                last_update=_dt(e.last_update_time),
                tags=tuple(sorted((e.tags or {}).items())),
            )
            for e in exps
        )

    def experiment_stats(self, experiment_id: str, cap: int = 1000) -> ExperimentStats:
        page = self._call(
            f"could not count the runs of experiment {experiment_id}",
            lambda c: c.search_runs([experiment_id], "", max_results=cap,
                                    order_by=["attributes.start_time DESC"]),
        )
        last = _dt(page[0].info.start_time) if len(page) else None
        return ExperimentStats(experiment_id=experiment_id, run_count=len(page),
                               capped=bool(page.token), last_run=last)

    # -- runs -----------------------------------------------------------------------------------

    @staticmethod
    def _summary(run: Any) -> RunSummary:
        info, data = run.info, run.data
        return RunSummary(
            run_id=info.run_id,
            run_name=info.run_name or data.tags.get("mlflow.runName", "") or "",
            experiment_id=str(info.experiment_id),
            status=info.status,
            start_time=_dt(info.start_time),
            end_time=_dt(info.end_time),
            params=tuple(sorted(data.params.items())),
            metrics=tuple(sorted(data.metrics.items())),
            tags=tuple(sorted(data.tags.items())),
            user=info.user_id or "",
        )

    def search_runs(self, query: RunQuery, page_token: str | None = None) -> RunPage:
        if not query.experiment_ids:
            return RunPage(runs=(), next_token=None, query=query)
        clauses = order_by(query.sort, self.endpoint)

        def search(c: Any) -> Any:
            _check_order_by(clauses)
            return c.search_runs(list(query.experiment_ids), query.filter or "", max_results=query.page_size,
                                 order_by=clauses or None, page_token=page_token)

        page = self._call("could not search runs", search, rejected="the run search was rejected")
        return RunPage(runs=tuple(self._summary(r) for r in page), next_token=page.token or None,
                       query=query)

    def get_run(self, run_id: str) -> RunDetail:
        run = self._call(f"could not load run {run_id}", lambda c: c.get_run(run_id))
        summary = self._summary(run)
        tags = run.data.tags
        artifacts: tuple[Artifact, ...] = ()
        problem = ""
        try:
            artifacts = self._artifact_tree(lambda p: self._client.list_artifacts(run_id, p))
        except Exception as exc:  # noqa: BLE001 - the rest of the detail is still worth showing
            problem = str(self._translate(exc, "could not list the artifacts"))
        return RunDetail(
            summary=summary,
            git_commit=tags.get("mlflow.source.git.commit"),
            source=tags.get("mlflow.source.name"),
            artifact_uri=run.info.artifact_uri or "",
            artifacts=artifacts,
            models=self._models(run),
            datasets=self._datasets(run),
            artifacts_problem=problem,
        )

    def _artifact_tree(self, lister: Any) -> tuple[Artifact, ...]:
        budget = [MAX_ARTIFACTS]

        def walk(path: str | None, depth: int) -> tuple[tuple[Artifact, ...], bool]:
            out: list[Artifact] = []
            for info in sorted(lister(path), key=lambda f: (not f.is_dir, f.path)):
                if budget[0] <= 0:
                    return tuple(out), True
                budget[0] -= 1
                if info.is_dir:
                    if depth + 1 < MAX_ARTIFACT_DEPTH:
                        children, cut = walk(info.path, depth + 1)
                    else:
                        children, cut = (), True
                    out.append(Artifact(info.path, True, None, depth, children, cut))
                else:
                    out.append(Artifact(info.path, False, info.file_size, depth))
            return tuple(out), False

        return walk(None, 0)[0]

    def _models(self, run: Any) -> tuple[LoggedModel, ...]:
        models: list[LoggedModel] = []
        seen: set[str] = set()
        # MLflow 3: models are entities of their own, linked from the run's outputs
        outputs = getattr(run, "outputs", None)
        for out in getattr(outputs, "model_outputs", None) or ():
            model_id = out.model_id
            if model_id in seen:
                continue
            seen.add(model_id)
            models.append(self._logged_model(model_id))
        # MLflow 2: the run's tag lists each logged model with flavors and signature
        history = run.data.tags.get("mlflow.log-model.history")
        if history:
            try:
                entries = json.loads(history)
            except ValueError:
                entries = []
            for entry in entries:
                path = entry.get("artifact_path", "model")
                if entry.get("model_id") in seen or path in seen:
                    continue
                seen.add(path)
                sig = entry.get("signature") or {}
                models.append(LoggedModel(
                    name=path, uri=f"runs:/{run.info.run_id}/{path}",
                    flavors=tuple(sorted((entry.get("flavors") or {}).keys())),
                    inputs=_columns(sig.get("inputs")), outputs=_columns(sig.get("outputs")),
                ))
        return tuple(models)

    def _logged_model(self, model_id: str) -> LoggedModel:
        client = self._client
        try:
            lm = client.get_logged_model(model_id)
        except Exception as exc:  # noqa: BLE001
            return LoggedModel(name=model_id, model_id=model_id,
                               problem=str(self._translate(exc, "could not load the logged model")))
        flavors: tuple[str, ...] = ()
        inputs: tuple[ColumnSpec, ...] = ()
        outputs: tuple[ColumnSpec, ...] = ()
        artifacts: tuple[Artifact, ...] = ()
        problem = ""
        try:
            flavors, inputs, outputs = self._read_mlmodel(lm.artifact_location)
            artifacts = self._artifact_tree(lambda p: client.list_logged_model_artifacts(model_id, p))
        except Exception as exc:  # noqa: BLE001
            problem = str(self._translate(exc, "could not read the model's MLmodel file"))
        return LoggedModel(name=lm.name, model_id=model_id, uri=lm.model_uri, flavors=flavors,
                           inputs=inputs, outputs=outputs, artifacts=artifacts, problem=problem)

    def _read_mlmodel(self, location: str) -> tuple[tuple[str, ...], tuple[ColumnSpec, ...],
                                                      tuple[ColumnSpec, ...]]:
        """Flavors and signature from the ``MLmodel`` file under ``location`` (fetched from this store)."""
        import tempfile

        import yaml
        from mlflow.artifacts import download_artifacts

        with tempfile.TemporaryDirectory(prefix="mlops-console-") as tmp:
            local = download_artifacts(artifact_uri=location.rstrip("/") + "/MLmodel", dst_path=tmp,
                                       tracking_uri=self.tracking_uri)
            meta = yaml.safe_load(Path(local).read_text()) or {}
        sig = meta.get("signature") or {}
        return (tuple(sorted((meta.get("flavors") or {}).keys())), _columns(sig.get("inputs")),
                _columns(sig.get("outputs")))

    @staticmethod
    def _datasets(run: Any) -> tuple[DatasetInput, ...]:
        inputs = getattr(run, "inputs", None)
        out = []
        for di in getattr(inputs, "dataset_inputs", None) or ():
            ds = di.dataset
            context = next((t.value for t in di.tags or () if t.key == "mlflow.data.context"), "")
            out.append(DatasetInput(name=ds.name, digest=ds.digest or "", source_type=ds.source_type or "",
                                    context=context, profile=ds.profile or "", schema=ds.schema or ""))
        return tuple(out)

    def metric_history(self, run_id: str, key: str) -> MetricHistory:
        points = self._call(f"could not load the history of {key!r} for run {run_id}",
                            lambda c: c.get_metric_history(run_id, key))
        # MLflow stores a timestamp with every metric value
        pts = sorted({MetricPoint(step=int(m.step), value=float(m.value), timestamp=cast(datetime, _dt(m.timestamp)))
                      for m in points}, key=lambda p: (p.step, p.timestamp))
        return MetricHistory(run_id=run_id, key=key, points=tuple(pts))

    # -- model registry -------------------------------------------------------------------------

    def list_registered_models(self) -> tuple[RegisteredModel, ...]:
        def fetch(client: Any) -> list[Any]:
            return _every_page(client.search_registered_models)

        found = self._registry_call("could not list registered models", fetch)
        return tuple(
            RegisteredModel(
                name=m.name,
                description=m.description or "",
                created=_dt(m.creation_timestamp),
                updated=_dt(m.last_updated_timestamp),
                aliases=tuple(sorted((str(k), str(v)) for k, v in (m.aliases or {}).items())),
                latest_versions=tuple(str(v.version) for v in (m.latest_versions or ())),
                tags=tuple(sorted((m.tags or {}).items())),
            )
            for m in found
        )

    def model_versions(self, name: str) -> tuple[ModelVersion, ...]:
        quoted = name.replace("'", "\\'")
        what = f"could not list the versions of model {name!r}"
        model = self._registry_call(what, lambda c: c.get_registered_model(name))
        by_version: dict[str, list[str]] = {}
        for alias, version in (model.aliases or {}).items():
            by_version.setdefault(str(version), []).append(alias)
        found = self._registry_call(what, lambda c: list(c.search_model_versions(f"name = '{quoted}'")))
        versions = []
        for v in found:
            aliases = tuple(sorted(set(v.aliases or ()) | set(by_version.get(str(v.version), ()))))
            stage = v.current_stage or ""
            versions.append(ModelVersion(
                name=v.name, version=str(v.version), status=v.status or "", stage="" if stage == "None" else stage,
                aliases=aliases, created=_dt(v.creation_timestamp), run_id=v.run_id or None,
                source=v.source or "", description=v.description or "",
                model_id=version_model_id(getattr(v, "model_id", None), v.source),
            ))
        versions.sort(key=lambda v: int(v.version) if v.version.isdigit() else 0, reverse=True)
        return tuple(versions)
