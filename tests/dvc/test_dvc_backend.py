"""The dvc Data backend against real git + DVC workspaces (see conftest.py)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from backends.data import DatasetVersions, OutputStatus, Progress
from backends.data.dvc import DvcDatasets
from backends.data.dvc_rollback import put_back, snapshot
from backends.errors import BackendTimeout, NotConfigured, NotFound, ReadOnly, Refused

V1 = b"version1\n"
V2 = b"version2 is longer\n"


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()  # noqa: S324


def cache_file(root: Path, digest: str) -> Path:
    return root / "files" / "md5" / digest[:2] / digest[2:]


def outputs_by_path(backend) -> dict:
    return {o.path: o for o in backend.outputs()}


# -- configuration ---------------------------------------------------------------------------------------------


def test_not_a_git_repo_is_not_configured(tmp_path):
    with pytest.raises(NotConfigured) as err:
        DvcDatasets.from_settings({"repo": str(tmp_path)})
    assert "not a git repository" in str(err.value)
    assert str(tmp_path) in str(err.value)


def test_git_repo_without_dvc_is_not_configured(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    with pytest.raises(NotConfigured) as err:
        DvcDatasets.from_settings({"repo": str(tmp_path)})
    assert "no DVC" in str(err.value) and "dvc init" in str(err.value)


def test_missing_folder_is_not_configured(tmp_path):
    with pytest.raises(NotConfigured, match="does not exist"):
        DvcDatasets.from_settings({"repo": str(tmp_path / "nope")})


@pytest.mark.parametrize("layout", ["not git", "git without dvc", "missing"])
def test_a_folder_that_is_no_workspace_is_reported_before_dvc_is_imported(tmp_path, layout):
    # in a fresh process, as the console builds the backend: the cheap file-system checks come before the
    # backend's modules and DVC are imported, so the pane says what is wrong without waiting for them
    folder = tmp_path / "nope" if layout == "missing" else tmp_path
    if layout == "git without dvc":
        subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    probe = (
        "import json, sys\n"
        "from backends import registry\n"
        "from backends.errors import NotConfigured\n"
        "try:\n"
        f"    registry.create('data', 'dvc', {{'repo': {str(folder)!r}}}).workspace()\n"
        "    error = None\n"
        "except NotConfigured as exc:\n"
        "    error = str(exc)\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('dvc', 'dvc_data', 'scmrepo')\n"
        "                or m.startswith('backends.data.') and m not in ('backends.data.contract',\n"
        "                                                              'backends.data.dvc_layout'))\n"
        "print(json.dumps({'error': error, 'loaded': loaded}))\n"
    )
    root = Path(__file__).resolve().parent.parent.parent
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, cwd=root)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    expected = {"not git": "not a git repository", "git without dvc": "no DVC", "missing": "does not exist"}[layout]
    assert result["error"] and expected in result["error"], result
    assert result["loaded"] == [], result


def test_default_is_current_directory_and_satisfies_protocol(seed_repo, monkeypatch):
    monkeypatch.chdir(seed_repo.ws / "data")  # a subfolder finds the workspace root
    backend = DvcDatasets.from_settings({})
    assert isinstance(backend, DatasetVersions)
    assert backend.read_only is False
    assert Path(backend.workspace().root) == seed_repo.ws


def test_workspace_info(seed_repo):
    info = seed_repo.backend().workspace()
    assert info.root == str(seed_repo.ws)
    assert info.branch == "main"
    assert info.git_head == seed_repo.rev("HEAD")[: len(info.git_head)]
    assert info.default_remote == "storage"
    assert Path(info.remote_url) == seed_repo.remote


def test_importing_the_backend_loads_no_heavy_library():
    code = ("import sys, backends.data.dvc; "
            "bad = [m for m in ('dvc', 'dvc_data', 'textual', 'console', 'widgets', 'yaml') if m in sys.modules]; "
            "print(bad)")
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# -- outputs ---------------------------------------------------------------------------------------------------


def test_outputs_lists_dvc_files_and_stage_outs(seed_repo):
    outs = outputs_by_path(seed_repo.backend())
    assert set(outs) == {"data/demo.txt", "data/images", "data/labels.csv", "model/model.txt"}
    demo = outs["data/demo.txt"]
    assert (demo.dvc_file, demo.stage, demo.is_dir) == ("data/demo.txt.dvc", None, False)
    assert demo.md5 == md5(V2) and demo.size == len(V2)
    assert demo.status is OutputStatus.IN_SYNC and demo.error is None
    images = outs["data/images"]
    assert images.is_dir and images.nfiles == 3 and images.md5.endswith(".dir")
    assert images.status is OutputStatus.IN_SYNC
    model = outs["model/model.txt"]
    assert (model.dvc_file, model.stage) == ("dvc.yaml", "train")
    assert model.md5 == md5(seed_repo.read("model/model.txt"))
    assert model.status is OutputStatus.IN_SYNC


def test_outputs_statuses(seed_repo):
    seed_repo.write("data/demo.txt", "edited\n")
    (seed_repo.ws / "data" / "labels.csv").unlink()
    backend = seed_repo.backend()
    outs = outputs_by_path(backend)
    assert outs["data/demo.txt"].status is OutputStatus.MODIFIED
    assert outs["data/labels.csv"].status is OutputStatus.NOT_CHECKED_OUT
    seed_repo.write("data/images/new.png", "new")
    assert outputs_by_path(backend)["data/images"].status is OutputStatus.MODIFIED


def test_outputs_not_in_cache_and_missing_everywhere(no_cache_repo):
    backend = no_cache_repo.backend()
    outs = outputs_by_path(backend)
    assert outs["data/demo.txt"].status is OutputStatus.NOT_IN_CACHE  # only the remote has it
    assert outs["data/images"].status is OutputStatus.NOT_IN_CACHE  # workspace copy there, cache gone
    for path in (no_cache_repo.remote / "files").rglob("*"):
        if path.is_file():
            path.unlink()
    assert outputs_by_path(backend)["data/demo.txt"].status is OutputStatus.MISSING


def test_malformed_dvc_file_marks_only_its_row(seed_repo):
    seed_repo.write("data/labels.csv.dvc", "outs: [this is: not closed\n")
    seed_repo.write("data/untracked.bin.dvc", "just a string\n")  # untracked .dvc files are listed too
    outs = outputs_by_path(seed_repo.backend())
    assert "not valid YAML" in outs["data/labels.csv"].error
    assert outs["data/labels.csv"].status is OutputStatus.UNKNOWN
    assert outs["data/untracked.bin"].error
    assert outs["data/demo.txt"].error is None and outs["data/demo.txt"].status is OutputStatus.IN_SYNC


def test_dvc_internal_folder_is_skipped(seed_repo):
    seed_repo.write(".dvc/tmp/stray.dvc", "outs:\n- path: x\n")
    assert all(not o.path.startswith(".dvc") for o in seed_repo.backend().outputs())


# -- history ---------------------------------------------------------------------------------------------------


def test_history_of_seed_file(seed_repo):
    versions = seed_repo.backend().history("data/demo.txt")
    assert [v.message for v in versions] == ["update demo.txt", "add demo.txt version1"]
    assert [v.md5 for v in versions] == [md5(V2), md5(V1)]
    assert [v.size for v in versions] == [len(V2), len(V1)]
    assert versions[0].rev == seed_repo.rev("HEAD~6") and versions[0].short == versions[0].rev[:7]
    assert versions[0].author == "Ada Lovelace" and versions[0].date.tzinfo is not None
    assert [v.is_current for v in versions] == [True, False]
    assert all(v.in_cache for v in versions)
    assert [v.in_remote for v in versions] == [True, True]
    assert versions[0].date >= versions[1].date


def test_a_git_tag_names_its_commit_and_nothing_else_reaches_git(seed_repo, repo_tools):
    backend = seed_repo.backend()
    first = backend.history("data/demo.txt")[-1]
    repo_tools.git(seed_repo.ws, "tag", "data-v1", first.rev)  # lightweight
    repo_tools.git(seed_repo.ws, "tag", "-a", "-m", "release", "release/2.0", "HEAD")  # annotated: its commit
    assert backend.tag_commit("data-v1") == first.rev
    assert backend.tag_commit("release/2.0") == seed_repo.rev("HEAD")
    for name in ("missing", "-h", "--output=x", "data-v1..HEAD", "HEAD", "data-v1^", "a b", "", first.rev[:10]):
        assert backend.tag_commit(name) is None, name
    assert backend.md5_at("data/demo.txt", backend.tag_commit("data-v1")) == md5(V1)


def test_md5s_at_many_commits_answers_as_md5_at_each(seed_repo):
    backend = seed_repo.backend()
    commits = [seed_repo.rev(f"HEAD~{n}") for n in range(8)]  # commits that changed the file, and others
    asked = [*commits, commits[1][:9], "f" * 40, "--all", "HEAD"]
    answers = backend.md5s_at("data/demo.txt", asked)
    assert [answers[c] for c in commits] == [backend.md5_at("data/demo.txt", c) for c in commits]
    assert answers[commits[1][:9]] == answers[commits[1]] and {md5(V1), md5(V2)} <= set(answers.values())
    assert answers["f" * 40] is None and answers["--all"] is None and answers["HEAD"] is None  # no such commit


def test_history_current_follows_the_dvc_file(seed_repo):
    old = seed_repo.rev("HEAD~8")
    seed_repo.git("checkout", old, "--", "data/demo.txt.dvc")  # the seed: check out the previous version
    versions = seed_repo.backend().history("data/demo.txt.dvc")  # the .dvc path names the output too
    assert [v.is_current for v in versions] == [False, True]


def test_history_marks_malformed_and_deleted_commits(seed_repo):
    seed_repo.git("rm", "-q", "data/labels.csv.dvc")
    seed_repo.git("commit", "-q", "-m", "drop labels")
    versions = seed_repo.backend().history("data/labels.csv")
    assert [v.message for v in versions] == ["drop labels", "more labels", "break labels.csv.dvc by hand",
                                             "add labels"]
    dropped, more, broken, first = versions
    assert dropped.deleted and dropped.md5 is None and dropped.in_cache is None
    assert broken.error and "not valid YAML" in broken.error and broken.md5 is None
    assert more.error is None and more.md5 and first.md5 and not first.deleted
    assert not any(v.is_current for v in versions)  # the .dvc file is gone from the workspace


def test_history_cache_and_remote_presence(no_cache_repo):
    backend = no_cache_repo.backend()
    versions = backend.history("data/demo.txt")
    assert [v.in_cache for v in versions] == [False, False]
    assert [v.in_remote for v in versions] == [True, True]
    # a directory counts as present only with its listing and all of its files
    images = backend.history("data/images")
    assert [v.in_remote for v in images] == [True, True]
    newest = images[0].md5
    listing = json.loads(cache_file(no_cache_repo.remote, newest).read_bytes())
    cache_file(no_cache_repo.remote, listing[0]["md5"]).unlink()
    assert [v.in_remote for v in backend.history("data/images")] == [False, True]


def test_history_without_remote_says_none(seed_repo):
    seed_repo.dvc("remote", "default", "--unset")
    versions = seed_repo.backend().history("data/demo.txt")
    assert [v.in_remote for v in versions] == [None, None]


def test_history_of_stage_output(seed_repo):
    versions = seed_repo.backend().history("model/model.txt")
    assert [v.message for v in versions] == ["train the model"]
    assert versions[0].is_current and versions[0].md5 == md5(seed_repo.read("model/model.txt"))


def test_history_unknown_output(seed_repo):
    with pytest.raises(NotFound, match="no DVC-tracked output"):
        seed_repo.backend().history("data/nothing.txt")


# -- diff ------------------------------------------------------------------------------------------------------


def test_diff_file(seed_repo):
    backend = seed_repo.backend()
    diff = backend.diff("data/demo.txt", "HEAD~8")
    assert not diff.is_dir and diff.rev == seed_repo.rev("HEAD~8")
    (entry,) = diff.entries
    assert (entry.change, entry.old_md5, entry.new_md5) == ("modified", md5(V2), md5(V1))
    assert (entry.old_size, entry.new_size) == (len(V2), len(V1))
    assert backend.diff("data/demo.txt", "HEAD").entries == ()


def test_diff_directory_added_modified_deleted(seed_repo):
    diff = seed_repo.backend().diff("data/images", "HEAD~5")  # "add images"
    assert diff.is_dir and diff.note is None
    changes = {e.path: e for e in diff.entries}
    assert set(changes) == {"data/images/cat.png", "data/images/owl.png", "data/images/sub/eel.png"}
    cat, owl, eel = changes["data/images/cat.png"], changes["data/images/owl.png"], changes["data/images/sub/eel.png"]
    assert cat.change == "modified" and cat.old_size == len("cat v2, bigger") and cat.new_size == len("cat v1")
    assert cat.new_md5 == md5(b"cat v1")
    assert owl.change == "added" and owl.new_size == len("owl v1") and owl.old_md5 is None
    assert eel.change == "deleted" and eel.old_size == len("eel v1") and eel.new_md5 is None


def test_diff_directory_listing_not_local(no_cache_repo):
    import shutil

    shutil.rmtree(no_cache_repo.remote)
    diff = no_cache_repo.backend().diff("data/images", "HEAD~5")
    assert diff.note and "not available locally" in diff.note
    assert [e.path for e in diff.entries] == ["data/images"]


def test_diff_malformed_revision_says_so(seed_repo):
    diff = seed_repo.backend().diff("data/labels.csv", "HEAD~2")
    assert diff.entries == () and "malformed" in diff.note


def test_diff_unknown_revision(seed_repo):
    with pytest.raises(NotFound, match="no commit"):
        seed_repo.backend().diff("data/demo.txt", "no-such-branch")


# -- plan ------------------------------------------------------------------------------------------------------


def test_plan_from_cache(seed_repo):
    plan = seed_repo.backend().plan_checkout("data/demo.txt", "HEAD~8")
    assert plan.source == "cache" and plan.problem is None
    assert not plan.unsaved_changes and not plan.dvc_file_dirty
    assert plan.workspace_md5 == md5(V2)
    assert plan.diff.entries[0].new_md5 == md5(V1)


def test_plan_dirty_workspace(dirty_repo):
    dirty_repo.write("data/demo.txt.dvc", dirty_repo.read("data/demo.txt.dvc") + b"\n")
    plan = dirty_repo.backend().plan_checkout("data/demo.txt", "HEAD~8")
    assert plan.unsaved_changes and plan.dvc_file_dirty
    assert plan.workspace_md5 == md5(b"my unsaved edit\n")
    assert plan.recorded_md5 == md5(V2)  # what the .dvc file says now, reported before it is replaced


def test_plan_remote_and_nowhere(no_cache_repo):
    backend = no_cache_repo.backend()
    assert backend.plan_checkout("data/demo.txt", "HEAD~8").source == "remote"
    import shutil

    shutil.rmtree(no_cache_repo.remote)
    plan = backend.plan_checkout("data/demo.txt", "HEAD~8")
    assert plan.source is None and "neither in the cache nor in the remote" in plan.problem


def test_plan_stage_output_is_refused(seed_repo):
    plan = seed_repo.backend().plan_checkout("model/model.txt", "HEAD")
    assert plan.problem and "dvc.lock" in plan.problem


# -- checkout --------------------------------------------------------------------------------------------------


def test_checkout_previous_version(seed_repo):
    backend = seed_repo.backend()
    old = seed_repo.rev("HEAD~8")
    seen: list[Progress] = []
    result = backend.checkout("data/demo.txt", old, seen.append)
    assert result.ok and result.action == "checkout" and result.md5 == md5(V1)
    assert seed_repo.read("data/demo.txt") == V1
    assert seed_repo.read("data/demo.txt.dvc") == seed_repo.git("show", f"{old}:data/demo.txt.dvc").stdout.encode()
    assert seen and seen[-1].done == seen[-1].total == len(V1)
    versions = backend.history("data/demo.txt")
    assert [v.is_current for v in versions] == [False, True]
    assert outputs_by_path(backend)["data/demo.txt"].status is OutputStatus.IN_SYNC
    # and back again
    backend.checkout("data/demo.txt", "HEAD")
    assert seed_repo.read("data/demo.txt") == V2
    assert seed_repo.git("status", "--porcelain").stdout == ""


def test_checkout_directory_version(seed_repo):
    seed_repo.backend().checkout("data/images", "HEAD~5")
    images = seed_repo.ws / "data" / "images"
    files = sorted(p.relative_to(images).as_posix() for p in images.rglob("*") if p.is_file())
    assert files == ["cat.png", "dog.png", "owl.png"]
    assert (images / "cat.png").read_text() == "cat v1"


def test_checkout_pulls_from_remote_when_only_there(no_cache_repo):
    result = no_cache_repo.backend().checkout("data/demo.txt", "HEAD~8")
    assert result.ok
    assert no_cache_repo.read("data/demo.txt") == V1
    assert cache_file(no_cache_repo.cache, md5(V1)).is_file()


def test_checkout_refuses_unsaved_changes_and_changes_nothing(dirty_repo):
    before = dirty_repo.snapshot()
    with pytest.raises(Refused, match="not in the cache"):
        dirty_repo.backend().checkout("data/demo.txt", "HEAD~8")
    assert dirty_repo.snapshot() == before
    assert dirty_repo.read("data/demo.txt") == b"my unsaved edit\n"


def test_checkout_refuses_data_missing_everywhere(nowhere_repo):
    before = nowhere_repo.snapshot()
    with pytest.raises(Refused, match="neither in the cache nor in the remote"):
        nowhere_repo.backend().checkout("data/demo.txt", "HEAD~8")
    assert nowhere_repo.snapshot() == before


def test_checkout_refuses_malformed_revision(seed_repo):
    before = seed_repo.snapshot()
    with pytest.raises(Refused, match="malformed"):
        seed_repo.backend().checkout("data/labels.csv", "HEAD~2")
    assert seed_repo.snapshot() == before


def test_failed_checkout_restores_dvc_file_and_index(seed_repo):
    """dvc checkout is stopped (operation timeout) after git checkout replaced the .dvc file."""
    seed_repo.write("data/demo.txt.dvc", seed_repo.read("data/demo.txt.dvc") + b"# my note\n")
    before = seed_repo.snapshot()
    backend = DvcDatasets.from_settings({"repo": str(seed_repo.ws), "operation_timeout": 0.05})
    with pytest.raises(BackendTimeout, match="did not finish"):
        backend.checkout("data/demo.txt", "HEAD~8")
    assert seed_repo.snapshot() == before


def test_a_failing_progress_callback_does_not_break_a_checkout(seed_repo):
    def broken(_progress):
        raise RuntimeError("the screen went away")

    result = seed_repo.backend().checkout("data/demo.txt", "HEAD~8", broken)
    assert result.ok and seed_repo.read("data/demo.txt") == V1


def test_save_workspace_then_checkout(dirty_repo):
    backend = dirty_repo.backend()
    dvc_before = dirty_repo.read("data/demo.txt.dvc")
    saved = backend.save_workspace("data/demo.txt")
    assert saved.ok and saved.md5 == md5(b"my unsaved edit\n") and saved.md5 in saved.message
    assert cache_file(dirty_repo.cache, saved.md5).read_bytes() == b"my unsaved edit\n"
    assert dirty_repo.read("data/demo.txt.dvc") == dvc_before
    assert dirty_repo.git("status", "--porcelain").stdout == ""
    assert not backend.plan_checkout("data/demo.txt", "HEAD~8").unsaved_changes
    backend.checkout("data/demo.txt", "HEAD~8")
    assert dirty_repo.read("data/demo.txt") == V1
    # the saved hash recovers the edit, the way the message says
    text = dirty_repo.read("data/demo.txt.dvc").decode().replace(md5(V1), saved.md5)
    dirty_repo.write("data/demo.txt.dvc", text)
    dirty_repo.dvc("checkout", "data/demo.txt.dvc")
    assert dirty_repo.read("data/demo.txt") == b"my unsaved edit\n"


def test_save_workspace_of_directory(seed_repo):
    seed_repo.write("data/images/new.png", "brand new")
    saved = seed_repo.backend().save_workspace("data/images")
    assert saved.md5.endswith(".dir")
    listing = json.loads(cache_file(seed_repo.cache, saved.md5).read_bytes())
    assert {"relpath": "new.png", "md5": md5(b"brand new")} in listing
    assert cache_file(seed_repo.cache, md5(b"brand new")).read_bytes() == b"brand new"


# -- pull / push -----------------------------------------------------------------------------------------------


def test_pull_restores_deleted_cache_and_workspace(no_cache_repo):
    seen: list[Progress] = []
    result = no_cache_repo.backend().pull("data/demo.txt", seen.append)
    assert result.ok and result.action == "pull" and "pulled 1 file" in result.message
    assert result.details == ("data/demo.txt",)
    assert no_cache_repo.read("data/demo.txt") == V2
    assert seen[-1].done == len(V2)
    again = no_cache_repo.backend().pull("data/demo.txt")
    assert "up to date" in again.message and again.details == ()


def test_pull_directory(no_cache_repo):
    import shutil

    shutil.rmtree(no_cache_repo.ws / "data" / "images")
    result = no_cache_repo.backend().pull("data/images")
    assert "pulled 3 files" in result.message
    assert (no_cache_repo.ws / "data" / "images" / "sub" / "eel.png").read_text() == "eel v1"


def test_push_puts_objects_in_remote(seed_repo):
    seed_repo.write("data/demo.txt", "version3\n")
    seed_repo.dvc("add", "-q", "data/demo.txt")
    assert not cache_file(seed_repo.remote, md5(b"version3\n")).exists()
    result = seed_repo.backend().push("data/demo.txt")
    assert result.ok and "pushed 1 file" in result.message
    assert cache_file(seed_repo.remote, md5(b"version3\n")).read_bytes() == b"version3\n"
    assert "up to date" in seed_repo.backend().push("data/demo.txt").message


def test_push_refuses_data_not_in_cache(no_cache_repo):
    with pytest.raises(Refused, match="not .all. in the local cache"):
        no_cache_repo.backend().push("data/demo.txt")


def test_pull_without_remote(seed_repo):
    seed_repo.dvc("remote", "default", "--unset")
    with pytest.raises(NotConfigured, match="no default DVC remote"):
        seed_repo.backend().pull("data/demo.txt")


# -- read-only -------------------------------------------------------------------------------------------------


def test_read_only_refuses_every_change(seed_repo, read_only_backend):
    before = seed_repo.snapshot()
    for call in (lambda: read_only_backend.checkout("data/demo.txt", "HEAD~8"),
                 lambda: read_only_backend.pull("data/demo.txt"),
                 lambda: read_only_backend.push("data/demo.txt"),
                 lambda: read_only_backend.save_workspace("data/demo.txt")):
        with pytest.raises(ReadOnly, match="read-only"):
            call()
    assert seed_repo.snapshot() == before
    assert read_only_backend.read_only
    assert len(read_only_backend.history("data/demo.txt")) == 2  # reading still works


# -- more: state db, pipeline lock history, a remote reached through DVC's own client ----------------------


def test_workspace_hashes_are_kept_in_dvcs_state_db(seed_repo):
    """outputs() hashes through DVC's state db, so unchanged data is not re-read on the next refresh."""
    from dvc.repo import Repo
    from dvc_objects.fs.local import LocalFileSystem

    seed_repo.write("data/demo.txt", "a new edit\n")
    outs = outputs_by_path(seed_repo.backend())
    assert outs["data/demo.txt"].status is OutputStatus.MODIFIED
    with Repo(str(seed_repo.ws)) as repo:
        _meta, hash_info = repo.state.get(str(seed_repo.ws / "data" / "demo.txt"), LocalFileSystem())
    assert hash_info is not None and hash_info.value == md5(b"a new edit\n")


