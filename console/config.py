"""Configuration: a TOML file of named contexts, overridden by CLI flags and the ecosystem's variables.

Precedence for the context chosen at start-up: CLI flag > ecosystem variable (``MLFLOW_TRACKING_URI``,
``KUBECONFIG``, ``PROMETHEUS_URL``) > the context in the file > built-in default. A context picked later with
``:ctx NAME`` is taken as the file writes it; the variables only fill the keys it leaves unset.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from backends import registry
from backends.deployments.contract import PROTOCOLS
from backends.registry import DEFAULTS as DEFAULT_BACKENDS, KINDS, Setting

ENV_CONFIG = "MLOPS_CONSOLE_CONFIG"
ENV_VARS = {"mlflow_uri": "MLFLOW_TRACKING_URI", "kubeconfig": "KUBECONFIG", "prometheus_url": "PROMETHEUS_URL"}
SECRET_KEYS = frozenset({"prometheus_token", "prometheus_password"})


class ConfigError(Exception):
    """The config file cannot be used. ``str()`` names the file, line and key."""

    def __init__(self, message: str, *, path: Path | None = None, line: int | None = None,
                 key: str | None = None) -> None:
        self.message, self.path, self.line, self.key = message, path, line, key
        where = str(path) if path else "config"
        if line:
            where += f", line {line}"
        if key:
            where += f", key {key!r}"
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Endpoint:
    name: str
    url: str
    protocol: str = "v2"  # "seldon" | "v2" | "mlflow" | "json"
    model: str | None = None
    model_uri: str | None = None  # e.g. models:/name/1, for the MLflow signature of the request template
    method: str = "POST"  # or PUT, for a json endpoint
    example: str | None = None  # the body the request editor opens with (JSON text)
    example_file: str | None = None  # or the file that holds it (made absolute against the config's folder)


@dataclass(frozen=True)
class Context:
    """One named environment. Everything the panes' backends are built from."""

    name: str = "default"
    repo: str = "."
    mlflow_uri: str | None = None
    kubeconfig: str | None = None
    kube_context: str | None = None
    namespaces: tuple[str, ...] = ()
    ingress_url: str | None = None
    prometheus_url: str | None = None
    prometheus_token: str | None = field(default=None, repr=False)
    prometheus_username: str | None = None
    prometheus_password: str | None = field(default=None, repr=False)
    prometheus_ca_file: str | None = None
    prometheus_verify: bool = True
    dashboards: tuple[str, ...] = ()
    endpoints: tuple[Endpoint, ...] = ()
    read_only: bool = False
    timeout: float = 10.0
    operation_timeout: float = 3600.0
    refresh_interval: float = 5.0
    data_backend: str = DEFAULT_BACKENDS["data"]
    runs_backend: str = DEFAULT_BACKENDS["runs"]
    deployments_backend: str = DEFAULT_BACKENDS["deployments"]
    metrics_backend: str = DEFAULT_BACKENDS["metrics"]
    champion_alias: str = "champion"  # the registry alias the deployments should serve (the links' badges)
    #: the keys the context's backends declare (``backends.registry.Setting``), checked by the config loader
    backend_settings: tuple[tuple[str, Any], ...] = field(default=(), repr=False)
    secret_settings: frozenset[str] = field(default=frozenset(), repr=False)

    def backend_name(self, kind: str) -> str:
        return getattr(self, f"{kind}_backend")

    def as_settings(self) -> dict[str, Any]:
        """The plain mapping handed to backend factories."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name in _DECLARED_HOLDERS:
                continue
            value = getattr(self, f.name)
            if f.name == "endpoints":
                value = [dict(name=e.name, url=e.url, protocol=e.protocol, model=e.model, model_uri=e.model_uri,
                              method=e.method, example=e.example, example_file=e.example_file) for e in value]
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        out.update((key, list(value) if isinstance(value, tuple) else value) for key, value in self.backend_settings)
        return out

    def shown_settings(self) -> dict[str, Any]:
        """:meth:`as_settings` fit for the screen or a log: the secret ones, built-in and declared, hidden."""
        return redact(self.as_settings(), self.secret_settings)


@dataclass(frozen=True)
class Config:
    path: Path | None = None
    default_context: str | None = None
    contexts: Mapping[str, Context] = field(default_factory=dict)
    keymap: Mapping[str, str] = field(default_factory=dict)

    def context_names(self) -> list[str]:
        return list(self.contexts)

    def context(self, name: str | None, *, environ: Mapping[str, str] | None = None) -> Context:
        """The named context (or the default one) with the ecosystem variables filling unset keys."""
        env = os.environ if environ is None else environ
        if name is None:
            name = self.default_context or (next(iter(self.contexts)) if self.contexts else None)
        if name is None:
            ctx = Context(name="default")
        elif name in self.contexts:
            ctx = self.contexts[name]
        else:
            known = ", ".join(self.contexts) or "none defined"
            raise ConfigError(f"unknown context {name!r} (known: {known})", path=self.path, key=name)
        fill: dict[str, Any] = {key: env[var] for key, var in ENV_VARS.items()
                                if env.get(var) and getattr(ctx, key) is None}
        return replace(ctx, **fill) if fill else ctx


def default_config_path(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    if env.get(ENV_CONFIG):
        return Path(env[ENV_CONFIG]).expanduser()
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "mlops-console" / "config.toml"


_DECLARED_HOLDERS = frozenset({"backend_settings", "secret_settings"})
_FIELD_TYPES: dict[str, Any] = {f.name: f.type for f in fields(Context) if f.name not in _DECLARED_HOLDERS}
Declared = dict[tuple[str, str], tuple[tuple[Setting, ...], str]]


def _declared(kind: str, name: str, cache: Declared) -> tuple[tuple[Setting, ...], str]:
    """The settings the backend declares, and why they could not be read ("" when they could)."""
    if (kind, name) not in cache:
        try:
            cache[(kind, name)] = (registry.settings_of(kind, name), "")
        except Exception as exc:  # noqa: BLE001 - a plugin that is not installed or does not import: said as such
            cache[(kind, name)] = ((), f"the {kind} backend {name!r} could not be loaded ({exc})")
    return cache[(kind, name)]


def _backend_settings(values: Mapping[str, Any], extra: Mapping[str, tuple[Any, Callable[..., ConfigError]]],
                      cache: Declared) -> tuple[tuple[tuple[str, Any], ...], frozenset[str]]:
    """The context keys that are not the shared ones, checked against the settings its backends declare:
    (key, value) pairs and the secret keys. Backend modules are imported only for such keys."""
    selected = [(kind, str(values.get(f"{kind}_backend", DEFAULT_BACKENDS[kind]))) for kind in KINDS]
    out: list[tuple[str, Any]] = []
    secret: set[str] = set()
    for key, (value, err) in extra.items():
        match = None
        for kind, name in selected:
            match = next(((kind, name, s) for s in _declared(kind, name, cache)[0] if s.name == key), None)
            if match is not None:
                break
        if match is None:
            known = [k for k in _FIELD_TYPES if k != "name"]
            problems = []
            for kind, name in selected:
                declared, problem = _declared(kind, name, cache)
                known += [s.name for s in declared if s.name not in known]
                problems += [problem] if problem else []
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            raise err(f"unknown setting ({hint}known: {', '.join(known)})"
                      + "".join(f"; {p}" for p in problems))
        kind, name, setting = match
        try:
            out.append((key, setting.convert(value)))
        except ValueError as exc:
            raise err(f"{exc}; {kind} backend {name!r}: {setting.help}") from None
        if setting.secret:
            secret.add(key)
    return tuple(out), frozenset(secret)


def _locate(text: str, table: str, key: str, *, fallback: bool = True) -> int | None:
    """Line number of ``key`` inside ``[table]`` (else of the table's header, when ``fallback``)."""
    current = ""
    header_line = None
    for lineno, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        m = re.match(r"^\[\[?\s*([^\]]+?)\s*\]\]?", stripped)
        if m:
            current = m.group(1).replace('"', "").replace("'", "")
            if current == table:
                header_line = lineno
            continue
        if current == table and re.match(rf'^["\']?{re.escape(key)}["\']?\s*=', stripped):
            return lineno
    return header_line if fallback else None


def _coerce(name: str, value: Any, err, folder: Path | None = None) -> Any:
    if name in {"namespaces", "dashboards"}:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise err("must be a list of strings")
        return tuple(value)
    if name in {"read_only", "prometheus_verify"}:
        if not isinstance(value, bool):
            raise err("must be true or false")
        return value
    if name in {"timeout", "operation_timeout", "refresh_interval"}:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise err("must be a positive number of seconds")
        return float(value)
    if name.endswith("_backend"):
        if not isinstance(value, str) or not value:
            raise err("must be a backend name")
        return value
    if name == "endpoints":
        if not isinstance(value, list):
            raise err("must be a list of tables with name, url and protocol")
        eps = []
        for item in value:
            if (not isinstance(item, dict) or not isinstance(item.get("url"), str)
                    or not isinstance(item.get("name"), str)):
                raise err("each endpoint needs a name and a url")
            protocol = item.get("protocol", "v2")
            if protocol not in PROTOCOLS:
                raise err(f"endpoint {item['name']!r}: unknown protocol {protocol!r} (known: {', '.join(PROTOCOLS)})",
                          "protocol")
            unknown = set(item) - {"name", "url", "protocol", "model", "model_uri", "method", "example",
                                   "example_file"}
            if unknown:
                raise err(f"endpoint {item['name']!r}: unknown key(s) {', '.join(sorted(unknown))}")
            eps.append(_endpoint(item, protocol, err, folder))
        return tuple(eps)
    if name == "champion_alias":
        # MLflow aliases are names: letters, digits, _ and -, not starting with a "v" and a digit (a version)
        if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9_-]+", value) or re.fullmatch(
                r"[vV]\d+", value):
            raise err("must be a registry alias name (letters, digits, _ and -, e.g. \"champion\")")
        return value
    if not isinstance(value, str):
        raise err("must be a string")
    return value


