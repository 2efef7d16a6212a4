"""The default runs backend, ``auto``: a tracking server (``http://``, ``https://``) over its REST API
(:mod:`backends.runs.mlflow_rest`, no MLflow, no helper process), any other store (``sqlite:///``, ``./mlruns``,
``postgresql://``) through MLflow in a helper process (:mod:`backends.runs.mlflow_process`).

``runs_backend = "mlflow"`` forces the MLflow client for a server too; ``"mlflow-rest"`` forces REST.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from backends.runs.mlflow_inprocess import tracking_uri_of
from backends.runs.mlflow_process import MlflowProcessRuns
from backends.runs.mlflow_rest import MlflowRestRuns, is_rest_uri


def uses_rest(uri: str | None, registry_uri: str | None = None) -> bool:
    """Whether ``auto`` talks REST for these URIs: a server, and no registry elsewhere but on a server."""
    return is_rest_uri(uri) and (not registry_uri or is_rest_uri(registry_uri))


class MlflowAutoRuns:
    """Chooses the runs backend by the tracking URI and builds it (no I/O)."""

    SETTINGS = tuple({s.name: s for s in (*MlflowProcessRuns.SETTINGS, *MlflowRestRuns.SETTINGS)}.values())

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> MlflowRestRuns | MlflowProcessRuns:
        uri = tracking_uri_of(settings)  # NotConfigured, saying what to set, before anything is built
        registry = settings.get("mlflow_registry_uri")
        if uses_rest(uri, str(registry) if registry else None):
            return MlflowRestRuns.from_settings(settings)
        return MlflowProcessRuns.from_settings(settings)


__all__ = ["MlflowAutoRuns", "uses_rest"]
