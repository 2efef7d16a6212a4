"""The tracking server settings both MLflow runs backends read: each a context key, else MLflow's own variable.

The ``mlflow-rest`` backend reads them itself; the ``mlflow`` backend hands the context's keys to its helper
process as MLflow's variables, which is where MLflow's client reads them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from backends.registry import Setting

CREDENTIALS = (
    Setting("mlflow_token", str, "bearer token for the tracking server (else MLFLOW_TRACKING_TOKEN)", secret=True),
    Setting("mlflow_username", str, "user for the tracking server's basic auth (else MLFLOW_TRACKING_USERNAME)"),
    Setting("mlflow_password", str, "password for the tracking server (else MLFLOW_TRACKING_PASSWORD)", secret=True),
    Setting("mlflow_insecure_tls", bool, "skip checking the tracking server's TLS certificate "
            "(else MLFLOW_TRACKING_INSECURE_TLS)"),
    Setting("mlflow_server_cert_path", str, "CA bundle that signs the tracking server's certificate "
            "(else MLFLOW_TRACKING_SERVER_CERT_PATH)"),
    Setting("mlflow_client_cert_path", str, "PEM file with a client certificate and key for the tracking server "
            "(else MLFLOW_TRACKING_CLIENT_CERT_PATH)"),
)

#: context key -> MLflow's variable
VARIABLES = {
    "mlflow_token": "MLFLOW_TRACKING_TOKEN",
    "mlflow_username": "MLFLOW_TRACKING_USERNAME",
    "mlflow_password": "MLFLOW_TRACKING_PASSWORD",
    "mlflow_insecure_tls": "MLFLOW_TRACKING_INSECURE_TLS",
    "mlflow_server_cert_path": "MLFLOW_TRACKING_SERVER_CERT_PATH",
    "mlflow_client_cert_path": "MLFLOW_TRACKING_CLIENT_CERT_PATH",
}
_TRUE = frozenset({"1", "true", "yes", "on"})


def context_variables(settings: Mapping[str, Any]) -> dict[str, str]:
    """MLflow's variables for the keys the context sets (those it leaves out are not in the result)."""
    out = {}
    for key, var in VARIABLES.items():
        value = settings.get(key)
        if value is None or value == "":
            continue
        out[var] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return out


def setting(settings: Mapping[str, Any], key: str) -> str | None:
    """The context's value of ``key``, else its MLflow variable's, else None."""
    value = settings.get(key)
    if value is not None and value != "":
        return str(value)
    return os.environ.get(VARIABLES[key]) or None


def flag(settings: Mapping[str, Any], key: str) -> bool:
    """A true/false setting: the context's value, else its MLflow variable read as MLflow does."""
    value = settings.get(key)
    if isinstance(value, bool):
        return value
    return os.environ.get(VARIABLES[key], "").strip().lower() in _TRUE
