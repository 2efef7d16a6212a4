"""The footer at 80 columns shows each pane's own keys and ends with `? Help`; help names every key with a
description, never a raw action name. (The footer is laid out from the bindings alone: the in-memory backends
give each pane its loaded state without a server.)"""

from __future__ import annotations

import pytest

from widgets.footer import KeyFooter


@pytest.mark.parametrize("pane", ["data", "runs", "deployments", "metrics"])
@pytest.mark.parametrize("width", [80, 120])
async def test_the_footer_keeps_the_panes_own_keys_and_ends_with_help(pane, width, fake_app, screen_text):
    app = fake_app(pane)
    async with app.run_test(size=(width, 24)) as pilot:
        await pilot.pause(0.5)
        footer = [line for line in screen_text(app).splitlines() if line.strip()][-1].rstrip()
        assert footer.endswith("? Help") and len(footer) <= width
        screen = app.screen
        own = [b for b in (a.binding for a in screen.active_bindings.values() if a.node is screen)
               if b.show and b.action not in ("filter", "refresh")]
        assert own, "the pane has keys of its own"
        for binding in own:
            assert f"{app.get_key_display(binding)} {binding.description}" in footer, (binding, footer)
        assert screen.query_one(KeyFooter).fitting(width)[-1][0].action == "help"


async def test_help_names_every_key_with_a_description(fake_app, screen_text):
    app = fake_app("runs")
    async with app.run_test(size=(120, 60)) as pilot:
        await pilot.pause(0.5)
        await pilot.press("question_mark")
        await pilot.pause(0.3)
        text = screen_text(app)
        assert "help_quit" not in text  # Textual's own ctrl+c binding had no description: its action showed
        assert "Quit (copy in a field with a selection)" in text  # ctrl+c, described
        assert "Compare" in text and "Models" in text  # the pane's keys are there
