"""The ``dvc`` Data backend's history: the versions of an output, from the git log of its .dvc file or dvc.lock.

One ``git log --raw`` and one ``git cat-file --batch`` whatever the number of commits; each version is then
looked up in the cache and the default remote (a cloud remote in one batch, within ``timeout``).
"""

from __future__ import annotations

import re
import subprocess
import threading
from datetime import datetime

from backends.data import DataVersion
from backends.data.dvc_files import NULL_SHA, Entry, drop_unchanged, git_blob_sha
from backends.data.dvc_workspace import Workspace
from backends.errors import BackendError, BackendTimeout, NotConfigured, NotFound

_COMMIT = re.compile(r"[0-9a-fA-F]{7,40}")


def md5_at(ws: Workspace, output: str, rev: str) -> str | None:
    """The md5 the output's record holds at commit ``rev`` (see DataAtCommit)."""
    if not _COMMIT.fullmatch(rev):  # never handed to git as anything but a hash (no options, no ranges)
        raise NotFound(f"{rev!r} is not a commit hash", endpoint=str(ws.root))
    located = ws.locate(output)
    if ws.git("cat-file", "-e", f"{rev}^{{commit}}", ok_codes=(0, 1, 128)).returncode != 0:
        raise NotFound(f"no commit {rev[:12]} in this repository", endpoint=str(ws.root),
                       hint="it may be on a branch that was not fetched")
    shown = ws.git("show", f"{rev}:{ws.git_path(located.record)}", ok_codes=(0, 128))
    if shown.returncode != 0:
        return None  # the record did not exist at that commit
    try:
        return ws.entry_of(located, shown.stdout).md5
    except ValueError:
        return None


def md5s_at(ws: Workspace, output: str, revs: list[str]) -> dict[str, str | None]:
    """What md5_at answers for each of ``revs``, read with one ``git cat-file --batch`` (see DataAtCommit); a
    commit the repository does not have, or a name that is no commit hash, answers None."""
    located = ws.locate(output)
    record = ws.git_path(located.record)
    asked = list(dict.fromkeys(rev for rev in revs if _COMMIT.fullmatch(rev)))
    answers: dict[str, str | None] = dict.fromkeys(revs)
    if not asked:
        return answers
    out = ws.git("cat-file", "--batch", input="".join(f"{rev}:{record}\n" for rev in asked).encode()).stdout
    at = 0
    parsed: dict[bytes, str | None] = {}  # by blob: the commits that left the record as it was share one
    for rev in asked:  # one answer per line asked, in order: "<sha> blob <size>" and the content, or "<name> missing"
        end = out.find(b"\n", at)
        if end < 0:
            break
        header = out[at:end].split()
        at = end + 1
        if len(header) != 3 or not header[2].isdigit():
            continue  # missing or ambiguous: no such commit or no record there
        size = int(header[2])
        content, at = out[at:at + size], at + size + 1
        if header[1] == b"blob" and header[0] not in parsed:
            try:
                parsed[header[0]] = ws.entry_of(located, content).md5
            except ValueError:
                parsed[header[0]] = None
        answers[rev] = parsed.get(header[0])
    return answers


_TAG_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]*(/[A-Za-z0-9_][A-Za-z0-9_.+-]*)*")


def tag_commit(ws: Workspace, tag: str) -> str | None:
    """The commit a git tag names (see DataAtCommit)."""
    # only names git accepts for a tag reach git, and only as refs/tags/NAME: never an option or a range
    if len(tag) > 200 or not _TAG_NAME.fullmatch(tag) or ".." in tag or tag.endswith((".lock", ".")):
        return None
    found = ws.git("rev-parse", "-q", "--verify", f"refs/tags/{tag}^{{commit}}", ok_codes=(0, 1, 128))
    commit = found.stdout.decode("ascii", "replace").strip()
    return commit if found.returncode == 0 and _COMMIT.fullmatch(commit) else None


def history(ws: Workspace, output: str) -> tuple[DataVersion, ...]:
    """Newest first: one version per commit that changed the output's record, with where its data is."""
    located = ws.locate(output)
    git_record = ws.git_path(located.record)
    commits, contents = _log_with_blobs(ws, git_record)
    parsed: dict[str, Entry | str] = {}
    for sha, data in contents.items():
        try:
            parsed[sha] = ws.entry_of(located, data)
        except ValueError as exc:
            parsed[sha] = str(exc)

    # the version the workspace record points at
    current_blob = None
    current_md5 = None
    try:
        current_data = (ws.root / located.record).read_bytes()
        current_blob = git_blob_sha(current_data)
        current_md5 = ws.entry_of(located, current_data).md5
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

    config = ws.config()
    cache = ws.cache(config)
    remote = ws.remote(config)
    entries = [e for _, e, _, _ in rows if e is not None]
    unique = list({e.md5: e for e in entries if e.md5}.values())
    in_remote = ws.remote_has(remote, unique)

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


def _log_with_blobs(ws: Workspace, git_record: str
                    ) -> tuple[list[tuple[str, str, str, str, str, str]], dict[str, bytes]]:
    """The commits that changed ``git_record`` (newest first) and the contents of its blob at each.

    One ``git log --raw`` streams into one ``git cat-file --batch`` running at the same time, so the
    blobs are read while the history is still being walked: two processes whatever the number of commits.
    """
    _root, top = ws.layout()
    env = ws.env()
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

    timer = threading.Timer(ws.timeout, kill)
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
        raise BackendTimeout(f"`git log` of {git_record} did not finish in {ws.timeout:g} s", endpoint=str(top),
                             hint="raise `timeout` in the context")
    if log.returncode != 0:
        err = b"".join(log_err).decode("utf-8", "replace").strip()
        if "does not have any commits" in err or "bad default revision" in err:
            return [], {}
        raise BackendError(f"`git log` of {git_record} failed", endpoint=str(top), detail=err)
    return commits, _parse_batch(b"".join(cat_out))


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