def _endpoint(item: Mapping[str, Any], protocol: str, err, folder: Path | None) -> Endpoint:
    """One ``[[contexts.X.endpoints]]`` table whose name, url and protocol are checked: its method and example.
    An example file is only located here: it is read at each test request, so that a missing one says so
    there and stops nothing else."""
    name = item["name"]
    method = item.get("method", "POST")
    if not isinstance(method, str) or method.upper() not in {"POST", "PUT"}:
        raise err(f"endpoint {name!r}: method must be POST or PUT, not {method!r}", "method")
    method = method.upper()
    if method != "POST" and protocol != "json":
        raise err(f"endpoint {name!r}: method {method} is for json endpoints only (the {protocol} protocol "
                  "always POSTs)", "method")
    example, example_file = item.get("example"), item.get("example_file")
    if example is not None and example_file is not None:
        raise err(f"endpoint {name!r}: give example or example_file, not both", "example_file")
    if example is not None:
        if not isinstance(example, str):
            raise err(f"endpoint {name!r}: example must be a string of JSON, e.g. example = '{{\"x\": 1}}'",
                      "example")
        try:
            json.loads(example)
        except ValueError as exc:
            raise err(f"endpoint {name!r}: example is not valid JSON: {exc}", "example") from None
    if example_file is not None:
        if not isinstance(example_file, str) or not example_file:
            raise err(f"endpoint {name!r}: example_file must be a path", "example_file")
        file = Path(example_file).expanduser()
        if not file.is_absolute() and folder is not None:
            file = folder / file
        example_file = str(file)
    return Endpoint(name, item["url"], protocol, item.get("model"), item.get("model_uri"), method, example,
                    example_file)


