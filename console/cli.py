"""`mlops-console` command line: read config, pick a context, apply flags, run the app."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from console import __version__
from console.config import ConfigError, apply_overrides, check_keymap, load_config

PANE_NAMES = {"data": "data", "runs": "runs", "deploy": "deployments", "deployments": "deployments",
              "metrics": "metrics"}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="mlops-console",
        description="Keyboard-driven terminal console for DVC data, MLflow runs, Seldon deployments "
                    "and Prometheus metrics.",
        epilog="mlops-console demo [--reset] [--dir DIR] [--pane PANE]: build a local demo workspace (git + DVC "
               "data, an mlflow server with 21 runs, the champion model served by MLServer and mlflow models "
               "serve, Prometheus), start it on 127.0.0.1 and open the console on it; quitting stops it. "
               "--reset rebuilds the workspace, --dir puts it elsewhere (default: "
               "$XDG_DATA_HOME/mlops-console/demo). See `mlops-console demo --help`.")
    p.add_argument("--config", type=Path, help="config file (default: $XDG_CONFIG_HOME/mlops-console/config.toml, "
                   "or $MLOPS_CONSOLE_CONFIG)")
    p.add_argument("--context", help="named context from the config file")
    p.add_argument("--repo", help="git + DVC workspace (default: the context's repo, else .)")
    p.add_argument("--mlflow-uri", help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI)")
    p.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG, ~/.kube/config)")
    p.add_argument("--kube-context", help="kubeconfig context")
    p.add_argument("-n", "--namespace", action="append", dest="namespaces", metavar="NS",
                   help="namespace to watch (repeat for several; 'all' for every namespace)")
    p.add_argument("--ingress-url", help="ingress gateway for /seldon/<ns>/<name>/... requests")
    p.add_argument("--prometheus-url", help="Prometheus URL (default: $PROMETHEUS_URL)")
    p.add_argument("--read-only", action="store_true", default=None, help="refuse every mutating action")
    p.add_argument("--pane", choices=sorted(PANE_NAMES), default="data", help="pane to open first")
    p.add_argument("--version", action="version", version=f"mlops-console {__version__}")
    commands = p.add_subparsers(dest="command", title="commands", metavar="COMMAND")
    demo = commands.add_parser(
        "demo", help="build and start a local demo stack, then open the console on it",
        description="Build (the first time) and start the demo on 127.0.0.1: a git + DVC repository with three "
                    "versions of scikit-learn's diabetes data, an mlflow server with 21 ElasticNet runs and the "
                    "registered model diabetes@champion, that model served by MLServer (v2) and by mlflow "
                    "models serve, Prometheus scraping MLServer, and steady test traffic. Then the console opens "
                    "on it (context 'demo'); quitting it stops every process the demo started. The workspace "
                    "is reused on the next run (no retraining).")
    demo.add_argument("--dir", type=Path, metavar="DIR",
                      help="workspace folder (default: $XDG_DATA_HOME/mlops-console/demo, "
                           "~/.local/share/mlops-console/demo)")
    demo.add_argument("--reset", action="store_true", help="delete the workspace and build it again")
    demo.add_argument("--pane", choices=sorted(PANE_NAMES), default="data", help="pane to open first")
    return p


def start_log(path: str) -> logging.Handler:
    """``MLOPS_CONSOLE_LOG``: the console's log goes to ``path`` (mode 0600), with secrets hidden in every
    line (messages, exception texts and tracebacks alike)."""
    from backends.redact import RedactingFormatter
    from console.history import private_file

    class PrivateFileHandler(logging.FileHandler):
        def _open(self):
            return private_file(self.baseFilename, self.mode, encoding=self.encoding or "utf-8")

    handler = PrivateFileHandler(path, encoding="utf-8")
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("mlops_console")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return handler


def exit_cleanly_on_hangup(app: Any) -> None:
    """On SIGHUP (the terminal went away: an SSH session closed) or SIGTERM, a checkout under way is stopped
    and put back before the console exits, rather than the process dying with half a version on disk."""
    import signal

    def stop(signum: int, _frame: Any) -> None:
        app.backends.stop_operations()
        app.exit(return_code=128 + signum)

    for signum in (signal.SIGHUP, signal.SIGTERM):
        signal.signal(signum, stop)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the console; an unexpected error anywhere exits 1 with one line naming its crash report."""
    try:
        return _run(argv)
    except Exception as exc:  # noqa: BLE001 - the details go to a file, one line here
        from console.crash import exception_text, report_crash

        print(report_crash(exception_text(exc)), file=sys.stderr)
        return 1


def _run(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "demo":
        from console.demo.cli import run_demo

        return run_demo(args.dir, reset=args.reset, pane=PANE_NAMES[args.pane])
    try:
        config = load_config(args.config)
        context = config.context(args.context, environ={})
        namespaces = None
        if args.namespaces:
            namespaces = () if "all" in args.namespaces else tuple(
                ns for item in args.namespaces for ns in item.split(",") if ns)
        context = apply_overrides(context, {
            "repo": args.repo, "mlflow_uri": args.mlflow_uri, "kubeconfig": args.kubeconfig,
            "kube_context": args.kube_context, "ingress_url": args.ingress_url,
            "prometheus_url": args.prometheus_url, "read_only": args.read_only,
        })
        if namespaces is not None:
            from dataclasses import replace

            context = replace(context, namespaces=namespaces)
        if config.keymap:
            from console.app import all_binding_ids

            check_keymap(config, all_binding_ids())
    except ConfigError as exc:
        print(f"mlops-console: {exc}", file=sys.stderr)
        return 2
    log_path = os.environ.get("MLOPS_CONSOLE_LOG")
    if log_path:
        try:
            start_log(log_path)
        except OSError as exc:
            print(f"mlops-console: cannot write the log {log_path}: {exc.strerror or exc}", file=sys.stderr)
            return 2
    from console.app import make_app

    app = make_app(config, context, initial_pane=PANE_NAMES[args.pane])
    exit_cleanly_on_hangup(app)
    app.run()
    if app.crash_line:
        print(app.crash_line, file=sys.stderr)
        return 1
    return app.return_code or 0


if __name__ == "__main__":
    sys.exit(main())
