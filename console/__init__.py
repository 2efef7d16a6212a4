"""The mlops-console application: the Textual app, its panes, the command line and configuration."""

__version__ = "0.1.0"

import logging as _logging

# the console logs nowhere unless asked (MLOPS_CONSOLE_LOG=path, see console.cli)
_logging.getLogger("mlops_console").addHandler(_logging.NullHandler())
