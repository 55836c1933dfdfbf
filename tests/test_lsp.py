"""``o2o-lint server`` as an editor sees it: spawned over stdio, spoken to in LSP (pytest-lsp).

Every test waits for the server's notifications (generous timeouts, no timing assertion)
and checks exact codes, ranges and edits on a small two-app Django project in tmp_path.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pygls.protocol import default_converter
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

from o2o_lint.explain import doc_url
from o2o_lint.server import FIX_ALL_KIND, ClientOptions, client_options
from o2o_lint.sourcefile import split_lines
from tests.helpers import REPO, write_project


def editor_test(test: Callable[..., object]) -> Callable[..., object]:
    """A test speaking to a spawned server: slow (a process start), on an event loop."""
    return pytest.mark.slow(pytest.mark.asyncio(test))


#: Seconds to wait for a notification on a loaded machine; never a measure of speed.
TIMEOUT = 240

SHOP_MODELS = """\
from django.db import models


class Supplier(models.Model):
    name = models.CharField(max_length=50)


class Contract(models.Model):
    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, unique=True)


class Warehouse(models.Model):
    name = models.CharField(max_length=50)


class Lease(models.Model):
    usine_é = models.ForeignKey(Warehouse, on_delete=models.CASCADE, verbose_name="🏭 site", unique=True)
"""

ORDERS_SERVICES = """\
from shop.models import Supplier


def contracts(supplier: Supplier):
    return supplier.contract_set.all()
"""

ORDERS_MODELS = """\
from django.db import models


class Order(models.Model):
    number = models.IntegerField()
