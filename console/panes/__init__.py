"""The four pane screens."""
