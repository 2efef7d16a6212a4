"""Backend adapters of mlops-console.

Plain Python: nothing here imports ``textual``, ``widgets`` or ``console``. Each pane has one
``typing.Protocol`` (``backends.data``, ``backends.runs``, ``backends.deployments``,
``backends.metrics``) returning frozen dataclasses and raising :class:`BackendError` subclasses.
Implementations are chosen by name through :mod:`backends.registry`.
"""

from backends.errors import BackendError

__all__ = ["BackendError"]
