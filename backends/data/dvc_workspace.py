"""The git + DVC workspace the ``dvc`` Data backend works on, and what every part of it shares.

Where the workspace is, running ``git`` and ``dvc`` in it, DVC's merged configuration (cache, default remote),
finding an output's record (.dvc file or dvc.lock) and its entry at a revision, and hashing the workspace copy
with DVC's state database. The backend's parts (status, history, diff, checkout, transfer) take one
:class:`Workspace` and call these.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from backends.data import Progress, ProgressCallback
from backends.data.dvc_files import (
    LEGACY_HASHES,
    Entry,
    Located,
    ObjectStore,
    Remote,
    host_reachable,
    norm,
    one_line,
    parse_dvc_file,
    parse_lock,
    read_dvc_config,
    stage_outs,
    yaml_load,
)
from backends.data.dvc_layout import check_layout
from backends.errors import BackendError, BackendTimeout, Interrupted, NotConfigured, NotFound, ReadOnly, Refused
from backends.redact import redact

_INDEX_LOCK = re.compile(r"'([^']*index\.lock)'")


class Workspace:
    """One git + DVC workspace: its settings, its processes, its configuration and its recorded outputs."""

    def __init__(self, repo: str | os.PathLike[str], *, read_only: bool, timeout: float,
                 operation_timeout: float) -> None:
        self.repo_path = Path(repo).expanduser()
        self.read_only = read_only
        self.timeout = timeout
        self.operation_timeout = operation_timeout
        self._roots: tuple[Path, Path] | None = None

    # -- locating the workspace --------------------------------------------------------------------------

    def layout(self) -> tuple[Path, Path]:
        """(DVC root, git top), found again when the DVC root went away."""
        if self._roots is None or not (self._roots[0] / ".dvc").is_dir():
            self._roots = check_layout(self.repo_path)
        return self._roots

    @property
    def root(self) -> Path:
        return self.layout()[0]

    def git_path(self, rel: str) -> str:
        """A DVC-root-relative path as a git-top-relative path."""
        root, top = self.layout()
        prefix = root.relative_to(top).as_posix()
        return rel if prefix == "." else f"{prefix}/{rel}"

    # -- processes -----------------------------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["DVC_NO_ANALYTICS"] = "1"
        env["GIT_TERMINAL_PROMPT"] = "0"
        env.setdefault("LC_ALL", "C")
        return env

    def git(self, *args: str, input: bytes | None = None, ok_codes: Iterable[int] = (0,),
            timeout: float | None = None) -> subprocess.CompletedProcess[bytes]:
        root, top = self.layout()
        cmd = ["git", "-c", "core.quotepath=off", *args]
        try:
            proc = subprocess.run(cmd, cwd=top, input=input, capture_output=True, env=self.env(),
                                  timeout=timeout or self.timeout,
                                  stdin=None if input is not None else subprocess.DEVNULL)
        except FileNotFoundError as exc:
            raise NotConfigured("git is not installed", hint="install git and make sure it is on PATH") from exc
        except subprocess.TimeoutExpired as exc:
            raise BackendTimeout(f"`git {args[0]}` did not finish in {timeout or self.timeout:g} s",
                                 endpoint=str(top), hint="raise `timeout` in the context") from exc
        if proc.returncode not in tuple(ok_codes):
            err = proc.stderr.decode("utf-8", "replace").strip()
            locked = _INDEX_LOCK.search(err)
            if locked and "exists" in err:
                raise index_locked(locked.group(1), top)
            if "not a git repository" in err:
                raise NotConfigured("the data workspace is not a git repository", endpoint=str(top), detail=err)
            raise BackendError(f"`git {' '.join(args[:2])}` failed", endpoint=str(top), detail=err)
        return proc

    def dvc(self, *args: str, progress: ProgressCallback | None = None,
            measure: Callable[[], int] | None = None, total: int | None = None,
            unit: str = "bytes", message: str = "", deadline: float | None = None,
            stop: threading.Event | None = None) -> subprocess.CompletedProcess[str]:
        """Run ``python -m dvc args`` in the DVC root, reporting ``measure()`` through ``progress`` while it runs.

        It is stopped at ``deadline`` (default: ``operation_timeout`` from now) with BackendTimeout, and once
        ``stop`` is set (the console is closing) with Interrupted. It runs in a session of its own, so that a
        hang-up of the terminal reaches the console, which decides, and not DVC half way through.
        """
        root = self.root
        cmd = [sys.executable, "-m", "dvc", *args]
        proc = subprocess.Popen(cmd, cwd=root, env=self.env(), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        out_chunks: list[str] = []
        err_chunks: list[str] = []
        readers = [
            threading.Thread(target=lambda: out_chunks.append(proc.stdout.read()), daemon=True),  # type: ignore[union-attr]
            threading.Thread(target=lambda: err_chunks.append(proc.stderr.read()), daemon=True),  # type: ignore[union-attr]
        ]
        for t in readers:
            t.start()
        if deadline is None:
            deadline = time.monotonic() + self.operation_timeout
        last = -1
        try:
            while True:
                try:
                    proc.wait(timeout=0.1)
                    break
                except subprocess.TimeoutExpired:
                    if stop is not None and stop.is_set():
                        raise Interrupted(f"`dvc {args[0]}` was stopped: the console is closing",
                                          endpoint=str(root)) from None
                    if time.monotonic() > deadline:
                        raise BackendTimeout(f"`dvc {args[0]}` did not finish in {self.operation_timeout:g} s",
                                             endpoint=str(root),
                                             hint="raise `operation_timeout` in the context") from None
                    if progress is not None and measure is not None:
                        done = measure()
                        if done != last:
                            last = done
                            report(progress, Progress(done, total, unit, message))
        finally:
            if proc.poll() is None:  # timed out, or interrupted: never leave DVC running behind our back
                proc.kill()
                proc.wait()
        for t in readers:
            t.join(timeout=5)
        return subprocess.CompletedProcess(cmd, proc.returncode, "".join(out_chunks), "".join(err_chunks))

    # -- configuration -------------------------------------------------------------------------------------

    def config(self) -> dict[str, dict[str, str]]:
        """DVC's configuration as DVC merges it: the user's global file, then the repo's, then its local one."""
        dvc_dir = self.root / ".dvc"
        user_dir = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "dvc"
        merged: dict[str, dict[str, str]] = {}
        for path in (user_dir / "config", dvc_dir / "config", dvc_dir / "config.local"):
            for section, values in read_dvc_config(path).items():
                if path.parent == user_dir and "url" in values and "://" not in values["url"] \
                        and not Path(values["url"]).expanduser().is_absolute():
                    values = {**values, "url": str(user_dir / values["url"])}
                merged.setdefault(section, {}).update(values)
        return merged

    def cache(self, config: Mapping[str, Mapping[str, str]] | None = None) -> ObjectStore:
        config = self.config() if config is None else config
        cache_dir = config.get("cache", {}).get("dir")
        dvc_dir = self.root / ".dvc"
        return ObjectStore((dvc_dir / cache_dir).resolve() if cache_dir else dvc_dir / "cache")

    def remote(self, config: Mapping[str, Mapping[str, str]] | None = None) -> Remote | None:
        config = self.config() if config is None else config
        name = config.get("core", {}).get("remote")
        if not name:
            return None
        url = config.get(f'remote "{name}"', {}).get("url", "")
        local: Path | None = None
        if url and "://" not in url:
            p = Path(url).expanduser()
            local = p if p.is_absolute() else (self.root / ".dvc" / p).resolve()
            url = str(local)
        elif url.startswith("file://"):
            local = Path(urlsplit(url).path)
        return Remote(name=name, url=redact(url), local_path=local)

    def remote_store(self, remote: Remote | None) -> ObjectStore | None:
        return ObjectStore(remote.local_path) if remote and remote.local_path else None

    def remote_has(self, remote: Remote | None, entries: list[Entry]) -> dict[str, bool] | None:
        """{md5: present} in the default remote for the given entries; None when there is no default remote."""
        if remote is None:
            return None
        store = self.remote_store(remote)
        if store is not None:
            return {e.md5: store.has_all(e) for e in entries if e.md5}
        return self._remote_has_via_dvc(remote, entries)

    def _remote_has_via_dvc(self, remote: Remote, entries: list[Entry]) -> dict[str, bool] | None:
        """A cloud remote: ask DVC's remote object database in one batch.

        None when it cannot be reached within ``timeout`` (the answer is then simply not known).
        """
        wanted = [e for e in entries if e.md5]
        if not wanted:
            return {}
        answer: list[dict[str, bool] | None] = []
        worker = threading.Thread(target=lambda: answer.append(self._ask_remote_odb(remote, wanted)), daemon=True)
        worker.start()
        worker.join(self.timeout)
        return answer[0] if answer else None

    def _ask_remote_odb(self, remote: Remote, wanted: list[Entry]) -> dict[str, bool] | None:
        if not host_reachable(remote.url, self.timeout):
            return None  # DVC's clients answer "absent" for a server that is down; that would mislead
        try:
            from dvc.repo import Repo

            with Repo(str(self.root)) as repo:
                odb = repo.cloud.get_remote_odb(remote.name, hash_name="md5")
                cache = self.cache()
                hashed = [(e, e.md5) for e in wanted if e.md5]  # the callers pass only entries with a hash
                oids: set[str] = set()
                for e, md5 in hashed:
                    oids.add(md5)
                    if e.is_dir:
                        oids.update(m for _, m in cache.listing(md5) or ())
                present = set(odb.oids_exist(oids))
                result: dict[str, bool] = {}
                for e, md5 in hashed:
                    ok = md5 in present
                    if ok and e.is_dir:
                        listing = cache.listing(md5)
                        # without the listing here, the listing object's presence is all that can be known
                        ok = listing is None or all(m in present for _, m in listing)
                    result[md5] = ok
                return result
        except Exception:  # an unreachable cloud remote must not break history
            return None

    # -- locating outputs ----------------------------------------------------------------------------------

    def tracked_files(self) -> list[str]:
        """DVC-root-relative paths of .dvc and dvc.yaml files (tracked or untracked-but-not-ignored)."""
        root, top = self.layout()
        prefix = root.relative_to(top).as_posix()
        base = "" if prefix == "." else f"{prefix}/"
        proc = self.git("ls-files", "-z", "--cached", "--others", "--exclude-standard", "--full-name", "--",
                         f":(glob){base}**/*.dvc", f":(glob){base}**/dvc.yaml")
        seen: dict[str, None] = {}
        for raw in proc.stdout.split(b"\0"):
            if not raw:
                continue
            path = raw.decode("utf-8", "surrogateescape")
            if prefix != ".":
                path = path[len(prefix) + 1:]
            name = path.rsplit("/", 1)[-1]
            if path.startswith(".dvc/") or "/.dvc/" in path:
                continue
            if (name.endswith(".dvc") and name != ".dvc") or name == "dvc.yaml":
                if (root / path).is_file():
                    seen.setdefault(path, None)
        return sorted(seen)

    def locate(self, output: str) -> Located:
        root = self.root
        output = output.strip().strip("/")
        if output.endswith(".dvc"):
            output = output[: -len(".dvc")]
        dvc_file = f"{output}.dvc"
        if (root / dvc_file).is_file() or self._in_git_history(dvc_file):
            return Located(output=output, record=dvc_file, stage=None, key=output.rsplit("/", 1)[-1])
        for path in self.tracked_files():
            if not path.endswith("dvc.yaml"):
                continue
            folder = path[: -len("dvc.yaml")]
            try:
                outs = stage_outs(yaml_load((root / path).read_bytes()))
            except Exception:
                continue
            for stage, out_path, _use_cache in outs:
                if norm(folder + out_path) == output:
                    return Located(output=output, record=folder + "dvc.lock", stage=stage, key=out_path)
        raise NotFound(f"no DVC-tracked output {output!r} in this workspace", endpoint=str(root),
                       hint="pick one from the list of outputs (refresh with r)")

    def _in_git_history(self, rel: str) -> bool:
        proc = self.git("log", "-1", "--format=%H", "--", self.git_path(rel), ok_codes=(0, 128))
        return proc.returncode == 0 and bool(proc.stdout.strip())

    def entry_of(self, located: Located, data: bytes) -> Entry:
        """The located output's entry in a .dvc / dvc.lock blob; ValueError when malformed or absent."""
        if located.stage is None:
            outs = parse_dvc_file(data)
            if len(outs) == 1:
                return outs[0][1]
            for path, entry in outs:
                if norm(path) == located.key:
                    return entry
            raise ValueError(f"no out with path {located.key!r}")
        lock = parse_lock(data)
        locked = lock.get((located.stage, located.key))
        if locked is None:
            for (stage, path), e in lock.items():
                if stage == located.stage and norm(path) == norm(located.key):
                    return e
            raise ValueError(f"stage {located.stage!r} has no locked out {located.key!r}")
        return locked

    def workspace_entry(self, located: Located) -> Entry:
        path = self.root / located.record
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ValueError(f"{located.record} cannot be read: {exc.strerror}") from exc
        return self.entry_of(located, data)

    def entry_at(self, located: Located, rev: str) -> tuple[str, Entry | None, str | None]:
        """(full commit, entry or None, problem) of the output at ``rev``."""
        commit = self.resolve_rev(rev)
        proc = self.git("cat-file", "blob", f"{commit}:{self.git_path(located.record)}", ok_codes=(0, 128))
        if proc.returncode != 0:
            return commit, None, f"{located.record} does not exist at {commit[:7]}"
        try:
            return commit, self.entry_of(located, proc.stdout), None
        except ValueError as exc:
            return commit, None, f"{located.record} is malformed at {commit[:7]}: {exc}"

    def resolve_rev(self, rev: str) -> str:
        if not rev or rev.startswith("-"):
            raise NotFound(f"no revision {rev!r}", endpoint=str(self.root))
        proc = self.git("rev-parse", "--verify", "-q", f"{rev}^{{commit}}", ok_codes=(0, 1, 128))
        if proc.returncode != 0:
            raise NotFound(f"no commit {rev!r} in this repository", endpoint=str(self.root),
                           hint="pick a version from the history")
        return proc.stdout.decode().strip()

    # -- hashing the workspace -----------------------------------------------------------------------------

    def open_repo(self) -> Any:
        try:
            from dvc.repo import Repo
        except ImportError as exc:
            raise NotConfigured("DVC is not installed in this Python environment", endpoint=str(self.root),
                                hint="pip install 'mlops-console[dvc]' (or pip install dvc)") from exc
        try:
            return Repo(str(self.root))
        except Exception as exc:
            raise NotConfigured("DVC could not open the workspace", endpoint=str(self.root),
                                detail=one_line(str(exc))) from exc

    def workspace_tree(self, repo: Any, abs_path: Path, hash_name: str
                       ) -> tuple[str | None, dict[str, tuple[str, int | None]] | None, int | None]:
        """(md5, {relpath: (md5, size)} for a directory, size) of a workspace path, using DVC's state db."""
        from dvc_data.hashfile.build import build
        from dvc_data.hashfile.tree import Tree

        if not abs_path.exists():
            return None, None, None
        odb = repo.cache.legacy if hash_name in LEGACY_HASHES else repo.cache.local
        _staging, meta, obj = build(odb, str(abs_path), repo.fs, hash_name or "md5-dos2unix",
                                    ignore=repo.dvcignore, dry_run=True)
        md5 = obj.hash_info.value if obj.hash_info else None
        if isinstance(obj, Tree):
            files: dict[str, tuple[str, int | None]] = {}
            for key, fmeta, hi in obj:
                files["/".join(key)] = (hi.value, fmeta.size if fmeta else None)
            return md5, files, sum(s or 0 for _, s in files.values())
        return md5, None, meta.size if meta else abs_path.stat().st_size

    def refuse_read_only(self, what: str, output: str) -> None:
        if self.read_only:
            raise ReadOnly(f"read-only mode: will not {what} {output}", endpoint=str(self.repo_path),
                           hint="switch to a context without read_only to change data")


def index_locked(lock: str, top: Path) -> Refused:
    return Refused(f"another git process holds the index ({lock} exists)", endpoint=str(top),
                   hint="wait for it to finish; if no git process is running, remove that file")


def report(progress: ProgressCallback | None, value: Progress) -> None:
    """Tell the caller how far an operation got; a failing callback never stops the operation half way."""
    if progress is None:
        return
    try:
        progress(value)
    except Exception:  # noqa: S110 - progress is advisory
        pass
