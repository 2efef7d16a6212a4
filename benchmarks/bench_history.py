"""History benchmark: the Data backend's full history of one output vs bare `git log` of its .dvc file.

Builds (once, cached) a git + DVC repository with 2,000 commits touching 3 .dvc files, written with
`git fast-import`, and part of the versions' data in the local cache. Then times, in the same run:

  baseline   git log --format=%H%x1f%aI%x1f%an%x1f%s -- data/a.dvc   (a subprocess, as a user would run it)
  history    DvcDatasets.history("data/a")                           (log + one cat-file batch + parsing + cache)

and prints the ratio of medians. Goal: at most 2x.

    .venv/bin/python benchmarks/bench_history.py [--dir /tmp/...] [--commits 2000] [--repeat 15]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FILES = ("data/a", "data/b", "data/c")
ENV = {**os.environ, "DVC_NO_ANALYTICS": "1", "GIT_CONFIG_NOSYSTEM": "1"}


def _version(path: str, n: int) -> tuple[str, bytes]:
    data = f"{path} version {n}\n".encode()
    return hashlib.md5(data).hexdigest(), data  # noqa: S324


def build(repo: Path, commits: int) -> None:
    """A repository whose history has ``commits`` commits, each changing one of the three .dvc files."""
    repo.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True, env=ENV)
    chunks: list[bytes] = []

    def blob(text: bytes) -> None:
        chunks.append(b"data %d\n" % len(text) + text + b"\n")

    t0 = 1_700_000_000
    cache = repo / ".dvc" / "cache" / "files" / "md5"
    for i in range(1, commits + 1):
        path = FILES[i % len(FILES)]
        md5, data = _version(path, i)
        text = f"outs:\n- md5: {md5}\n  size: {len(data)}\n  hash: md5\n  path: {path.rsplit('/', 1)[1]}\n"
        if i % 2 == 0:  # every other version's data is in the cache
            obj = cache / md5[:2] / md5[2:]
            obj.parent.mkdir(parents=True, exist_ok=True)
            obj.write_bytes(data)
        message = f"update {path} to version {i}".encode()
        chunks.append(b"commit refs/heads/main\nmark :%d\n" % i)
        chunks.append(b"author Ada Lovelace <ada@example.com> %d +0000\n" % (t0 + i * 60))
        chunks.append(b"committer Ada Lovelace <ada@example.com> %d +0000\n" % (t0 + i * 60))
        chunks.append(b"data %d\n" % len(message) + message + b"\n")
        if i > 1:
            chunks.append(b"from :%d\n" % (i - 1))
        else:
            chunks.append(b"M 100644 inline .dvc/config\n")
            blob(b"[core]\n    analytics = false\n")
            chunks.append(b"M 100644 inline .dvc/.gitignore\n")
            blob(b"/config.local\n/tmp\n/cache\n")
            chunks.append(b"M 100644 inline data/.gitignore\n")
            blob(b"/a\n/b\n/c\n")
        chunks.append(f"M 100644 inline {path}.dvc\n".encode())
        blob(text.encode())
    subprocess.run(["git", "fast-import", "--quiet"], cwd=repo, input=b"".join(chunks), check=True, env=ENV)
    subprocess.run(["git", "checkout", "-q", "-f", "main"], cwd=repo, check=True, env=ENV)


def timed_pair(first, second, repeat: int) -> tuple[list[float], list[float]]:
    """Run the two alternately, so that both meet the same load on the machine."""
    a, b = [], []
    for _ in range(repeat):
        for fn, into in ((first, a), (second, b)):
            t = time.perf_counter()
            fn()
            into.append(time.perf_counter() - t)
    return a, b


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=None, help="where to build/cache the repository")
    parser.add_argument("--commits", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=25)
    args = parser.parse_args()
    repo = args.dir or Path(f"/tmp/mlops-console-bench/history-{args.commits}")
    if not (repo / ".git").exists() or not (repo / "data" / "a.dvc").exists():
        t = time.perf_counter()
        build(repo, args.commits)
        print(f"built {repo} with {args.commits} commits in {time.perf_counter() - t:.1f} s")

    from backends.data.dvc import DvcDatasets

    backend = DvcDatasets.from_settings({"repo": str(repo), "timeout": 60})
    target = FILES[0]
    versions = backend.history(target)  # warm-up: both sides read the same packed objects
    baseline_cmd = ["git", "log", "--format=%H%x1f%aI%x1f%an%x1f%s", "--", f"{target}.dvc"]
    lines = subprocess.run(baseline_cmd, cwd=repo, capture_output=True, check=True, env=ENV).stdout.count(b"\n")
    assert len(versions) == lines, (len(versions), lines)

    base, hist = timed_pair(
        lambda: subprocess.run(baseline_cmd, cwd=repo, capture_output=True, check=True, env=ENV),
        lambda: backend.history(target), args.repeat)
    b, h = statistics.median(base), statistics.median(hist)
    print(f"repository: {repo} ({args.commits} commits, {len(versions)} versions of {target})")
    print(f"git log alone         median {b * 1000:8.1f} ms  (min {min(base) * 1000:.1f})")
    print(f"DvcDatasets.history() median {h * 1000:8.1f} ms  (min {min(hist) * 1000:.1f})")
    print(f"ratio history / git log: {h / b:.2f}x median, {min(hist) / min(base):.2f}x best  (goal <= 2x)")


if __name__ == "__main__":
    main()
