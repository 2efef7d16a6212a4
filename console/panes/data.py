"""Data pane: DVC-tracked outputs, their version history from git, diff, checkout, pull and push."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input, Label, ProgressBar

from backends.data import CheckoutJournal, DatasetVersions
from console.calls import CallDropped
from console.commands import Command
from console.format import clip, human_size, short_time, yes_no
from console.panes.base import NAV_BINDINGS, PaneScreen, describe_error
from widgets.data_table import DataTable

if TYPE_CHECKING:  # the dataclasses arrive from the worker; importing them is left to the backend
    from backends.data import (
        CheckoutPlan,
        DataDiff,
        DataVersion,
        InterruptedCheckout,
        OperationResult,
        Progress,
        TrackedOutput,
        WorkspaceInfo,
    )
    from console.links import Ref

STATUS_STYLE = {  # by backends.data.OutputStatus value
    "in sync": "",
    "modified": "bold",
    "not checked out": "italic",
    "missing from cache": "bold reverse",
    "missing everywhere": "bold reverse",
    "unknown": "dim",
}


# what matters to pick a version comes first, so that it shows at 80 columns
HISTORY_COLUMNS = ((" ", 1), ("commit", 7), ("date", 16), ("size", 9), ("files", 5), ("cache", 5),
                   ("remote", 6), ("message", 30), ("md5", 12), ("author", 20))


@dataclass(frozen=True)
class SavedCopy:
    """A workspace copy saved into the cache before a checkout replaced it."""

    when: datetime
    root: str  # the workspace
    path: str
    md5: str
    dvc_file: str

    @property
    def recover(self) -> str:
        return f"put md5 {self.md5} in {self.dvc_file}, then `dvc checkout {self.dvc_file}`"


class DataProgress(Message):
    def __init__(self, progress: Progress) -> None:
        super().__init__()
        self.progress = progress


class DataScreen(PaneScreen[DatasetVersions]):
    PANE = "data"
    FILTER_TARGET = "outputs"
    BINDINGS = [
        Binding("d", "diff", "Diff", id="data.diff"),
        Binding("c", "checkout", "Checkout", id="data.checkout"),
        Binding("p", "pull", "Pull", id="data.pull"),
        Binding("P", "push", "Push", id="data.push"),
        Binding("slash", "filter", "Filter", id="data.filter", priority=True),  # see PaneScreen.action_filter
        Binding("escape", "clear_filter", "Clear filter", id="data.clear_filter", show=False),
        *NAV_BINDINGS,
    ]
    LINE_COMMANDS = (
        Command("saves", "Workspace copies saved before a checkout (md5 and how to get them back)", "command_saves"),
    )

    def __init__(self) -> None:
        super().__init__()
        self.outputs: tuple[TrackedOutput, ...] = ()
        self.versions: tuple[DataVersion, ...] = ()
        self.workspace_info: WorkspaceInfo | None = None
        self.selected_output: str | None = None
        self.stale = False
        self._last_result: tuple[str, str] | None = None  # an operation's outcome outlives the reload
        self._offering_recovery = False
        self.saves: list[SavedCopy] = []  # of this session, in every workspace it visited
        self._link_target: tuple[str, str] | None = None  # (output, rev) a link asked for, until it is shown

    # -- layout ------------------------------------------------------------------------------------------
    def compose_body(self) -> ComposeResult:
        yield Label("Outputs", id="outputs-title", classes="pane-title")
        yield Input(placeholder="filter outputs by path (escape clears)", id="filter", classes="filter hidden")
        outputs = DataTable(id="outputs", cursor_type="row", zebra_stripes=True)
        outputs.add_column("path")
        for label, width in (("kind", 4), ("size", 9), ("files", 5), ("status", 30)):
            outputs.add_column(label, width=width)
        yield outputs
        yield Label("History", id="history-title", classes="pane-title")
        history = DataTable(id="history", cursor_type="row", zebra_stripes=True)
        # fixed widths: every cell is clipped to them, so no row has to be measured
        for label, width in HISTORY_COLUMNS:
            history.add_column(label, width=width)
        yield history
        yield ProgressBar(id="progress", show_eta=False, classes="hidden")

    def on_mount(self) -> None:
        for table in self.query("#outputs"):
            table.focus()

    # -- loading ------------------------------------------------------------------------------------------
    def reload(self) -> None:
        backend = self.api

        def load() -> tuple[WorkspaceInfo, tuple[TrackedOutput, ...]]:
            return backend.workspace(), backend.outputs()

        def loaded(result: tuple[WorkspaceInfo, tuple[TrackedOutput, ...]]) -> None:
            self._outputs_loaded(result)
            # asked once the outputs are in, so that the first answer is the one that loaded DVC (freeze_long_lived)
            if isinstance(backend, CheckoutJournal):
                self.call_backend("journal", backend.interrupted_checkout, on_result=self._offer_recovery,
                                  on_error=lambda error: self.show_error(error, "reading the checkout journal"))

        self.call_backend("outputs", load, on_result=loaded, on_error=self._load_failed,
                          busy="reading workspace")

    def _load_failed(self, error: BaseException) -> None:
        self.stale = bool(self.outputs)
        suffix = " (showing the last data read)" if self.stale else ""
        self.set_status(describe_error(error) + suffix, "error")
        if self.stale:
            self._set_outputs_title()

    def _set_outputs_title(self) -> None:
        info = self.workspace_info
        text = Text("Outputs", style="bold")
        if self.stale:  # marks first, so that a long path cannot hide them
            text.append("  [stale]", style="bold reverse")
        if self.filter_text:
            text.append(f"  filter: {self.filter_text}", style="bold")
        if info is not None:
            where = info.root
            if info.branch or info.git_head:
                where += f"  ({info.branch or 'detached'} @ {info.git_head or 'no commits'})"
            remote = f"remote {info.default_remote}" if info.default_remote else "no default remote"
            text.append(f"  {where}  {remote}", style="")
        self.query_one("#outputs-title", Label).update(text)

    def _outputs_loaded(self, result: tuple[WorkspaceInfo, tuple[TrackedOutput, ...]]) -> None:
        self.workspace_info, self.outputs = result
        self.stale = False
        self._set_outputs_title()
        self._fill_outputs()
        bad = [o for o in self.outputs if o.error]
        if self._last_result is not None:
            pass  # the outcome of the last checkout/pull/push stays until the history is back
        elif not self.outputs:
            self.set_status("no DVC-tracked outputs here: `dvc add <path>` tracks one", "warning")
        elif bad:
            self.set_status(f"{len(bad)} output(s) could not be read: {bad[0].dvc_file}: {bad[0].error}", "warning")
        else:
            self.set_status(f"{len(self.outputs)} output(s)")

    def _visible_outputs(self) -> list[TrackedOutput]:
        needle = self.filter_text.lower()
        return [o for o in self.outputs if needle in o.path.lower() or needle in o.dvc_file.lower()]

    def _fill_outputs(self) -> None:
        table = self.query_one("#outputs", DataTable)
        table.clear()
        visible = self._visible_outputs()
        for output in visible:
            if output.error:
                status = Text(clip(f"unreadable: {output.error}", 30), style="bold reverse")
            else:
                status = Text(output.status.value, style=STATUS_STYLE.get(output.status.value, ""))
            table.add_row(output.path, "dir" if output.is_dir else "file", human_size(output.size),
                          "-" if output.nfiles is None else str(output.nfiles), status, key=output.path)
        paths = [o.path for o in visible]
        if self.selected_output in paths:
            table.move_cursor(row=paths.index(self.selected_output))
            self._load_history(self.selected_output)
        elif paths:
            table.move_cursor(row=0)
            self._load_history(paths[0])
        else:
            self.selected_output = None
            self.query_one("#history", DataTable).clear()

    @on(DataTable.RowSelected, "#outputs")
    def _output_opened(self, event: DataTable.RowSelected) -> None:
        """`enter` on an output opens its versions."""
        self.query_one("#history", DataTable).focus()

    @on(DataTable.RowSelected, "#history")
    def _version_opened(self, event: DataTable.RowSelected) -> None:
        """`enter` on a version opens what it differs in from the workspace (as `d`)."""
        self.action_diff()

    @on(DataTable.RowHighlighted, "#outputs")
    def _output_highlighted(self, event: DataTable.RowHighlighted) -> None:
        path = event.row_key.value if event.row_key else None
        if path and path != self.selected_output:
            self._load_history(path)

    def _load_history(self, path: str) -> None:
        self.selected_output = path
        self.query_one("#history-title", Label).update(Text(f"History of {path}", style="bold"))
        self.call_backend("history", self.api.history, path, on_result=self._history_loaded,
                          on_error=lambda e: self.show_error(e, f"history of {path}"))

    def _history_loaded(self, versions: tuple[DataVersion, ...]) -> None:
        previous = self.selected_version()  # of the list shown until now
        self.versions = versions
        table = self.query_one("#history", DataTable)
        table.clear()
        for version in versions:
            mark = Text("*", style="bold") if version.is_current else ""
            head = [mark, version.short, short_time(version.date)]
            if version.error:
                row = [*head, "-", "-", "-", "-", Text(clip(f"malformed: {version.error}", 30), style="bold reverse"),
                       "-"]
            elif version.deleted:
                row = [*head, "-", "-", "-", "-", Text(clip(f"{version.message} (.dvc deleted)", 30), style="dim"),
                       "-"]
            else:
                row = [*head, human_size(version.size), "-" if version.nfiles is None else str(version.nfiles),
                       Text(yes_no(version.in_cache), style="" if version.in_cache is not False else "bold"),
                       Text(yes_no(version.in_remote), style="" if version.in_remote is not False else "bold"),
                       clip(version.message, 30), (version.md5 or "-")[:12]]
            table.add_row(*row, clip(version.author, 20), key=version.rev)
        revs = [v.rev for v in versions]
        if previous is not None and previous.rev in revs:
            table.move_cursor(row=revs.index(previous.rev))
        malformed = [v for v in versions if v.error]
        if malformed:
            self.set_status(f"{self.selected_output}: the .dvc file is malformed at {malformed[0].short}: "
                            f"{malformed[0].error}", "warning")
        elif self._last_result is not None:
            self.set_status(*self._last_result)
            self._last_result = None
        elif not self.is_busy("outputs"):
            current = next((v for v in versions if v.is_current), None)
            where = f", checked out: {current.short}" if current else ", the workspace version is not committed"
            self.set_status(f"{self.selected_output}: {len(versions)} version(s){where}")
        self._link_landed()

    # -- links across the panes (console/linking.py) -------------------------------------------------------------
    def link_subject(self) -> Ref | None:
        from console.links import data_ref

        output = self.selected_output_obj()
        if output is None or not self.versions:
            return None
        version = self.selected_version()
        if not self.query_one("#history", DataTable).has_focus:  # on the output's row: the version checked out
            version = next((v for v in self.versions if v.is_current), version)
        return data_ref(output.path, version) if version is not None and not version.error else None

    def select_link(self, ref: Ref) -> None:
        output, rev = ref.key[:2]
        self._link_target = (output, rev)
        if self.filter_text and output not in [o.path for o in self._visible_outputs()]:
            self.action_clear_filter()
        self.selected_output = output
        if self.outputs:
            self._fill_outputs()  # selects the output and loads its history, which selects the version

    def _link_landed(self) -> None:
        target = self._link_target
        if target is None or target[0] != self.selected_output:
            return
        self._link_target = None
        revs = [v.rev for v in self.versions]
        if target[1] not in revs:
            self.set_status(f"{target[0]}: version {target[1][:10]} is not in its history", "warning")
            return
        table = self.query_one("#history", DataTable)
        table.move_cursor(row=revs.index(target[1]))
        table.focus()
        self.set_status(f"{target[0]} @ {target[1][:7]} (backspace: back)")

    # -- selection ---------------------------------------------------------------------------------------------
    def selected_output_obj(self) -> TrackedOutput | None:
        return next((o for o in self.outputs if o.path == self.selected_output), None)

    def selected_version(self) -> DataVersion | None:
        table = self.query_one("#history", DataTable)
        if not self.versions or table.row_count == 0:
            return None
        row = table.cursor_row
        return self.versions[row] if 0 <= row < len(self.versions) else None

    def _need_version(self, doing: str) -> tuple[TrackedOutput, DataVersion] | None:
        output, version = self.selected_output_obj(), self.selected_version()
        if output is None:
            self.set_status(f"{doing}: select an output first", "warning")
            return None
        if version is None:
            self.set_status(f"{doing}: select a version in the history (tab moves there)", "warning")
            return None
        if version.error or version.deleted:
            self.set_status(f"{doing}: version {version.short} has no usable .dvc file", "error")
            return None
        return output, version

    def action_cursor(self, where: str) -> None:
        table = self.focused if isinstance(self.focused, DataTable) else None
        if table is None:
            return
        {"down": table.action_cursor_down, "up": table.action_cursor_up,
         "top": table.action_scroll_top, "bottom": table.action_scroll_bottom}[where]()

    # -- filter (the box itself is PaneScreen's) ------------------------------------------------------------
    def filter_changed(self) -> None:
        self._set_outputs_title()
        self._fill_outputs()

    # -- diff --------------------------------------------------------------------------------------------------
    def action_diff(self) -> None:
        picked = self._need_version("diff")
        if picked is None:
            return
        output, version = picked
        self.call_backend("diff", self.api.diff, output.path, version.rev, on_result=self._show_diff,
                          on_error=lambda e: self.show_error(e, "diff"), busy=f"comparing {version.short} "
                          "with the workspace")

    def _show_diff(self, diff: DataDiff) -> None:
        self.set_status(f"{diff.output}: {len(diff.entries)} difference(s) against {diff.rev[:7]}")
        rows = [(Text(e.change, style="bold" if e.change != "modified" else ""), e.path,
                 human_size(e.old_size), human_size(e.new_size), (e.old_md5 or "-")[:12], (e.new_md5 or "-")[:12])
                for e in diff.entries]
        note = diff.note or ("no differences: the workspace holds this version" if not rows else "")
        from widgets.views import TableView

        self.app.push_screen(TableView(
            f"{diff.output}: workspace -> {diff.rev[:7]}",
            ("change", "path", "workspace size", "version size", "workspace md5", "version md5"), rows, note))

    # -- checkout ----------------------------------------------------------------------------------------------
    def _progress(self, progress: Progress) -> None:
        self.post_message(DataProgress(progress))  # called from the worker thread

    def on_data_progress(self, message: DataProgress) -> None:
        bar = self.query_one("#progress", ProgressBar)
        bar.remove_class("hidden")
        p = message.progress
        bar.update(total=p.total, progress=p.done)
        unit = human_size(p.done) if p.unit == "bytes" else f"{p.done} files"
        total = "" if p.total is None else (f" of {human_size(p.total)}" if p.unit == "bytes" else f" of {p.total}")
        self.set_status(f"{p.message or 'working'}: {unit}{total}", "busy")

    def _plan_text(self, plan: CheckoutPlan, version: DataVersion) -> Text:
        text = Text()
        text.append(f"{plan.output} will become the version of commit {version.short} "
                    f"({short_time(version.date)}, {version.author}: {version.message}).\n\n")
        output = self.selected_output_obj()
        assert output is not None  # a plan is made for the selected output
        text.append(f"git checkout {version.short} -- {output.dvc_file}\n"
                    f"dvc checkout {output.dvc_file}\n\n", style="dim")
        if plan.source == "remote":
            text.append("The data is not in the local cache: it will be pulled from the remote first.\n")
        entries = plan.diff.entries
        if entries:
            text.append(f"Changes ({len(entries)}):\n")
            for e in entries[:12]:
                text.append(f"  {e.change:<9} {e.path}  {human_size(e.old_size)} -> {human_size(e.new_size)}\n")
            if len(entries) > 12:
                text.append(f"  ... and {len(entries) - 12} more\n")
        else:
            text.append("The workspace already holds this data (only the .dvc file changes).\n")
        if plan.git_operation:
            text.append(f"\n{plan.git_operation.capitalize()} is in progress in this repository: the checkout "
                        "changes the .dvc file in the middle of it.\n", style="bold")
        if plan.dvc_file_dirty:
            text.append("\nThe .dvc file has changes not committed to git; they will be replaced "
                        f"(its data stays in the cache as md5 {plan.recorded_md5 or '?'}).\n", style="bold")
        if plan.unsaved_changes:
            text.append("\nThe workspace copy has changes that are NOT in the DVC cache. Checking out would "
                        "lose them. Save them into the cache first (you get the hash that recovers them), "
                        "or cancel.\n", style="bold")
        return text

    @work(group="data.action", exclusive=True, exit_on_error=False)
    async def action_checkout(self) -> None:
        if self.backend is None or self.refuse_if_read_only("checkout"):
            return
        picked = self._need_version("checkout")
        if picked is None:
            return
        output, version = picked
        backend = self.api
        self.set_status(f"planning the checkout of {output.path} at {version.short}", "busy")
        try:
            plan: CheckoutPlan = await self.run_backend("action", backend.plan_checkout, output.path, version.rev)
        except CallDropped:  # replaced, or the pane rebuilt (`:ctx`): nothing to say
            return
        except Exception as exc:  # noqa: BLE001 - shown to the user
            self.show_error(exc, "checkout")
            return
        if plan.problem or plan.source is None:
            self.set_status(f"cannot check out {output.path} at {version.short}: "
                            f"{plan.problem or 'its data is neither in the cache nor in a remote'}; "
                            "nothing was changed", "error")
            return
        from widgets.confirm import Choice

        if plan.unsaved_changes:
            choices = (Choice("s", "Save to cache, then check out", "save"), Choice("n", "Cancel", ""))
        else:
            choices = (Choice("y", "Check out", "yes"), Choice("n", "Cancel", ""))
        answer = await self.confirm(f"Check out {output.path} @ {version.short}?", self._plan_text(plan, version),
                                    choices)
        if not answer:
            self.set_status("checkout cancelled; nothing was changed")
            return
        saved: SavedCopy | None = None
        try:
            if answer == "save":
                copy: OperationResult = await self.run_backend("action", backend.save_workspace, output.path,
                                                               timeout=self.settings.operation_timeout, doing="save")
                saved = self._remember_save(output, copy)
            self.set_status(f"checking out {output.path} at {version.short}", "busy")
            result: OperationResult = await self.run_backend("action", backend.checkout, output.path, version.rev,
                                                             self._progress, timeout=0)
        except CallDropped:  # replaced, or the pane rebuilt (`:ctx`): nothing to say
            return
        except Exception as exc:  # noqa: BLE001
            self._finish_operation(None)
            self.show_error(exc, "checkout")
            if saved is not None:
                self.set_status(f"{self._saved_note(saved)}; checkout failed: {describe_error(exc)}", "error")
            return
        self._finish_operation(result, saved)

    def _remember_save(self, output: TrackedOutput, result: OperationResult) -> SavedCopy:
        root = self.workspace_info.root if self.workspace_info else str(self.settings.repo or "")
        saved = SavedCopy(datetime.now(UTC), root, output.path, result.md5 or "?", output.dvc_file)
        self.saves.append(saved)
        self.notify(f"workspace copy of {output.path} saved in the cache as md5 {saved.md5}", title="saved",
                    timeout=30)
        return saved

    @staticmethod
    def _saved_note(saved: SavedCopy) -> str:
        # the md5 first: a narrow status line still shows it whole
        return f"your edits of {saved.path} are saved as md5 {saved.md5} (:saves shows how to get them back)"

    def command_saves(self, _arg: str) -> None:
        if not self.saves:
            self.set_status("no workspace copy was saved in this session (checkout offers to save unsaved edits)")
            return
        from widgets.views import TextView

        text = Text()
        for saved in reversed(self.saves):  # a block each: the recipe wraps instead of running off a column
            text.append(f"{short_time(saved.when)}  {saved.path}", style="bold")
            text.append(f"  in {saved.root}\n  md5 {saved.md5}\n  to get it back: {saved.recover}\n\n")
        text.append("Each copy stays in the DVC cache until `dvc gc` removes it.", style="dim")
        self.app.push_screen(TextView(f"Workspace copies saved in this session ({len(self.saves)})", text))

    def _finish_operation(self, result: OperationResult | None, saved: SavedCopy | None = None) -> None:
        self.query_one("#progress", ProgressBar).add_class("hidden")
        if result is not None:
            message = result.message if saved is None else f"{self._saved_note(saved)}; {result.message}"
            self._last_result = (message, "ok" if result.ok else "error")
            self.set_status(*self._last_result)
            self.reload()  # the outputs, then the selected output's history

    # -- pull / push ----------------------------------------------------------------------------------------
    @work(group="data.action", exclusive=True, exit_on_error=False)
    async def _transfer(self, action: str) -> None:
        if self.backend is None or self.refuse_if_read_only(action):
            return
        output = self.selected_output_obj()
        if output is None:
            self.set_status(f"{action}: select an output first", "warning")
            return
        info = self.workspace_info
        remote = f"remote {info.default_remote!r}" if info and info.default_remote else "the default remote"
        body = (f"dvc {action} {output.dvc_file}\n\n" +
                (f"Download {output.path} from {remote} into the cache and workspace."
                 if action == "pull" else f"Upload the cached data of {output.path} to {remote}."))
        if not await self.confirm(f"{action.title()} {output.path}?", body):
            self.set_status(f"{action} cancelled")
            return
        backend = self.api
        transfer = backend.pull if action == "pull" else backend.push
        self.set_status(f"dvc {action} {output.path}", "busy")
        try:
            result = await self.run_backend("action", transfer, output.path, self._progress,
                                            timeout=self.settings.operation_timeout, doing=action)
        except CallDropped:  # replaced, or the pane rebuilt (`:ctx`): nothing to say
            return
        except Exception as exc:  # noqa: BLE001
            self._finish_operation(None)
            self.show_error(exc, action)
            return
        self._finish_operation(result)

    def action_pull(self) -> None:
        self._transfer("pull")

    def action_push(self) -> None:
        self._transfer("push")

    # -- a checkout interrupted by a console that stopped (killed, power cut) -----------------------------------
    def _offer_recovery(self, interrupted: InterruptedCheckout | None) -> None:
        if interrupted is not None and not self._offering_recovery and not self.read_only:
            self._offering_recovery = True
            self._recover(interrupted)

    @work(group="data.recover", exclusive=True, exit_on_error=False)
    async def _recover(self, interrupted: InterruptedCheckout) -> None:
        from widgets.confirm import Choice

        short = interrupted.rev[:7]
        body = Text()
        body.append(f"A checkout of {interrupted.output} to the version of commit {short} (md5 "
                    f"{interrupted.new_md5}), started {interrupted.started}, did not finish: the console running it "
                    "stopped. The workspace may hold part of each version.\n\n")
        body.append(f"o: put the old version back (md5 {interrupted.old_md5 or 'none: there was no copy'})\n"
                    f"f: finish the checkout (the version of {short})\n"
                    "n: later (checkouts here are refused until then; r offers this again)\n", style="dim")
        try:
            answer = await self.confirm(f"Interrupted checkout of {interrupted.output}", body,
                                        (Choice("o", "Put the old version back", "old"),
                                         Choice("f", "Finish the checkout", "finish"), Choice("n", "Later", "")))
            if not answer:
                self.set_status(f"the interrupted checkout of {interrupted.output} is left as it is; r offers it "
                                "again", "warning")
                return
            journal = self.api
            if not isinstance(journal, CheckoutJournal):  # only a journaling backend reports one
                return
            self.set_status(("finishing" if answer == "finish" else "putting back") +
                            f" the interrupted checkout of {interrupted.output}", "busy")
            result: OperationResult = await self.run_backend("recover", journal.recover_checkout,
                                                             answer == "finish", self._progress, timeout=0)
        except CallDropped:  # replaced, or the pane rebuilt (`:ctx`): nothing to say
            return
        except Exception as exc:  # noqa: BLE001
            self._finish_operation(None)
            self.show_error(exc, "recovering the interrupted checkout")
            return
        finally:
            self._offering_recovery = False
        self._finish_operation(result)
