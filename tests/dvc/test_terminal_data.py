"""The real `mlops-console` command in tmux on a real git + DVC workspace, typed at as a person types."""

from __future__ import annotations

import re

import pytest

from tmux import Tmux, have_tmux

pytestmark = pytest.mark.skipif(not have_tmux(), reason="tmux is not installed (.ci/run installs it)")

OUTPUTS = "data/images"  # a row of the outputs table once the workspace is read


def footer(screen: str) -> str:
    return [line for line in screen.splitlines() if line.strip()][-1]


def test_a_key_typed_before_the_first_frame_acts_as_a_key(seed_repo):
    with Tmux(["--repo", str(seed_repo.ws)]) as term:
        term.keys("2")  # at once, before the app has drawn anything
        term.wait_for("Runs pane", what="the Runs pane")
        term.keys("1")
        screen = term.wait_for(OUTPUTS, what="the Data pane's outputs")
        assert "filter:" not in screen  # the 2 went nowhere else


def test_bursts_after_colon_and_slash_go_into_the_field(seed_repo):
    with Tmux(["--repo", str(seed_repo.ws)]) as term:
        term.wait_for(OUTPUTS)
        term.literal(":promql foo")  # one write: the line must hold all of it, and show it
        screen = term.wait_for(lambda s: ":promql foo" in s.splitlines()[-1] or ":promql foo" in s,
                               what="the typed line")
        assert any(line.startswith(":promql foo") for line in screen.splitlines())
        term.keys("Escape")
        term.wait_for(lambda s: ":promql foo" not in s, what="the line closed")
        term.literal("/labels")
        screen = term.wait_for("filter: labels", what="the filter")
        assert "data/labels.csv" in screen and OUTPUTS not in screen
        term.keys("Escape")
        screen = term.wait_for(OUTPUTS, what="the filter cleared")
        assert "History of data/labels.csv" in screen  # the output chosen while filtered stays chosen
        # a key right after the filter closed is a key of the table again
        term.literal("j")
        term.wait_for("History of model/model.txt", what="j moved to the next output")


def test_no_color_cursor_rows_stand_out_by_attribute(seed_repo):
    with Tmux(["--repo", str(seed_repo.ws)], env={"NO_COLOR": "1"}) as term:
        term.wait_for(OUTPUTS)
        term.wait_for("checked out", what="the history")
        screen = term.screen(escapes=True)
        rows = {re.sub(r"\x1b\[[0-9;]*m", "", line).split()[0]: line for line in screen.splitlines()
                if re.sub(r"\x1b\[[0-9;]*m", "", line).strip()}
        cursor = rows["data/demo.txt"]  # the focused outputs table's cursor row: reverse video
        assert re.search(r"\x1b\[(?:[0-9;]*;)?7[;m]", cursor), repr(cursor)
        history = next(line for line in screen.splitlines() if "update demo.txt" in line)
        assert re.search(r"\x1b\[(?:[0-9;]*;)?4[;m]", history), repr(history)  # the other table's: underline
        other = rows["data/images"]
        assert not re.search(r"\x1b\[(?:[0-9;]*;)?[47][;m]", other), repr(other)  # other rows: neither


def test_resize_to_80x24_and_back_keeps_the_keys_that_fit_and_help(seed_repo):
    with Tmux(["--repo", str(seed_repo.ws)], size=(120, 34)) as term:
        term.wait_for(OUTPUTS)
        wide = footer(term.wait_for(lambda s: "palette" in footer(s), what="the footer at 120 columns"))
        assert wide.rstrip().endswith("? Help") and "c Checkout" in wide and "^p palette" in wide
        term.resize(80, 24)
        # the footer is laid out again for the new width: the palette key (least important) no longer fits
        narrow = footer(term.wait_for(lambda s: "palette" not in footer(s) and "? Help" in footer(s),
                                         what="the footer at 80 columns"))
        for key in ("d Diff", "c Checkout", "p Pull", "P Push"):
            assert key in narrow
        assert narrow.rstrip().endswith("? Help") and len(narrow.rstrip()) <= 80
        term.resize(120, 34)
        again = footer(term.wait_for(lambda s: "palette" in footer(s), what="the footer at 120 columns"))
        assert again.rstrip().endswith("? Help") and "c Checkout" in again


def test_ctrl_p_opens_the_palette_and_ctrl_c_quits(seed_repo):
    with Tmux(["--repo", str(seed_repo.ws)]) as term:
        term.wait_for(OUTPUTS)
        term.keys("C-p")
        term.wait_for("Search for commands", what="the palette")
        term.literal("runs")
        term.wait_for(":runs", what="the palette's :runs")
        term.keys("Enter")
        term.wait_for("Runs pane", what="the Runs pane from the palette")
        term.keys("C-c")
        term.wait_for("EXIT=0", what="ctrl+c quitting")
