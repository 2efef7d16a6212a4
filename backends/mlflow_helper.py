"""The MLflow helper process: ``python -m backends.mlflow_helper`` (started by ``backends.mlflow_process``).

Reads pickled frames on stdin: first ``(tracking_uri, registry_uri, timeout)``, then calls
``(call_id, method, args)``; answers ``(call_id, ok, value_or_error)`` on stdout, several calls at
a time. Anything else written to stdout (by MLflow or a library) goes to stderr instead, so it
cannot corrupt the answers. Exits at the end of its input, after answering the calls in flight.
"""

from __future__ import annotations

import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

WORKERS = 4


def main() -> int:
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # stray prints end up on stderr
    requests = sys.stdin.buffer

    from backends.errors import BackendError, ServerError
    from backends.mlflow_backend import MlflowRuns
    from backends.mlflow_process import METHODS, read_frame, write_frame

    try:
        tracking_uri, registry_uri, timeout = read_frame(requests)
    except EOFError:
        return 0
    backend = MlflowRuns(tracking_uri, registry_uri=registry_uri, timeout=timeout)
    lock = threading.Lock()

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

    def run(call_id: int, method: str, args: tuple) -> None:
        if method not in METHODS:
            answer(call_id, False, ServerError(f"the MLflow helper has no call {method!r}"))
            return
        try:
            value = getattr(backend, method)(*args)
        except BackendError as exc:
            exc.__cause__ = exc.__context__ = None  # MLflow's exception objects stay here
            exc.__traceback__ = None
            answer(call_id, False, exc)
        except Exception as exc:  # noqa: BLE001 - a bug or an untranslated failure, said as it is
            answer(call_id, False, ServerError(f"{type(exc).__name__}: {exc}", endpoint=backend.endpoint))
        else:
            answer(call_id, True, value)

    with ThreadPoolExecutor(WORKERS, thread_name_prefix="mlflow-call") as pool:
        while True:
            try:
                call_id, method, args = read_frame(requests)
            except EOFError:
                break
            pool.submit(run, call_id, method, args)
    answers.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
