"""Links benchmark: the Runs pane's "cannot be reproduced" check over 10,000 loaded runs vs reading the data
history it rests on.

The repository of bench_history.py (2,000 commits over 3 .dvc files, every other version's data not in the cache
and no remote: 1,000 versions that cannot be reproduced). 10,000 runs tagged as a training script tags them: the
md5 and the commit of the data version they trained on, and a source commit that is a later one for a third of
them (read through the .dvc file at that commit). Times, alternately, in the same run:

  baseline   Links.data_versions()        the history of every output, with cache and remote state (git reads)
  rows       Links.rows_badges(10,000)    the rows matched against the lost versions (history already read)

and prints the ratio of medians. Goal: <= 3x, the rows cost no more than a few looks at the history (the check
runs in a worker after each page of runs; matching every row against every lost version took minutes here).

    .venv/bin/python benchmarks/bench_links.py [--runs 10000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_history import build  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    repo = Path("/tmp/mlops-console-bench/history-2000")
    if not (repo / ".git").exists() or not (repo / "data" / "a.dvc").exists():
        build(repo, 2000)

    from backends.data.dvc import DvcDatasets
    from backends.runs import RunSummary
    from console.links import Links

    data = DvcDatasets.from_settings({"repo": str(repo), "timeout": 120})
    versions = Links(data).data_versions()
    lost = [v for _o, v in versions if v.in_cache is False]
    rng = random.Random(20261207)
    commits = [v.rev for _o, v in versions]
    runs = []
    for i in range(args.runs):
        output, version = versions[rng.randrange(len(versions))]
        source = commits[rng.randrange(len(commits))] if i % 3 == 0 else version.rev
        runs.append(RunSummary(
            run_id=f"{i:032x}", run_name=f"run-{i}", experiment_id="1", status="FINISHED",
            start_time=datetime(2026, 1, 1, tzinfo=UTC),
            tags=(("data.dvc_md5", version.md5 or ""), ("data.git_commit", version.rev),
                  ("mlflow.source.git.commit", source))))

    def history() -> None:
        Links(data).data_versions()

    found: list[int] = []

    def rows() -> None:
        links = Links(data)
        links._cache["data"] = versions  # the history as the check finds it: read already
        found.append(len(links.rows_badges(runs)))

    base, timed = [], []
    for _ in range(args.repeat):
        for fn, into in ((history, base), (rows, timed)):
            t = time.perf_counter()
            fn()
            into.append(time.perf_counter() - t)
    b, r = statistics.median(base), statistics.median(timed)
    print(f"{len(versions)} data versions, {len(lost)} not in the cache (no remote); {len(runs)} runs, "
          f"{found[-1]} of them badged")
    print(f"history read (baseline)  median {b * 1000:8.1f} ms")
    print(f"rows_badges({len(runs)})     median {r * 1000:8.1f} ms")
    print(f"ratio rows / history: {r / b:.2f}x  (goal <= 3x)")


if __name__ == "__main__":
    main()