def test_lock_history_lists_only_commits_that_changed_the_out(seed_repo):
    lock = seed_repo.read("dvc.lock").decode()
    deps_md5 = md5(seed_repo.read("data/labels.csv"))
    out_md5 = md5(seed_repo.read("model/model.txt"))
    seed_repo.write("dvc.lock", lock.replace(deps_md5, "0" * 31 + "a"))  # only a dependency changes
    seed_repo.git("commit", "-q", "-am", "touch a dependency hash")
    seed_repo.write("dvc.lock", lock.replace(out_md5, md5(b"retrained\n")))
    seed_repo.git("commit", "-q", "-am", "retrain")
    versions = seed_repo.backend().history("model/model.txt")
    assert [v.message for v in versions] == ["retrain", "train the model"]
    assert versions[0].md5 == md5(b"retrained\n") and versions[0].is_current
    assert versions[0].in_cache is False and versions[1].in_cache is True


def test_http_remote_is_asked_through_dvc(no_cache_repo, tmp_path):
    """A remote that is not a local folder: DVC's remote client answers in_remote and serves the checkout."""
    import shutil
    import socket
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                               "--directory", str(no_cache_repo.remote)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        no_cache_repo.dvc("remote", "add", "-d", "-f", "web", f"http://127.0.0.1:{port}")
        backend = no_cache_repo.backend()
        info = backend.workspace()
        assert (info.default_remote, info.remote_url) == ("web", f"http://127.0.0.1:{port}")
        assert [v.in_remote for v in backend.history("data/demo.txt")] == [True, True]
        (cache_file(no_cache_repo.remote, md5(V1))).unlink()
        assert [v.in_remote for v in backend.history("data/demo.txt")] == [True, False]
        plan = backend.plan_checkout("data/demo.txt", "HEAD")
        assert plan.source == "remote"
        backend.checkout("data/demo.txt", "HEAD")
        assert no_cache_repo.read("data/demo.txt") == V2
        # a directory whose file list is not here yet: what arrived is counted once it is
        shutil.rmtree(no_cache_repo.ws / "data" / "images")
        pulled = backend.pull("data/images")
        assert "pulled 3 files" in pulled.message and "data/images/sub/eel.png" in pulled.details
        assert (no_cache_repo.ws / "data" / "images" / "cat.png").read_text() == "cat v2, bigger"
    finally:
        server.kill()
        server.wait()
    # the server is gone: unknown, not an error; a checkout that needs it says why it cannot go ahead
    assert backend.history("data/demo.txt")[0].in_remote is None
    plan = backend.plan_checkout("data/demo.txt", "HEAD~8")
    assert plan.source is None and "could not be reached" in plan.problem


