"""``o2o-lint server``: the language server front end (LSP over standard input and output).

An editor gets what the CLI reports, from the same engine and the same project index:
one :class:`~o2o_lint.project.Project` per project root and configuration file (found
exactly as the CLI finds them), kept for the life of the server. A document is analysed
as the buffer holds it, saved or not (:func:`o2o_lint.runner.run_text`, the path
standard input takes: the buffer's own facts overlaid on the index), on open, on save,
and after a pause in typing. Every other file is seen as saved: saving a file, or a
change on disk the editor reports, re-reads its facts and re-checks the open documents,
so an edit of ``models.py`` reaches the views that use it.

Code actions: each finding's fix (an unsafe one labelled as such), ``source.fixAll.o2o-lint``
(every safe fix, the ``--fix`` loop on the buffer) and ``# noqa: CODE`` (the ``--add-noqa``
machinery). The edits are :mod:`o2o_lint.edits`'s, converted to the position encoding
the client negotiated (UTF-16 by default: code points beyond the BMP count twice).

Settings come from the configuration files, as for the CLI, with the client's
``o2o-lint`` section (initialization options or ``workspace/didChangeConfiguration``)
on top: ``select``, ``extendSelect``, ``ignore``, ``config``, ``targetVersion``. A
configuration change, or a change of ``pyproject.toml``, ``setup.cfg`` or
``requirements*.txt``, reloads them.

This module needs the ``lsp`` extra (pygls); :mod:`o2o_lint.cli` imports it only for
``o2o-lint server``.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from o2o_lint import __version__
from o2o_lint.config import PROJECT_MARKERS, ConfigError, check_selectors, find_project_root, settings_for
from o2o_lint.edits import Edit, FixEdits, apply_edits, text_edits
from o2o_lint.explain import doc_url
from o2o_lint.findings import PARSE_ERROR_CODE, Finding
from o2o_lint.project import Project
from o2o_lint.runner import MODE_CHECK, MODE_FIX, process_text, run_text
from o2o_lint.sourcefile import SourceText, split_lines

NAME = "o2o-lint"
#: Seconds without typing before a changed buffer is analysed again.
DEBOUNCE_SECONDS = 0.3
QUICK_FIX = lsp.CodeActionKind.QuickFix.value
FIX_ALL_KIND = f"{lsp.CodeActionKind.SourceFixAll.value}.{NAME}"
#: What the server asks the editor to watch: Python files (the index) and the files the
#: settings come from (``requirements*.txt``: ``target-version = auto``).
WATCHED = ("**/*.py", "**/pyproject.toml", "**/setup.cfg", "**/requirements*.txt")

logger = logging.getLogger(__name__)


# -- the client's settings ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ClientOptions:
    """The ``o2o-lint`` section of the client's settings: CLI options, over the files'."""

    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] | None = None
    config: str | None = None
    target_version: str | None = None


_CODE_OPTIONS = {"select": "select", "extendSelect": "extend_select", "ignore": "ignore"}
_TEXT_OPTIONS = {"config": "config", "targetVersion": "target_version"}


def client_options(settings: object) -> tuple[ClientOptions, list[str]]:
    """The options in ``settings["o2o-lint"]`` (anything else is not ours), and what was
    wrong with them (left out, one line each)."""
    section = settings.get(NAME) if isinstance(settings, dict) else None
    if not isinstance(section, dict):
        return ClientOptions(), []
    values: dict[str, Any] = {}
    problems = []
    for key, value in section.items():
        if key in _CODE_OPTIONS:
            codes = [value] if isinstance(value, str) else value
            if not isinstance(codes, list) or not all(isinstance(code, str) for code in codes):
                problems.append(f"{NAME}.{key}: expected a list of codes, got {value!r}")
                continue
            try:
                values[_CODE_OPTIONS[key]] = check_selectors(tuple(codes), f"{NAME}.{key}")
            except ConfigError as exc:
                problems.append(str(exc))
        elif key in _TEXT_OPTIONS:
            if value is not None and not isinstance(value, str):
                problems.append(f"{NAME}.{key}: expected a string, got {value!r}")
                continue
            values[_TEXT_OPTIONS[key]] = os.path.expanduser(value) if key == "config" and value else value
        else:
            known = ", ".join([*_CODE_OPTIONS, *_TEXT_OPTIONS])
            problems.append(f"{NAME}.{key}: unknown setting (known: {known})")
    return ClientOptions(**values), problems


# -- positions ----------------------------------------------------------------------------------------

#: A position as the client counts: 0-based line, column in its negotiated code units.
Position = tuple[int, int]
Units = Callable[[str], int]


def client_position(lines: Sequence[str], line: int, column: int, units: Units) -> Position:
    """0-based *line* and code point *column* -> the client's units (the column counts
    the code units of the characters before it on that line)."""
    text = lines[line] if 0 <= line < len(lines) else ""
    return line, units(text[:column])


def finding_range(finding: Finding, lines: Sequence[str], units: Units) -> tuple[Position, Position]:
    """A finding's range; a point when it has no end."""
    end_line, end_column = (finding.end_line, finding.end_column) if finding.end_line else (finding.line, finding.column)
    return (client_position(lines, finding.line - 1, finding.column, units),
            client_position(lines, end_line - 1, end_column, units))


