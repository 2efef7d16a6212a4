"""Focusing a text field so that keys typed before it had focus go into it, not elsewhere.

The console's app holds the keys that arrive while a field is being opened (``type_into``); in any other
app the field is simply focused.
"""

from __future__ import annotations

from textual.widget import Widget


def focus_for_typing(field: Widget) -> None:
    type_into = getattr(field.app, "type_into", None)
    if type_into is not None:
        type_into(field)
    else:
        field.focus()