def parse_config(text: str, path: Path | None = None) -> Config:
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise ConfigError(f"not valid TOML: {exc}", path=path, line=int(m.group(1)) if m else None) from None
    unknown = set(data) - {"default_context", "contexts", "keymap"}
    for key in sorted(unknown):
        raise ConfigError("unknown setting (expected default_context, [contexts.NAME] or [keymap])",
                          path=path, line=_locate(text, "", key), key=key)
    contexts: dict[str, Context] = {}
    declared: Declared = {}
    raw_contexts = data.get("contexts", {})
    if not isinstance(raw_contexts, dict):
        raise ConfigError("must be a table of named contexts", path=path, line=_locate(text, "", "contexts"),
                          key="contexts")
    for cname, raw in raw_contexts.items():
        table = f"contexts.{cname}"
        if not isinstance(raw, dict):
            raise ConfigError("a context must be a table", path=path, line=_locate(text, "contexts", cname),
                              key=table)
        values: dict[str, Any] = {"name": cname}
        extra: dict[str, tuple[Any, Callable[..., ConfigError]]] = {}  # keys a backend may declare
        for key, value in raw.items():
            line = _locate(text, table, key, fallback=False) or _locate(text, f"{table}.{key}", key)

            def err(msg: str, subkey: str | None = None, _key: str = key, _line: int | None = line,
                    _table: str = table) -> ConfigError:
                if subkey:  # a key inside an array of tables, e.g. [[contexts.x.endpoints]]
                    _line = _locate(text, f"{_table}.{_key}", subkey) or _line
                return ConfigError(msg, path=path, line=_line, key=f"{_table}.{_key}")

            if key == "name":
                raise err("unknown setting")
            if key not in _FIELD_TYPES:
                extra[key] = (value, err)
                continue
            values[key] = _coerce(key, value, err, path.parent if path else None)
        if extra:
            values["backend_settings"], values["secret_settings"] = _backend_settings(values, extra, declared)
        contexts[cname] = Context(**values)
    default = data.get("default_context")
    if default is not None and (not isinstance(default, str) or default not in contexts):
        raise ConfigError(f"names no context (known: {', '.join(contexts) or 'none'})", path=path,
                          line=_locate(text, "", "default_context"), key="default_context")
    keymap = data.get("keymap", {})
    if not isinstance(keymap, dict) or not all(isinstance(v, str) and v for v in keymap.values()):
        raise ConfigError("must map binding ids to keys, e.g. \"data.checkout\" = \"ctrl+o\"", path=path,
                          line=_locate(text, "keymap", next(iter(keymap), "")) if isinstance(keymap, dict) else None,
                          key="keymap")
    return Config(path=path, default_context=default, contexts=contexts, keymap=dict(keymap))


