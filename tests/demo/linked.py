"""What the tests of the links across the panes share: the resolver over the demo's backends, the demo's training
record, the console opened on the demo, and waiting for what a pilot's keys bring about."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial

from backends.registry import create
from console.demo import train as training
from console.links import Links
from tests.pilot import until as pilot_until


@contextmanager
def demo_links(built_demo, *, metrics: bool = True, journal=None) -> Iterator[Links]:
    s = built_demo.settings
    deployments = create("deployments", "endpoints", s)
    try:
        yield Links(create("data", "dvc", s), create("runs", "mlflow", s), deployments,
                    create("metrics", "prometheus", s) if metrics else None, journal=journal)
    finally:
        deployments.close()


def training_record(built_demo) -> dict:
    """What the demo's training did: its runs, their data versions and model versions, and the champion."""
    return json.loads(training.result_file(built_demo.workspace).read_text())


def demo_app(built_demo, pane: str):
    from console.app import make_app
    from console.config import load_config

    config = load_config(built_demo.workspace / "config.toml")
    return make_app(config, config.context("demo", environ={}), initial_pane=pane, cursor_blink=False)


until = partial(pilot_until, timeout=60.0)  # the demo's systems answer slower than a test's own
