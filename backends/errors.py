"""The errors every backend raises: messages a person can act on."""

from __future__ import annotations


class BackendError(Exception):
    """A backend call failed.

    ``message`` says what failed, ``endpoint`` against what (URI, path, URL, never a secret),
    ``hint`` what to try. ``str(err)`` joins them into one line for the status bar.
    """

    def __init__(self, message: str, *, endpoint: str | None = None, hint: str | None = None,
                 status: int | None = None, detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.endpoint = endpoint
        self.hint = hint
        self.status = status
        self.detail = detail

    def __str__(self) -> str:
        parts = [self.message]
        if self.endpoint:
            parts.append(f"({self.endpoint})")
        if self.status is not None:
            parts.append(f"[HTTP {self.status}]")
        text = " ".join(parts)
        if self.hint:
            text += f" - {self.hint}"
        return text


class NotConfigured(BackendError):
    """The pane has nothing to talk to; the message says which setting to give."""


class Unreachable(BackendError):
    """The system could not be reached (connection refused, DNS, TLS)."""


class BackendTimeout(BackendError):
    """The system did not answer in time."""


class ServerError(BackendError):
    """The system answered with an error; ``status`` and ``detail`` carry its own words."""


class InvalidQuery(BackendError):
    """A filter, query or payload was rejected; ``detail`` is the parser's or server's message."""


class NotFound(BackendError):
    """The thing asked for does not exist."""


class Forbidden(BackendError):
    """The system refused the request (authorisation)."""


class ReadOnly(BackendError):
    """A mutating action was asked for in read-only mode."""


class Refused(BackendError):
    """An action was refused because it would lose data or leave things half done."""


class Interrupted(BackendError):
    """The console is stopping (hang-up, SIGTERM) and stopped the operation, putting things back."""
