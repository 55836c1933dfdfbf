"""What a user or a distribution gets: the metadata, the one home address, the release
in the changelog, and the built sdist and wheel, each tried for real.

The slow tests build with the installed setuptools (``--no-isolation``) and install into
clean virtualenvs with ``pip --no-index`` from the wheelhouse that ``tests/matrix.py
install`` fills up front: nothing is downloaded while the suite runs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

import pytest
import yaml

from o2o_lint import __version__
from o2o_lint.explain import FALLBACK_HOME_URL, doc_url, home_url
from tests import django_harness, matrix
from tests.helpers import FIXTURES, REPO

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]
HOME = PROJECT["urls"]["Homepage"]
TIMEOUT = 900

# -- metadata -----------------------------------------------------------------------------------------


def test_license_is_the_pep_639_expression_and_the_file_ships() -> None:
    assert PROJECT["license"] == "MIT"
    assert PROJECT["license-files"] == ["LICENSE"]
    text = (REPO / "LICENSE").read_text()
    assert text.startswith("MIT License") and "The o2o-lint authors" in text
    # PEP 639: a license expression and a License :: classifier are mutually exclusive
    assert not [c for c in PROJECT["classifiers"] if c.startswith("License ::")]


def test_build_backend_is_bounded_and_new_enough_for_pep_639() -> None:
    (requirement,) = PYPROJECT["build-system"]["requires"]
    match = re.fullmatch(r"setuptools>=([\d.]+),<(\d+)", requirement)
    assert match, requirement
    low = tuple(int(part) for part in match.group(1).split("."))
    assert low >= (77, 0, 3)  # the first setuptools that writes License-Expression / License-File
    # the test extra installs the same range, so the --no-isolation builds below use it
    assert requirement in PROJECT["optional-dependencies"]["test"]


def test_classifiers_are_valid_and_name_exactly_what_is_tested() -> None:
    from trove_classifiers import classifiers as known

    assert set(PROJECT["classifiers"]) <= known
    assert PROJECT["classifiers"] == sorted(PROJECT["classifiers"])
    pythons = [c.rsplit(" :: ", 1)[1] for c in PROJECT["classifiers"]
               if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)]
    djangos = [c.rsplit(" :: ", 1)[1] for c in PROJECT["classifiers"] if re.fullmatch(r"Framework :: Django :: [\d.]+", c)]
    assert tuple(pythons) == matrix.PYTHONS
    assert tuple(djangos) == django_harness.VERSIONS
    assert PROJECT["requires-python"] == f">={matrix.PYTHONS[0]}"


def test_flake8_is_an_optional_extra_and_the_core_does_not_import_it() -> None:
    assert not [d for d in PROJECT["dependencies"] if d.lower().startswith("flake8")]
    assert PROJECT["optional-dependencies"]["flake8"] == ["flake8>=7,<8"]
    assert PROJECT["entry-points"]["flake8.extension"] == {"OTO": "o2o_lint.flake8_plugin:O2OLintPlugin"}
    # a fresh interpreter: loading the CLI and the engine imports no flake8 module
    probe = ("import sys, o2o_lint.cli, o2o_lint.engine, o2o_lint.noqa, o2o_lint.codemods; "
             "print(sorted(m for m in sys.modules if m.split('.')[0] in ('flake8', 'pyflakes', 'pycodestyle')))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_noqa_expressions_are_flake8s_own() -> None:
    """o2o_lint.noqa copies flake8's expressions so that the CLI needs no flake8."""
    from flake8 import defaults

    from o2o_lint import noqa

    for name in ("NOQA_INLINE_REGEXP", "NOQA_FILE"):
        ours, theirs = getattr(noqa, name), getattr(defaults, name)
        assert (ours.pattern, ours.flags) == (theirs.pattern, theirs.flags), name


# -- the one home address, and the release ------------------------------------------------------------


def test_project_urls_name_the_home_once() -> None:
    urls = PROJECT["urls"]
    assert set(urls) == {"Homepage", "Documentation", "Changelog", "Issues"}
    assert all(url.startswith(HOME + "/") for name, url in urls.items() if name != "Homepage")
    assert FALLBACK_HOME_URL == HOME
    assert home_url() == HOME  # read from the installed metadata
    assert doc_url("OTO001") == f"{HOME}/blob/v{__version__}/docs/rules/OTO001.md"


