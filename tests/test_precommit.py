"""The pre-commit hooks, run for real: ``pre-commit try-repo <this repository> <hook>``.

pre-commit builds a virtualenv from this repository (HEAD plus uncommitted changes to
tracked files; new untracked modules are not included) and runs the hook in a throwaway
git repository holding a small Django app. ``PRE_COMMIT_HOME`` points into the test's temporary directory, so nothing is
shared with the developer's own pre-commit cache.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from pre_commit.clientlib import load_manifest

from tests import matrix
from tests.helpers import REPO

MODELS = '''\
from django.db import models


class Customer(models.Model):
    name = models.CharField(max_length=100)


class Cart(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, unique=True)
'''

MIGRATION = '''\
from django.db import migrations, models
import django.db.models.deletion


class Migration(migrations.Migration):

    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Cart",
            fields=[
                ("id", models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("customer", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="shop.customer", unique=True)),
            ],
        ),
    ]
'''

SERVICES = '''\
from shop.models import Cart


def cart_of(customer):
    return Cart.objects.filter(customer=customer).first()
'''


def _git_env() -> dict[str, str]:
    # A test run from inside a git hook must not leak that repository into ours.
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_AUTHOR_NAME="o2o-lint tests", GIT_AUTHOR_EMAIL="tests@example.invalid",
               GIT_COMMITTER_NAME="o2o-lint tests", GIT_COMMITTER_EMAIL="tests@example.invalid")
    return env


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", "-c", "commit.gpgsign=false", *args], cwd=cwd, env=_git_env(),
                   check=True, capture_output=True, timeout=300)


def _write(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture
def target(tmp_path: Path) -> Path:
    """A git repository with a Django app: one safe OTO001 finding and a migration."""
    root = tmp_path / "target"
    _write(root, {
        "manage.py": "",
        "shop/__init__.py": "",
        "shop/models.py": MODELS,
        "shop/services.py": SERVICES,
        "shop/migrations/__init__.py": "",
        "shop/migrations/0001_initial.py": MIGRATION,
    })
    _git("init", "--quiet", ".", cwd=root)
    _git("add", "-A", cwd=root)
    _git("commit", "--quiet", "-m", "initial", cwd=root)
    return root


def _wheelhouse() -> Path:
    path = matrix.wheelhouse()
    if not (path / ".stamp").is_file():
        pytest.fail(f"no wheelhouse ({path}): run `python tests/matrix.py install` first (.ci/run does)")
    return path


def try_repo(target: Path, home: Path, hook: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    """``pre-commit try-repo <this repository> [hook] ...`` (try-repo installs into a fresh
    temporary store on every call; PRE_COMMIT_HOME keeps the rest of pre-commit's state out
    of the developer's home)."""
    env = {**_git_env(), "PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never", "NO_COLOR": "1",
           # pre-commit pip-installs the hook: offline, from what tests/matrix.py install fetched
           "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(_wheelhouse())}
    result = subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(REPO), *([hook] if hook else []), "--color", "never", *args],
        cwd=target, env=env, capture_output=True, text=True, timeout=600,
    )
    output = result.stdout + result.stderr
    hook_ran = any(line.startswith("o2o-lint") and "..." in line for line in result.stdout.splitlines())
    if not hook_ran or "No module named 'o2o_lint" in output:
        untracked = subprocess.run(["git", "ls-files", "--others", "--exclude-standard", "o2o_lint"],
                                   cwd=REPO, capture_output=True, text=True, env=_git_env()).stdout.split()
        if untracked:
            pytest.fail(
                "pre-commit could not install or run the hook. try-repo installs HEAD plus changes to "
                f"*tracked* files only, and these o2o_lint files are untracked: {untracked}. Commit them "
                "(or run the suite from a clean checkout).\n" + output
            )
    return result


def test_manifest_is_valid_and_declares_both_hooks() -> None:
    hooks = {hook["id"]: hook for hook in load_manifest(str(REPO / ".pre-commit-hooks.yaml"))}
    assert sorted(hooks) == ["o2o-lint", "o2o-lint-fix"]
    assert hooks["o2o-lint"]["entry"] == "o2o-lint"
    assert hooks["o2o-lint-fix"]["entry"] == "o2o-lint --fix"
    for hook in hooks.values():
        assert hook["language"] == "python"
        assert hook["types_or"] == ["python", "pyi", "html", "jinja", "xml", "plain-text"]
        assert hook["require_serial"] is True
        assert hook["pass_filenames"] is True


