"""The fake Data backend: frozen data, and state changes that Pilot tests can see."""

from __future__ import annotations

from datetime import UTC

import pytest

from backends import registry
from backends.data import DatasetVersions, OutputStatus
from backends.data.fake import FakeDatasets
from backends.errors import NotFound, ReadOnly, Refused


@pytest.fixture
def fake() -> FakeDatasets:
    return registry.create("data", "fake", {})


def test_registry_builds_it_and_it_satisfies_the_protocol(fake):
    assert isinstance(fake, FakeDatasets) and isinstance(fake, DatasetVersions)
    assert registry.create("data", "fake", {"read_only": True}).read_only


def test_frozen_outputs_and_dates(fake):
    outs = {o.path: o for o in fake.outputs()}
    assert list(outs) == ["data/demo.txt", "data/images", "data/labels.csv", "data/raw.csv", "model/model.pkl"]
    assert outs["data/images"].is_dir and outs["data/images"].nfiles == 3
    assert outs["data/raw.csv"].status is OutputStatus.MODIFIED
    assert outs["model/model.pkl"].stage == "train"
    demo = fake.history("data/demo.txt")
    assert len(demo) == 3 and [v.is_current for v in demo] == [True, False, False]
    assert demo[0].date.tzinfo is UTC and demo[0].date.year == 2024
    assert fake.history("data/demo.txt") == demo  # the same every time
    labels = fake.history("data/labels.csv")
    assert labels[1].error and labels[1].md5 is None
    assert len(fake.history("data/images")) == 2


def test_diff_of_directory_and_file(fake):
    images = fake.history("data/images")
    diff = fake.diff("data/images", images[1].rev)
    assert {(e.path, e.change) for e in diff.entries} == {
        ("data/images/cat.png", "modified"), ("data/images/owl.png", "added"), ("data/images/sub/eel.png", "deleted")}
    file_diff = fake.diff("data/demo.txt", fake.history("data/demo.txt")[1].rev)
    assert file_diff.entries[0].change == "modified"


def test_checkout_changes_current_version(fake):
    demo = fake.history("data/demo.txt")
    seen = []
    result = fake.checkout("data/demo.txt", demo[1].short, seen.append)
    assert result.ok and result.md5 == demo[1].md5
    assert [v.is_current for v in fake.history("data/demo.txt")] == [False, True, False]
    assert fake.history("data/demo.txt")[1].in_cache  # fetched from the remote on the way
    assert seen[-1].done == seen[-1].total


def test_checkout_refusals(fake):
    demo = fake.history("data/demo.txt")
    with pytest.raises(Refused, match="neither in the cache nor in the remote"):
        fake.checkout("data/demo.txt", demo[2].rev)
    raw = fake.history("data/raw.csv")
    plan = fake.plan_checkout("data/raw.csv", raw[1].rev)
    assert plan.unsaved_changes and plan.source == "cache"
    with pytest.raises(Refused, match="not in the cache"):
        fake.checkout("data/raw.csv", raw[1].rev)
    saved = fake.save_workspace("data/raw.csv")
    assert saved.md5 and not fake.plan_checkout("data/raw.csv", raw[1].rev).unsaved_changes
    fake.checkout("data/raw.csv", raw[1].rev)
    assert {o.path: o for o in fake.outputs()}["data/raw.csv"].status is OutputStatus.IN_SYNC
    with pytest.raises(Refused, match="malformed"):
        fake.checkout("data/labels.csv", fake.history("data/labels.csv")[1].rev)
    with pytest.raises(NotFound):
        fake.checkout("data/demo.txt", "deadbeef")


def test_pull_and_push_change_state(fake):
    result = fake.pull("model/model.pkl")
    assert "pulled 1 file" in result.message
    assert {o.path: o for o in fake.outputs()}["model/model.pkl"].status is OutputStatus.IN_SYNC
    assert fake.history("model/model.pkl")[0].in_cache
    raw = fake.history("data/raw.csv")
    fake.save_workspace("data/raw.csv")
    fake.checkout("data/raw.csv", raw[1].rev)
    assert not fake.history("data/raw.csv")[1].in_remote
    assert "pushed 1 file" in fake.push("data/raw.csv").message
    assert fake.history("data/raw.csv")[1].in_remote
    assert "up to date" in fake.push("data/raw.csv").message


def test_read_only_refuses():
    fake = FakeDatasets.from_settings({"read_only": True})
    for call in (lambda: fake.checkout("data/demo.txt", fake.history("data/demo.txt")[1].rev),
                 lambda: fake.pull("data/demo.txt"), lambda: fake.push("data/demo.txt"),
                 lambda: fake.save_workspace("data/raw.csv")):
        with pytest.raises(ReadOnly):
            call()
    assert [v.is_current for v in fake.history("data/demo.txt")] == [True, False, False]


def test_md5_at_the_commits_of_the_history(fake):
    from backends.data import DataAtCommit

    assert isinstance(fake, DataAtCommit)
    demo = fake.history("data/demo.txt")
    assert [fake.md5_at("data/demo.txt", v.rev) for v in demo] == [v.md5 for v in demo]
    with pytest.raises(NotFound):
        fake.md5_at("data/demo.txt", "0" * 40)