def test_every_address_of_the_project_derives_from_the_home_and_the_release() -> None:
    """README, hooks, action and docs name the project only as [project.urls] does, at the
    tag of the current version (v<version>); no other host or repository."""
    host = HOME.split("://", 1)[1]
    owner_repo = host.split("/", 1)[1]
    texts = {path: path.read_text() for path in [REPO / "README.md", REPO / "action.yml", REPO / "CHANGELOG.md",
                                                 REPO / ".pre-commit-hooks.yaml", *sorted((REPO / "docs").rglob("*.md"))]}
    mentions = 0
    for path, text in texts.items():
        for match in re.finditer(r"https?://github\.com/([\w.-]+/[\w.-]+)|\buses: ([\w.-]+/[\w.-]+)@([\w.-]+)", text):
            repository = match.group(1) or match.group(2)
            if repository.split("/")[0] in ("o2o-lint", "o2o_lint") or "o2o" in repository:
                assert repository == owner_repo, (path.name, match.group(0))
                mentions += 1
                if match.group(3):
                    assert match.group(3) == f"v{__version__}", (path.name, match.group(0))
        for rev in re.findall(r"\brev: ([\w.-]+)", text):
            assert rev == f"v{__version__}", (path.name, rev)
        for pinned in re.findall(r"o2o-lint@(v[\w.]+)", text):
            assert pinned == f"v{__version__}", (path.name, pinned)
    assert mentions >= 3


def test_the_changelogs_latest_release_is_the_package_version() -> None:
    changelog = (REPO / "CHANGELOG.md").read_text()
    releases = re.findall(r"^## \[?(\d+\.\d+\.\d+)\]?", changelog, re.M)
    assert releases, "no released version in CHANGELOG.md"
    assert releases[0] == __version__ == PROJECT["version"]


def test_pre_commit_hooks_need_no_flake8() -> None:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    for hook in hooks:
        assert hook["language"] == "python"
        assert "additional_dependencies" not in hook  # the bare package: no flake8
        assert hook["entry"].split()[0] == "o2o-lint"


# -- the sdist and the wheel, built and used ---------------------------------------------------------


def _wheelhouse() -> Path:
    path = matrix.wheelhouse()
    if not (path / ".stamp").is_file():
        pytest.fail(f"no wheelhouse for Python {matrix.this_python()} ({path}): run `python tests/matrix.py install` "
                    "first (.ci/run and the README's test command do)")
    return path


def _source_tree(destination: Path) -> Path:
    """A copy of the project as a release is built from it: no virtualenvs, caches or corpus."""
    ignored = shutil.ignore_patterns(".git", ".venv", ".venvs", ".django-versions", "__pycache__", "*.egg-info",
                                     ".o2o-lint-cache", ".pytest_cache", "corpus", "build", "dist", ".hypothesis")
    shutil.copytree(REPO, destination, ignore=ignored, symlinks=True)
    return destination


def _build(kind: str, tmp_path: Path) -> Path:
    source = _source_tree(tmp_path / "source")
    built = subprocess.run(
        [sys.executable, "-m", "build", f"--{kind}", "--no-isolation", "--outdir", str(tmp_path / "dist"), str(source)],
        capture_output=True, text=True, timeout=TIMEOUT,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (artifact,) = (tmp_path / "dist").glob("o2o_lint-*.tar.gz" if kind == "sdist" else "o2o_lint-*.whl")
    return artifact


def _clean_venv(path: Path) -> Path:
    """A virtualenv with nothing but pip (offline: ensurepip); its bin directory."""
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True, capture_output=True, timeout=TIMEOUT)
    return path / "bin"


