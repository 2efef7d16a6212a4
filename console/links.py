"""Links across the panes: which data version a run trained on, which runs a data version trained, which registered
model versions a run became, which deployments serve them, and where their serving metrics are.

Everything is asked of the four backends through their contracts (any of them may be missing) and kept until
:meth:`Links.refresh`. A link is only made on evidence the systems recorded, and each link says what that evidence
is; where there is none, a note says so ("no data version recorded for this run") instead of a guess.

Plain Python: called from worker threads (every method may block), no Textual.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

from backends.data.contract import DataAtCommit, DatasetVersions, DataVersion
from backends.deployments.contract import Deployment, Deployments, Predictor, Revision
from backends.errors import BackendError, NotConfigured, NotFound
from backends.metrics.contract import MetricsSource
from backends.redact import redact
from backends.runs.contract import ExperimentRuns, ModelVersion, RunQuery, RunSummary
from console.noticed import NoticedJournal

#: kinds of thing a link points at, and the pane each one is shown in
PANE_OF = {"data": "data", "run": "runs", "model": "runs", "deployment": "deployments", "metrics": "metrics"}
#: the most runs read to find those trained on a data version (newest first): more is said, not hidden
RUN_CAP = 2000
#: the run tags the console reads as data evidence (as the demo's training writes them)
TAG_MD5, TAG_COMMIT, TAG_VERSION, TAG_SOURCE_COMMIT = (
    "data.dvc_md5", "data.git_commit", "data.version", "mlflow.source.git.commit")
_DVC_TAG = re.compile(r"^dvc\.(?P<path>.+)\.md5$")  # dvc.<path>.md5
_COMMITISH = re.compile(r"[0-9a-fA-F]{7,40}")  # what a commit tag must look like to be read in git
SERVING_DASHBOARD = "Model serving"  # the built-in dashboard's title starts so
FLAG_PROBLEM = "while a condition is False"  # the badge of a deployment the Deployments pane flags itself
CHAMPION_ALIAS = "champion"  # the registry alias a deployment should serve, unless the context names another


@dataclass(frozen=True)
class Ref:
    """One thing a pane shows as a row. ``key``: data (output, rev), run (run_id, experiment_id), model (name,
    version), deployment and metrics (namespace, name)."""

    kind: str
    key: tuple[str, ...]
    label: str

    @property
    def pane(self) -> str:
        return PANE_OF[self.kind]


@dataclass(frozen=True)
class Link:
    """Where a row links to and why; ``target`` None: what is (not) known, said as a note."""

    relation: str  # "trained on", "trained", "registered as", "from run", "served by", "serves", "metrics"
    target: Ref | None
    evidence: str


def data_ref(output: str, version: DataVersion) -> Ref:
    return Ref("data", (output, version.rev), f"{output}@{version.short}")


def run_ref(run: RunSummary) -> Ref:
    return Ref("run", (run.run_id, run.experiment_id), run.run_name or run.run_id[:12])


def model_ref(version: ModelVersion) -> Ref:
    aliases = "".join(f" @{a}" for a in version.aliases)
    return Ref("model", (version.name, version.version), f"{version.name} v{version.version}{aliases}")


def deployment_ref(d: Deployment) -> Ref:
    return Ref("deployment", d.key, d.name)  # (namespace, name), and the kind when it is not a SeldonDeployment


def metrics_ref(d: Deployment) -> Ref:
    return Ref("metrics", (d.namespace, d.name), f"metrics of {d.name}")


def _same_commit(a: str, b: str) -> bool:
    """Full or abbreviated hashes of one commit (at least 7 hex digits in common)."""
    a, b = a.strip().lower(), b.strip().lower()
    return len(a) >= 7 and len(b) >= 7 and (a.startswith(b) or b.startswith(a))


def _aware(when: datetime) -> datetime:
    """A time that says no zone is taken as UTC, so that times of every system compare."""
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _short(text: str, n: int = 12) -> str:
    return text if len(text) <= n else text[:n] + "…"


@dataclass(frozen=True)
class ServingNow:
    """The serving metrics of one deployment now, from the built-in dashboard's queries (None: no sample)."""

    deployment: str
    request_rate: float | None = None
    p95_latency: float | None = None
    error_ratio: float | None = None
    note: str = ""  # how the deployment was matched to the series, or why nothing could be read