def edit_range(edit: Edit, lines: Sequence[str], units: Units) -> tuple[Position, Position]:
    """An :mod:`o2o_lint.edits` edit's range (1-based rows and code point columns)."""
    start, end = edit["location"], edit["end_location"]
    return (client_position(lines, start["row"] - 1, start["column"] - 1, units),
            client_position(lines, end["row"] - 1, end["column"] - 1, units))


def overlaps(first: tuple[Position, Position], second: tuple[Position, Position]) -> bool:
    return first[0] <= second[1] and second[0] <= first[1]


# -- what the server knows, on its worker thread -------------------------------------------------------


@dataclass
class Checked:
    """One analysis of a document's text, and what its code actions need."""

    path: str
    text: str
    project: Project | None
    findings: list[Finding]
    fix_edits: dict[Finding, list[Edit]] | None = None
    fix_all: list[Edit] | None = None


@dataclass(frozen=True)
class Action:
    """A code action, before it is an LSP one: its title, kind, edits and finding."""

    title: str
    kind: str
    edits: list[Edit]
    finding: Finding | None = None
    preferred: bool = False


@dataclass
class Projects:
    """Every project the open documents belong to, and their latest analysis.

    Not thread-safe: the server calls it from one worker thread only, so that analyses,
    re-reads and reloads happen one after the other.
    """

    options: ClientOptions = field(default_factory=ClientOptions)
    by_key: dict[tuple[str, str | None], Project] = field(default_factory=dict)
    #: A document's path -> its project's key (the settings lookup walks up directories).
    placement: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    checked: dict[str, Checked] = field(default_factory=dict)
    #: Configuration errors already shown to the user (shown once each).
    problems: list[str] = field(default_factory=list)
    #: The editor's workspace folders (absolute paths).
    folders: list[str] = field(default_factory=list)

    def project_for(self, path: str) -> Project:
        """*path*'s project: the settings of the nearest configuration file (or the client's
        ``config``), the project root the CLI would find; raises :class:`ConfigError`.

        Outside every project (no git work tree, no project marker above *path*) the CLI
        takes its working directory; the server's is wherever the editor was started, so
        it takes the workspace folder holding *path*, else *path*'s directory."""
        key = self.placement.get(path)
        if key is None or key not in self.by_key:
            options = self.options
            settings, config_path = settings_for(
                path, target_version=options.target_version, config_file=options.config,
                select=options.select, extend_select=options.extend_select, ignore=options.ignore,
            )
            root = find_project_root(path, settings.root)
            if settings.root is None and not _marked(root):
                root = max((folder for folder in self.folders if _under(path, [folder])), key=len,
                           default=os.path.dirname(path))
            key = (root, config_path)
            known = self.by_key.get(key)
            if known is None or known.settings != settings:
                self.by_key[key] = Project(settings, [root], root=os.path.dirname(config_path) if config_path else root)
            self.placement[path] = key
        return self.by_key[key]

    def check(self, path: str, text: str) -> Checked:
        """Analyse *text* as *path* (what the buffer holds, saved or not); the same text
        with the same project is not analysed twice."""
        known = self.checked.get(path)
        if known is not None and known.text == text and known.project is not None and known.project in self.by_key.values():
            return known
        try:
            project = self.project_for(path)
        except ConfigError as exc:
            self._problem(str(exc))
            checked = self.checked[path] = Checked(path, text, None, [])
            return checked
        result, _ = run_text(project, SourceText(text, "utf-8", False), path, mode=MODE_CHECK)
        checked = self.checked[path] = Checked(path, text, project, result.findings)
        return checked

    def prepare(self, folder: str) -> None:
        """Build the project of a workspace folder ahead of the first open document (its
        index, and the engine's imports), when the folder is a project: never a home
        directory that happens to be open."""
        if not _marked(folder):
            return
        try:
            self.project_for(folder).engine  # the index built, LibCST and the rules imported
        except ConfigError as exc:
            self._problem(str(exc))

    def _problem(self, message: str) -> None:
        if message not in self.problems:
            self.problems.append(message)

    def take_problems(self) -> list[str]:
        problems, self.problems = self.problems, []
        return problems

    def close(self, path: str) -> None:
        """The editor closed *path*: the file on disk is what the index sees of it."""
        self.checked.pop(path, None)
        for project in self.by_key.values():
            project.texts.pop(path, None)

    def reload(self, options: ClientOptions | None = None, problems: Sequence[str] = (),
               folders: Sequence[str] | None = None) -> None:
        """The settings (or the workspace folders) may have changed: each document's project
        is looked up again, and a project whose settings changed is built again on next use
        (from the on-disk facts cache, so only the changed files are parsed). *problems*:
        what was wrong with the client's new settings, to show."""
        if options is not None:
            self.options = options
        if folders is not None:
            self.folders = list(folders)
        for problem in problems:
            self._problem(problem)
        self.placement.clear()
        self.checked.clear()

    def files_changed(self, paths: Sequence[str], *, created_or_deleted: Sequence[str] = ()) -> None:
        """Files changed on disk (saved by the editor, or by anything else): re-read their
        facts; a file that appeared or went away changes what the walk finds, so its
        project is built again."""
        for path in created_or_deleted:
            for key, project in list(self.by_key.items()):
                if _under(path, project.roots):
                    del self.by_key[key]
        for project in self.by_key.values():
            walked = project.facts.digests  # every file the walk found, unreadable ones too
            known = [path for path in paths if os.path.abspath(path) in walked or os.path.abspath(path) in project.facts_by_path]
            if known:
                project.reread(known)
        # an analysis made with the old facts of another file is out of date
        for checked in self.checked.values():
            checked.project = None

    # -- code actions --------------------------------------------------------------------------------

    def actions(self, checked: Checked, findings: Sequence[Finding], fix_all: bool) -> list[Action]:
        """The code actions for *findings* of *checked* (and "fix all safe" when asked)."""
        project = checked.project
        if project is None:
            return []
        if checked.fix_edits is None:
            fixable = [finding for finding in checked.findings if finding.fix is not None]
            checked.fix_edits = _parsing(checked.text, FixEdits(project).compute(fixable))
        actions: list[Action] = []
        for finding in findings:
            edits = checked.fix_edits.get(finding)
            if finding.fix is not None and edits:
                safety = "" if finding.fix.safe else " (unsafe fix: review it, it may change behaviour)"
                actions.append(Action(f"{finding.code}: {finding.fix.description}{safety}", QUICK_FIX,
                                      edits, finding, preferred=finding.fix.safe))
        for finding in findings:
            noqa = _noqa_edits(checked.text, finding)
            if noqa:
                actions.append(Action(f"{finding.code}: add `# noqa: {finding.code}`", QUICK_FIX,
                                      noqa, finding))
        if fix_all and any(f.fix is not None and f.fix.safe for f in checked.findings):
            if checked.fix_all is None:
                source = SourceText(checked.text, "utf-8", False)
                result, fixed = process_text(project.engine, checked.path, source, MODE_FIX, False, fresh_facts=True)
                parse_errors = any(f.code == PARSE_ERROR_CODE for f in result.findings)
                checked.fix_all = [] if fixed is None or parse_errors else text_edits(checked.text, fixed)
            if checked.fix_all:
                actions.append(Action(f"{NAME}: fix all safe fixes", FIX_ALL_KIND, checked.fix_all))
        return actions


