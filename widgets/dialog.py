"""The base of every dialog: a modal screen that can be dismissed once.

Keys that arrive together (`escape` and `enter` in one burst, a paste, a slow SSH link) can each ask the same
dialog to close before it is gone. Textual's ``dismiss`` pops whatever screen is on top, so the second one
would close the screen underneath (another dialog, or the pane itself). Here a dialog that is no longer on
top ignores being dismissed again.
"""

from __future__ import annotations

from typing import Any, TypeVar

from textual import events
from textual.await_complete import AwaitComplete
from textual.message import Message
from textual.screen import ModalScreen

ResultType = TypeVar("ResultType")


class DismissOnce:
    """For any screen class (Textual's command palette too): a second dismiss does nothing."""

    def dismiss(self, result: Any = None) -> AwaitComplete:
        if not self.is_attached or self.app.screen is not self:  # type: ignore[attr-defined]
            return AwaitComplete.nothing()  # closed already by an earlier key of the same burst
        if not self.is_mounted:
            # asked to close before it was built (opened and closed in one burst): close once it is, so that
            # its own on_mount never runs on a screen already taken down. Not awaited: the dialog's own queue
            # would wait for its own removal, which waits for that queue (a deadlock that stops every key)
            def close() -> None:
                self.dismiss(result)

            self.call_after_refresh(close)
            return AwaitComplete.nothing()
        return super().dismiss(result)  # type: ignore[misc]


class Dialog(DismissOnce, ModalScreen[ResultType]):
    """The base of the console's dialogs."""

    async def _on_message(self, message: Message) -> None:
        # a dialog taken down before it was mounted (opened and closed by keys of one burst, or its pane
        # switched away) has nothing left for its on_mount to fill
        if isinstance(message, events.Mount) and not any(
                self in stack for stack in self.app._screen_stacks.values()):
            return
        await super()._on_message(message)