@dataclass
class Trace:
    """The chain of one run / model version / deployment, as far as the evidence goes."""

    subject: str
    data: list[tuple[str, DataVersion, str]] = field(default_factory=list)  # (output, version, evidence)
    run: RunSummary | None = None
    versions: list[ModelVersion] = field(default_factory=list)
    deployments: list[tuple[Deployment, str]] = field(default_factory=list)  # (deployment, evidence)
    serving: list[ServingNow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    badges: list[tuple[str, Badge]] = field(default_factory=list)  # (what it is about, where the links disagree)


@dataclass(frozen=True)
class Badge:
    """Where the links disagree about one row: what is wrong, in words, and the evidence it rests on."""

    problem: str
    evidence: str

    def __str__(self) -> str:
        return f"! {self.problem}: {self.evidence}"


def _lost(version: DataVersion) -> bool:
    """Neither the DVC cache nor the remote holds the version (unknown is not lost)."""
    return version.in_cache is False and version.in_remote is not True


def _lost_badge(output: str, version: DataVersion) -> Badge:
    remote = "no DVC remote" if version.in_remote is None else "not in the remote either"
    return Badge("cannot be reproduced", f"its data {output}@{version.short} is not in the DVC cache, {remote}")


#: the most changes the resolver keeps having noticed itself (alias moves, deployment states): the oldest go first
NOTICED_CAP = 200
SEEN = "seen by the console"  # said of a deployment's change the console saw between two reads or in its watch


Spec = tuple[tuple[str, tuple[str, ...]], ...]  # (what: a predictor or a traffic target, its settings as text)
SPEC_FIELDS = ("traffic", "replicas", "image", "shadow")


def model_uris(predictors: Sequence[Predictor]) -> str:
    return ", ".join(dict.fromkeys(p.model_uri for p in predictors if p.model_uri))


def spec_of(predictors: Sequence[Predictor], revisions: Sequence[Revision]) -> Spec:
    """What of a deployment's spec a change of it is said by: each predictor's traffic share, replicas wanted,
    image and shadow flag, and each traffic target's share (a KServe revision)."""
    def pct(value: int | None) -> str:
        return "" if value is None else f"{value}%"

    out = [(p.name, (pct(p.traffic), "" if p.replicas_desired is None else str(p.replicas_desired), p.image,
                     "on" if p.shadow else "off")) for p in predictors]
    out += [(f"revision {r.tag or r.revision}", (pct(r.percent), "", "", "")) for r in revisions]
    return tuple(out)


def spec_changes(before: Spec, after: Spec) -> list[str]:
    """What differs between two :func:`spec_of`, in words: "traffic canary 25% -> 50%", "predictor b added"."""
    old, new = dict(before), dict(after)
    said = [f"{name} removed" if name.startswith("revision ") else f"predictor {name} removed"
            for name in old if name not in new]
    for name, values in new.items():
        if name not in old:
            said.append(f"{name} added" if name.startswith("revision ") else f"predictor {name} added")
            continue
        said.extend(f"{field} {name} {was or '-'} -> {now or '-'}"
                    for field, was, now in zip(SPEC_FIELDS, old[name], values, strict=True) if was != now)
    return said


@dataclass(frozen=True)
class ChartEvent:
    """Something that changed in a system linked to a deployment, at a time: a marker on its charts. ``source``
    is the system ("deployment", "registry", "data"); ``text`` says what changed and on what evidence."""

    at: datetime
    source: str
    text: str

    def __str__(self) -> str:
        return f"{self.source} {self.text}"


@dataclass(frozen=True)
class ChartEvents:
    """The events of one deployment in a window, newest first, and what could not be read ("registry: ...")."""

    events: tuple[ChartEvent, ...] = ()
    problems: tuple[str, ...] = ()


def golden_exprs(board: Any) -> dict[str, str]:
    """The built-in model-serving dashboard's request rate, p95 latency and error ratio queries: the Traffic
    panel's first target, the Latency panel's p95, the Errors panel's first."""
    exprs: dict[str, str] = {}
    for panel in board.panels:
        for target in panel.targets:
            if panel.title.startswith("Traffic") and "rate" not in exprs:
                exprs["rate"] = target.expr
            elif panel.title.startswith("Latency") and target.legend == "p95":
                exprs["p95"] = target.expr
            elif panel.title.startswith("Errors") and "errors" not in exprs:
                exprs["errors"] = target.expr
    return exprs


T = TypeVar("T")


class Links:
    """The resolver; build one per context with whichever backends could be built, or with ``provide``, which
    builds a pane's backend (or answers None) the first time a question needs it: the Runs pane's badges ask only
    the data, and no Kubernetes client is built for them."""

    def __init__(self, data: DatasetVersions | None = None, runs: ExperimentRuns | None = None,
                 deployments: Deployments | None = None, metrics: MetricsSource | None = None,
                 champion_alias: str = CHAMPION_ALIAS, provide: Callable[[str], Any] | None = None,
                 journal: NoticedJournal | None = None) -> None:
        self._backends: dict[str, Any] = {"data": data, "runs": runs, "deployments": deployments, "metrics": metrics}
        self._provide = provide
        self._provided: set[str] = set()
        self._provide_lock = threading.Lock()
        self.champion_alias = champion_alias or CHAMPION_ALIAS
        self._cache: dict[str, Any] = {}
        self._lock = threading.Lock()
        self.clock: Callable[[], datetime] = partial(datetime.now, UTC)  # when a change is noticed
        # what the console saw last, kept across refresh(): a change between two reads is an event (see events())
        self._aliases_seen: dict[str, dict[str, str]] | None = None  # model -> alias -> version
        # key -> (state, predictors, revisions, generation)
        self._deployments_seen: dict[tuple[str, ...], tuple[str, tuple[Predictor, ...], tuple[Revision, ...],
                                                            int | None]] = {}
        self._noticed: list[tuple[tuple[str, ...] | str, ChartEvent]] = []  # (deployment key or model, event)
        # ... and across sessions: the aliases last seen, and what was noticed
        self._journal = journal
        if journal is not None:
            self._aliases_seen, kept = journal.load()
            self._noticed = [(about, ChartEvent(at, source, text)) for about, at, source, text in kept][-NOTICED_CAP:]

    def _backend(self, kind: str) -> Any:
        if self._provide is not None and kind not in self._provided:
            with self._provide_lock:
                if kind not in self._provided:
                    if self._backends[kind] is None:
                        self._backends[kind] = self._provide(kind)
                    self._provided.add(kind)
        return self._backends[kind]

    @property
    def data(self) -> DatasetVersions | None:
        return self._backend("data")

    @property
    def runs(self) -> ExperimentRuns | None:
        return self._backend("runs")

    @property
    def deployments(self) -> Deployments | None:
        return self._backend("deployments")

    @property
    def metrics(self) -> MetricsSource | None:
        return self._backend("metrics")

    def refresh(self) -> None:
        """Forget what was read: the next question asks the backends again."""
        with self._lock:
            self._cache.clear()

    def _cached(self, key: str, read: Callable[[], T]) -> T:
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        value = read()
        with self._lock:
            self._cache.setdefault(key, value)
            return self._cache[key]

    # -- what the backends hold (cached) ------------------------------------------------------------------------
    def data_versions(self) -> tuple[tuple[str, DataVersion], ...]:
        """Every version of every tracked output: (output path, version)."""
        def read() -> tuple[tuple[str, DataVersion], ...]:
            data = self.data
            if data is None:
                return ()
            try:
                outputs = data.outputs()
            except NotConfigured:  # no DVC workspace where the context says: no data to link, as with no backend
                return ()
            out: list[tuple[str, DataVersion]] = []
            for output in outputs:
                out.extend((output.path, v) for v in data.history(output.path) if not v.deleted)
            return tuple(out)

        return self._cached("data", read)

    def all_runs(self) -> tuple[tuple[RunSummary, ...], bool]:
        """The runs of every experiment (newest first, up to :data:`RUN_CAP`) and whether there were more."""
        def read() -> tuple[tuple[RunSummary, ...], bool]:
            if self.runs is None:
                return (), False
            ids = tuple(e.experiment_id for e in self.runs.list_experiments() if e.lifecycle_stage == "active")
            if not ids:
                return (), False
            query = RunQuery(ids, page_size=min(RUN_CAP, 1000))
            runs: list[RunSummary] = []
            token: str | None = None
            while True:
                page = self.runs.search_runs(query, token)
                runs.extend(page.runs)
                token = page.next_token
                if not token or len(runs) >= RUN_CAP:
                    return tuple(runs[:RUN_CAP]), bool(token) or len(runs) > RUN_CAP

        return self._cached("runs", read)

    def model_versions(self) -> tuple[ModelVersion, ...]:
        def read() -> tuple[ModelVersion, ...]:
            if self.runs is None:
                return ()
            out: list[ModelVersion] = []
            for model in self.runs.list_registered_models():
                out.extend(self.runs.model_versions(model.name))
            self._notice_aliases(out)
            return tuple(out)

        return self._cached("models", read)

    def deployment_list(self) -> tuple[Deployment, ...]:
        def read() -> tuple[Deployment, ...]:
            items = () if self.deployments is None else self.deployments.list_deployments().items
            for d in items:
                self.saw(d)
            return items

        return self._cached("deployments", read)

    def md5_at(self, output: str, commit: str) -> str | None:
        """The output's md5 at a commit a run recorded (None: not known there, or no such commit here)."""
        key = f"md5_at:{output}:{commit}"
        with self._lock:  # first: the protocol check below is slow, and a table of runs asks this often
            if key in self._cache:
                return self._cache[key]
        data = self.data
        if not isinstance(data, DataAtCommit):
            return None

        def read() -> str | None:
            try:
                return data.md5_at(output, commit)
            except BackendError:
                return None  # a commit this clone does not have: no evidence either way

        return self._cached(key, read)

    def _md5s_at(self, output: str, commits: set[str]) -> None:
        """Read what the output's record holds at many commits at once, into the cache :meth:`md5_at` reads."""
        data = self.data
        with self._lock:
            missing = sorted(c for c in commits if f"md5_at:{output}:{c}" not in self._cache)
        if not missing or not isinstance(data, DataAtCommit):
            return
        try:
            answers = data.md5s_at(output, missing)
        except BackendError:
            return  # each is asked alone then, and answers None the same way
        with self._lock:
            for commit in missing:
                self._cache.setdefault(f"md5_at:{output}:{commit}", answers.get(commit))

    def tag_commit(self, tag: str) -> str | None:
        """The commit a git tag names in the data's repository (None: no such tag, or no way to ask)."""
        data = self.data
        if not isinstance(data, DataAtCommit):
            return None

        def read() -> str | None:
            try:
                return data.tag_commit(tag)
            except BackendError:
                return None

        return self._cached(f"tag:{tag}", read)

    def run(self, run_id: str) -> RunSummary | None:
        known = next((r for r in self.all_runs()[0] if r.run_id == run_id), None)
        runs = self.runs
        if known is not None or runs is None:
            return known

        def read() -> RunSummary | None:
            try:
                return runs.get_run(run_id).summary
            except NotFound:
                return None

        return self._cached(f"run:{run_id}", read)

    # -- run <-> data ------------------------------------------------------------------------------------------
    def _data_evidence(self, run: RunSummary, output: str, version: DataVersion,
                       datasets: Sequence[Any] = ()) -> list[str]:
        """What the run recorded that names this version (empty: nothing does)."""
        why: list[str] = []
        md5 = version.md5 or ""
        md5_tags = [key for key, value in run.tags if md5 and value == md5 and (
            key == TAG_MD5 or ((m := _DVC_TAG.match(key)) is not None and m.group("path") == output))]
        if md5_tags:
            why.append(f"tag {', '.join(md5_tags)} = {md5[:8]}… is its .dvc md5")
        commit_tags = [key for key in (TAG_COMMIT, TAG_SOURCE_COMMIT)
                       if (value := run.tag(key)) and _same_commit(value, version.rev)]
        if commit_tags:
            why.append(f"tag {', '.join(commit_tags)} = {version.short} is its commit")
        else:  # a later commit that left the data as it was: what its .dvc file records
            for key in (TAG_COMMIT, TAG_SOURCE_COMMIT):
                value = run.tag(key)
                if value and md5 and self.md5_at(output, value) == md5:
                    why.append(f"tag {key} = {value[:7]}, a commit whose .dvc file records this version's md5")
                    break
        for ds in datasets:
            digest = str(getattr(ds, "digest", "") or "")
            if md5 and len(digest) >= 8 and md5.startswith(digest.lower()):
                why.append(f"MLflow dataset input {ds.name!r} has digest {digest}, its md5")
        label = run.tag(TAG_VERSION)
        if not why and label and md5 and (commit := self.tag_commit(label)):  # the last resort: a name
            if _same_commit(commit, version.rev):
                why.append(f"tag {TAG_VERSION} = {label} is the git tag of its commit")
            elif self.md5_at(output, commit) == md5:
                why.append(f"tag {TAG_VERSION} = {label} is a git tag at {commit[:7]}, whose .dvc file records "
                           "this version's md5")
        return why

    def run_data(self, run_id: str) -> list[Link]:
        """The data version(s) a run trained on, each with its evidence; or one note saying why none is known."""
        run = self.run(run_id)
        if run is None:
            return [Link("trained on", None, f"no run {run_id} in the tracking store")]
        datasets: tuple[Any, ...] = ()
        if self.runs is not None:
            datasets = self._cached(f"datasets:{run_id}", lambda: self.runs.get_run(run_id).datasets
                                    if self.runs else ())
        links = []
        for output, version in self.data_versions():
            why = self._data_evidence(run, output, version, datasets)
            if why:
                label = run.tag(TAG_VERSION)
                ref = data_ref(output, version)
                if label:
                    ref = Ref("data", ref.key, f"{ref.label} ({label})")
                links.append(Link("trained on", ref, "; ".join(why)))
        if links:
            return links
        recorded = [f"{k} = {_short(v)}" for k, v in run.tags
                    if k in (TAG_MD5, TAG_COMMIT, TAG_VERSION, TAG_SOURCE_COMMIT) or _DVC_TAG.match(k)]
        recorded += [f"dataset input {ds.name!r} (digest {ds.digest or '-'})" for ds in datasets]
        if not recorded:
            return [Link("trained on", None, "no data version recorded for this run (no data.* or dvc.*.md5 tags, "
                                             "no source git commit, no dataset inputs)")]
        where = "no tracked output" if self.data is None else "no version of a tracked output"
        return [Link("trained on", None, f"the run records {', '.join(recorded)}, but {where} matches it")]

    def data_runs(self, output: str, rev: str) -> list[Link]:
        """The runs trained on one data version (from the runs' own tags)."""
        version = next((v for o, v in self.data_versions() if o == output and v.rev == rev), None)
        if version is None:
            return [Link("trained", None, f"no version {rev[:10]} of {output} in the workspace's history")]
        runs, more = self.all_runs()
        self._md5s_at(output, {value for run in runs for key, value in run.tags  # one read for all their commits
                               if key in (TAG_COMMIT, TAG_SOURCE_COMMIT) and _COMMITISH.fullmatch(value)})
        links = []
        for run in runs:
            why = self._data_evidence(run, output, version)
            if why:
                links.append(Link("trained", run_ref(run), "; ".join(why)))
        if not links:
            searched = f"the {len(runs)} newest runs" if more else f"{len(runs)} run(s)"
            links.append(Link("trained", None, f"no run records this version ({searched} read; a run names its data "
                                               f"with tags {TAG_MD5}, {TAG_COMMIT} or {TAG_SOURCE_COMMIT})"))
        elif more:
            links.append(Link("trained", None, f"only the {len(runs)} newest runs were read"))
        return links

    # -- run <-> registry ---------------------------------------------------------------------------------------
    def run_models(self, run_id: str) -> list[Link]:
        links = [Link("registered as", model_ref(v), "the registered version's source run is this run")
                 for v in self.model_versions() if v.run_id == run_id]
        return links or [Link("registered as", None, "no registered model version comes from this run")]

    def model_run(self, name: str, version: str) -> list[Link]:
        mv = self._model_version(name, version)
        if mv is None:
            return [Link("from run", None, f"no version {version} of model {name} in the registry")]
        if not mv.run_id:
            return [Link("from run", None, f"{name} v{version} records no source run")]
        run = self.run(mv.run_id)
        if run is None:
            return [Link("from run", None, f"{name} v{version} names run {mv.run_id}, which the store no longer has")]
        return [Link("from run", run_ref(run), "the registry records it as this version's source run")]

    def _model_version(self, name: str, version: str) -> ModelVersion | None:
        return next((v for v in self.model_versions() if v.name == name and v.version == version), None)

    # -- deployments ---------------------------------------------------------------------------------------------
    def resolve_uri(self, uri: str) -> tuple[list[ModelVersion], str | None, str]:
        """What a deployment's model URI names: (registered versions, run id, evidence); nothing known: ([], None,
        why)."""
        uri = uri.strip()
        if not uri:
            return [], None, "no model URI"
        if uri.startswith("models:/"):
            ref = uri[len("models:/"):].strip("/")
            name, at, alias = ref.partition("@")
            if at:
                found = [v for v in self.model_versions() if v.name == name and alias in v.aliases]
                if not found:
                    return [], None, f"{uri}: the registry has no alias @{alias} on model {name}"
                return found, found[0].run_id, f"{uri}: @{alias} points at v{found[0].version} in the registry now"
            name, _, rest = ref.partition("/")
            rest = rest.split("/", 1)[0]
            if rest.isdigit():
                found = [v for v in self.model_versions() if v.name == name and v.version == rest]
            else:  # a stage: its latest version
                staged = [v for v in self.model_versions() if v.name == name and v.stage.lower() == rest.lower()]
                found = sorted(staged, key=lambda v: int(v.version) if v.version.isdigit() else 0)[-1:]
            if not found:
                return [], None, f"{uri}: the registry has no such version of {name}"
            return found, found[0].run_id, f"{uri}: version {found[0].version} in the registry"
        if uri.startswith("runs:/"):
            run_id = uri[len("runs:/"):].strip("/").split("/", 1)[0]
            return [v for v in self.model_versions() if v.run_id == run_id], run_id, f"{uri} names the run"
        bare = uri.rstrip("/")
        same = [v for v in self.model_versions() if v.source and v.source.rstrip("/") == bare]
        if same:
            return same, same[0].run_id, f"{uri} is the registered version's source"
        parts = set(re.split(r"[/:]", bare))
        for run in self.all_runs()[0]:
            if run.run_id in parts:
                versions = [v for v in self.model_versions() if v.run_id == run.run_id]
                return versions, run.run_id, f"{uri} is an artifact path of run {run.run_id[:12]}"
        return [], None, f"{uri} is neither a registry URI nor an artifact path of a known run"

    def deployment_models(self, namespace: str, name: str) -> list[Link]:
        d = self._deployment(namespace, name)
        if d is None:
            return [Link("serves", None, f"no deployment {name} in {namespace or 'any namespace'}")]
        links: list[Link] = []
        uris = [p.model_uri for p in d.predictors if p.model_uri]
        if not uris:
            return [Link("serves", None, f"{name} records no model URI (image {d.model_text or '-'})"),
                    Link("metrics", metrics_ref(d), "the model-serving dashboard for this deployment")]
        for uri in dict.fromkeys(uris):
            versions, run_id, why = self.resolve_uri(uri)
            links.extend(Link("serves", model_ref(v), why) for v in versions)
            run = self.run(run_id) if run_id else None
            if run is not None:
                links.append(Link("serves a model of run", run_ref(run), why))
            if not versions and run is None:
                links.append(Link("serves", None, why))
        links.append(Link("metrics", metrics_ref(d), "the model-serving dashboard for this deployment"))
        return links

    def _deployment(self, namespace: str, name: str) -> Deployment | None:
        return next((d for d in self.deployment_list() if d.name == name and d.namespace == namespace), None)

    def serving(self, *, run_id: str | None = None, model: tuple[str, str] | None = None) -> list[Link]:
        """The deployments whose model URI resolves to this run or registered version."""
        links = []
        for d in self.deployment_list():
            for uri in dict.fromkeys(p.model_uri for p in d.predictors if p.model_uri):
                versions, uri_run, why = self.resolve_uri(uri)
                hit = (model is not None and any((v.name, v.version) == model for v in versions)) or (
                    run_id is not None and uri_run == run_id)
                if hit:
                    links.append(Link("served by", deployment_ref(d), f"{why} ({d.state})"))
                    break
        return links or [Link("served by", None, "no deployment's model URI resolves to it")]

    # -- one row's links --------------------------------------------------------------------------------------------
    def links_of(self, ref: Ref) -> list[Link]:
        if ref.kind == "data":
            return self.data_runs(*ref.key[:2])
        if ref.kind == "run":
            run_id = ref.key[0]
            return self.run_data(run_id) + self.run_models(run_id) + self.serving(run_id=run_id)
        if ref.kind == "model":
            name, version = ref.key[:2]
            return self.model_run(name, version) + self.serving(model=(name, version))
        if ref.kind == "deployment":
            return self.deployment_models(*ref.key[:2])
        if ref.kind == "metrics":  # the charts of one deployment: the deployment itself first
            d = self._deployment(*ref.key[:2])
            if d is None:
                return [Link("deployment", None, f"no deployment {ref.key[1]} any more")]
            return [Link("deployment", deployment_ref(d), "the deployment these charts were opened for"),
                    *(link for link in self.deployment_models(*ref.key[:2]) if link.relation != "metrics")]
        return []

    # -- consistency badges -------------------------------------------------------------------------------------
    def badges_of(self, ref: Ref) -> list[Badge]:
        """Where the links disagree about a deployment or a run (empty: nothing found wrong, or not a kind that
        has badges)."""
        if ref.kind == "deployment":
            d = self._deployment(*ref.key[:2])
            return [] if d is None else self.deployment_badges(d)
        if ref.kind == "run":
            return self.run_badges(ref.key[0])
        return []

    def _current_data(self, output: str) -> DataVersion | None:
        return next((v for o, v in self.data_versions() if o == output and v.is_current), None)

    def _trained_on(self, run_id: str) -> list[tuple[str, DataVersion]]:
        """The data versions a run trained on, as :meth:`run_data` links them (on evidence only)."""
        out = []
        for link in self.run_data(run_id):
            if link.target is not None:
                output, rev = link.target.key[:2]
                version = next((v for o, v in self.data_versions() if o == output and v.rev == rev), None)
                if version is not None:
                    out.append((output, version))
        return out

    def deployment_badges(self, d: Deployment) -> list[Badge]:
        return self._cached(f"badges:deployment:{'/'.join(d.key)}", partial(self._deployment_badges, d))

    def _deployment_badges(self, d: Deployment) -> list[Badge]:
        badges: list[Badge] = []
        if d.flagged:  # the pane's own flag: Available, yet a condition says False
            c = d.false_conditions[0]
            badges.append(Badge(f"{d.state} {FLAG_PROBLEM}",
                                f"{c.type}=False{': ' if c.reason or c.message else ''}{c.reason or c.message}"))
        alias = self.champion_alias
        run_ids: list[str] = []
        for uri in dict.fromkeys(p.model_uri for p in d.predictors if p.model_uri):
            versions, run_id, _why = self.resolve_uri(uri)
            if run_id:
                run_ids.append(run_id)
            for name in dict.fromkeys(v.name for v in versions):
                champion = next((v for v in self.model_versions() if v.name == name and alias in v.aliases), None)
                served = [v.version for v in versions if v.name == name]
                if champion is not None and champion.version not in served:  # no such alias: nothing to compare
                    badges.append(Badge(f"not serving @{alias}",
                                        f"{uri} serves {name} v{', v'.join(served)}; @{alias} is v{champion.version}"))
        for run_id in dict.fromkeys(run_ids):
            for output, version in self._trained_on(run_id):
                current = self._current_data(output)
                # the history is newest first (git log order): commits a second apart have one date
                history = [v.rev for o, v in self.data_versions() if o == output]
                if current is not None and history.index(version.rev) > history.index(current.rev):
                    badges.append(Badge("serves a model trained on older data",
                                        f"its run {run_id[:12]} trained on {output}@{version.short} "
                                        f"({version.date:%Y-%m-%d %H:%M}); the workspace is at {current.short} "
                                        f"({current.date:%Y-%m-%d %H:%M})"))
        return badges

    def run_badges(self, run_id: str) -> list[Badge]:
        def read() -> list[Badge]:
            return [_lost_badge(output, version) for output, version in self._trained_on(run_id)
                    if _lost(version)]

        return self._cached(f"badges:run:{run_id}", read)

    def rows_badges(self, runs: Sequence[RunSummary]) -> dict[str, list[Badge]]:
        """The "cannot be reproduced" badges of the rows of a runs table, by run id (runs without one left out).

        Only what the rows already carry is read (their tags, no call per run), and only when some data version
        is lost at all. The lost versions are looked up by md5 and by commit, and what the ``.dvc`` files record at
        the rows' commits is read in one batch per output: ten thousand rows cost about one look at the history."""
        lost = [(output, version) for output, version in self.data_versions() if _lost(version)]
        out: dict[str, list[Badge]] = {}
        if not lost:
            return out
        by_md5: dict[tuple[str, str], DataVersion] = {}  # (output, md5) -> version
        by_commit: dict[str, list[tuple[str, DataVersion]]] = {}  # a commit's first 7 digits -> its versions
        for output, version in lost:
            if version.md5:
                by_md5[(output, version.md5)] = version
            by_commit.setdefault(version.rev[:7].lower(), []).append((output, version))
        outputs = sorted({output for output, _ in lost})
        commits = {value for run in runs for key, value in run.tags
                   if key in (TAG_COMMIT, TAG_SOURCE_COMMIT) and _COMMITISH.fullmatch(value)}
        for output in outputs:
            self._md5s_at(output, commits)

        named: dict[str, list[tuple[str, DataVersion]]] = {}  # many rows share a commit

        def at_commit(commit: str) -> list[tuple[str, DataVersion]]:
            """The lost versions a commit names: its own, and those its .dvc files record there."""
            if commit in named:
                return named[commit]
            found = [(o, v) for o, v in by_commit.get(commit[:7].lower(), ()) if _same_commit(commit, v.rev)]
            for output in outputs:
                md5 = self.md5_at(output, commit) if _COMMITISH.fullmatch(commit) else None
                if md5 and (version := by_md5.get((output, md5))) is not None:
                    found.append((output, version))
            named[commit] = found
            return found

        for run in runs:
            hits: dict[tuple[str, str], tuple[str, DataVersion]] = {}
            for key, value in run.tags:
                if key == TAG_MD5:
                    hits.update(((o, v.rev), (o, v)) for o in outputs if (v := by_md5.get((o, value))) is not None)
                elif (m := _DVC_TAG.match(key)) is not None and (v := by_md5.get((m.group("path"), value))):
                    hits[(m.group("path"), v.rev)] = (m.group("path"), v)
                elif key in (TAG_COMMIT, TAG_SOURCE_COMMIT) and value:
                    hits.update(((o, v.rev), (o, v)) for o, v in at_commit(value))
            label = run.tag(TAG_VERSION)
            if not hits and label and (commit := self.tag_commit(label)):  # the last resort, as in run_data
                hits.update(((o, v.rev), (o, v)) for o, v in at_commit(commit))
            if hits:
                out[run.run_id] = [_lost_badge(o, v) for o, v in hits.values()]
        return out

    # -- :trace ---------------------------------------------------------------------------------------------------
    def trace(self, spec: str, now: datetime | None = None) -> Trace:
        """The chain of ``RUN_ID``, ``MODEL@ALIAS`` / ``MODEL/N`` or a deployment name (``NAMESPACE/NAME`` too)."""
        spec = spec.strip()
        trace = Trace(spec)
        run_id: str | None = None
        deployments = [d for d in self.deployment_list() if spec in (d.name, f"{d.namespace}/{d.name}")]
        if deployments:
            d = deployments[0]
            trace.subject = f"deployment {d.name}"
            for uri in dict.fromkeys(p.model_uri for p in d.predictors if p.model_uri):
                versions, run_id, why = self.resolve_uri(uri)
                trace.versions.extend(versions)
                if not versions and run_id is None:
                    trace.notes.append(why)
            if not any(p.model_uri for p in d.predictors):
                trace.notes.append(f"{d.name} records no model URI: the chain stops here")
        elif "@" in spec or (spec.count("/") == 1 and not spec.startswith("runs:")):
            uri = spec if spec.startswith("models:/") else f"models:/{spec}"
            versions, run_id, why = self.resolve_uri(uri)
            trace.subject = f"model {spec}"
            trace.versions.extend(versions)
            if not versions:
                trace.notes.append(why)
        else:
            run_id = spec.removeprefix("runs:/").split("/", 1)[0]
            matches = [r for r in self.all_runs()[0] if r.run_id.startswith(run_id)] if len(run_id) >= 6 else []
            if len(matches) == 1:
                run_id = matches[0].run_id
            trace.subject = f"run {run_id[:12]}"
            trace.versions.extend(v for v in self.model_versions() if v.run_id == run_id)
        if run_id:
            trace.run = self.run(run_id)
            if trace.run is None and not trace.versions and not deployments:
                trace.notes.append(f"{spec!r} is not a deployment, a MODEL@ALIAS or MODEL/N, or a run id of the "
                                   "tracking store")
            elif trace.run is None:
                trace.notes.append(f"no run {run_id} in the tracking store")
        if trace.run is not None:
            for link in self.run_data(trace.run.run_id):
                if link.target is None:
                    trace.notes.append(link.evidence)
                    continue
                output, rev = link.target.key[:2]
                found = next(v for o, v in self.data_versions() if o == output and v.rev == rev)
                trace.data.append((output, found, link.evidence))
        seen: set[tuple[str, ...]] = set(d.key for d, _ in trace.deployments)
        if deployments:
            trace.deployments.append((deployments[0], "the deployment asked for"))
            seen.add(deployments[0].key)
        serving = [link for mv in trace.versions for link in self.serving(model=(mv.name, mv.version))]
        if trace.run is not None:
            serving += self.serving(run_id=trace.run.run_id)
        for link in serving:
            served = self._deployment(*link.target.key[:2]) if link.target else None
            if served is not None and served.key not in seen:
                seen.add(served.key)
                trace.deployments.append((served, link.evidence))
        if not trace.deployments:
            trace.notes.append("no deployment serves it")
        trace.serving = [self.serving_now(d, now) for d, _ in trace.deployments]
        if trace.run is not None:
            label = trace.run.run_name or trace.run.run_id[:12]
            trace.badges.extend((f"run {label}", b) for b in self.run_badges(trace.run.run_id))
        for d, _ in trace.deployments:
            trace.badges.extend((d.name, b) for b in self.deployment_badges(d))
        return trace

    # -- serving metrics -------------------------------------------------------------------------------------------
    def dashboard_values(self, d: Deployment) -> tuple[dict[str, str], str]:
        """The model-serving dashboard's variables for one deployment, and how they were chosen: its name and
        namespace where the metrics carry them as labels, else every series (said)."""
        from backends.metrics.dashboards import exact_regex, parse_label_values

        board = self.serving_dashboard()
        values: dict[str, str] = {}
        missing: list[str] = []
        if board is None or self.metrics is None:
            return {"deployment": exact_regex(d.name), "namespace": exact_regex(d.namespace) or ".*"}, ""
        for variable in board.variables:
            want = {"deployment": d.name, "namespace": d.namespace}.get(variable.name)
            if want is None:
                continue
            parsed = parse_label_values(variable.query) if variable.query else None
            known: tuple[str, ...] = ()
            if parsed is not None:
                metric, label = parsed
                known = self._cached(f"labels:{variable.query}", partial(self.metrics.label_values, label, metric))
            if want and want in known:
                values[variable.name] = exact_regex(want)
            else:
                values[variable.name] = ".*"
                missing.append(f"{variable.name}={want or '-'}")
        note = (f"no serving series are labelled {', '.join(missing)}: the dashboard shows every model server"
                if missing else "")
        return values, note

    def serving_dashboard(self) -> Any:
        if self.metrics is None:
            return None

        def read() -> Any:
            assert self.metrics is not None
            for report in self.metrics.dashboards():
                if report.dashboard is not None and report.dashboard.title.startswith(SERVING_DASHBOARD):
                    return report.dashboard
            return None

        return self._cached("dashboard", read)

    def serving_now(self, d: Deployment, now: datetime | None = None) -> ServingNow:
        from backends.metrics.dashboards import expand

        board = self.serving_dashboard()
        if board is None:
            return ServingNow(d.name, note="no metrics backend" if self.metrics is None
                              else "the built-in model-serving dashboard is not loaded")
        values, note = self.dashboard_values(d)
        exprs = golden_exprs(board)
        got: dict[str, float | None] = {}
        problems: list[str] = []
        assert self.metrics is not None  # a dashboard was found through it
        for key, expr in exprs.items():
            try:
                result = self.metrics.instant_query(expand(expr, values, step=15.0), now or datetime.now(UTC))
            except BackendError as exc:
                problems.append(f"{key}: {exc}")
                got[key] = None
                continue
            numbers = [s.value for s in result.samples if not math.isnan(s.value)]
            got[key] = sum(numbers) if numbers else None
        if problems:
            note = "; ".join(filter(None, [note, *problems]))
        return ServingNow(d.name, got.get("rate"), got.get("p95"), got.get("errors"), note)

    # -- events on charts ---------------------------------------------------------------------------------------
    def saw(self, d: Deployment, at: datetime | None = None) -> None:
        """Remember a deployment as read or watched; a change of its state, its model URIs or its spec (traffic,
        replicas, images: what bumps its generation) since the last time is an event at ``at`` (default now), said
        as seen by the console: the systems keep no such history."""
        seen = (d.state, d.predictors, d.revisions, d.generation)  # compared as they are: cheap, per watch event
        with self._lock:
            before = self._deployments_seen.get(d.key)
            self._deployments_seen[d.key] = seen
        if before is None or before == seen:
            return
        when = at or self.clock()
        said: list[str] = []
        if before[0] != d.state:
            said.append(f"{before[0]} -> {d.state}")
        was_uris, uris = model_uris(before[1]), model_uris(d.predictors)
        if was_uris != uris:
            said.append(f"model {was_uris or '-'} -> {uris or '-'}")
        changes = spec_changes(spec_of(before[1], before[2]), spec_of(d.predictors, d.revisions))
        bumped = before[3] is not None and d.generation is not None and d.generation != before[3]
        if changes or (bumped and was_uris == uris):  # a new model alone is said above
            generation = f" (generation {before[3]} -> {d.generation})" if bumped else ""
            said.append(f"spec changed{generation}{': ' + ', '.join(changes) if changes else ''}")
        self._remember(d.key, [ChartEvent(when, "deployment", f"{d.name}: {what} ({SEEN})") for what in said])

    def _notice_aliases(self, versions: Sequence[ModelVersion]) -> None:
        """Compare the registry's aliases with those of the last read: MLflow keeps no alias history, so a move
        is known only from two reads, and dated when it was noticed."""
        now: dict[str, dict[str, str]] = {}
        for v in versions:
            for alias in v.aliases:
                now.setdefault(v.name, {})[alias] = v.version
        with self._lock:
            before, self._aliases_seen = self._aliases_seen, now
        if before == now:
            return
        moves: list[tuple[str, ChartEvent]] = []
        when = self.clock()
        noticed = "noticed then, not when it moved: MLflow keeps no alias history"
        if before is not None:  # the first read only sets what later ones are compared with
            for model in sorted(set(before) | set(now)):
                old, new = before.get(model, {}), now.get(model, {})
                for alias in sorted(set(old) | set(new)):
                    was, is_ = old.get(alias), new.get(alias)
                    if was == is_:
                        continue
                    if was is None:
                        move = f"set on v{is_}"
                    elif is_ is None:
                        move = f"removed (was v{was})"
                    else:
                        move = f"v{was} -> v{is_}"
                    moves.append((model, ChartEvent(when, "registry", f"{model} @{alias} {move} ({noticed})")))
        with self._lock:
            self._noticed.extend(moves)
            del self._noticed[:-NOTICED_CAP]
        self._keep()  # also the new baseline: a move made while the console is closed is noticed against it

    def _remember(self, about: tuple[str, ...] | str, events: Sequence[ChartEvent]) -> None:
        if not events:
            return
        with self._lock:
            self._noticed.extend((about, e) for e in events)
            del self._noticed[:-NOTICED_CAP]
        self._keep()

    def _keep(self) -> None:
        """Write what was noticed, and the aliases as last seen, to the journal (if there is one)."""
        if self._journal is None:
            return
        with self._lock:
            aliases = None if self._aliases_seen is None else {m: dict(a) for m, a in self._aliases_seen.items()}
            noticed = [(about, e.at, e.source, e.text) for about, e in self._noticed]
        self._journal.save(aliases, noticed)

    def events(self, d: Deployment, start: datetime, end: datetime) -> ChartEvents:
        """What changed between ``start`` and ``end`` in the systems linked to ``d``: the deployment itself (its
        Kubernetes events, its conditions' transitions, the changes the console saw), the registry (versions of
        the model it serves registered, alias moves noticed) and the data (commits of the .dvc files of the data
        the served model's run trained on). Each source's failure is said in ``problems``; the others still
        answer."""
        found: list[ChartEvent] = []
        problems: list[str] = []
        gatherers = (("deployment", self._deployment_changes), ("deployment", self._kube_events),
                     ("registry", self._registry_events), ("data", self._data_events))
        for source, gather in gatherers:
            try:
                found.extend(gather(d))
            except BackendError as exc:
                problems.append(f"{source}: {redact(str(exc))}")
        start, end = _aware(start), _aware(end)
        shown = [e for e in dict.fromkeys(found) if start <= _aware(e.at) <= end]
        shown.sort(key=lambda e: _aware(e.at), reverse=True)
        return ChartEvents(tuple(shown), tuple(problems))

    def _deployment_changes(self, d: Deployment) -> list[ChartEvent]:
        """Its conditions' transitions (as its status records them) and the changes the console saw."""
        out = [ChartEvent(c.last_transition, "deployment", f"{d.name}: condition {c.type}={c.status}"
                          f"{' (' + (c.reason or c.message) + ')' if c.reason or c.message else ''}")
               for c in d.conditions if c.last_transition is not None]
        with self._lock:
            out.extend(e for about, e in self._noticed if about == d.key)
        return out

    def _kube_events(self, d: Deployment) -> list[ChartEvent]:
        """Its Events and its pods' (none where the backend has no cluster), at their last time."""
        if self.deployments is None:
            return []
        read = partial(self.deployments.events, d.namespace, d.name, d.kind)
        out = []
        for ev in self._cached(f"kube-events:{'/'.join(d.key)}", read):
            if ev.last_seen is None:
                continue
            what = d.name if ev.object_kind in ("", d.kind) else f"{d.name} {ev.object_kind.lower()} {ev.object_name}"
            times = f" (x{ev.count}, the last)" if ev.count > 1 else ""
            warning = "Warning " if ev.warning else ""
            out.append(ChartEvent(ev.last_seen, "deployment", f"{what}: {warning}{ev.reason}: {ev.message}{times}"))
        return out

    def _served(self, d: Deployment) -> tuple[list[ModelVersion], list[str]]:
        """The registered versions and the runs the deployment's model URIs resolve to."""
        versions: list[ModelVersion] = []
        run_ids: list[str] = []
        for uri in dict.fromkeys(p.model_uri for p in d.predictors if p.model_uri):
            found, run_id, _why = self.resolve_uri(uri)
            versions.extend(found)
            if run_id:
                run_ids.append(run_id)
        return versions, list(dict.fromkeys(run_ids))

    def _registry_events(self, d: Deployment) -> list[ChartEvent]:
        if self.runs is None:
            return []
        served, _runs = self._served(d)
        names = set(v.name for v in served)
        out = []
        for v in self.model_versions():
            if v.name in names and v.created is not None:
                aliases = "".join(f" @{a}" for a in v.aliases)
                now = f" ({aliases.strip()} now)" if aliases else ""
                out.append(ChartEvent(v.created, "registry", f"{v.name} v{v.version} registered{now}"))
        with self._lock:
            out.extend(e for about, e in self._noticed if isinstance(about, str) and about in names)
        return out

    def _data_events(self, d: Deployment) -> list[ChartEvent]:
        if self.data is None or self.runs is None:
            return []
        _versions, run_ids = self._served(d)
        trained = {(output, version.rev) for run_id in run_ids for output, version in self._trained_on(run_id)}
        outputs = set(output for output, _rev in trained)
        out = []
        for output, version in self.data_versions():
            if output in outputs:
                used = " (the served model trained on it)" if (output, version.rev) in trained else ""
                out.append(ChartEvent(version.date, "data",
                                      f"{output}@{version.short} committed: {version.message}{used}"))
        return out