def _pip_offline(bin_dir: Path, *requirements: str) -> None:
    done = subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-index",
         "--find-links", str(_wheelhouse()), *requirements],
        capture_output=True, text=True, timeout=TIMEOUT,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _run(bin_dir: Path, *command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**{k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")},
           "PATH": f"{bin_dir}{os.pathsep}/usr/bin:/bin", "NO_COLOR": "1"}
    return subprocess.run(list(command), cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT)


@pytest.mark.slow
def test_sdist_holds_its_tests_and_they_pass_from_it(tmp_path: Path) -> None:
    sdist = _build("sdist", tmp_path)
    with tarfile.open(sdist) as archive:
        archive.extractall(tmp_path / "unpacked", filter="data") if sys.version_info >= (3, 12) else \
            archive.extractall(tmp_path / "unpacked")  # noqa: S202 (our own archive)
    (root,) = (tmp_path / "unpacked").iterdir()
    shipped = {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()}
    expected = {path.relative_to(REPO).as_posix() for path in (REPO / "tests").rglob("*")
                if path.is_file() and "__pycache__" not in path.parts and ".o2o-lint-cache" not in path.parts
                and not path.name.endswith(".sqlite3")}
    assert expected - shipped == set()  # helpers, fixtures, schemas, harness: everything the tests read
    assert {"LICENSE", "docs/rules/OTO001.md", "action.yml", ".pre-commit-hooks.yaml", "CHANGELOG.md",
            "benchmarks/realcode-review.json"} <= shipped
    assert not [name for name in shipped if "/corpus/" in name or "__pycache__" in name]
    # the tests run from the unpacked sdist, on its own code (the working directory comes first)
    where = subprocess.run([sys.executable, "-c", "import o2o_lint, tests.helpers; print(o2o_lint.__file__)"],
                           cwd=root, capture_output=True, text=True, timeout=TIMEOUT)
    assert where.stdout.strip() == str(root / "o2o_lint" / "__init__.py"), where.stderr
    selected = ["tests/test_cli.py", "tests/test_docs.py", "tests/rules/test_rule_cases.py",
                "tests/test_packaging.py", "tests/test_rule_pages.py"]
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not slow", *selected],
                          cwd=root, capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert re.search(r"\d+ passed", done.stdout) and " failed" not in done.stdout


DEMO_FIXABLE = "companies/models.py"


@pytest.mark.slow
def test_wheel_in_a_clean_virtualenv_runs_without_flake8(tmp_path: Path) -> None:
    """CLI, pre-commit hook entries, codemods and --explain from the wheel alone; the flake8
    plugin only once the flake8 extra is installed."""
    wheel = _build("wheel", tmp_path)
    bin_dir = _clean_venv(tmp_path / "venv")
    _pip_offline(bin_dir, str(wheel))
    python = str(bin_dir / "python")
    freeze = _run(bin_dir, python, "-m", "pip", "list", "--format", "json", cwd=tmp_path)
    installed = {row["name"].lower() for row in json.loads(freeze.stdout)}
    assert "o2o-lint" in installed and not installed & {"flake8", "pyflakes", "pycodestyle", "mccabe"}
    demo = tmp_path / "demo"
    shutil.copytree(FIXTURES / "demo", demo, ignore=shutil.ignore_patterns(".o2o-lint-cache", "__pycache__", "*.sqlite3"))

    check = _run(bin_dir, "o2o-lint", "--no-cache", ".", cwd=demo)
    assert check.returncode == 1 and re.search(r"^\S+:\d+:\d+: OTO001 ", check.stdout, re.M), check.stdout + check.stderr
    as_json = json.loads(_run(bin_dir, "o2o-lint", "--no-cache", "--output-format", "json", ".", cwd=demo).stdout)
    first = as_json[0]
    assert first["url"] == f"{HOME}/blob/v{__version__}/docs/rules/{first['code']}.md"  # from the wheel's metadata
    assert Path(first["doc_path"]).read_text().startswith(f"# {first['code']}: ")  # offline, shipped in the wheel
    assert "/site-packages/o2o_lint/_rule_docs/" in first["doc_path"]
    explain = _run(bin_dir, "o2o-lint", "--explain", "OTO001", cwd=tmp_path)
    assert explain.returncode == 0 and explain.stdout == (REPO / "docs" / "rules" / "OTO001.md").read_text()

    # the pre-commit hooks' commands, as .pre-commit-hooks.yaml spells them
    hooks = {hook["id"]: hook["entry"].split() for hook in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    before = (demo / DEMO_FIXABLE).read_text()
    fixed = _run(bin_dir, *hooks["o2o-lint-fix"], "--no-cache", DEMO_FIXABLE, cwd=demo)
    assert fixed.returncode in (0, 1) and "Traceback" not in fixed.stderr, fixed.stderr
    assert (demo / DEMO_FIXABLE).read_text() != before
    hook_check = _run(bin_dir, *hooks["o2o-lint"], "--no-cache", DEMO_FIXABLE, cwd=demo)
    assert hook_check.returncode in (0, 1) and "Traceback" not in hook_check.stderr, hook_check.stderr

    # a LibCST codemod, from the wheel
    (demo / DEMO_FIXABLE).write_text(before)
    codemod = _run(bin_dir, python, "-m", "libcst.tool", "codemod", "-x", "o2o_lint.codemods.ForeignKeyUniqueCommand",
                   "--no-format", DEMO_FIXABLE, cwd=demo)
    assert codemod.returncode == 0, codemod.stderr
    assert "OneToOneField" in (demo / DEMO_FIXABLE).read_text() and (demo / DEMO_FIXABLE).read_text() != before

    # flake8 is absent, and the plugin's entry point is inert until it is installed
    assert _run(bin_dir, python, "-c", "import flake8", cwd=tmp_path).returncode != 0
    _pip_offline(bin_dir, f"{wheel}[flake8]")
    (demo / DEMO_FIXABLE).write_text(before)
    plugin = _run(bin_dir, "flake8", "--isolated", "--select", "OTO", DEMO_FIXABLE, cwd=demo)
    assert plugin.returncode == 1 and re.search(rf"^{DEMO_FIXABLE}:\d+:\d+: OTO001 ", plugin.stdout, re.M), \
        plugin.stdout + plugin.stderr