def test_remote_url_never_shows_credentials(seed_repo):
    seed_repo.dvc("remote", "add", "-d", "-f", "secret", "https://ada:hunter2@example.invalid/store")
    info = seed_repo.backend().workspace()
    assert info.remote_url == "https://ada:***@example.invalid/store" and "hunter2" not in repr(info)


def test_pull_and_push_work_beside_a_malformed_dvc_file(no_cache_repo):
    no_cache_repo.write("data/labels.csv.dvc", "outs: [not closed\n")
    (no_cache_repo.ws / "model" / "model.txt").unlink()
    backend = no_cache_repo.backend()
    assert "pulled 1 file" in backend.pull("data/demo.txt").message
    assert no_cache_repo.read("data/demo.txt") == V2
    result = backend.pull("model/model.txt")  # a stage output
    assert result.ok and result.details == ("model/model.txt",)
    assert no_cache_repo.read("model/model.txt").strip().endswith(b"data/labels.csv")
    assert "up to date" in backend.push("model/model.txt").message


def test_dvc_project_in_a_subfolder_of_the_git_repo(tmp_path, repo_tools):
    """`dvc init --subdir`: paths are relative to the DVC root, git runs from the repository top."""
    git, dvc, commit = repo_tools.git, repo_tools.dvc, repo_tools.commit

    top = tmp_path / "mono"
    sub = top / "ml project"
    sub.mkdir(parents=True)
    git(top, "init", "-q", "-b", "main")
    git(top, "config", "user.name", "Ada Lovelace")
    git(top, "config", "user.email", "ada@example.com")
    dvc(sub, "init", "-q", "--subdir")
    (sub / "data.txt").write_text("one\n")
    dvc(sub, "add", "-q", "data.txt")
    commit(top, "first")
    (sub / "data.txt").write_text("two\n")
    dvc(sub, "add", "-q", "data.txt")
    commit(top, "second")
    backend = DvcDatasets.from_settings({"repo": str(sub)})
    assert backend.workspace().root == str(sub)
    (out,) = backend.outputs()
    assert (out.path, out.status) == ("data.txt", OutputStatus.IN_SYNC)
    versions = backend.history("data.txt")
    assert [v.message for v in versions] == ["second", "first"]
    backend.checkout("data.txt", versions[1].rev)
    assert (sub / "data.txt").read_text() == "one\n"
    assert backend.history("data.txt")[1].is_current


