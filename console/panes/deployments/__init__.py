"""The Deployments pane: the screen and its views."""
