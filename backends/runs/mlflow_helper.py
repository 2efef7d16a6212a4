"""The MLflow helper process: ``python -m backends.runs.mlflow_helper`` (started by ``backends.runs.mlflow_process``).

Reads pickled frames on stdin: first ``(tracking_uri, registry_uri, timeout)``, then calls
``(call_id, method, args)``; answers ``(call_id, ok, value_or_error)`` on stdout, several calls at
a time. Anything else written to stdout (by MLflow or a library) goes to stderr instead, so it
cannot corrupt the answers. Exits at the end of its input, after answering the calls in flight.
"""

from __future__ import annotations

import functools
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from types import ModuleType
from typing import Any, cast

WORKERS = 4
RELEASE_AFTER_S = 1.0  # idle this long, the helper hands freed memory back to the system

# Libraries MLflow's tracking client works without: pandas, pyarrow and numpy (it runs without them when
# installed as mlflow-skinny), over half of what importing it costs (about 85 MB of a 165 MB import); and
# optional extras its dependencies use when present, 10 MB together: pygments (mako's error pages, through
# alembic), charset_normalizer (requests then decodes as UTF-8), brotli, orjson, python_multipart, tqdm,
# psutil and zipp. They are held back; a call that turns out to need one lets them in and runs again.
HELD_BACK = ("pandas", "pyarrow", "numpy", "pygments", "charset_normalizer", "brotli", "orjson",
             "python_multipart", "tqdm", "psutil", "zipp")


def hold_back() -> None:
    for name in HELD_BACK:
        # an import of it raises ModuleNotFoundError(name=name)
        cast("dict[str, ModuleType | None]", sys.modules).setdefault(name, None)


def let_in() -> bool:
    """Allow the held-back libraries again; True if any was held back."""
    released = False
    for name in HELD_BACK:
        if name in sys.modules and sys.modules[name] is None:
            del sys.modules[name]
            released = True
    return released


def import_mlflow() -> None:
    """Import MLflow with those libraries held back, or with them when this MLflow cannot do without
    (an older release, or a plugin). Other failures are left to the backend's first call to report."""
    hold_back()
    try:
        import mlflow  # noqa: F401
    except ImportError as exc:
        if needed_held_back(exc):
            let_in()
    except Exception:  # noqa: BLE001, S110 - importing again in the backend raises it again, translated
        pass


def needed_held_back(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) is an import of a held-back library."""
    cur: BaseException | None = exc
    for _ in range(8):
        if cur is None:
            return False
        if isinstance(cur, ImportError) and (cur.name or "").partition(".")[0] in HELD_BACK:
            return True
        cur = cur.__cause__ or cur.__context__
    return False


def call_letting_in(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)``; if it needed a held-back library, again with the libraries let in."""
    try:
        return fn(*args)
    except Exception as exc:
        if not (needed_held_back(exc) and let_in()):
            raise
    return fn(*args)


def _release_memory() -> None:
    """Hand back to the system what the last calls freed (glibc keeps freed memory in its arenas otherwise,
    one per thread that used it); run once no call has been in flight for ``RELEASE_AFTER_S``."""
    import gc

    gc.collect()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, looked up once; None elsewhere."""
    import ctypes

    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None


def main() -> int:
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # stray prints end up on stderr
    requests = sys.stdin.buffer
    import_mlflow()

    from backends.errors import BackendError, ServerError
    from backends.runs.mlflow_inprocess import MlflowRuns
    from backends.runs.mlflow_process import METHODS, read_frame, write_frame

    try:
        tracking_uri, registry_uri, timeout = read_frame(requests)
    except EOFError:
        return 0
    backend = MlflowRuns(tracking_uri, registry_uri=registry_uri, timeout=timeout)
    lock = threading.Lock()
    calls = [0, 0]  # submitted, answered (under lock): idle when they are equal

    def release_if_still_idle(submitted: int) -> None:
        with lock:
            if calls != [submitted, submitted]:
                return  # a call came in meanwhile: its end schedules the next release
        _release_memory()

    def answer(call_id: int, ok: bool, value: object) -> None:
        with lock:
            try:
                write_frame(answers, (call_id, ok, value))
            except (BrokenPipeError, ValueError):
                pass  # the console is gone
            except Exception as exc:  # noqa: BLE001 - an answer that does not pickle
                write_frame(answers, (call_id, False, ServerError(
                    f"the MLflow helper could not send its answer: {type(exc).__name__}: {exc}",
                    endpoint=backend.endpoint)))

    def run(call_id: int, method: str, args: tuple[Any, ...]) -> None:
        if method not in METHODS:
            answer(call_id, False, ServerError(f"the MLflow helper has no call {method!r}"))
            return
        try:
            value = call_letting_in(getattr(backend, method), *args)
        except BackendError as exc:
            exc.__cause__ = exc.__context__ = None  # MLflow's exception objects stay here
            exc.__traceback__ = None
            answer(call_id, False, exc)
        except Exception as exc:  # noqa: BLE001 - a bug or an untranslated failure, said as it is
            answer(call_id, False, ServerError(f"{type(exc).__name__}: {exc}", endpoint=backend.endpoint))
        else:
            answer(call_id, True, value)

    def run_then_release(call_id: int, method: str, args: tuple[Any, ...]) -> None:
        try:
            run(call_id, method, args)
        finally:
            with lock:
                calls[1] += 1
                idle_at = calls[0] if calls[1] == calls[0] else None
            if idle_at is not None:
                # memory goes back once no call has come for a while, not between the calls of a burst
                # (pages as the user scrolls): each hand-back makes the next call fault its memory in again
                timer = threading.Timer(RELEASE_AFTER_S, release_if_still_idle, args=(idle_at,))
                timer.daemon = True
                timer.start()

    with ThreadPoolExecutor(WORKERS, thread_name_prefix="mlflow-call") as pool:
        while True:
            try:
                call_id, method, args = read_frame(requests)
            except EOFError:
                break
            with lock:
                calls[0] += 1
            pool.submit(run_then_release, call_id, method, args)
    answers.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