def test_fresh_workspace_before_the_first_commit(tmp_path, repo_tools):
    ws = tmp_path / "fresh"
    ws.mkdir()
    repo_tools.git(ws, "init", "-q", "-b", "main")
    repo_tools.dvc(ws, "init", "-q")
    (ws / "notes.txt").write_text("draft\n")
    repo_tools.dvc(ws, "add", "-q", "notes.txt")
    backend = DvcDatasets.from_settings({"repo": str(ws)})
    info = backend.workspace()
    assert info.git_head is None and info.default_remote is None
    (out,) = backend.outputs()  # an untracked .dvc file is listed
    assert (out.path, out.status, out.md5) == ("notes.txt", OutputStatus.IN_SYNC, md5(b"draft\n"))
    assert backend.history("notes.txt") == ()
    with pytest.raises(NotConfigured, match="no default DVC remote"):
        backend.push("notes.txt")


def test_rollback_puts_saved_workspace_copies_back_from_the_cache(dirty_repo):
    """What a failed checkout does after the data was already touched: the data comes back from the cache,
    also when the workspace copy was a saved edit that no .dvc file records."""
    backend = dirty_repo.backend()
    backend.save_workspace("data/demo.txt")
    demo = backend.ws.locate("data/demo.txt")
    saved = snapshot(backend.ws, demo, "md5")
    dirty_repo.write("data/demo.txt", V1)  # as if the checkout had got this far
    put_back(backend.ws, demo, saved, "md5")
    assert dirty_repo.read("data/demo.txt") == b"my unsaved edit\n"

    images = backend.ws.locate("data/images")
    saved = snapshot(backend.ws, images, "md5")
    (dirty_repo.ws / "data" / "images" / "cat.png").unlink()
    dirty_repo.write("data/images/dog.png", "half written")
    dirty_repo.write("data/images/owl.png", "from the other version")
    put_back(backend.ws, images, saved, "md5")
    files = {p.relative_to(dirty_repo.ws / "data" / "images").as_posix(): p.read_text()
             for p in (dirty_repo.ws / "data" / "images").rglob("*") if p.is_file()}
    assert files == {"cat.png": "cat v2, bigger", "dog.png": "dog v1", "sub/eel.png": "eel v1"}
