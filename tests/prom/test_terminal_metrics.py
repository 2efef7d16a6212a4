"""The real `mlops-console` command in tmux on the session's Prometheus, typed at as a person types: `e` and a
query in one burst, and `:promql` while live refresh is on."""

from __future__ import annotations

import pytest

from tmux import Tmux, have_tmux

pytestmark = pytest.mark.skipif(not have_tmux(), reason="tmux is not installed (.ci/run installs it)")


def title(screen: str) -> str:
    return next(line for line in screen.splitlines() if "PromQL" in line)


def test_e_and_a_query_in_one_burst_go_into_the_editor_and_run(prometheus, tmp_path):
    args = ["--pane", "metrics", "--prometheus-url", prometheus.url, "--repo", str(tmp_path)]
    with Tmux(args, env={"NO_COLOR": "1"}) as term:
        term.wait_for(lambda s: "PromQL up" in s and "live" in s, what="the first chart")
        term.literal("emlc_room_temperature_celsius\r")  # e, the query and enter, as one write
        screen = term.wait_for(lambda s: "PromQL mlc_room_temperature_celsius" in s, what="the new query charted")
        assert "live" in title(screen)  # live refresh stayed on
        # the same while live: `:promql` through the command line, in one burst
        term.literal(":promql up\r")
        term.wait_for(lambda s: title(s).split("PromQL ", 1)[1].startswith("up "), what=":promql up charted")
        term.keys("q")
        term.wait_for("EXIT=0", what="q quitting")


def test_editing_keys_in_a_burst_act_where_they_were_typed(prometheus, tmp_path):
    """ctrl+u and ctrl+a are bindings of the text field, which Textual looks up a few turns of the loop after the
    key arrived: typed in one write with letters after them, they must still act before those letters."""
    args = ["--pane", "metrics", "--prometheus-url", prometheus.url, "--repo", str(tmp_path)]
    with Tmux(args, env={"NO_COLOR": "1"}) as term:
        term.wait_for(lambda s: "PromQL up" in s and "live" in s, what="the first chart")
        # e opens the editor on "up"; ctrl+u clears it; ctrl+a goes back to the start of what was typed
        term.literal("e\x15celsius\x01mlc_room_temperature_\r")
        term.wait_for(lambda s: "PromQL mlc_room_temperature_celsius" in s, what="the query typed in order")
        # the command line: a word typed, cleared with ctrl+u, then the command, all in one write
        term.literal(":oops\x15promql up\r")
        term.wait_for(lambda s: title(s).split("PromQL ", 1)[1].startswith("up "), what=":promql up charted")
        term.keys("q")
        term.wait_for("EXIT=0", what="q quitting")
