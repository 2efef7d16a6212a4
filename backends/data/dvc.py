"""The ``dvc`` Data backend: DVC-tracked outputs of a git workspace and their versions in git history.

Reads are plain git plumbing plus small YAML files (``.dvc``, ``dvc.yaml``, ``dvc.lock``), so listing
history costs one ``git log`` and one ``git cat-file --batch`` whatever the number of commits.
Workspace hashing goes through DVC's own hashing with its state database, so unchanged large data is not
re-read on every refresh. Mutations run ``git`` and ``dvc`` as subprocesses, the way a person would.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from backends.data import (
    CheckoutPlan,
    DataDiff,
    DataVersion,
    DiffEntry,
    InterruptedCheckout,
    OperationResult,
    OutputStatus,
    Progress,
    ProgressCallback,
    TrackedOutput,
    WorkspaceInfo,
)
from backends.data.dvc_files import (
    LEGACY_HASHES,
    NULL_SHA,
    Entry,
    Located,
    ObjectStore,
    Remote,
    WrittenBytes,
    drop_unchanged,
    dvc_summary,
    git_blob_sha,
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
from backends.errors import (
    BackendError,
    BackendTimeout,
    Interrupted,
    NotConfigured,
    NotFound,
    ReadOnly,
    Refused,
)
from backends.redact import redact

DEFAULT_TIMEOUT = 10.0
DEFAULT_OPERATION_TIMEOUT = 3600.0
JOURNAL = "mlops-console-checkout.json"  # in .dvc/tmp, which DVC keeps out of git
_INDEX_LOCK = re.compile(r"'([^']*index\.lock)'")


# ----------------------------------------------------------------------------------------------------------


class DvcDatasets:
    """:class:`backends.data.DatasetVersions` on a real git + DVC workspace."""

    def __init__(
        self,
        repo: str | os.PathLike[str],
        *,
        read_only: bool = False,
        timeout: float = DEFAULT_TIMEOUT,
        operation_timeout: float = DEFAULT_OPERATION_TIMEOUT,
    ) -> None:
        self.repo_path = Path(repo).expanduser()
        self.read_only = read_only
        self.timeout = timeout
        self.operation_timeout = operation_timeout
        self._roots: tuple[Path, Path] | None = None
        self._lock = threading.Lock()  # held while a checkout changes the workspace
        self._stopping = threading.Event()  # set by interrupt(): the console is going away

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> DvcDatasets:
        """Workspace from ``repo`` (default: the current directory); raises NotConfigured if it has no git/DVC."""
        repo = settings.get("repo") or os.getcwd()
        timeout = float(settings.get("timeout") or DEFAULT_TIMEOUT)
        op_timeout = float(settings.get("operation_timeout") or DEFAULT_OPERATION_TIMEOUT)
        backend = cls(repo, read_only=bool(settings.get("read_only", False)), timeout=timeout,
                      operation_timeout=op_timeout)
        backend._check_layout()
        return backend

    # -- locating the workspace --------------------------------------------------------------------------

    def _check_layout(self) -> tuple[Path, Path]:
        """(DVC root, git top) found by looking at the file system only."""
        return check_layout(self.repo_path)

    def _layout(self) -> tuple[Path, Path]:
        if self._roots is None or not (self._roots[0] / ".dvc").is_dir():
            self._roots = self._check_layout()
        return self._roots

    @property
    def root(self) -> Path:
        return self._layout()[0]

    def _git_path(self, rel: str) -> str:
        """A DVC-root-relative path as a git-top-relative path."""
        root, top = self._layout()
        prefix = root.relative_to(top).as_posix()
        return rel if prefix == "." else f"{prefix}/{rel}"

    # -- processes -----------------------------------------------------------------------------------------

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["DVC_NO_ANALYTICS"] = "1"
        env["GIT_TERMINAL_PROMPT"] = "0"
        env.setdefault("LC_ALL", "C")
        return env

    def _git(self, *args: str, input: bytes | None = None, ok_codes: Iterable[int] = (0,),
             timeout: float | None = None) -> subprocess.CompletedProcess[bytes]:
        root, top = self._layout()
        cmd = ["git", "-c", "core.quotepath=off", *args]
        try:
            proc = subprocess.run(cmd, cwd=top, input=input, capture_output=True, env=self._env(),
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
                raise _index_locked(locked.group(1), top)
            if "not a git repository" in err:
                raise NotConfigured("the data workspace is not a git repository", endpoint=str(top), detail=err)
            raise BackendError(f"`git {' '.join(args[:2])}` failed", endpoint=str(top), detail=err)
        return proc

    def _dvc(self, *args: str, progress: ProgressCallback | None = None,
             measure: Callable[[], int] | None = None, total: int | None = None,
             unit: str = "bytes", message: str = "", deadline: float | None = None,
             interruptible: bool = False) -> subprocess.CompletedProcess[str]:
        """Run ``python -m dvc args`` in the DVC root, reporting ``measure()`` through ``progress`` while it runs.

        It is stopped at ``deadline`` (default: ``operation_timeout`` from now) with BackendTimeout, and when
        ``interruptible``, by ``interrupt()`` with Interrupted. It runs in a session of its own, so that a
        hang-up of the terminal reaches the console, which decides, and not DVC half way through.
        """
        root = self.root
        cmd = [sys.executable, "-m", "dvc", *args]
        proc = subprocess.Popen(cmd, cwd=root, env=self._env(), stdin=subprocess.DEVNULL,
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
                    if interruptible and self._stopping.is_set():
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
                            _report(progress, Progress(done, total, unit, message))
        finally:
            if proc.poll() is None:  # timed out, or interrupted: never leave DVC running behind our back
                proc.kill()
                proc.wait()
        for t in readers:
            t.join(timeout=5)
        return subprocess.CompletedProcess(cmd, proc.returncode, "".join(out_chunks), "".join(err_chunks))

    # -- configuration -------------------------------------------------------------------------------------

    def _config(self) -> dict[str, dict[str, str]]:
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

    def _cache(self, config: Mapping[str, Mapping[str, str]] | None = None) -> ObjectStore:
        config = self._config() if config is None else config
        cache_dir = config.get("cache", {}).get("dir")
        dvc_dir = self.root / ".dvc"
        return ObjectStore((dvc_dir / cache_dir).resolve() if cache_dir else dvc_dir / "cache")

    def _remote(self, config: Mapping[str, Mapping[str, str]] | None = None) -> Remote | None:
        config = self._config() if config is None else config
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

    def _remote_store(self, remote: Remote | None) -> ObjectStore | None:
        return ObjectStore(remote.local_path) if remote and remote.local_path else None

    def _remote_has(self, remote: Remote | None, entries: list[Entry]) -> dict[str, bool] | None:
        """{md5: present} in the default remote for the given entries; None when there is no default remote."""
        if remote is None:
            return None
        store = self._remote_store(remote)
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
                cache = self._cache()
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

    def _tracked_files(self) -> list[str]:
        """DVC-root-relative paths of .dvc and dvc.yaml files (tracked or untracked-but-not-ignored)."""
        root, top = self._layout()
        prefix = root.relative_to(top).as_posix()
        base = "" if prefix == "." else f"{prefix}/"
        proc = self._git("ls-files", "-z", "--cached", "--others", "--exclude-standard", "--full-name", "--",
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

    def _locate(self, output: str) -> Located:
        root = self.root
        output = output.strip().strip("/")
        if output.endswith(".dvc"):
            output = output[: -len(".dvc")]
        dvc_file = f"{output}.dvc"
        if (root / dvc_file).is_file() or self._in_git_history(dvc_file):
            return Located(output=output, record=dvc_file, stage=None, key=output.rsplit("/", 1)[-1])
        for path in self._tracked_files():
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
        proc = self._git("log", "-1", "--format=%H", "--", self._git_path(rel), ok_codes=(0, 128))
        return proc.returncode == 0 and bool(proc.stdout.strip())

    def _entry_of(self, located: Located, data: bytes) -> Entry:
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

    def _workspace_entry(self, located: Located) -> Entry:
        path = self.root / located.record
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ValueError(f"{located.record} cannot be read: {exc.strerror}") from exc
        return self._entry_of(located, data)

    def _entry_at(self, located: Located, rev: str) -> tuple[str, Entry | None, str | None]:
        """(full commit, entry or None, problem) of the output at ``rev``."""
        commit = self._resolve_rev(rev)
        proc = self._git("cat-file", "blob", f"{commit}:{self._git_path(located.record)}", ok_codes=(0, 128))
        if proc.returncode != 0:
            return commit, None, f"{located.record} does not exist at {commit[:7]}"
        try:
            return commit, self._entry_of(located, proc.stdout), None
        except ValueError as exc:
            return commit, None, f"{located.record} is malformed at {commit[:7]}: {exc}"

    def _resolve_rev(self, rev: str) -> str:
        if not rev or rev.startswith("-"):
            raise NotFound(f"no revision {rev!r}", endpoint=str(self.root))
        proc = self._git("rev-parse", "--verify", "-q", f"{rev}^{{commit}}", ok_codes=(0, 1, 128))
        if proc.returncode != 0:
            raise NotFound(f"no commit {rev!r} in this repository", endpoint=str(self.root),
                           hint="pick a version from the history")
        return proc.stdout.decode().strip()

    # -- hashing the workspace -----------------------------------------------------------------------------

    def _open_repo(self) -> Any:
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

    def _workspace_tree(self, repo: Any, abs_path: Path, hash_name: str
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

    # -- the Protocol ----------------------------------------------------------------------------------------

    def workspace(self) -> WorkspaceInfo:
        root = self.root
        head = self._git("rev-parse", "--short", "--verify", "-q", "HEAD", ok_codes=(0, 1, 128))
        branch = self._git("symbolic-ref", "--short", "-q", "HEAD", ok_codes=(0, 1, 128))
        remote = self._remote()
        return WorkspaceInfo(
            root=str(root),
            git_head=head.stdout.decode().strip() or None if head.returncode == 0 else None,
            branch=branch.stdout.decode().strip() or None if branch.returncode == 0 else None,
            default_remote=remote.name if remote else None,
            remote_url=remote.url if remote else None,
        )

    def outputs(self) -> tuple[TrackedOutput, ...]:
        root = self.root
        config = self._config()
        cache = self._cache(config)
        remote = self._remote(config)
        remote_store = self._remote_store(remote)
        rows: list[tuple[Located, Entry | None, str | None]] = []
        entry: Entry | None
        for path in self._tracked_files():
            folder = path.rsplit("/", 1)[0] + "/" if "/" in path else ""
            if path.endswith(".dvc"):
                try:
                    outs = parse_dvc_file((root / path).read_bytes())
                except (ValueError, OSError) as exc:
                    rows.append((Located(path[:-4], path, None, path[:-4].rsplit("/", 1)[-1]), None, str(exc)))
                    continue
                for out_path, entry in outs:
                    rows.append((Located(norm(folder + out_path), path, None, norm(out_path)), entry, None))
            else:
                lock_rel = folder + "dvc.lock"
                try:
                    outs_of_stages = stage_outs(yaml_load((root / path).read_bytes()))
                except Exception as exc:
                    rows.append((Located(path, path, None, path), None, f"not a valid dvc.yaml: {one_line(str(exc))}"))
                    continue
                try:
                    lock = parse_lock((root / lock_rel).read_bytes()) if (root / lock_rel).is_file() else {}
                    lock_error = None
                except ValueError as exc:
                    lock, lock_error = {}, f"dvc.lock is malformed: {exc}"
                for stage, out_path, use_cache in outs_of_stages:
                    located = Located(norm(folder + out_path), lock_rel, stage, out_path)
                    entry = lock.get((stage, out_path)) or Entry(None, None, None, "md5", use_cache)
                    if not use_cache:
                        entry = Entry(entry.md5, entry.size, entry.nfiles, entry.hash_name, False)
                    rows.append((located, entry, lock_error))

        needs_hash = [(loc, e) for loc, e, err in rows if e is not None and err is None and e.md5
                      and (root / loc.output).exists()]
        hashes: dict[str, str | None] = {}
        if needs_hash:
            repo = self._open_repo()
            try:
                for loc, e in needs_hash:
                    try:
                        hashes[loc.output] = self._workspace_tree(repo, root / loc.output, e.hash_name)[0]
                    except Exception:
                        hashes[loc.output] = None
            finally:
                repo.close()

        result = []
        for loc, entry, error in rows:
            if entry is None or error is not None:
                result.append(TrackedOutput(path=loc.output, dvc_file=loc.record if loc.stage is None else
                                            loc.record[:-len("dvc.lock")] + "dvc.yaml",
                                            stage=loc.stage, is_dir=False, md5=None, size=None, nfiles=None,
                                            status=OutputStatus.UNKNOWN, error=error))
                continue
            status = self._status(loc, entry, hashes, cache, remote, remote_store)
            result.append(TrackedOutput(
                path=loc.output,
                dvc_file=loc.record if loc.stage is None else loc.record[: -len("dvc.lock")] + "dvc.yaml",
                stage=loc.stage, is_dir=entry.is_dir or (root / loc.output).is_dir(),
                md5=entry.md5, size=entry.size, nfiles=entry.nfiles, status=status,
            ))
        return tuple(result)

    def _status(self, loc: Located, entry: Entry, hashes: Mapping[str, str | None], cache: ObjectStore,
                remote: Remote | None, remote_store: ObjectStore | None) -> OutputStatus:
        exists = (self.root / loc.output).exists()
        if not entry.md5:
            return OutputStatus.MODIFIED if exists else OutputStatus.UNKNOWN
        if exists:
            ws = hashes.get(loc.output)
            if ws is None:
                return OutputStatus.UNKNOWN
            if ws != entry.md5:
                return OutputStatus.MODIFIED
            if not entry.use_cache or cache.has_all(entry):
                return OutputStatus.IN_SYNC
            return OutputStatus.NOT_IN_CACHE
        if not entry.use_cache:
            return OutputStatus.MISSING
        if cache.has_all(entry):
            return OutputStatus.NOT_CHECKED_OUT
        if remote is None:
            return OutputStatus.MISSING
        if remote_store is not None:
            return OutputStatus.NOT_IN_CACHE if remote_store.has_all(entry) else OutputStatus.MISSING
        return OutputStatus.NOT_IN_CACHE  # a cloud remote is not asked on every refresh

    def history(self, output: str) -> tuple[DataVersion, ...]:
        located = self._locate(output)
        git_record = self._git_path(located.record)
        commits, contents = self._log_with_blobs(git_record)
        parsed: dict[str, Entry | str] = {}
        for sha, data in contents.items():
            try:
                parsed[sha] = self._entry_of(located, data)
            except ValueError as exc:
                parsed[sha] = str(exc)

        # the version the workspace record points at
        current_blob = None
        current_md5 = None
        try:
            current_data = (self.root / located.record).read_bytes()
            current_blob = git_blob_sha(current_data)
            current_md5 = self._entry_of(located, current_data).md5
        except (OSError, ValueError):
            pass

        rows: list[tuple[tuple[str, str, str, str, str, str], Entry | None, str | None, bool]] = []
        for c in commits:
            blob = c[5]
            if blob == NULL_SHA:
                rows.append((c, None, None, True))
                continue
            value = parsed.get(blob)
            if value is None:
                rows.append((c, None, "the file could not be read from git", False))
            elif isinstance(value, str):
                rows.append((c, None, value, False))
            else:
                rows.append((c, value, None, False))
        if located.stage is not None:
            rows = drop_unchanged(rows)

        config = self._config()
        cache = self._cache(config)
        remote = self._remote(config)
        entries = [e for _, e, _, _ in rows if e is not None]
        unique = list({e.md5: e for e in entries if e.md5}.values())
        in_remote = self._remote_has(remote, unique)

        current_index = None
        if current_blob is not None:
            current_index = next((i for i, r in enumerate(rows) if r[0][5] == current_blob), None)
        if current_index is None and current_md5 is not None:
            current_index = next((i for i, r in enumerate(rows) if r[1] is not None and r[1].md5 == current_md5),
                                 None)

        result = []
        for i, (c, entry, error, deleted) in enumerate(rows):
            md5 = entry.md5 if entry else None
            result.append(DataVersion(
                rev=c[0], short=c[1], date=datetime.fromisoformat(c[2]), author=c[3], message=c[4],
                md5=md5, size=entry.size if entry else None, nfiles=entry.nfiles if entry else None,
                is_current=i == current_index,
                in_cache=cache.has_all(entry) if entry and md5 else None,
                in_remote=(in_remote.get(md5) if md5 else None) if in_remote is not None else None,
                error=error, deleted=deleted,
            ))
        return tuple(result)

    def _log_with_blobs(self, git_record: str
                        ) -> tuple[list[tuple[str, str, str, str, str, str]], dict[str, bytes]]:
        """The commits that changed ``git_record`` (newest first) and the contents of its blob at each.

        One ``git log --raw`` streams into one ``git cat-file --batch`` running at the same time, so the
        blobs are read while the history is still being walked: two processes whatever the number of commits.
        """
        _root, top = self._layout()
        env = self._env()
        log_cmd = ["git", "-c", "core.quotepath=off", "log", "--no-renames", "--no-abbrev", "--raw", "--no-color",
                   "--no-textconv", "--format=%x00%x01%H%x1f%aI%x1f%an%x1f%s", "--", git_record]
        try:
            log = subprocess.Popen(log_cmd, cwd=top, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE)
            cat = subprocess.Popen(["git", "cat-file", "--batch"], cwd=top, env=env, stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        except FileNotFoundError as exc:
            raise NotConfigured("git is not installed", hint="install git and make sure it is on PATH") from exc
        timed_out = threading.Event()

        def kill() -> None:
            timed_out.set()
            for proc in (log, cat):
                proc.kill()

        timer = threading.Timer(self.timeout, kill)
        timer.start()
        cat_out: list[bytes] = []
        log_err: list[bytes] = []
        reader = threading.Thread(target=lambda: cat_out.append(cat.stdout.read()), daemon=True)  # type: ignore[union-attr]
        err_reader = threading.Thread(target=lambda: log_err.append(log.stderr.read()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        err_reader.start()
        commits: list[tuple[str, str, str, str, str, str]] = []
        header: list[str] | None = None
        sent: set[bytes] = set()
        try:
            assert log.stdout is not None and cat.stdin is not None
            for line in log.stdout:
                if line.startswith(b"\x00\x01"):
                    fields = line[2:].rstrip(b"\n").decode("utf-8", "replace").split("\x1f")
                    header = fields if len(fields) >= 4 else None
                elif line.startswith(b":") and header is not None:
                    meta = line.split(b"\t", 1)[0].split()
                    if len(meta) >= 5:
                        blob = meta[3]
                        commits.append((header[0], header[0][:7], header[1], header[2], header[3], blob.decode()))
                        header = None
                        if blob not in sent and blob != NULL_SHA.encode():
                            sent.add(blob)
                            cat.stdin.write(blob + b"\n")
            cat.stdin.close()
            log.wait()
            reader.join()
            err_reader.join()
            cat.wait()
        except (BrokenPipeError, OSError):
            if not timed_out.is_set():
                raise
        finally:
            timer.cancel()
            for proc in (log, cat):
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        if timed_out.is_set():
            raise BackendTimeout(f"`git log` of {git_record} did not finish in {self.timeout:g} s", endpoint=str(top),
                                 hint="raise `timeout` in the context")
        if log.returncode != 0:
            err = b"".join(log_err).decode("utf-8", "replace").strip()
            if "does not have any commits" in err or "bad default revision" in err:
                return [], {}
            raise BackendError(f"`git log` of {git_record} failed", endpoint=str(top), detail=err)
        return commits, self._parse_batch(b"".join(cat_out))

    @staticmethod
    def _parse_batch(out: bytes) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        pos = 0
        while pos < len(out):
            nl = out.index(b"\n", pos)
            header = out[pos:nl].split()
            pos = nl + 1
            if len(header) != 3:
                continue
            size = int(header[2])
            found[header[0].decode()] = out[pos:pos + size]
            pos += size + 1
        return found

    def diff(self, output: str, rev: str) -> DataDiff:
        located = self._locate(output)
        commit, new, problem = self._entry_at(located, rev)
        if new is None:
            return DataDiff(output=located.output, rev=commit, is_dir=False, entries=(), note=problem)
        repo = self._open_repo()
        try:
            ws_md5, ws_files, ws_size = self._workspace_tree(repo, self.root / located.output, new.hash_name)
        finally:
            repo.close()
        return self._diff(located, commit, new, ws_md5, ws_files, ws_size)

    def _diff(self, located: Located, commit: str, new: Entry, ws_md5: str | None,
              ws_files: dict[str, tuple[str, int | None]] | None, ws_size: int | None) -> DataDiff:
        out = located.output
        if not new.is_dir:
            if ws_md5 == new.md5:
                entries: tuple[DiffEntry, ...] = ()
            elif ws_md5 is None:
                entries = (DiffEntry(out, "added", None, new.md5, None, new.size),)
            else:
                entries = (DiffEntry(out, "modified", ws_md5, new.md5, ws_size, new.size),)
            return DataDiff(output=out, rev=commit, is_dir=ws_files is not None, entries=entries)

        config = self._config()
        cache = self._cache(config)
        listing = cache.listing(new.md5, new.hash_name)  # type: ignore[arg-type]
        sizes_from = cache
        note = None
        if listing is None:
            remote_store = self._remote_store(self._remote(config))
            listing = remote_store.listing(new.md5, new.hash_name) if remote_store else None  # type: ignore[arg-type]
            if listing is not None and remote_store is not None:
                sizes_from = remote_store
                note = "the file list of this version comes from the remote (its data is not in the cache)"
        if listing is None:
            if ws_md5 == new.md5:
                return DataDiff(out, commit, True, ())
            note = ("the file list of this version is not available locally (pull it to see the files)")
            change = "added" if ws_md5 is None else "modified"
            return DataDiff(out, commit, True, (DiffEntry(out, change, ws_md5, new.md5, ws_size, new.size),), note)
        new_files = {rel: (m, sizes_from.size_of(m, new.hash_name)) for rel, m in listing}
        old_files = ws_files or {}
        entries_list = []
        for rel in sorted(set(new_files) | set(old_files)):
            old, nw = old_files.get(rel), new_files.get(rel)
            path = f"{out}/{rel}"
            if old is None and nw is not None:
                entries_list.append(DiffEntry(path, "added", None, nw[0], None, nw[1]))
            elif nw is None and old is not None:
                entries_list.append(DiffEntry(path, "deleted", old[0], None, old[1], None))
            elif old is not None and nw is not None and old[0] != nw[0]:
                entries_list.append(DiffEntry(path, "modified", old[0], nw[0], old[1], nw[1]))
        return DataDiff(out, commit, True, tuple(entries_list), note)

    def plan_checkout(self, output: str, rev: str) -> CheckoutPlan:
        plan = self._plan_checkout(output, rev)
        operation, blocker = self._checkout_blockers(self._locate(output))
        return dataclasses.replace(plan, problem=blocker or plan.problem, git_operation=operation)

    def _plan_checkout(self, output: str, rev: str) -> CheckoutPlan:
        located = self._locate(output)
        commit, new, problem = self._entry_at(located, rev)
        root = self.root
        repo = self._open_repo()
        try:
            hash_name = new.hash_name if new else "md5"
            ws_md5, ws_files, ws_size = self._workspace_tree(repo, root / located.output, hash_name)
        finally:
            repo.close()
        config = self._config()
        cache = self._cache(config)
        # changes in the workspace that no cache object holds would be lost by the checkout
        if ws_md5 is None:
            unsaved = False
        elif ws_files is not None:
            unsaved = any(not cache.has_object(m, hash_name) for m, _ in ws_files.values())
        else:
            unsaved = not cache.has_object(ws_md5, hash_name)
        dirty = self._record_dirty(located)
        try:
            recorded = self._workspace_entry(located).md5
        except ValueError:
            recorded = None
        if new is None:
            diff = DataDiff(located.output, commit, False, (), problem)
            return CheckoutPlan(located.output, commit, diff, None, unsaved, dirty, ws_md5, problem, recorded)
        diff = self._diff(located, commit, new, ws_md5, ws_files, ws_size)
        source = None
        remote = self._remote(config)
        if not new.md5:
            problem = f"{located.record} records no data for {located.output} at {commit[:7]}"
        elif not new.use_cache:
            problem = f"{located.output} is not kept in the DVC cache (cache: false), so no version can be checked out"
        elif cache.has_all(new):
            source = "cache"
        else:
            remote_has = self._remote_has(remote, [new])
            if remote_has and remote_has.get(new.md5):
                source = "remote"
            elif remote is None:
                problem = (f"the data of {located.output} at {commit[:7]} is not in the cache and no default "
                           "remote is set")
            elif remote_has is None:
                problem = (f"the data of {located.output} at {commit[:7]} is not in the cache and the remote "
                           f"{remote.name!r} ({remote.url}) could not be reached")
            else:
                problem = (f"the data of {located.output} at {commit[:7]} is neither in the cache nor in the "
                           f"remote {remote.name!r}")
        if problem is None and located.stage is not None:
            problem = (f"{located.output} is a stage output of {located.record[:-len('dvc.lock')]}dvc.yaml; "
                       "check out dvc.lock for the whole pipeline instead")
        return CheckoutPlan(located.output, commit, diff, source, unsaved, dirty, ws_md5, problem, recorded)

    def _record_dirty(self, located: Located) -> bool:
        proc = self._git("status", "--porcelain", "--", self._git_path(located.record))
        return bool(proc.stdout.strip())

    def save_workspace(self, output: str) -> OperationResult:
        self._refuse_read_only("save the workspace copy of", output)
        located = self._locate(output)
        abs_path = self.root / located.output
        if not abs_path.exists():
            raise Refused(f"{located.output} is not in the workspace, there is nothing to save",
                          endpoint=str(self.root))
        try:
            hash_name = self._workspace_entry(located).hash_name or "md5"
        except ValueError:
            hash_name = "md5"
        from dvc_data.hashfile.build import build
        from dvc_data.hashfile.transfer import transfer

        repo = self._open_repo()
        try:
            with repo.lock:
                odb = repo.cache.legacy if hash_name in LEGACY_HASHES else repo.cache.local
                staging, _meta, obj = build(odb, str(abs_path), repo.fs, hash_name, ignore=repo.dvcignore)
                transfer(staging, odb, {obj.hash_info}, shallow=False, hardlink=False)
                md5 = obj.hash_info.value
        except BackendError:
            raise
        except Exception as exc:
            raise BackendError(f"could not save {located.output} into the cache", endpoint=str(self.root),
                               detail=one_line(str(exc))) from exc
        finally:
            repo.close()
        return OperationResult(
            located.output, "save", True,
            f"saved the workspace copy of {located.output} in the cache as md5 {md5}; to get it back, put that "
            f"md5 in {located.record} and run `dvc checkout {located.record}`",
            md5=md5,
        )

    def checkout(self, output: str, rev: str, progress: ProgressCallback | None = None) -> OperationResult:
        self._refuse_read_only("check out", output)
        plan = self.plan_checkout(output, rev)
        located = self._locate(output)
        root = self.root
        if plan.problem:
            raise Refused(f"cannot check out {located.output} at {plan.rev[:7]}: {plan.problem}",
                          endpoint=str(root), hint="nothing was changed")
        if plan.unsaved_changes:
            raise Refused(f"the workspace copy of {located.output} has changes that are not in the cache",
                          endpoint=str(root),
                          hint="save them into the cache first, or cancel; nothing was changed")
        _commit, new, _ = self._entry_at(located, plan.rev)
        assert new is not None
        record_path = root / located.record
        git_record = self._git_path(located.record)
        deadline = time.monotonic() + self.operation_timeout
        with self._lock:
            if self._stopping.is_set():
                raise Interrupted(f"not checking out {located.output}: the console is closing", endpoint=str(root),
                                  hint="nothing was changed")
            hash_name = new.hash_name or "md5"
            old_md5, old_files = self._snapshot(located, hash_name)
            backup = record_path.read_bytes() if record_path.is_file() else None
            journal = {
                "output": located.output, "record": located.record, "rev": plan.rev, "new_md5": new.md5,
                "hash_name": hash_name, "old_md5": old_md5, "old_files": old_files,
                # every file there, those DVC ignores (.dvcignore) too: a rollback removes only what is new
                "old_present": _files_under(root / located.output),
                "old_temporaries": sorted(_dvc_temporaries(root / located.output)),
                "old_record": None if backup is None else base64.b64encode(backup).decode(),
                "old_index": base64.b64encode(self._index_entries(git_record)).decode(),
                "pid": os.getpid(), "pid_started": _process_start(os.getpid()), "host": socket.gethostname(),
                "started": datetime.now().astimezone().isoformat(timespec="seconds"),
            }
            self._write_journal(journal)  # before the first change, so that a killed console leaves it

            total = new.size
            if plan.diff.is_dir and plan.diff.entries and all(
                    e.new_size is not None for e in plan.diff.entries if e.change != "deleted"):
                total = sum(e.new_size or 0 for e in plan.diff.entries if e.change != "deleted")
            try:
                self._git("checkout", plan.rev, "--", git_record)
                if plan.source == "remote":
                    cache = self._cache()
                    fetched = self._dvc("fetch", located.record, progress=progress, total=total,
                                        measure=lambda: self._cached_bytes(cache, new), deadline=deadline,
                                        interruptible=True, message=f"fetching {located.output} from the remote")
                    if fetched.returncode != 0 or not cache.has_all(new):
                        raise Refused(f"could not fetch {located.output} at {plan.rev[:7]} from the remote",
                                      endpoint=str(root), detail=one_line(fetched.stderr or fetched.stdout),
                                      hint="nothing was changed")
                _report(progress, Progress(0, total, "bytes", f"checking out {located.output}"))
                done = self._dvc("checkout", located.record, progress=progress, total=total, deadline=deadline,
                                 interruptible=True, measure=WrittenBytes(root / located.output),
                                 message=f"checking out {located.output}")
                if done.returncode != 0:
                    said = done.stderr or done.stdout
                    raise BackendError(
                        f"`dvc checkout` of {located.output} failed" + (
                            ": another DVC process holds the workspace's lock (.dvc/tmp/lock)"
                            if "Unable to acquire lock" in said else ""),
                        endpoint=str(root), detail=one_line(said), hint="the workspace was put back as it was")
            except BackendTimeout as exc:
                self._roll_back(located, journal, exc)
                raise BackendTimeout(
                    f"the checkout of {located.output} did not finish within {self.operation_timeout:g} s; it was "
                    "stopped and the workspace was put back as it was", endpoint=str(root),
                    hint="raise `operation_timeout` in the context") from exc
            except Interrupted as exc:
                self._roll_back(located, journal, exc)
                raise Interrupted(f"the checkout of {located.output} was stopped because the console is closing; "
                                  "the workspace was put back as it was", endpoint=str(root)) from exc
            except BaseException as exc:
                self._roll_back(located, journal, exc)
                raise
            self._remove_journal()
        _report(progress, Progress(total or 0, total, "bytes", f"checked out {located.output}"))
        short = plan.rev[:7]
        changes = tuple(f"{e.change} {e.path}" for e in plan.diff.entries)
        return OperationResult(located.output, "checkout", True,
                               f"{located.output} is now the version of {short} (md5 {new.md5})",
                               md5=new.md5, details=changes)

    def operation_running(self) -> bool:
        """Whether a checkout is changing the workspace now."""
        return self._lock.locked()

    def interrupt(self) -> bool:
        """Stop a checkout under way (it is put back as it was) and refuse new ones: the console is closing.
        True when one was under way; ``wait_idle`` then waits for it to be put back."""
        self._stopping.set()
        return self._lock.locked()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no checkout is changing the workspace; False if one still is after ``timeout`` s."""
        if not self._lock.acquire(timeout=timeout):
            return False
        self._lock.release()
        return True

    # -- the index, the git state, the journal -------------------------------------------------------------

    def _index_entries(self, git_record: str) -> bytes:
        """The path's entries in git's index as ``ls-files -s -z`` gives them: every stage of a conflict."""
        return self._git("ls-files", "-s", "-z", "--", git_record).stdout

    def _restore_index(self, git_record: str, entries: bytes) -> None:
        """Put the path's index entries back exactly, conflict stages included (a mode-0 line drops what
        is there now; git takes higher stages only for a path that has no entry)."""
        if self._index_entries(git_record) == entries:
            return
        info = f"0 {NULL_SHA}\t{git_record}\0".encode() + entries
        self._git("update-index", "-z", "--index-info", input=info)

    def _git_state(self) -> tuple[str | None, Path]:
        """(the git operation under way in the repository - "a merge", "a rebase" ... - or None, the path of
        git's index lock file)."""
        names = (("MERGE_HEAD", "a merge"), ("rebase-merge", "a rebase"), ("rebase-apply", "a rebase"),
                 ("CHERRY_PICK_HEAD", "a cherry-pick"), ("REVERT_HEAD", "a revert"), ("index.lock", ""))
        proc = self._git("rev-parse", *(a for name, _ in names for a in ("--git-path", name)))
        top = self._layout()[1]
        paths = [top / line for line in proc.stdout.decode("utf-8", "surrogateescape").splitlines()]
        operation = next((what for (_, what), path in zip(names[:-1], paths) if path.exists()), None)
        return operation, paths[-1]

    def _checkout_blockers(self, located: Located) -> tuple[str | None, str | None]:
        """(the git operation under way, to warn about; why no checkout may start now, or None)."""
        operation, index_lock = self._git_state()
        if index_lock.exists():
            return operation, (f"{_index_locked(str(index_lock), self._layout()[1]).message}; wait for it to finish "
                               "(if no git process is running, remove that file)")
        entries = self._index_entries(self._git_path(located.record))
        if any(e.split(b"\t", 1)[0].rsplit(b" ", 1)[-1] != b"0" for e in entries.split(b"\0") if e):
            return operation, (f"{located.record} has an unresolved merge conflict; resolve the merge first (edit "
                               f"the file and `git add` it, or abort the {(operation or 'merge')[2:]})")
        journal = self._read_journal()
        if journal is not None and journal.get("broken"):
            return operation, (f"the journal of an earlier checkout ({self._journal_path()}) cannot be read; look at "
                               "the workspace, then remove that file")
        if journal is not None:
            if self._journal_live(journal):
                return operation, (f"a checkout of {journal.get('output')} is under way in this workspace "
                                   f"(process {journal.get('pid')})")
            return operation, (f"an earlier checkout of {journal.get('output')} was interrupted; finish it or put "
                               "the old version back first (press r: the pane offers both)")
        return operation, None

    def _journal_live(self, journal: Mapping[str, Any]) -> bool:
        """Whether the checkout a journal describes is still running (here, or in another console)."""
        return _process_alive(journal) or (journal.get("pid") == os.getpid() and self._lock.locked())

    def _journal_path(self) -> Path:
        return self.root / ".dvc" / "tmp" / JOURNAL

    def _write_journal(self, journal: Mapping[str, Any]) -> None:
        """Write the journal whole or not at all (a temporary file renamed over it, removed on failure)."""
        path = self._journal_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{JOURNAL}.tmp")  # one name: a console killed while writing leaves at most one
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(journal, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise BackendError("could not write the checkout journal, so the checkout did not start",
                               endpoint=str(path), detail=one_line(str(exc)), hint="nothing was changed") from exc

    def _read_journal(self) -> dict[str, Any] | None:
        try:
            journal = json.loads(self._journal_path().read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {"output": "?", "broken": True}
        return journal if isinstance(journal, dict) else {"output": "?", "broken": True}

    def _remove_journal(self) -> None:
        self._journal_path().unlink(missing_ok=True)

    def _roll_back(self, located: Located, journal: Mapping[str, Any], cause: BaseException | None = None) -> None:
        """Put the .dvc file, its index entries (every stage) and the data back as the journal says they
        were, then remove the journal. When a step fails, the journal stays for the next start to offer."""
        record_path = self.root / located.record
        git_record = self._git_path(located.record)
        old = journal.get("old_record")
        if old is None:
            record_path.unlink(missing_ok=True)
        else:
            record_path.write_bytes(base64.b64decode(old))
        failures: list[str] = []
        try:
            self._restore_index(git_record, base64.b64decode(journal.get("old_index") or ""))
        except BackendError as exc:
            failures.append(f"its git index entry: {exc.message}")
        try:
            self._put_back(located, (journal.get("old_md5"), journal.get("old_files")),
                           journal.get("hash_name") or "md5", set(journal.get("old_present") or ()))
            _remove_dvc_temporaries(self.root / located.output, journal.get("old_temporaries") or ())
        except Exception as exc:  # noqa: BLE001 - said in the message, the journal stays
            failures.append(f"its data: {one_line(str(exc))}")
        if failures:
            what = "checking out" if cause is not None else "putting back the interrupted checkout of"
            raise BackendError(
                f"{what} {located.output} failed, and these could not be put back: {'; '.join(failures)}",
                endpoint=str(self.root),
                hint=f"{located.record} is restored; press r when that is sorted out: the pane offers to finish "
                     "putting it back") from cause
        self._remove_journal()

    def interrupted_checkout(self) -> InterruptedCheckout | None:
        """The checkout a console was running when it stopped (killed, power cut), if its journal is here."""
        journal = self._read_journal()
        if journal is None or self._journal_live(journal) or journal.get("broken"):
            return None
        return InterruptedCheckout(output=str(journal["output"]), rev=str(journal["rev"]),
                                   old_md5=journal.get("old_md5"), new_md5=journal.get("new_md5"),
                                   started=str(journal.get("started", "")))

    def recover_checkout(self, finish: bool, progress: ProgressCallback | None = None) -> OperationResult:
        """Finish the interrupted checkout (``finish``) or put the old version back, then drop its journal."""
        journal = self._read_journal()
        if journal is None or journal.get("broken"):
            raise NotFound("there is no interrupted checkout to finish", endpoint=str(self.root))
        self._refuse_read_only("finish the interrupted checkout of" if finish else "put back", journal["output"])
        located = self._locate(journal["output"])
        root = self.root
        with self._lock:
            if not finish:
                repo = self._open_repo()
                try:
                    with repo.lock:  # a DVC still writing there (its console was killed) must finish first
                        self._roll_back(located, journal)
                except BackendError:
                    raise
                except Exception as exc:
                    raise BackendError(f"could not put {located.output} back", endpoint=str(root),
                                       detail=one_line(str(exc)),
                                       hint="try again once no DVC command runs here") from exc
                finally:
                    repo.close()
                return OperationResult(located.output, "checkout", True,
                                       f"{located.output} is back to the version it had before the interrupted "
                                       f"checkout (md5 {journal.get('old_md5')})", md5=journal.get("old_md5"))
            rev = str(journal["rev"])
            hash_name = journal.get("hash_name") or "md5"
            self._git("checkout", rev, "--", self._git_path(located.record))
            new = self._workspace_entry(located)
            # files that belong to neither version are what the interrupted DVC was writing when it stopped
            keep = set(journal.get("old_present") or ()) | {
                rel for rel, _ in self._cache().listing(new.md5, hash_name) or ()} if new.is_dir and new.md5 else None
            if keep is not None:
                _remove_strays(root / located.output, keep)
            _remove_dvc_temporaries(root / located.output, journal.get("old_temporaries") or ())
            done = self._dvc("checkout", located.record, progress=progress, total=new.size,
                             measure=WrittenBytes(root / located.output), message=f"checking out {located.output}")
            if done.returncode != 0 or self._snapshot(located, hash_name)[0] != new.md5:
                raise BackendError(f"could not finish the checkout of {located.output}", endpoint=str(root),
                                   detail=one_line(done.stderr or done.stdout),
                                   hint="try again, or put the old version back")
            self._remove_journal()
        return OperationResult(located.output, "checkout", True,
                               f"{located.output} is now the version of {rev[:7]} (md5 {new.md5}): the interrupted "
                               "checkout was finished", md5=new.md5)

    def _snapshot(self, located: Located, hash_name: str) -> tuple[str | None, dict[str, str] | None]:
        """(md5, {relpath: md5} for a directory) of the workspace copy, to put it back after a failure."""
        repo = self._open_repo()
        try:
            md5, files, _size = self._workspace_tree(repo, self.root / located.output, hash_name)
        finally:
            repo.close()
        return md5, ({rel: m for rel, (m, _s) in files.items()} if files is not None else None)

    def _put_back(self, located: Located, saved: tuple[str | None, dict[str, str] | None], hash_name: str,
                  present: set[str] | None = None) -> None:
        """After a failed checkout: bring the workspace copy back, from the cache, to what it was.

        Every file of it is in the cache (a checkout with unsaved changes is refused before it starts).
        ``present``: every file that was under the output's folder before, those DVC ignores included.
        """
        md5, files = saved
        target = self.root / located.output
        if md5 is None:  # there was nothing: whatever the checkout wrote goes
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            else:
                target.unlink(missing_ok=True)
            return
        if files is not None:
            _remove_strays(target, set(files) | (present or set()))  # DVC's temporary files too
        if self._snapshot(located, hash_name)[0] == md5:
            return
        cache = self._cache()

        def put(dest: Path, oid: str) -> None:
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(f".{dest.name}.restore.tmp")
            try:
                shutil.copyfile(cache.object_path(oid, hash_name), tmp)
                os.replace(tmp, dest)
            finally:
                tmp.unlink(missing_ok=True)

        if files is None:
            if target.is_dir():
                shutil.rmtree(target)
            put(target, md5)
            return
        if target.exists() and not target.is_dir():
            target.unlink()
        now = self._snapshot(located, hash_name)[1] or {}
        for rel in set(now) - set(files):
            (target / rel).unlink(missing_ok=True)
        for rel, oid in files.items():
            if now.get(rel) != oid:
                put(target / rel, oid)

    def _cached_bytes(self, cache: ObjectStore, entry: Entry) -> int:
        if not entry.md5:
            return 0
        if not entry.is_dir:
            return cache.size_of(entry.md5, entry.hash_name) or 0
        listing = cache.listing(entry.md5, entry.hash_name) or []
        return sum(cache.size_of(m, entry.hash_name) or 0 for _, m in listing)

    def _refuse_read_only(self, what: str, output: str) -> None:
        if self.read_only:
            raise ReadOnly(f"read-only mode: will not {what} {output}", endpoint=str(self.repo_path),
                           hint="switch to a context without read_only to change data")

    def _needed_objects(self, store: ObjectStore | None, cache: ObjectStore, entry: Entry
                        ) -> list[tuple[str, str]]:
        """(label, md5) of the objects an entry needs, its files when the listing is known."""
        if not entry.md5:
            return []
        if not entry.is_dir:
            return [("", entry.md5)]
        listing = cache.listing(entry.md5, entry.hash_name)
        if listing is None and store is not None:
            listing = store.listing(entry.md5, entry.hash_name)
        return [(".dir", entry.md5)] + [(rel, m) for rel, m in listing or ()]

    def _transfer(self, action: str, output: str, progress: ProgressCallback | None) -> OperationResult:
        self._refuse_read_only(action, output)
        located = self._locate(output)
        root = self.root
        config = self._config()
        remote = self._remote(config)
        if remote is None:
            raise NotConfigured(f"cannot {action} {located.output}: no default DVC remote", endpoint=str(root),
                                hint="add one with `dvc remote add -d NAME URL`")
        try:
            entry = self._workspace_entry(located)
        except ValueError as exc:
            raise Refused(f"cannot {action} {located.output}: {exc}", endpoint=str(root)) from exc
        if not entry.md5:
            raise Refused(f"{located.record} records no data for {located.output} yet", endpoint=str(root),
                          hint="run `dvc add` or `dvc commit` first")
        cache = self._cache(config)
        store = self._remote_store(remote)
        if action == "push" and not cache.has_all(entry):
            raise Refused(f"cannot push {located.output}: its data is not (all) in the local cache",
                          endpoint=remote.url, hint="pull or check out the data first")
        dest = store if action == "push" else cache
        needed = self._needed_objects(store, cache, entry)
        missing_before = {m for _, m in needed if dest is not None and not dest.has_object(m, entry.hash_name)}
        # a stage is named through its dvc.yaml: naming the output path makes DVC read every .dvc file,
        # and one malformed file elsewhere would then stop the transfer
        target = located.record if located.stage is None else \
            f"{located.record[:-len('dvc.lock')]}dvc.yaml:{located.stage}"
        if action == "pull":
            measure: Callable[[], int] = lambda: self._cached_bytes(cache, entry)  # noqa: E731
        elif store is not None:
            measure = lambda: self._cached_bytes(store, entry)  # noqa: E731
        else:
            measure = None  # type: ignore[assignment]
        if progress is not None:
            _report(progress, Progress(0, entry.size, "bytes", f"{action} {located.output}"))
        proc = self._dvc(action, target, progress=progress, measure=measure, total=entry.size,
                         message=f"{action} {located.output}")
        text = (proc.stdout + "\n" + proc.stderr).strip()
        if proc.returncode != 0:
            raise BackendError(f"`dvc {action}` of {located.output} failed", endpoint=remote.url,
                               detail=one_line(proc.stderr or proc.stdout),
                               hint="check the remote and try again")
        if progress is not None:
            _report(progress, Progress(entry.size or 0, entry.size, "bytes", f"{action} {located.output} done"))
        summary = dvc_summary(text)
        if dest is not None and needed:
            known_before = {m for _, m in needed}
            if entry.is_dir:  # the file list may only have arrived with this pull
                needed = self._needed_objects(store, cache, entry)
            moved = [(label, m) for label, m in needed
                     if (m in missing_before or m not in known_before) and dest.has_object(m, entry.hash_name)]
            details = tuple(f"{located.output}/{label}" if label and label != ".dir" else
                            (f"{located.output} (file list)" if label else located.output) for label, m in moved)
            files = sum(1 for label, _ in moved if label != ".dir")
            verb = "pulled" if action == "pull" else "pushed"
            where = "from" if action == "pull" else "to"
            message = (f"{verb} {files} file{'s' if files != 1 else ''} of {located.output} {where} {remote.name}"
                       if moved else f"{located.output}: everything was already up to date")
        else:
            details = ()
            message = f"{action} of {located.output}: {summary or 'done'}"
        return OperationResult(located.output, action, True, message, md5=entry.md5, details=details)

    def pull(self, output: str, progress: ProgressCallback | None = None) -> OperationResult:
        return self._transfer("pull", output, progress)

    def push(self, output: str, progress: ProgressCallback | None = None) -> OperationResult:
        return self._transfer("push", output, progress)


def _index_locked(lock: str, top: Path) -> Refused:
    return Refused(f"another git process holds the index ({lock} exists)", endpoint=str(top),
                   hint="wait for it to finish; if no git process is running, remove that file")


def _process_alive(journal: Mapping[str, Any]) -> bool:
    """Whether another console that wrote a journal still runs (then its checkout is not interrupted)."""
    pid = journal.get("pid")
    if journal.get("host") != socket.gethostname() or not isinstance(pid, int) or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    started = journal.get("pid_started")
    return started is None or _process_start(pid) in (None, started)  # not a new process with the same id


def _process_start(pid: int) -> str | None:
    """When a process started (clock ticks since boot), where the system says: tells a reused pid apart."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else None


_DVC_TEMPORARY = re.compile(r"\.[0-9A-Za-z]{22}\.tmp")  # what DVC copies a file into before renaming it


def _dvc_temporaries(output: Path) -> set[str]:
    """Names of DVC's temporary files beside a file output (a directory output's are inside it)."""
    try:
        return {p.name for p in output.parent.iterdir() if _DVC_TEMPORARY.fullmatch(p.name) and p.is_file()}
    except OSError:
        return set()


def _remove_dvc_temporaries(output: Path, keep: Iterable[str]) -> None:
    """Remove the temporary files an interrupted DVC left beside a file output (not those there before)."""
    for name in _dvc_temporaries(output) - set(keep):
        (output.parent / name).unlink(missing_ok=True)


def _files_under(target: Path) -> list[str]:
    """Relative paths of every file under directory ``target`` ([] when it is not a directory)."""
    if not target.is_dir() or target.is_symlink():
        return []
    return [(Path(folder) / name).relative_to(target).as_posix() for folder, _dirs, names in os.walk(target)
            for name in names]


def _remove_strays(target: Path, keep: set[str]) -> None:
    """Delete the files under directory ``target`` whose relative path is not in ``keep``, then the
    folders that are left empty."""
    if not target.is_dir() or target.is_symlink():
        return
    for folder, _dirs, names in os.walk(target, topdown=False):
        base = Path(folder)
        for name in names:
            path = base / name
            if path.relative_to(target).as_posix() not in keep:
                path.unlink(missing_ok=True)
        if base != target and not any(base.iterdir()):
            base.rmdir()


def _report(progress: ProgressCallback | None, value: Progress) -> None:
    """Tell the caller how far an operation got; a failing callback never stops the operation half way."""
    if progress is None:
        return
    try:
        progress(value)
    except Exception:  # noqa: S110 - progress is advisory
        pass


__all__ = ["DvcDatasets"]
