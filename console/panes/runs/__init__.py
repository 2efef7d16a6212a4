"""The Runs pane: the screen and its views."""
