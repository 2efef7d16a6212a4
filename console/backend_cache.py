"""The backends of the current context, one per pane kind, shared by the panes.

A backend is built on first use (its factory does no I/O; building it imports its module, which is why the panes
build it in a worker) and kept until the context changes. A backend that cannot be built is kept as its problem,
which the pane shows ("not configured: ...").
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from backends.errors import BackendError, NotConfigured
from backends.registry import ImportsLibrary, Interruptible

if TYPE_CHECKING:
    from console.config import Context

Built = tuple[Any, BaseException | None]  # (backend, None) or (None, why it could not be built)
BackendFactory = Callable[[str, "Context"], Any]


def default_backend_factory(kind: str, context: Context) -> Any:
    from backends import registry

    return registry.create(kind, context.backend_name(kind), context.as_settings())


class BackendCache:
    def __init__(self, context: Context, factory: BackendFactory | None = None) -> None:
        self.context = context
        self.factory = factory or default_backend_factory
        self._built: dict[str, Built] = {}
        self._frozen_after: set[str] = set()

    def switch(self, context: Context) -> None:
        """A new context: its backends are built anew, on first use."""
        self.context = context
        self._built.clear()

    def peek(self, kind: str) -> Built | None:
        """The backend of ``kind`` if it was built already, else None (and nothing is built)."""
        return self._built.get(kind)

    def build(self, kind: str, context: Context) -> Built:
        """Build (do not keep) the backend of ``kind`` for ``context``. Safe in a worker thread: it imports the
        backend's module (and, for an :class:`ImportsLibrary` backend, its client library) and calls its factory."""
        try:
            backend = self.factory(kind, context)
            if isinstance(backend, ImportsLibrary):
                backend.import_library()
            return backend, None
        except BackendError as exc:
            return None, exc
        except ImportError as exc:
            return None, NotConfigured(f"the {kind} backend {context.backend_name(kind)!r} is not available: {exc}",
                                       hint="install mlops-console[all]")

    def adopt(self, kind: str, context: Context, built: Built) -> None:
        """Keep a backend built in a worker, unless the context changed meanwhile or one exists."""
        if context is self.context:
            self._built.setdefault(kind, built)

    def get(self, kind: str) -> Built:
        """The backend of ``kind`` for the current context, built on first use (cheap: no I/O)."""
        if kind not in self._built:
            self._built[kind] = self.build(kind, self.context)
        return self._built[kind]

    def freeze_long_lived(self, key: str) -> None:
        """Once per key (a pane when its backend is built, and again after the pane's first answer): move
        every object that exists now (modules, classes, the widget tree) out of the garbage collector's
        reach. Otherwise each full collection walks them all: pauses of 50-100 ms, felt as frozen frames
        while a table fills. The price: of the objects frozen here, those that later end up in garbage
        cycles (the widgets a `:ctx` replaces) are not reclaimed; that is kilobytes, twice per pane."""
        if key not in self._frozen_after:
            self._frozen_after.add(key)
            gc.freeze()

    def interruptible(self) -> list[Interruptible]:
        return [backend for backend, _problem in list(self._built.values()) if isinstance(backend, Interruptible)]

    def operation_running(self) -> bool:
        """Whether a backend is changing things now (a checkout)."""
        return any(backend.operation_running() for backend in self.interruptible())

    def stop_operations(self, timeout: float = 600.0) -> None:
        """Ask every backend with an operation under way to stop it and put things back, and wait until it has:
        the console is about to exit (hang-up, SIGTERM)."""
        for backend in self.interruptible():
            if backend.interrupt():
                backend.wait_idle(timeout)
