"""The Metrics pane."""
