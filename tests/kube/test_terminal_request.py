"""The real `mlops-console` command in tmux: a test request pasted into the editor (a bracketed paste, as a
terminal sends it) and sent to a real MLServer."""

from __future__ import annotations

import json
import time

import pytest

from tmux import Tmux, have_tmux

from .kube_helpers import GOOD_ROW

pytestmark = pytest.mark.skipif(not have_tmux(), reason="tmux is not installed (.ci/run installs it)")


def test_a_pasted_request_is_sent_and_answered(mlserver_url, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(f'''default_context = "local"
[contexts.local]
repo = "{tmp_path}"
deployments_backend = "endpoints"
[[contexts.local.endpoints]]
name = "iris-local"
url = "{mlserver_url}"
protocol = "v2"
model = "iris"
''')
    payload = {"inputs": [{"name": "input-0", "shape": [2, 4], "datatype": "FP64",
                           "data": GOOD_ROW + [6.7, 3.0, 5.2, 2.3]}]}
    with Tmux(["--config", str(config), "--pane", "deploy"]) as term:
        term.wait_for("iris-local", what="the endpoint")
        term.keys("t")
        term.wait_for("template: v2 metadata", what="the editor, prefilled from the model's metadata")
        for _ in range(3):  # select all, then paste over it (again if the editor took the paste before F7)
            term.keys("F7")
            time.sleep(0.3)
            term.paste(json.dumps(payload, indent=2))
            screen = term.wait_for(lambda s: "6.7," in s and "2.3" in s, what="the pasted payload")
            if "}{" not in screen:
                break
        term.keys("C-s")
        screen = term.wait_for("200", what="the answer")
        assert '"outputs"' in screen or "outputs" in screen
