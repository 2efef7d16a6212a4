"""One registry that picks a backend implementation by name.

Built-in implementations are named here as ``"module:attribute"`` strings, so that choosing one
imports only that module. Third parties add theirs through the entry-point group
``mlops_console.backends`` with entry-point names ``"<kind>.<name>"`` (for example
``runs.wandb = "mypkg.backend:WandbRuns"``). The attribute is called with the context settings
(a plain mapping) and returns an object that satisfies the kind's Protocol.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

from backends.errors import NotConfigured


@runtime_checkable
class ImportsLibrary(Protocol):
    """Optional, any kind: a backend that imports its client library here. The console calls it in the worker
    that builds the backend, never on the UI thread, so that the first call does not pay for the import."""

    def import_library(self) -> None: ...


@runtime_checkable
class Interruptible(Protocol):
    """Optional, any kind: a backend whose operations change things (a checkout) and can be stopped and put
    back. The console asks before quitting while one runs, and stops it on hang-up."""

    def operation_running(self) -> bool:
        """Whether an operation is changing things now."""
        ...

    def interrupt(self) -> bool:
        """Stop the operation under way (it is put back) and refuse new ones; True when one was under way."""
        ...

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no operation runs; False if one still does after ``timeout`` seconds."""
        ...


KINDS = ("data", "runs", "deployments", "metrics")
ENTRY_POINT_GROUP = "mlops_console.backends"

DEFAULTS = {"data": "dvc", "runs": "mlflow", "deployments": "kubernetes", "metrics": "prometheus"}

BUILTIN: dict[tuple[str, str], str] = {
    ("data", "dvc"): "backends.data.dvc_layout:from_settings",  # checks the folder before importing more
    ("data", "fake"): "backends.data.fake:FakeDatasets.from_settings",
    ("runs", "mlflow"): "backends.runs.mlflow_process:MlflowProcessRuns.from_settings",
    ("runs", "mlflow-inprocess"): "backends.runs.mlflow_inprocess:MlflowRuns.from_settings",
    ("runs", "fake"): "backends.runs.fake:FakeRuns.from_settings",
    ("deployments", "kubernetes"): "backends.deployments.kube:KubernetesDeployments.from_settings",
    ("deployments", "endpoints"): "backends.deployments.endpoints:EndpointDeployments.from_settings",
    ("deployments", "fake"): "backends.deployments.fake:FakeDeployments.from_settings",
    ("metrics", "prometheus"): "backends.metrics.prometheus:PrometheusMetrics.from_settings",
    ("metrics", "fake"): "backends.metrics.fake:FakeMetrics.from_settings",
}


def _load(target: str) -> Callable[..., Any]:
    module_name, _, attr_path = target.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in attr_path.split("."):
        obj = getattr(obj, part)
    factory: Callable[..., Any] = obj
    return factory


def _entry_points() -> dict[tuple[str, str], Any]:
    from importlib.metadata import entry_points

    found: dict[tuple[str, str], Any] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        kind, _, name = ep.name.partition(".")
        if kind in KINDS and name:
            found[(kind, name)] = ep
    return found


def available(kind: str) -> list[str]:
    """Names of the implementations of ``kind`` (built-in and installed plugins)."""
    names = {name for (k, name) in BUILTIN if k == kind}
    names.update(name for (k, name) in _entry_points() if k == kind)
    return sorted(names)


def create(kind: str, name: str, settings: Mapping[str, Any]) -> Any:
    """Build the ``kind`` backend called ``name`` from the context ``settings``.

    Raises :class:`NotConfigured` for an unknown kind or name (the message lists the known ones),
    or whatever the implementation raises when its settings are missing.
    """
    if kind not in KINDS:
        raise NotConfigured(f"unknown backend kind {kind!r}", hint=f"one of {', '.join(KINDS)}")
    target = BUILTIN.get((kind, name))
    if target is not None:
        factory = _load(target)
    else:
        ep = _entry_points().get((kind, name))
        if ep is None:
            raise NotConfigured(
                f"no {kind} backend named {name!r}",
                hint=f"known: {', '.join(available(kind))}",
            )
        factory = ep.load()
    return factory(settings)
