"""One project root for every front end, whichever files it is given.

The root is the top of the git work tree (a ``.git`` directory or file), else the
outermost directory with a project marker, else the working directory; ``root`` in the
configuration and ``--project-root`` override it. The index covers the whole root while
findings are reported only for the files asked about. Everything here runs the real
commands (``o2o-lint``, ``flake8``, ``pre-commit try-repo``) as subprocesses.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from o2o_lint.config import find_project_root
from tests.test_precommit import _git, _git_env, _write, try_repo

MODELS = '''\
from django.db import models


class Account(models.Model):
    name = models.CharField(max_length=100)


class Invoice(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, unique=True)
'''

PORTAL_VIEWS = '''\
def latest_invoice(account):
    return account.invoice_set.first()
'''

UNSAFE = "the fix is unsafe: the reverse accessor `invoice_set` is used as a manager in 1 file(s)"


def _run(command: list[str], cwd: Path, stdin: str | None = None,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, input=stdin, capture_output=True, text=True,
                          env={**_git_env(), "NO_COLOR": "1", **(env or {})}, timeout=300)


def o2o_lint(cwd: Path, *args: str, stdin: str | None = None,
             env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return _run([sys.executable, "-m", "o2o_lint", *args], cwd, stdin, env)


def flake8(cwd: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return _run([sys.executable, "-m", "flake8", "--isolated", *args], cwd, stdin)


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """A git repository with two packages; ``billing`` has its own ``pyproject.toml``
    and defines the models, ``portal`` uses ``account.invoice_set`` as a manager."""
    root = tmp_path / "repo"
    _write(root, {
        "billing/pyproject.toml": '[project]\nname = "billing"\nversion = "0.1"\n',
        "billing/billing/__init__.py": "",
        "billing/billing/models.py": MODELS,
        "portal/portal/__init__.py": "",
        "portal/portal/views.py": PORTAL_VIEWS,
    })
    _git("init", "--quiet", ".", cwd=root)
    _git("add", "-A", cwd=root)
    _git("commit", "--quiet", "-m", "initial", cwd=root)
    return root


@pytest.mark.slow
def test_pre_commit_fix_hook_sees_the_other_package(repository: Path, tmp_path: Path) -> None:
    """pre-commit passes only the changed models file, from a sub-package with its own
    pyproject.toml: the index still covers the repository, so the conversion is unsafe
    and the hook leaves the file alone."""
    fix = try_repo(repository, tmp_path / "pre-commit-home", "o2o-lint-fix", "--files", "billing/billing/models.py")
    assert fix.returncode == 1, fix.stdout + fix.stderr
    assert "billing/billing/models.py:9:15: OTO001" in fix.stdout
    assert UNSAFE in fix.stdout
    assert "files were modified by this hook" not in fix.stdout
    assert "portal/" not in fix.stdout  # only the files pre-commit passed are reported
    assert (repository / "billing" / "billing" / "models.py").read_text() == MODELS


@pytest.mark.parametrize("where", [".", "billing"])
def test_cli_given_only_the_models_file_sees_the_other_package(repository: Path, where: str) -> None:
    cwd = repository / where
    path = os.path.relpath(repository / "billing" / "billing" / "models.py", cwd)
    check = o2o_lint(cwd, path)
    assert check.returncode == 1, check.stdout + check.stderr
    assert UNSAFE in check.stdout
    assert "portal" not in check.stdout
    fix = o2o_lint(cwd, "--fix", path)
    assert fix.returncode == 1, fix.stdout + fix.stderr
    assert (repository / "billing" / "billing" / "models.py").read_text() == MODELS
    # standard input, named after the models file, sees the same project
    piped = o2o_lint(cwd, "-", "--stdin-filename", path, stdin=MODELS)
    assert UNSAFE in piped.stdout, piped.stdout + piped.stderr
    # and so does flake8, file by file
    linted = flake8(cwd, "--select", "OTO", path)
    assert UNSAFE in linted.stdout, linted.stdout + linted.stderr


def test_root_setting_and_option_override(repository: Path) -> None:
    """``root = "."`` in the sub-package's configuration (or ``--project-root``) makes it
    a project of its own again: the other package is out of sight, the fix is safe."""
    models = "billing/models.py"
    split = o2o_lint(repository / "billing", "--project-root", ".", "--diff", models)
    assert "+    account = models.OneToOneField(Account, on_delete=models.CASCADE)" in split.stdout, split.stderr
    (repository / "billing" / "pyproject.toml").write_text(
        '[project]\nname = "billing"\nversion = "0.1"\n\n[tool.o2o-lint]\nroot = "."\n')
    configured = o2o_lint(repository / "billing", "--diff", models)
    assert "+    account = models.OneToOneField(Account, on_delete=models.CASCADE)" in configured.stdout
    shown = o2o_lint(repository / "billing", "--show-settings")
    assert f'root = "{repository / "billing"}"' in shown.stdout
    missing = o2o_lint(repository, "--project-root", "nowhere", ".")
    assert missing.returncode == 2 and "not a directory" in missing.stderr


VIEWS_USING_ACCOUNTS = '''\
def latest_invoice(account):
    return account.invoice_set.first()
'''


def test_flake8_without_any_marker_reports_what_the_cli_reports(tmp_path: Path) -> None:
    """No .git, no pyproject.toml, no manage.py: the working directory is the project,
    for the CLI and for flake8's file-by-file calls alike."""
    _write(tmp_path / "site", {
        "billing/__init__.py": "",
        "billing/models.py": MODELS,
        "portal/__init__.py": "",
        "portal/views.py": VIEWS_USING_ACCOUNTS,
    })
    cwd = tmp_path / "site"
    cli = o2o_lint(cwd, "--select", "OTO004", ".")
    assert "portal/views.py:2:12: OTO004" in cli.stdout, cli.stdout + cli.stderr
    linted = flake8(cwd, "--select", "OTO004", ".")
    assert "./portal/views.py:2:12: OTO004" in linted.stdout, linted.stdout + linted.stderr
    one = flake8(cwd, "--select", "OTO004", "portal/views.py")
    assert "portal/views.py:2:12: OTO004" in one.stdout, one.stdout + one.stderr


