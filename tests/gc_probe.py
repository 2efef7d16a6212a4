"""Run as ``python tests/gc_probe.py PANE CONTEXT_JSON MODULE:NAME``: opens the app on PANE in a fresh
process, waits until the pane has shown its first data, and prints (as JSON) whether the object
MODULE.NAME (a class of the pane's client library) is still among the objects a full garbage
collection walks, and how many such objects there are."""

from __future__ import annotations

import asyncio
import gc
import importlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from console.app import make_app  # noqa: E402
from console.config import Config, Context  # noqa: E402


async def main(pane: str, settings: dict, target: str) -> dict:
    context = Context(name="probe", **settings)
    config = Config(default_context="probe", contexts={"probe": context})
    app = make_app(config, config.context(None, environ={}), initial_pane=pane, cursor_blink=False)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = app.current_pane()
        for _ in range(600):
            if _shown(screen):
                break
            await pilot.pause(0.05)
        else:
            return {"error": "the pane showed no data in 30 s"}
        await pilot.pause(0.2)
        module, _, name = target.partition(":")
        obj = getattr(importlib.import_module(module), name)
        walked = gc.get_objects(2)
        return {"walked": any(o is obj for o in walked), "unfrozen": len(walked)}


def _shown(screen) -> bool:
    """The Data pane's outputs or the Deployments pane's rows are in."""
    return bool(getattr(screen, "outputs", None) or getattr(screen, "_rows", None))


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]))))
