"""One command table feeds the `:` line, the command palette and `?` help."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    """A `:` command. ``handler`` names a method (``handler(arg: str)``) on the app for global commands
    or on the pane screen for pane commands. ``complete`` names a method returning argument candidates."""

    name: str
    summary: str
    handler: str
    takes_arg: bool = False
    aliases: tuple[str, ...] = ()
    complete: str | None = None
    arg_hint: str = ""

    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


GLOBAL_COMMANDS: tuple[Command, ...] = (
    Command("data", "Show the Data pane (DVC datasets)", "command_pane_data"),
    Command("runs", "Show the Runs pane (MLflow)", "command_pane_runs"),
    Command("deploy", "Show the Deployments pane (Seldon)", "command_pane_deployments", aliases=("deployments",)),
    Command("metrics", "Show the Metrics pane (Prometheus)", "command_pane_metrics"),
    Command("ctx", "Switch context (every pane reloads)", "command_ctx", takes_arg=True,
            complete="complete_ctx", arg_hint="NAME", aliases=("context",)),
    Command("help", "Show keys and commands of this pane", "command_help"),
    Command("trace", "The chain of a run, model or deployment: data version, run, registered version, "
            "deployments, serving metrics", "command_trace", takes_arg=True, arg_hint="RUN_ID|MODEL@ALIAS|DEPLOYMENT"),
    Command("refresh", "Reload the current pane", "command_refresh"),
    Command("q", "Quit", "command_quit", aliases=("quit",)),
)


def split_command_line(line: str) -> tuple[str, str]:
    """``":sort -metrics.r2"`` -> ``("sort", "-metrics.r2")``."""
    line = line.strip().removeprefix(":").strip()
    name, _, arg = line.partition(" ")
    return name, arg.strip()


def find_command(name: str, tables: tuple[tuple[Command, ...], ...]) -> Command | None:
    for table in tables:
        for command in table:
            if name in command.names():
                return command
    return None