def test_find_project_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    outer = tmp_path / "outer"
    _write(outer, {"setup.cfg": "", "pkg/pyproject.toml": "", "pkg/app/models.py": ""})
    monkeypatch.chdir(tmp_path)
    assert find_project_root(str(outer / "pkg" / "app" / "models.py")) == str(outer)  # outermost marker
    (outer / "pkg" / ".git").write_text("gitdir: /elsewhere/.git/worktrees/pkg\n")  # a worktree's .git file
    assert find_project_root(str(outer / "pkg" / "app" / "models.py")) == str(outer / "pkg")
    assert find_project_root(str(outer / "pkg" / "app"), override=str(outer)) == str(outer)
    bare = tmp_path / "bare"
    _write(bare, {"a/b.py": ""})
    assert find_project_root(str(bare / "a" / "b.py")) == str(tmp_path)  # the working directory holds it
    monkeypatch.chdir(outer)
    assert find_project_root(str(bare / "a" / "b.py")) == str(bare / "a")  # elsewhere: the file's directory


MIGRATION = '''\
from django.db import migrations, models


class Account(models.Model):
    pass


class Invoice(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, unique=True)
'''


def test_standard_input_honours_the_excludes(repository: Path) -> None:
    """``--stdin-filename`` naming a migration reports nothing, as the path itself does."""
    _write(repository, {"billing/billing/migrations/__init__.py": "",
                        "billing/billing/migrations/0001_initial.py": MIGRATION})
    name = "billing/billing/migrations/0001_initial.py"
    on_disk = o2o_lint(repository, name)
    assert on_disk.returncode == 0 and "OTO" not in on_disk.stdout, on_disk.stdout
    piped = o2o_lint(repository, "-", "--stdin-filename", name, stdin=MIGRATION)
    assert piped.returncode == 0 and "OTO" not in piped.stdout, piped.stdout + piped.stderr
    fixed = o2o_lint(repository, "--fix", "-", "--stdin-filename", name, stdin=MIGRATION)
    assert fixed.returncode == 0 and fixed.stdout == MIGRATION, fixed.stdout + fixed.stderr
    linted = flake8(repository, "--select", "OTO", "-", "--stdin-display-name", name, stdin=MIGRATION)
    assert linted.returncode == 0 and linted.stdout == "", linted.stdout + linted.stderr
    # the same text under another name is reported
    other = o2o_lint(repository, "-", "--stdin-filename", "billing/billing/other.py", stdin=MIGRATION)
    assert other.returncode == 1 and "OTO001" in other.stdout
    extra = o2o_lint(repository, "--extend-exclude", "billing/billing/other.py",
                     "-", "--stdin-filename", "billing/billing/other.py", stdin=MIGRATION)
    assert extra.returncode == 0 and "OTO" not in extra.stdout, extra.stdout


