"""One registry that picks a backend implementation by name.

Built-in implementations are named here as ``"module:attribute"`` strings, so that choosing one
imports only that module. Third parties add theirs through the entry-point group
``mlops_console.backends`` with entry-point names ``"<kind>.<name>"`` (for example
``runs.wandb = "mypkg.backend:WandbRuns"``). The attribute is called with the context settings
(a plain mapping) and returns an object that satisfies the kind's Protocol.

A factory declares the context keys it reads beyond the shared ones with a ``SETTINGS`` tuple of
:class:`Setting`, on the factory or on the class whose classmethod it is: the config loader accepts those
keys in a context that selects the backend, checks their types, and hides the secret ones.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
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

DEFAULTS = {"data": "dvc", "runs": "auto", "deployments": "kubernetes", "metrics": "prometheus"}

BUILTIN: dict[tuple[str, str], str] = {
    ("data", "dvc"): "backends.data.dvc_layout:from_settings",  # checks the folder before importing more
    ("data", "fake"): "backends.data.fake:FakeDatasets.from_settings",
    ("runs", "auto"): "backends.runs.mlflow_auto:MlflowAutoRuns.from_settings",  # REST for http(s), else "mlflow"
    ("runs", "mlflow"): "backends.runs.mlflow_process:MlflowProcessRuns.from_settings",
    ("runs", "mlflow-rest"): "backends.runs.mlflow_rest:MlflowRestRuns.from_settings",
    ("runs", "mlflow-inprocess"): "backends.runs.mlflow_inprocess:MlflowRuns.from_settings",
    ("runs", "fake"): "backends.runs.fake:FakeRuns.from_settings",
    ("deployments", "kubernetes"): "backends.deployments.kube:KubernetesDeployments.from_settings",
    ("deployments", "endpoints"): "backends.deployments.endpoints:EndpointDeployments.from_settings",
    ("deployments", "fake"): "backends.deployments.fake:FakeDeployments.from_settings",
    ("metrics", "prometheus"): "backends.metrics.prometheus:PrometheusMetrics.from_settings",
    ("metrics", "fake"): "backends.metrics.fake:FakeMetrics.from_settings",
}


#: The types a Setting can have, and how an error names what was expected.
SETTING_TYPES: dict[type, str] = {str: "a string", int: "an integer", float: "a number",
                                  bool: "true or false", list: "a list of strings"}


@dataclass(frozen=True)
class Setting:
    """One context key a backend reads: its ``name``, ``type`` (``str``, ``int``, ``float``, ``bool``, or
    ``list`` for a list of strings), a one-line ``help``, the ``default`` the factory gets when the context
    leaves it out (None: the key is left out), and whether it is a ``secret`` (never shown or logged)."""

    name: str
    type: type
    help: str
    default: Any = None
    secret: bool = False

    def __post_init__(self) -> None:
        if self.type not in SETTING_TYPES:
            raise TypeError(f"setting {self.name!r}: type must be one of str, int, float, bool, list")

    @property
    def expected(self) -> str:
        """What a value must be, in words: "an integer"."""
        return SETTING_TYPES[self.type]

    def convert(self, value: Any) -> Any:
        """``value`` as this setting's type (an integer is a number; a list becomes a tuple); raises
        ValueError saying what was expected."""
        kind = self.type
        if kind is list:
            if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
                return tuple(value)
        elif kind is float:
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value)
        elif isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
            return value
        raise ValueError(f"must be {self.expected}")


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


def factory(kind: str, name: str) -> Callable[..., Any]:
    """The factory of the ``kind`` backend called ``name`` (its module imported, nothing built).

    Raises :class:`NotConfigured` for an unknown kind or name (the message lists the known ones).
    """
    if kind not in KINDS:
        raise NotConfigured(f"unknown backend kind {kind!r}", hint=f"one of {', '.join(KINDS)}")
    target = BUILTIN.get((kind, name))
    if target is not None:
        return _load(target)
    ep = _entry_points().get((kind, name))
    if ep is None:
        raise NotConfigured(
            f"no {kind} backend named {name!r}",
            hint=f"known: {', '.join(available(kind))}",
        )
    found: Callable[..., Any] = ep.load()
    return found


def declared_settings(made_by: Callable[..., Any]) -> tuple[Setting, ...]:
    """The ``SETTINGS`` a factory declares, on itself or on the class of a classmethod; () when none."""
    found = getattr(made_by, "SETTINGS", None)
    if found is None:
        found = getattr(getattr(made_by, "__self__", None), "SETTINGS", ())
    if not isinstance(found, (tuple, list)) or not all(isinstance(s, Setting) for s in found):
        raise NotConfigured(f"{getattr(made_by, '__qualname__', made_by)!r} declares SETTINGS that are not "
                            "a tuple of backends.registry.Setting")
    return tuple(found)


def settings_of(kind: str, name: str) -> tuple[Setting, ...]:
    """The settings the ``kind`` backend called ``name`` declares (see :func:`factory` for the errors)."""
    return declared_settings(factory(kind, name))


def create(kind: str, name: str, settings: Mapping[str, Any]) -> Any:
    """Build the ``kind`` backend called ``name`` from the context ``settings``; a declared setting the
    mapping leaves out is given its default.

    Raises :class:`NotConfigured` for an unknown kind or name (the message lists the known ones),
    or whatever the implementation raises when its settings are missing.
    """
    made_by = factory(kind, name)
    defaults = {s.name: s.default for s in declared_settings(made_by)
                if s.default is not None and s.name not in settings}
    return made_by({**settings, **defaults} if defaults else settings)