def settings_file(path: str, options: ClientOptions) -> bool:
    """Whether a change of *path* can change the settings."""
    name = os.path.basename(path)
    if options.config and path == os.path.abspath(options.config):
        return True
    return name in ("pyproject.toml", "setup.cfg") or (name.startswith("requirements") and name.endswith(".txt"))


def _marked(directory: str) -> bool:
    """Whether *directory* is a project by itself (a git work tree or a project marker)."""
    return any(os.path.exists(os.path.join(directory, marker)) for marker in PROJECT_MARKERS)


def _under(path: str, roots: Sequence[str]) -> bool:
    absolute = os.path.abspath(path)
    return any(absolute == root or absolute.startswith(root.rstrip(os.sep) + os.sep) for root in roots)


def _parsing(text: str, edits: dict[Finding, list[Edit]]) -> dict[Finding, list[Edit]]:
    """The fixes whose result parses: a code action never offers broken code."""
    from o2o_lint.syntax import parse_module

    kept = {}
    for finding, finding_edits in edits.items():
        if not finding_edits:
            continue
        try:
            parse_module(apply_edits(text, finding_edits))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        kept[finding] = finding_edits
    return kept


def _noqa_edits(text: str, finding: Finding) -> list[Edit]:
    """``# noqa: CODE`` for *finding*, as ``--add-noqa`` writes it; nothing for a file that
    does not parse, or a finding of a rule that judges noqa comments (it would judge itself)."""
    if finding.code == PARSE_ERROR_CODE:
        return []
    from o2o_lint.noqa import add_noqa
    from o2o_lint.rules import all_rules

    rule = all_rules().get(finding.code)
    if rule is None or rule.reviews_findings:
        return []
    outcome = add_noqa(text, [finding])
    return text_edits(text, outcome.text) if outcome.added else []