# -- what git ignores ---------------------------------------------------------------------------------

IGNORED_USE = '''\
def stale(account):
    return account.invoice_set.all()
'''


@pytest.fixture
def ignoring(repository: Path) -> Path:
    """The repository with git-ignored code: a ``build``-like directory named in
    .gitignore, a file named in .git/info/exclude; both use ``invoice_set``."""
    _write(repository, {
        ".gitignore": "generated/\n.o2o-lint-cache/\n",
        "generated/portal_copy.py": IGNORED_USE,
        "scratch.py": IGNORED_USE,
    })
    (repository / ".git" / "info").mkdir(exist_ok=True)
    (repository / ".git" / "info" / "exclude").write_text("scratch.py\n")
    _git("add", ".gitignore", cwd=repository)
    _git("commit", "--quiet", "-m", "ignore", cwd=repository)
    return repository


def _checked(result: subprocess.CompletedProcess[str]) -> set[str]:
    return {line.split(":", 1)[0] for line in result.stdout.splitlines() if ": OTO" in line}


def test_gitignored_files_are_neither_checked_nor_indexed(ignoring: Path) -> None:
    (ignoring / "portal" / "portal" / "views.py").unlink()  # only ignored files use invoice_set now
    result = o2o_lint(ignoring, ".")
    assert _checked(result) == {"billing/billing/models.py"}, result.stdout + result.stderr
    # the ignored uses are out of the index: the conversion is safe
    assert "the fix is unsafe" not in result.stdout, result.stdout
    everything = o2o_lint(ignoring, "--no-respect-gitignore", "--no-cache", ".")
    assert _checked(everything) == {"billing/billing/models.py", "generated/portal_copy.py", "scratch.py"}
    assert "the fix is unsafe: the reverse accessor `invoice_set` is used as a manager in 2 file(s)" in everything.stdout
    (ignoring / "pyproject.toml").write_text("[tool.o2o-lint]\nrespect-gitignore = false\n")
    configured = o2o_lint(ignoring, "--no-cache", ".")
    assert _checked(configured) == _checked(everything), configured.stdout + configured.stderr


def test_named_paths_are_checked_unless_force_exclude(ignoring: Path) -> None:
    named = o2o_lint(ignoring, "--select", "OTO004", "scratch.py", "generated")
    assert _checked(named) == {"scratch.py", "generated/portal_copy.py"}, named.stdout + named.stderr
    forced = o2o_lint(ignoring, "--select", "OTO004", "--force-exclude", "scratch.py", "generated",
                      "generated/portal_copy.py", "portal")
    assert _checked(forced) == {"portal/portal/views.py"}, forced.stdout + forced.stderr
    # the configured excludes apply to named paths with or without --force-exclude
    excluded = o2o_lint(ignoring, "--select", "OTO004", "--extend-exclude", "portal", "portal/portal/views.py")
    assert _checked(excluded) == set() and excluded.returncode == 0, excluded.stdout


