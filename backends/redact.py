"""Secrets out of any text before it leaves for the screen, a log or a file.

``redact(text)`` hides, wherever they appear in the text:

- the password of a URL (``http://user:pw@host`` -> ``http://user:***@host``);
- the value after a secret-named flag (``--db-password=x``, ``--api-key x``) or variable (``PGPASSWORD=x``,
  ``token=x`` in a query string, ``Password=x;`` in a connection string);
- a JWT (three base64url parts, the first starting ``eyJ``) and a ``Bearer`` token.

A name is secret-named when one of its word parts (split at ``_ - .`` and camelCase humps) is one of
:data:`SECRET_WORDS` or ends in password/passwd/token/secret: ``AWS_SECRET_ACCESS_KEY``, ``githubPat``,
``SENTRY_DSN`` are, ``keyboard``, ``path``, ``author`` are not.

Plain Python: the backends use it for what they build, the console where text is shown, logged or saved.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache

MASK = "***"
_MASKS = frozenset({MASK, "<redacted>"})  # a value hidden already (the YAML view's word for it) stays as it is

SECRET_WORDS = frozenset({
    "token", "tokens", "secret", "secrets", "key", "keys", "apikey", "pass", "password", "passwords", "passwd",
    "passphrase", "pwd", "pat", "dsn", "credential", "credentials", "creds", "auth", "authorization",
    "authentication",
})
_SECRET_ENDINGS = ("password", "passwd", "token", "secret")
_WORD_PART = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")

# scheme://user:password@ - the password runs to the last @ before the path (an unescaped @ in it too)
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s\"'<>]*):(?P<pw>[^/\s?#\"'<>]*)@")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_BEARER = re.compile(r"\b(?P<head>[Bb]earer\s+)[A-Za-z0-9._~+/-]+=*")
# NAME=value (also --name=value): the value is quoted, or runs to a space, ; & , or quote
_ASSIGNED = re.compile(r"(?P<name>(?<![\w.-])-{0,2}[A-Za-z_][\w.-]*)=(?P<value>'[^']*'|\"[^\"]*\"|[^\s;&,'\"]+)")
# --name value: a secret-named long flag, then its value as the next word (not another flag)
_FLAG_VALUE = re.compile(r"(?P<name>(?<![\w-])--[A-Za-z][\w.-]*)(?P<gap>\s+)(?P<value>(?!-)[^\s;&,'\"]+)")


@lru_cache(maxsize=4096)
def is_secret_name(name: str) -> bool:
    """Whether ``name`` (a key, an env var, a flag) names a secret, judged by its word parts."""
    for part in _WORD_PART.findall(name.lstrip("-")):
        part = part.lower()
        if part in SECRET_WORDS or part.endswith(_SECRET_ENDINGS):
            return True
    return False


def redact(text: str, mask: str = MASK) -> str:
    """``text`` with every secret this module knows the shape of replaced by ``mask``."""
    if not text or not isinstance(text, str):
        return text
    def assigned(m: re.Match[str]) -> str:
        value = m.group("value")
        if value in _MASKS or not is_secret_name(m.group("name")):
            return m.group(0)
        quote = value[0] if value[:1] in ("'", '"') else ""
        return f"{m.group('name')}={quote}{mask}{quote}"

    def flag_value(m: re.Match[str]) -> str:
        if m.group("value") in _MASKS or not is_secret_name(m.group("name")):
            return m.group(0)
        return f"{m.group('name')}{m.group('gap')}{mask}"

    if "@" in text:
        text = _URL_PASSWORD.sub(lambda m: f"{m.group('head')}:{mask}@", text)
    if "eyJ" in text:
        text = _JWT.sub(mask, text)
    if "earer" in text:
        text = _BEARER.sub(lambda m: m.group("head") + mask, text)
    if "=" in text:
        text = _ASSIGNED.sub(assigned, text)
    if "--" in text:
        text = _FLAG_VALUE.sub(flag_value, text)
    return text


def redact_args(args: list[object], mask: str = MASK) -> list[object]:
    """A command's argument list: each string redacted, and the item after a secret-named ``--flag``
    (given as two items, ``["--api-key", "X"]``) replaced by ``mask``."""
    out: list[object] = []
    previous: object = None
    for item in args:
        if (isinstance(item, str) and isinstance(previous, str) and previous.startswith("-")
                and "=" not in previous and not item.startswith("-") and is_secret_name(previous)):
            out.append(mask)
        else:
            out.append(redact(item, mask) if isinstance(item, str) else item)
        previous = item
    return out


class RedactingFormatter(logging.Formatter):
    """A log line (message, exception and stack text included) with its secrets hidden."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


__all__ = ["MASK", "SECRET_WORDS", "RedactingFormatter", "is_secret_name", "redact", "redact_args"]
