"""Steady traffic for the demo's MLServer, so that the model-serving dashboard has something to show: ``RATE``
inference requests a second, about 5% of them malformed (a wrong shape, which the model server refuses).

Run as ``python -m console.demo.traffic URL MODEL N_FEATURES [RATE]``. It stops by itself when the process that
started it is gone, and after ``MAX_SECONDS`` at the latest."""

from __future__ import annotations

import http.client
import json
import os
import random
import sys
import time
from urllib.parse import urlsplit

MALFORMED_SHARE = 0.05
MAX_SECONDS = 12 * 3600


def body(n_features: int, rng: random.Random) -> bytes:
    rows = rng.randint(1, 4)
    if rng.random() < MALFORMED_SHARE:
        values = [rng.gauss(0, 0.05) for _ in range(rows * (n_features + 1))]
        shape = [rows, n_features + 1]
    else:
        values = [rng.gauss(0, 0.05) for _ in range(rows * n_features)]
        shape = [rows, n_features]
    return json.dumps({"inputs": [{"name": "input-0", "shape": shape, "datatype": "FP64",
                                   "data": values}]}).encode()


def run(url: str, model: str, n_features: int, rate: float) -> None:
    parent = os.getppid()
    parts = urlsplit(url)
    path = f"/v2/models/{model}/infer"
    rng = random.Random(7)
    conn = None
    interval = 1.0 / rate
    started = next_at = time.monotonic()
    while os.getppid() == parent and time.monotonic() - started < MAX_SECONDS:
        try:
            if conn is None:
                conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=5)
            conn.request("POST", path, body(n_features, rng), {"Content-Type": "application/json"})
            conn.getresponse().read()
        except (OSError, http.client.HTTPException):
            if conn is not None:
                conn.close()
            conn = None  # the server is restarting or gone: try again on the next tick
        next_at = max(next_at + interval, time.monotonic() - 1.0)  # a stall is not made up for with a burst
        time.sleep(max(0.0, next_at - time.monotonic()))


def main() -> int:
    url, model, n_features = sys.argv[1], sys.argv[2], int(sys.argv[3])
    rate = float(sys.argv[4]) if len(sys.argv) > 4 else 5.0
    try:
        run(url, model, n_features, rate)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