def test_without_git_nothing_is_gitignored(ignoring: Path, tmp_path: Path) -> None:
    """No git on PATH: .gitignore is not read (documented); the run still works."""
    empty = tmp_path / "bin"
    empty.mkdir()
    result = subprocess.run([sys.executable, "-m", "o2o_lint", "--no-cache", "--select", "OTO004", "."],
                            cwd=ignoring, capture_output=True, text=True, timeout=300,
                            env={**_git_env(), "PATH": str(empty), "NO_COLOR": "1"})
    assert _checked(result) == {"generated/portal_copy.py", "scratch.py", "portal/portal/views.py"}, result.stderr


def test_gitignore_is_read_from_the_root_s_repository_inside_a_git_hook(ignoring: Path, tmp_path: Path) -> None:
    # a hook of another repository runs with GIT_DIR / GIT_INDEX_FILE naming that repository
    other = tmp_path / "other"
    other.mkdir()
    subprocess.run(["git", "init", "-q", str(other)], check=True, timeout=300)
    (ignoring / "portal" / "portal" / "views.py").unlink()
    hooked = o2o_lint(ignoring, ".", env={"GIT_DIR": str(other / ".git"), "GIT_INDEX_FILE": str(other / ".git" / "index")})
    assert _checked(hooked) == {"billing/billing/models.py"}, hooked.stdout + hooked.stderr


def test_gitignore_applies_to_a_project_root_below_the_repository_top(ignoring: Path) -> None:
    _write(ignoring, {
        "sub/.gitignore": "scratch_copy.py\n",
        "sub/models.py": MODELS,
        "sub/scratch_copy.py": IGNORED_USE,
        "sub/uses.py": IGNORED_USE,
    })
    result = o2o_lint(ignoring / "sub", "--project-root", ".", "--select", "OTO004", "--no-cache", ".")
    assert _checked(result) == {"uses.py"}, result.stdout + result.stderr


def test_gitignore_is_read_in_a_linked_worktree(ignoring: Path, tmp_path: Path) -> None:
    """A linked worktree's ``.git`` is a file, not a directory."""
    linked = tmp_path / "linked"
    _git("worktree", "add", "--quiet", str(linked), cwd=ignoring)
    assert (linked / ".git").is_file()
    _write(linked, {"generated/portal_copy.py": IGNORED_USE})
    result = o2o_lint(linked, "--select", "OTO004", "--no-cache", ".")
    assert _checked(result) == {"portal/portal/views.py"}, result.stdout + result.stderr


def test_git_is_asked_only_inside_a_work_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Outside any ``.git``, no git process is started (it would only fail)."""
    from o2o_lint.discovery import git_ignored

    calls = tmp_path / "git-calls"
    fake = tmp_path / "bin" / "git"
    fake.parent.mkdir()
    fake.write_text(f"#!/bin/sh\necho \"$PWD\" >> {calls}\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(fake.parent))
    plain, repository = tmp_path / "plain", tmp_path / "repository"
    (plain / "app").mkdir(parents=True)
    (repository / "app").mkdir(parents=True)
    (repository / ".git").write_text("gitdir: elsewhere\n")
    if any((directory / ".git").exists() for directory in tmp_path.parents):
        pytest.skip(f"the temporary directory {tmp_path} is inside a git work tree")
    assert git_ignored(str(plain / "app")) == frozenset() and not calls.exists()
    assert git_ignored(str(repository / "app")) == frozenset()
    assert calls.read_text().split() == [str(repository / "app")]


def test_a_gitignored_models_file_named_explicitly_is_indexed_too(ignoring: Path) -> None:
    _write(ignoring, {"generated/shop/__init__.py": "", "generated/shop/models.py": (
        "from django.db import models\n\n\n"
        "class Shop(models.Model):\n    pass\n\n\n"
        "class Till(models.Model):\n    shop = models.ForeignKey(Shop, models.CASCADE, unique=True)\n"
    )})
    result = o2o_lint(ignoring, "--select", "OTO001", "generated/shop/models.py")
    assert _checked(result) == {"generated/shop/models.py"}, result.stdout + result.stderr
    assert "cannot resolve" not in result.stdout, result.stdout