"""


def _client_factory() -> LanguageClient:
    """pytest-lsp's client, keeping every published diagnostics notification (with its
    document version) instead of the last list only."""
    client = LanguageClient(converter_factory=default_converter)
    client.published = {}  # type: ignore[attr-defined]

    def publish(client: LanguageClient, params: lsp.PublishDiagnosticsParams) -> None:
        client.diagnostics[params.uri] = params.diagnostics
        client.published.setdefault(params.uri, []).append(params)  # type: ignore[attr-defined]

    def register_capability(client: LanguageClient, params: lsp.RegistrationParams) -> None:
        client.registrations = list(params.registrations)  # type: ignore[attr-defined]

    register_lsp_features(client, {**DEFAULT_CLIENT_FEATURES, lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS: publish,
                                   lsp.CLIENT_REGISTER_CAPABILITY: register_capability})
    return client


SERVER = ClientServerConfig(server_command=[sys.executable, "-m", "o2o_lint", "server"], client_factory=_client_factory)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(tmp_path / "site", {
        "shop/models.py": SHOP_MODELS,
        "orders/models.py": ORDERS_MODELS,
        "orders/services.py": ORDERS_SERVICES,
        "pyproject.toml": "[tool.o2o-lint]\ntarget-version = \"5.2\"\n",
    })


async def _start(client: LanguageClient, project: Path, editor: str = "visual-studio-code",
                 options: object = None) -> None:
    capabilities = client_capabilities(editor)
    await client.initialize_session(lsp.InitializeParams(
        capabilities=capabilities, root_uri=project.as_uri(),
        workspace_folders=[lsp.WorkspaceFolder(uri=project.as_uri(), name="site")],
        initialization_options=options,
    ))


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: LanguageClient, project: Path):
    await _start(lsp_client, project)
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=SERVER)
async def neovim(lsp_client: LanguageClient, project: Path):
    """A client that asks for UTF-8 positions first (as Neovim 0.11 does)."""
    await _start(lsp_client, project, "neovim@v0.11.0")
    yield
    await lsp_client.shutdown_session()


async def _until(condition: Callable[[], object], what: str) -> None:
    async def wait() -> None:
        while not condition():
            await asyncio.sleep(0.05)

    try:
        await asyncio.wait_for(wait(), TIMEOUT)
    except asyncio.TimeoutError:
        pytest.fail(f"no {what} within {TIMEOUT} s")


def _published(client: LanguageClient, uri: str) -> list[lsp.PublishDiagnosticsParams]:
    return client.published.get(uri, [])  # type: ignore[attr-defined]


async def _diagnostics(client: LanguageClient, uri: str, *, after: int = 0,
                       version: int | None = None) -> list[lsp.Diagnostic]:
    """The diagnostics of the first notification for *uri* after the *after* first ones
    (of *version*, when given)."""
    def arrived() -> bool:
        return any(version is None or p.version == version for p in _published(client, uri)[after:])

    await _until(arrived, f"diagnostics for {uri}")
    return list(next(p for p in _published(client, uri)[after:] if version is None or p.version == version).diagnostics)


def _open(client: LanguageClient, path: Path, text: str | None = None, version: int = 1) -> str:
    uri = path.as_uri()
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(
        uri=uri, language_id="python", version=version, text=path.read_text() if text is None else text)))
    return uri


def _change(client: LanguageClient, uri: str, text: str, version: int) -> None:
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
        [lsp.TextDocumentContentChangeWholeDocument(text=text)]))


def _summary(diagnostics: list[lsp.Diagnostic]) -> list[tuple[str, tuple[int, int], tuple[int, int]]]:
    return [(str(d.code), (d.range.start.line, d.range.start.character), (d.range.end.line, d.range.end.character))
            for d in diagnostics]


def _apply(text: str, edits: list[lsp.TextEdit], encoding: str = "utf-16") -> str:
    """Apply LSP text edits as an editor does: columns count the code units of *encoding*."""
    lines = split_lines(text)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(position: lsp.Position) -> int:
        if position.line >= len(lines):
            return len(text)
        line = lines[position.line]
        units = 0
        for index, character in enumerate(line):
            if units >= position.character:
                return starts[position.line] + index
            units += len(character.encode("utf-16-le")) // 2 if encoding == "utf-16" else len(character.encode())
        return starts[position.line] + len(line)

    for edit in sorted(edits, key=lambda e: offset(e.range.start), reverse=True):
        text = text[: offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end):]
    return text


def _edits_of(action: lsp.CodeAction, uri: str) -> list[lsp.TextEdit]:
    assert action.edit is not None
    if action.edit.document_changes:
        (change,) = action.edit.document_changes
        assert isinstance(change, lsp.TextDocumentEdit) and change.text_document.uri == uri
        return list(change.edits)  # type: ignore[arg-type]
    assert action.edit.changes is not None
    return list(action.edit.changes[uri])


async def _actions(client: LanguageClient, uri: str, diagnostic: lsp.Diagnostic | None = None,
                   only: list[str] | None = None) -> list[lsp.CodeAction]:
    where = diagnostic.range if diagnostic is not None else lsp.Range(lsp.Position(0, 0), lsp.Position(0, 0))
    result = await client.text_document_code_action_async(lsp.CodeActionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), range=where,
        context=lsp.CodeActionContext(diagnostics=[diagnostic] if diagnostic else [], only=only)))
    return [action for action in result or [] if isinstance(action, lsp.CodeAction)]


# -- the tests -----------------------------------------------------------------------------------------


@editor_test
async def test_open_shows_the_findings_with_their_rule_page(client: LanguageClient, project: Path) -> None:
    uri = _open(client, project / "shop" / "models.py")
    diagnostics = await _diagnostics(client, uri)
    # line 9: the reverse manager `contract_set` is used in orders/services.py, so its fix is unsafe;
    # line 17: the range ends after an astral character (two UTF-16 code units) and a Latin-1 one
    line_17 = SHOP_MODELS.splitlines()[16]
    end_17 = len(line_17.encode("utf-16-le")) // 2
    assert _summary(diagnostics) == [
        ("OTO001", (8, 15), (8, 81)),
        ("OTO001", (16, 14), (16, end_17)),
    ]
    assert end_17 == len(line_17) + 1
    for diagnostic in diagnostics:
        assert diagnostic.source == "o2o-lint"
        assert diagnostic.severity == lsp.DiagnosticSeverity.Warning
        assert diagnostic.code_description is not None
        assert diagnostic.code_description.href == doc_url("OTO001")
    assert "the fix is unsafe" in diagnostics[0].message


@editor_test
async def test_a_safe_fix_applied_makes_its_diagnostic_go(client: LanguageClient, project: Path) -> None:
    path = project / "shop" / "models.py"
    uri = _open(client, path)
    diagnostics = await _diagnostics(client, uri, version=1)
    non_ascii = diagnostics[1]
    actions = await _actions(client, uri, non_ascii, only=["quickfix"])
    fixes = [a for a in actions if "noqa" not in a.title]
    assert [a.title for a in fixes] == ["OTO001: Use OneToOneField instead of ForeignKey(unique=True)"]
    assert fixes[0].kind == lsp.CodeActionKind.QuickFix and fixes[0].is_preferred
    fixed = _apply(SHOP_MODELS, _edits_of(fixes[0], uri))
    assert fixed == SHOP_MODELS.replace(
        'usine_é = models.ForeignKey(Warehouse, on_delete=models.CASCADE, verbose_name="🏭 site", unique=True)',
        'usine_é = models.OneToOneField(Warehouse, on_delete=models.CASCADE, verbose_name="🏭 site")')
    _change(client, uri, fixed, 2)
    assert _summary(await _diagnostics(client, uri, version=2)) == [("OTO001", (8, 15), (8, 81))]


@editor_test
async def test_utf8_positions_when_the_client_counts_bytes(neovim: LanguageClient, project: Path) -> None:
    uri = _open(neovim, project / "shop" / "models.py")
    diagnostics = await _diagnostics(neovim, uri)
    line_17 = SHOP_MODELS.splitlines()[16]
    start = len(line_17[: line_17.index("models.")].encode())
    assert _summary(diagnostics)[1] == ("OTO001", (16, start), (16, len(line_17.encode())))
    assert start == 14 + 1  # é is two bytes
    (fix,) = [a for a in await _actions(neovim, uri, diagnostics[1], only=["quickfix"]) if "noqa" not in a.title]
    assert _apply(SHOP_MODELS, _edits_of(fix, uri), "utf-8") == SHOP_MODELS.replace(
        'models.ForeignKey(Warehouse, on_delete=models.CASCADE, verbose_name="🏭 site", unique=True)',
        'models.OneToOneField(Warehouse, on_delete=models.CASCADE, verbose_name="🏭 site")')


@editor_test
async def test_an_unsafe_fix_is_labelled_and_left_out_of_fix_all(client: LanguageClient, project: Path) -> None:
    uri = _open(client, project / "shop" / "models.py")
    diagnostics = await _diagnostics(client, uri)
    actions = await _actions(client, uri, diagnostics[0], only=["quickfix"])
    (unsafe,) = [a for a in actions if "noqa" not in a.title]
    assert unsafe.title == ("OTO001: Use OneToOneField instead of ForeignKey(unique=True) "
                            "(unsafe fix: review it, it may change behaviour)")
    assert not unsafe.is_preferred
    (fix_all,) = await _actions(client, uri, only=["source.fixAll"])
    assert fix_all.kind == "source.fixAll.o2o-lint"
    fixed = _apply(SHOP_MODELS, _edits_of(fix_all, uri))
    # the safe fix (line 17) only; the unsafe one (line 9) stays for a human to look at
    assert fixed == SHOP_MODELS.replace(
        'usine_é = models.ForeignKey(Warehouse, on_delete=models.CASCADE, verbose_name="🏭 site", unique=True)',
        'usine_é = models.OneToOneField(Warehouse, on_delete=models.CASCADE, verbose_name="🏭 site")')
    _change(client, uri, fixed, 2)
    assert [d.code for d in await _diagnostics(client, uri, version=2)] == ["OTO001"]
    assert await _actions(client, uri, only=["source.fixAll"]) == []  # nothing safe is left


@editor_test
async def test_add_noqa_suppresses_the_finding(client: LanguageClient, project: Path) -> None:
    uri = _open(client, project / "orders" / "services.py")
    (diagnostic,) = await _diagnostics(client, uri)
    assert _summary([diagnostic]) == [("OTO004", (4, 11), (4, 32))]
    actions = await _actions(client, uri, diagnostic)
    assert [a.title for a in actions] == ["OTO004: add `# noqa: OTO004`"]  # OTO004 has no fix
    fixed = _apply(ORDERS_SERVICES, _edits_of(actions[0], uri))
    assert fixed == ORDERS_SERVICES.replace(".all()\n", ".all()  # noqa: OTO004\n")
    _change(client, uri, fixed, 2)
    assert await _diagnostics(client, uri, version=2) == []


@editor_test
async def test_the_unsaved_buffer_is_analysed_not_the_file(client: LanguageClient, project: Path) -> None:
    path = project / "orders" / "services.py"
    buffer = ORDERS_SERVICES + "\n\ndef first(supplier: Supplier):\n    return supplier.contract_set.first()\n"
    uri = _open(client, path, buffer)
    assert _summary(await _diagnostics(client, uri, version=1)) == [
        ("OTO004", (4, 11), (4, 32)), ("OTO004", (8, 11), (8, 32))]
    assert path.read_text() == ORDERS_SERVICES  # nothing was written
    _change(client, uri, "from shop.models import Supplier\n", 2)
    assert await _diagnostics(client, uri, version=2) == []


@editor_test
async def test_closed_and_excluded_documents_have_no_diagnostics(client: LanguageClient, project: Path) -> None:
    migration = project / "shop" / "migrations" / "0002_contract.py"
    migration.parent.mkdir()
    migration.write_text(SHOP_MODELS)  # the default excludes leave migrations out, as the CLI does
    assert await _diagnostics(client, _open(client, migration)) == []
    uri = _open(client, project / "orders" / "services.py")
    assert [d.code for d in await _diagnostics(client, uri)] == ["OTO004"]
    seen = len(_published(client, uri))
    client.text_document_did_close(lsp.DidCloseTextDocumentParams(lsp.TextDocumentIdentifier(uri=uri)))
    assert await _diagnostics(client, uri, after=seen) == []


@pytest_lsp.fixture(config=SERVER)
async def plain_folder(lsp_client: LanguageClient, tmp_path: Path):
    """A workspace folder that is no project: no git, no pyproject.toml, setup.cfg or manage.py."""
    folder = tmp_path / "scripts"
    for relative, text in {"shop/models.py": SHOP_MODELS, "orders/services.py": ORDERS_SERVICES}.items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text(text)
    await _start(lsp_client, folder)
    yield
    await lsp_client.shutdown_session()


@editor_test
async def test_outside_any_project_the_workspace_folder_is_the_project(
        plain_folder: LanguageClient, tmp_path: Path) -> None:
    # the CLI would take its working directory; the editor's is anywhere: the folder it opened decides
    services = _open(plain_folder, tmp_path / "scripts" / "orders" / "services.py")
    assert [d.code for d in await _diagnostics(plain_folder, services)] == ["OTO004"]  # it sees shop/models.py


@editor_test
async def test_a_change_of_workspace_folders_moves_a_file_to_its_project(plain_folder: LanguageClient,
                                                                         tmp_path: Path) -> None:
    scripts = tmp_path / "scripts"
    plain_folder.workspace_did_change_workspace_folders(lsp.DidChangeWorkspaceFoldersParams(lsp.WorkspaceFoldersChangeEvent(
        added=[lsp.WorkspaceFolder(uri=(scripts / "orders").as_uri(), name="orders")],
        removed=[lsp.WorkspaceFolder(uri=scripts.as_uri(), name="site")])))
    services = _open(plain_folder, scripts / "orders" / "services.py")
    assert await _diagnostics(plain_folder, services) == []  # shop/models.py is not in this folder
    seen = len(_published(plain_folder, services))
    plain_folder.workspace_did_change_workspace_folders(lsp.DidChangeWorkspaceFoldersParams(lsp.WorkspaceFoldersChangeEvent(
        added=[lsp.WorkspaceFolder(uri=scripts.as_uri(), name="scripts")],
        removed=[lsp.WorkspaceFolder(uri=(scripts / "orders").as_uri(), name="orders")])))
    assert [d.code for d in await _diagnostics(plain_folder, services, after=seen)] == ["OTO004"]


@editor_test
async def test_a_saved_change_of_models_updates_an_open_file(client: LanguageClient, project: Path) -> None:
    services = _open(client, project / "orders" / "services.py")
    assert [d.code for d in await _diagnostics(client, services)] == ["OTO004"]
    seen = len(_published(client, services))
    # models.py is edited in the editor: unsaved, the other files still see the saved one
    models_path = project / "shop" / "models.py"
    models = _open(client, models_path)
    await _diagnostics(client, models)
    plain = SHOP_MODELS.replace("on_delete=models.CASCADE, unique=True)", "on_delete=models.CASCADE)")
    _change(client, models, plain, 2)
    assert [d.code for d in await _diagnostics(client, models, version=2)] == ["OTO001"]
    # saved: the index sees the plain ForeignKey, whose reverse manager is a manager indeed
    models_path.write_text(plain)
    client.text_document_did_save(lsp.DidSaveTextDocumentParams(lsp.TextDocumentIdentifier(uri=models)))
    assert await _diagnostics(client, services, after=seen) == []


@editor_test
async def test_a_change_on_disk_reported_by_the_editor_updates_an_open_file(
        client: LanguageClient, project: Path) -> None:
    await _until(lambda: hasattr(client, "registrations"), "client/registerCapability")
    assert [r.method for r in client.registrations] == ["workspace/didChangeWatchedFiles"]  # type: ignore[attr-defined]
    services = _open(client, project / "orders" / "services.py")
    assert [d.code for d in await _diagnostics(client, services)] == ["OTO004"]
    seen = len(_published(client, services))
    models_path = project / "shop" / "models.py"
    models_path.write_text(SHOP_MODELS.replace("on_delete=models.CASCADE, unique=True)", "on_delete=models.CASCADE)"))
    client.workspace_did_change_watched_files(lsp.DidChangeWatchedFilesParams(
        [lsp.FileEvent(uri=models_path.as_uri(), type=lsp.FileChangeType.Changed)]))
    assert await _diagnostics(client, services, after=seen) == []


@editor_test
async def test_a_models_file_that_parses_again_is_indexed_again(client: LanguageClient, project: Path) -> None:
    models_path = project / "shop" / "models.py"
    models_path.write_text(SHOP_MODELS + "\nclass Broken(\n")  # unreadable for the index: no facts
    services = _open(client, project / "orders" / "services.py")
    assert await _diagnostics(client, services) == []  # Contract.supplier is unknown
    seen = len(_published(client, services))
    models_path.write_text(SHOP_MODELS)
    client.workspace_did_change_watched_files(lsp.DidChangeWatchedFilesParams(
        [lsp.FileEvent(uri=models_path.as_uri(), type=lsp.FileChangeType.Changed)]))
    assert [d.code for d in await _diagnostics(client, services, after=seen)] == ["OTO004"]


@editor_test
async def test_settings_reload_on_a_configuration_change(client: LanguageClient, project: Path) -> None:
    uri = _open(client, project / "orders" / "services.py")
    assert [d.code for d in await _diagnostics(client, uri)] == ["OTO004"]
    # the client's settings
    seen = len(_published(client, uri))
    client.workspace_did_change_configuration(lsp.DidChangeConfigurationParams({"o2o-lint": {"ignore": ["OTO004"]}}))
    assert await _diagnostics(client, uri, after=seen) == []
    # the configuration file: the client's settings are on top of it
    seen = len(_published(client, uri))
    client.workspace_did_change_configuration(lsp.DidChangeConfigurationParams({"o2o-lint": {}}))
    assert [d.code for d in await _diagnostics(client, uri, after=seen)] == ["OTO004"]
    seen = len(_published(client, uri))
    (project / "pyproject.toml").write_text('[tool.o2o-lint]\ntarget-version = "5.2"\nignore = ["OTO004"]\n')
    client.workspace_did_change_watched_files(lsp.DidChangeWatchedFilesParams(
        [lsp.FileEvent(uri=(project / "pyproject.toml").as_uri(), type=lsp.FileChangeType.Changed)]))
    assert await _diagnostics(client, uri, after=seen) == []


@editor_test
async def test_a_bad_setting_is_shown_not_fatal(client: LanguageClient, project: Path) -> None:
    uri = _open(client, project / "orders" / "services.py")
    await _diagnostics(client, uri)
    seen = len(_published(client, uri))
    client.workspace_did_change_configuration(lsp.DidChangeConfigurationParams({"o2o-lint": {"ignore": ["OTO9"]}}))
    assert [d.code for d in await _diagnostics(client, uri, after=seen)] == ["OTO004"]
    await _until(lambda: client.messages, "window/showMessage")
    assert client.messages[0].type == lsp.MessageType.Error
    assert "unknown rule code or prefix 'OTO9'" in client.messages[0].message


def test_without_the_extra_one_line_and_status_2() -> None:
    script = textwrap.dedent("""
        import sys
        sys.modules["pygls"] = None  # as if the lsp extra were not installed
        from o2o_lint.cli import main
        sys.exit(main(sys.argv[1:]))
    """)
    done = subprocess.run([sys.executable, "-c", script, "server"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    assert done.stderr == "o2o-lint server needs the lsp extra: pip install 'o2o-lint[lsp]'\n"
    assert done.stdout == ""
    # everything else runs without it
    listed = subprocess.run([sys.executable, "-c", script, "--list-rules"], capture_output=True, text=True, timeout=300)
    assert listed.returncode == 0 and "OTO001" in listed.stdout, listed.stderr


def test_the_readme_editor_settings_start_the_server_with_valid_options() -> None:
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("### In the editor"):]
    vscode = json.loads(re.search(r"```json\n(.*?)```", section, re.S).group(1))  # type: ignore[union-attr]
    assert [vscode["glspc.serverCommand"], *vscode["glspc.serverCommandArguments"]] == ["o2o-lint", "server"]
    assert vscode["glspc.languageId"] == "python"
    assert client_options(vscode["glspc.initializationOptions"]) == (ClientOptions(extend_select=("OTO100",)), [])
    assert list(vscode["editor.codeActionsOnSave"]) == [FIX_ALL_KIND]
    neovim = re.search(r"```lua\n(.*?)```", section, re.S).group(1)  # type: ignore[union-attr]
    assert "cmd = { 'o2o-lint', 'server' }" in neovim and "['o2o-lint'] = { extendSelect = { 'OTO100' } }" in neovim