def load_config(path: Path | None = None, *, environ: Mapping[str, str] | None = None) -> Config:
    """Read the config file; a missing default file is an empty config, a missing explicit one an error."""
    explicit = path is not None or bool((os.environ if environ is None else environ).get(ENV_CONFIG))
    path = path or default_config_path(environ)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if explicit:
            raise ConfigError("file not found", path=path) from None
        return Config(path=None)
    except OSError as exc:
        raise ConfigError(f"cannot be read: {exc.strerror}", path=path) from None
    except UnicodeDecodeError as exc:
        raw = exc.object[:exc.start]
        line = raw.count(b"\n") + 1
        raise ConfigError(f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x}); save the file as UTF-8",
                          path=path, line=line) from None
    return parse_config(text, path)


def check_keymap(config: Config, known_ids: set[str]) -> None:
    for binding_id in config.keymap:
        if binding_id not in known_ids:
            raise ConfigError(
                f"unknown binding id (known: {', '.join(sorted(known_ids))})", path=config.path,
                line=_locate(config.path.read_text() if config.path else "", "keymap", binding_id),
                key=f"keymap.{binding_id}")


def apply_overrides(ctx: Context, overrides: Mapping[str, Any],
                    environ: Mapping[str, str] | None = None) -> Context:
    """The start-up context: ecosystem variables, then CLI flags, over the file's values."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {key: env[var] for key, var in ENV_VARS.items() if env.get(var)}
    values.update({k: v for k, v in overrides.items() if v is not None and v != ()})
    return replace(ctx, **values) if values else ctx


def redact(settings: Mapping[str, Any], secret: Iterable[str] = ()) -> dict[str, Any]:
    """A copy fit for the screen or a log: the built-in secrets and the ``secret`` keys replaced."""
    hidden = SECRET_KEYS.union(secret)
    return {k: ("***" if k in hidden and v else v) for k, v in settings.items()}


__all__ = [
    "KINDS",
    "Config",
    "ConfigError",
    "Context",
    "Endpoint",
    "apply_overrides",
    "check_keymap",
    "default_config_path",
    "load_config",
    "parse_config",
    "redact",
]