def test_manifest_is_committed() -> None:
    # try-repo only sees committed files plus changes to tracked ones.
    result = subprocess.run(["git", "ls-files", "--error-unmatch", ".pre-commit-hooks.yaml"],
                            cwd=REPO, capture_output=True, text=True, env=_git_env())
    assert result.returncode == 0, result.stderr


@pytest.mark.slow
def test_check_hook_fails_then_fix_hook_rewrites_then_both_pass(target: Path, pre_commit_home: Path) -> None:
    models = target / "shop" / "models.py"
    migration = target / "shop" / "migrations" / "0001_initial.py"

    check = try_repo(target, pre_commit_home, "o2o-lint", "--all-files")
    assert check.returncode == 1, check.stdout + check.stderr
    assert "o2o-lint....." in check.stdout and "Failed" in check.stdout
    assert "shop/models.py:9:16: OTO001 ForeignKey(unique=True)" in check.stdout
    assert "migrations" not in check.stdout  # pre-commit passes the migration; o2o-lint skips it
    assert models.read_text() == MODELS  # the check hook writes nothing

    fix = try_repo(target, pre_commit_home, "o2o-lint-fix", "--all-files")
    assert fix.returncode == 1, fix.stdout + fix.stderr
    assert "files were modified by this hook" in fix.stdout
    assert "Fixed 1 finding. No findings remain." in fix.stdout
    assert models.read_text() == MODELS.replace(
        "models.ForeignKey(Customer, on_delete=models.CASCADE, unique=True)",
        "models.OneToOneField(Customer, on_delete=models.CASCADE)",
    )
    assert migration.read_text() == MIGRATION  # history is never rewritten

    # Second run, both hooks at once (no hook id): nothing left to report or fix.
    again = try_repo(target, pre_commit_home, None, "--all-files")
    assert again.returncode == 0, again.stdout + again.stderr
    statuses = [line for line in again.stdout.splitlines() if line.startswith("o2o-lint")]
    assert len(statuses) == 2 and all(line.endswith("Passed") for line in statuses), again.stdout
    assert models.read_text() != MODELS and "OneToOneField" in models.read_text()


@pytest.mark.slow
def test_hook_given_one_file_still_sees_the_whole_project(target: Path, pre_commit_home: Path) -> None:
    """At commit time pre-commit passes only the changed files; the index covers the rest."""
    _write(target, {
        "shop/models.py": MODELS + (
            "\n\nclass Wallet(models.Model):\n"
            "    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, unique=True)\n"
        ),
        "shop/services.py": SERVICES + "\n\ndef balance(customer):\n    return customer.wallet_set.get().balance\n",
    })
    _git("add", "-A", cwd=target)
    _git("commit", "--quiet", "-m", "wallets", cwd=target)
    before = (target / "shop" / "models.py").read_text()

    fix = try_repo(target, pre_commit_home, "o2o-lint-fix", "--files", "shop/models.py")
    assert fix.returncode == 1, fix.stdout + fix.stderr
    # Cart is fixed; Wallet is not, because shop/services.py (not passed) uses wallet_set.
    assert "files were modified by this hook" in fix.stdout
    assert "shop/models.py:13:16: OTO001 ForeignKey(unique=True)" in fix.stdout
    assert "the reverse accessor `wallet_set` is used as a manager in 1 file(s)" in fix.stdout
    assert "shop/services.py" not in fix.stdout  # only the files pre-commit passed are reported
    after = (target / "shop" / "models.py").read_text()
    assert after == before.replace(
        "    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, unique=True)\n\n\nclass Wallet",
        "    customer = models.OneToOneField(Customer, on_delete=models.CASCADE)\n\n\nclass Wallet",
    )
    assert "customer = models.ForeignKey(Customer, on_delete=models.CASCADE, unique=True)" in after
