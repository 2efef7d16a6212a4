"""The mlops-console application: the Textual app, its panes, the command line and configuration."""

__version__ = "0.1.0"