# -- the language server -------------------------------------------------------------------------------


class Server:
    """The LSP side: documents, debouncing, conversions; the work goes to :class:`Projects`
    on one worker thread, so the server keeps answering while a file is analysed."""

    def __init__(self) -> None:
        self.ls = LanguageServer(NAME, __version__, text_document_sync_kind=lsp.TextDocumentSyncKind.Full)
        self.projects = Projects()
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="o2o-lint")
        self.pending: dict[str, asyncio.Task[None]] = {}
        self._register()

    # -- helpers --------------------------------------------------------------------------------------

    async def _work(self, function: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.worker, function, *args)

    def _units(self) -> Units:
        return self.ls.workspace.position_codec.client_num_units

    def _path(self, uri: str) -> str | None:
        if not uri.startswith("file:"):
            return None
        path = to_fs_path(uri)
        return os.path.abspath(path) if path else None

    def _wanted(self, document: Any) -> bool:
        return document.language_id == "python" or bool(document.path and document.path.endswith(".py"))

    def _show_problems(self) -> None:
        for problem in self.projects.take_problems():
            self.ls.window_show_message(lsp.ShowMessageParams(lsp.MessageType.Error, f"{NAME}: {problem}"))

    def _diagnostic(self, finding: Finding, lines: Sequence[str], units: Units) -> lsp.Diagnostic:
        start, end = finding_range(finding, lines, units)
        url = doc_url(finding.code) if finding.code != PARSE_ERROR_CODE else None
        return lsp.Diagnostic(
            range=_range(start, end), message=finding.message, severity=lsp.DiagnosticSeverity.Warning,
            code=finding.code, code_description=lsp.CodeDescription(href=url) if url else None, source=NAME,
        )

    # -- linting --------------------------------------------------------------------------------------

    def schedule(self, uri: str, delay: float = 0.0) -> None:
        """Analyse *uri* after *delay* seconds (a newer request replaces a pending one)."""
        previous = self.pending.pop(uri, None)
        if previous is not None:
            previous.cancel()
        self.pending[uri] = asyncio.get_running_loop().create_task(self._lint(uri, delay))

    async def _lint(self, uri: str, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        document = self.ls.workspace.text_documents.get(uri)
        path = self._path(uri)
        if document is None or path is None or not self._wanted(document):
            return
        text, version = document.source, document.version
        try:
            checked = await self._work(self.projects.check, path, text)
        except Exception as exc:  # noqa: BLE001 - the server outlives a bug; the editor says it
            logger.exception("o2o-lint failed on %s", path)
            self.ls.window_log_message(lsp.LogMessageParams(lsp.MessageType.Error, f"{NAME}: {path}: {exc!r}"))
            return
        self._show_problems()
        current = self.ls.workspace.text_documents.get(uri)
        if current is None or current.version != version:
            return  # the buffer changed meanwhile: its own analysis is on the way
        lines, units = split_lines(text), self._units()
        self.ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(
            uri=uri, version=version, diagnostics=[self._diagnostic(f, lines, units) for f in checked.findings]))

    def lint_open_documents(self, delay: float = 0.0) -> None:
        for uri in list(self.ls.workspace.text_documents):
            self.schedule(uri, delay)

    # -- code actions ---------------------------------------------------------------------------------

    async def code_actions(self, params: lsp.CodeActionParams) -> list[lsp.CodeAction] | None:
        uri = params.text_document.uri
        document = self.ls.workspace.text_documents.get(uri)
        path = self._path(uri)
        if document is None or path is None or not self._wanted(document):
            return None
        text, version = document.source, document.version
        only = None if params.context.only is None else [getattr(kind, "value", kind) for kind in params.context.only]

        def wants(kind: str) -> bool:
            return only is None or any(not o or kind == o or kind.startswith(f"{o}.") for o in only)

        units = self._units()
        lines = split_lines(text)
        asked = ((params.range.start.line, params.range.start.character), (params.range.end.line, params.range.end.character))

        def compute() -> list[Action]:
            checked = self.projects.check(path, text)
            near = [f for f in checked.findings if overlaps(finding_range(f, lines, units), asked)]
            return self.projects.actions(checked, near if wants(QUICK_FIX) else [],
                                         fix_all=wants(FIX_ALL_KIND))

        actions: list[Action] = await self._work(compute)
        versioned = bool(_capability(self.ls.client_capabilities, "workspace", "workspace_edit", "document_changes"))
        result = []
        for action in actions:
            if not wants(action.kind):
                continue
            edits = [lsp.TextEdit(_range(*edit_range(e, lines, units)), e["content"]) for e in action.edits]
            if versioned:
                edit = lsp.WorkspaceEdit(document_changes=[lsp.TextDocumentEdit(
                    lsp.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version), edits)])
            else:
                edit = lsp.WorkspaceEdit(changes={uri: edits})
            diagnostics = [self._diagnostic(action.finding, lines, units)] if action.finding is not None else None
            result.append(lsp.CodeAction(title=action.title, kind=action.kind, diagnostics=diagnostics, edit=edit,
                                         is_preferred=action.preferred or None))
        return result

    # -- handlers -------------------------------------------------------------------------------------

    def _register(self) -> None:
        ls = self.ls

        @ls.feature(lsp.INITIALIZE)
        def initialize(params: lsp.InitializeParams) -> None:
            options, problems = client_options(params.initialization_options)
            self.projects.options = options
            self.projects.problems.extend(problems)

        @ls.feature(lsp.INITIALIZED)
        async def initialized(params: lsp.InitializedParams) -> None:
            self._show_problems()
            uris = [folder.uri for folder in ls.workspace.folders.values()] or [ls.workspace.root_uri or ""]
            self.projects.folders = [path for path in map(self._path, uris) if path is not None]
            for path in self.projects.folders:
                self.worker.submit(self.projects.prepare, path)
            if _capability(ls.client_capabilities, "workspace", "did_change_watched_files", "dynamic_registration"):
                config = self.projects.options.config
                patterns = [*WATCHED, *([f"**/{os.path.basename(config)}"] if config else [])]
                watchers = [lsp.FileSystemWatcher(glob_pattern=pattern) for pattern in patterns]
                registration = lsp.Registration(
                    id=f"{NAME}-watched-files", method=lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                    register_options=lsp.DidChangeWatchedFilesRegistrationOptions(watchers=watchers))
                try:
                    await ls.client_register_capability_async(lsp.RegistrationParams([registration]))
                except Exception:  # noqa: BLE001 - without watched files, saves still update the index
                    logger.warning("the client refused to watch files for o2o-lint")

        @ls.feature(lsp.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
        async def did_change_workspace_folders(params: lsp.DidChangeWorkspaceFoldersParams) -> None:
            folders = [path for path in (self._path(f.uri) for f in ls.workspace.folders.values()) if path is not None]
            await self._work(self.projects.reload, None, (), folders)
            for folder in params.event.added:
                path = self._path(folder.uri)
                if path is not None:
                    self.worker.submit(self.projects.prepare, path)
            self.lint_open_documents()

        @ls.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
        def did_open(params: lsp.DidOpenTextDocumentParams) -> None:
            self.schedule(params.text_document.uri)

        @ls.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
        def did_change(params: lsp.DidChangeTextDocumentParams) -> None:
            self.schedule(params.text_document.uri, DEBOUNCE_SECONDS)

        @ls.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
        async def did_save(params: lsp.DidSaveTextDocumentParams) -> None:
            path = self._path(params.text_document.uri)
            if path is None:
                return
            if settings_file(path, self.projects.options):
                await self._work(self.projects.reload)
            else:
                await self._work(self.projects.files_changed, [path])
            self.lint_open_documents()

        @ls.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
        async def did_close(params: lsp.DidCloseTextDocumentParams) -> None:
            uri = params.text_document.uri
            pending = self.pending.pop(uri, None)
            if pending is not None:
                pending.cancel()
            path = self._path(uri)
            if path is not None:
                await self._work(self.projects.close, path)
            ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

        @ls.feature(lsp.WORKSPACE_DID_CHANGE_CONFIGURATION)
        async def did_change_configuration(params: lsp.DidChangeConfigurationParams) -> None:
            options, problems = client_options(params.settings)
            if not isinstance(params.settings, dict) or NAME not in params.settings:
                options = self.projects.options  # nothing of ours in it: the files may have changed
            await self._work(self.projects.reload, options, problems)
            self.lint_open_documents()

        @ls.feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)
        async def did_change_watched_files(params: lsp.DidChangeWatchedFilesParams) -> None:
            changed, appeared, settings = [], [], False
            for event in params.changes:
                path = self._path(event.uri)
                if path is None:
                    continue
                if settings_file(path, self.projects.options):
                    settings = True
                elif path.endswith(".py"):
                    (changed if event.type == lsp.FileChangeType.Changed else appeared).append(path)
            if settings:
                await self._work(self.projects.reload)
            elif changed or appeared:
                await self._work(lambda: self.projects.files_changed(changed, created_or_deleted=appeared))
            else:
                return
            self.lint_open_documents(DEBOUNCE_SECONDS)

        @ls.feature(lsp.TEXT_DOCUMENT_CODE_ACTION, lsp.CodeActionOptions(
            code_action_kinds=[QUICK_FIX, FIX_ALL_KIND], resolve_provider=False))
        async def code_action(params: lsp.CodeActionParams) -> list[lsp.CodeAction] | None:
            return await self.code_actions(params)

        @ls.feature(lsp.SHUTDOWN)
        def shutdown(params: None) -> None:
            self.worker.shutdown(wait=False, cancel_futures=True)


def _range(start: Position, end: Position) -> lsp.Range:
    return lsp.Range(lsp.Position(*start), lsp.Position(*end))


def _capability(capabilities: Any, *names: str) -> Any:
    for name in names:
        capabilities = getattr(capabilities, name, None)
        if capabilities is None:
            return None
    return capabilities


def main() -> int:
    """Serve one client over standard input and output until it says exit."""
    Server().ls.start_io()
    return 0
