"""Crash reports: an unexpected exception ends the console with status 1 and one line on stderr naming a
file that holds the details (under ``$XDG_STATE_HOME/mlops-console/``, readable only by the user),
instead of a screen of traceback over the shell prompt and status 0."""

from __future__ import annotations

import io
import os
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from backends.redact import (
    redact as _scrub,  # the one redaction of what leaves for a file or the screen
)
from console.history import state_dir


def write_crash_report(details: str, directory: Path | None = None) -> Path:
    """Write ``details`` (a traceback) to a new file, mode 0600; returns its path. Raises OSError."""
    import platform

    from console import __version__

    directory = directory or state_dir()
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    now = datetime.now(UTC)
    path = directory / f"crash-{now:%Y%m%d-%H%M%S}-{os.getpid()}.txt"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8", errors="replace") as f:
        f.write(f"mlops-console {__version__}, Python {platform.python_version()}, {platform.platform()}\n"
                f"{now.isoformat(timespec='seconds')}\n\n{_scrub(details)}\n")
    return path


def report_crash(details: str) -> str:
    """Write the crash report; returns the one line to print when the console ends on an unexpected error."""
    try:
        return f"mlops-console: unexpected error; details written to {write_crash_report(details)}"
    except OSError as exc:
        last = _scrub(details.strip().splitlines()[-1]) if details.strip() else "no details"
        return f"mlops-console: unexpected error ({last}); the details could not be written: {exc}"


def exception_text(error: BaseException) -> str:
    return "".join(traceback.format_exception(error))


class CrashReports:
    """Mixed into the App: every way Textual ends an app on an error (an exception in a handler, the input
    thread's ``panic``) writes the crash report and leaves exit status 1, with nothing else printed.
    ``crash_line`` is the line for stderr once the terminal is restored (the CLI prints it)."""

    crash_line: str | None = None
    _crash_details: str | None = None

    def _handle_exception(self, error: Exception) -> None:
        if self._crash_details is None:
            self._crash_details = exception_text(error)
        super()._handle_exception(error)  # type: ignore[misc]

    def _fatal_error(self) -> None:
        self.panic()

    def panic(self, *renderables: Any) -> None:
        details = self._crash_details or _render(renderables) or "(no details)"
        self._crash_details = None
        if self.crash_line is None:
            self.crash_line = report_crash(details)
        self._return_code: int | None = 1
        super().panic()  # type: ignore[misc]


def _render(renderables: tuple[Any, ...]) -> str:
    if not renderables:
        return ""
    from rich.console import Console

    out = io.StringIO()
    console = Console(file=out, width=120, color_system=None, force_terminal=False, legacy_windows=False)
    for renderable in renderables:
        console.print(renderable)
    return out.getvalue()
