"""Waiting in Pilot tests: for a condition the app reaches through workers, a frame at a time."""

from __future__ import annotations

import time
from collections.abc import Callable


async def until(pilot, predicate: Callable[[], object], what: str = "condition", timeout: float = 15.0) -> None:
    """Let the app run until ``predicate()`` holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"timed out waiting for {what}")
