"""The architecture's promises, checked: the core names no rule; one run, one index, one walk."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import o2o_lint
from o2o_lint import cli, discovery
from o2o_lint.index import build, model
from o2o_lint.rules import all_rules, all_screens
from tests.helpers import FIXTURES, write_project

PACKAGE = Path(o2o_lint.__file__).resolve().parent
RULES = PACKAGE / "rules"


def _rule_homes() -> set[Path]:
    """The module or package each rule lives in."""
    homes = set()
    for rule in all_rules().values():
        module = Path(sys.modules[rule.__module__].__file__ or "")
        homes.add(module.parent if module.name == "rule.py" else module)
    return homes


def _core_files() -> list[Path]:
    homes = _rule_homes()
    return [
        path for path in sorted(PACKAGE.rglob("*.py"))
        if not any(path == home or home in path.parents for home in homes)
    ]


def test_the_core_names_no_rule_code_and_imports_no_rule() -> None:
    codes = set(all_rules())
    rule_modules = {home.stem for home in _rule_homes()}
    offences = []
    core = _core_files()
    assert PACKAGE / "engine.py" in core and RULES / "base.py" in core and RULES / "__init__.py" in core
    for path in core:
        text = path.read_text()
        for code in sorted(set(re.findall(r"\bOTO\d{3}\b", text)) & codes):
            offences.append(f"{path.relative_to(PACKAGE)} names {code}")
        for module in sorted(rule_modules):
            if re.search(rf"\b{re.escape(module)}\b", text):
                offences.append(f"{path.relative_to(PACKAGE)} names the rule module {module}")
    assert offences == []


def test_rule_packages_keep_their_init_empty_of_imports() -> None:
    for home in _rule_homes():
        if home.is_dir():
            init = home / "__init__.py"
            code = [line for line in init.read_text().splitlines() if line.strip() and not line.lstrip().startswith("#")]
            assert not any(re.match(r"\s*(import|from)\s", line) for line in code), init


def test_rule_facts_extractors_never_import_libcst() -> None:
    """The facts pass runs in pool workers and on warm runs: no ``facts.py`` of a rule package
    (nor anything it imports) may load LibCST."""
    script = (
        "import sys\n"
        "from o2o_lint.rules import all_extractors\n"
        "extractors = all_extractors()\n"
        "assert extractors, 'no rule package has a facts.py'\n"
        "assert 'libcst' not in sys.modules, sorted(m for m in sys.modules if m.startswith('libcst'))[:5]\n"
        "print(' '.join(sorted(e.code for e in extractors)))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=PACKAGE.parent)
    assert done.returncode == 0, done.stderr
    packages = sorted(home for home in _rule_homes() if home.is_dir() and (home / "facts.py").is_file())
    assert len(done.stdout.split()) == len(packages)


def test_rule_screens_never_import_libcst() -> None:
    """The engine screens every file with the rules' ``Rule`` classes: neither they nor
    anything they import may load LibCST or a visitor."""
    script = (
        "import sys\n"
        "from o2o_lint.rules import all_screens\n"
        "screens = all_screens()\n"
        "assert 'libcst' not in sys.modules, sorted(m for m in sys.modules if m.startswith('libcst'))[:5]\n"
        "assert 'o2o_lint.rules.visitor' not in sys.modules\n"
        "print(' '.join(screens))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=PACKAGE.parent, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == sorted(all_rules())


def test_each_rule_is_its_screen_class_with_a_visitor() -> None:
    """One class per rule for the tests, the docs and the codemods: the visitor subclasses
    the rule's ``Rule`` (metadata and screens are defined once), and a rule package keeps
    the two apart in ``screen.py`` and ``rule.py``."""
    from o2o_lint.rules.visitor import LintRule

    screens, rules = all_screens(), all_rules()
    assert list(screens) == list(rules)
    for code, rule in rules.items():
        assert issubclass(rule, screens[code]) and rule.code == code
        if rule.reviews_findings:  # it judges the other findings: nothing to visit
            with pytest.raises(TypeError):
                screens[code].visitor()
        else:
            assert screens[code].visitor() is rule
        module = Path(sys.modules[rule.__module__].__file__ or "")
        if module.name == "rule.py":
            assert Path(sys.modules[screens[code].__module__].__file__ or "") == module.parent / "screen.py"
            assert issubclass(rule, LintRule)


def test_a_cold_run_where_no_file_needs_a_visitor_never_imports_libcst(tmp_path: Path) -> None:
    """LibCST (about 0.2 s to import) is loaded only for a file some rule's screens let through."""
    write_project(tmp_path, {
        "shop/models.py": (
            "from django.db import models\n\n\nclass Owner(models.Model):\n    pass\n\n\n"
            "class Profile(models.Model):\n    owner = models.OneToOneField(Owner, models.CASCADE)\n"
        ),
        "shop/views.py": "from shop.models import Owner\n\n\ndef show(pk):\n    return Owner.objects.get(pk=pk)\n",
        "shop/templates/shop/page.html": "{{ owner.profile }}\n",
    })
    script = (
        "import sys\n"
        "from o2o_lint import cli\n"
        "status = cli.main(['--no-cache', '--output-format', 'concise', '--extend-select', 'OTO100', '.'])\n"
        "print('LIBCST' if 'libcst' in sys.modules else 'NO-LIBCST', status)\n"
    )
    clean = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert clean.stdout.splitlines()[-1] == "NO-LIBCST 0", clean.stdout + clean.stderr
    # the same project with one finding: its file needs a visitor, and LibCST is loaded
    (tmp_path / "shop/views.py").write_text(
        "from shop.models import Owner\n\n\ndef count(owner: Owner):\n    return owner.profile.count()\n")
    finding = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert finding.stdout.splitlines()[-1] == "LIBCST 1", finding.stdout + finding.stderr
    assert "OTO005" in finding.stdout


@pytest.mark.parametrize("output_format", ["concise", "full", "json", "sarif", "github"])
def test_one_cli_run_builds_one_index_and_walks_the_tree_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], output_format: str
) -> None:
    demo = tmp_path / "demo"
    shutil.copytree(FIXTURES / "demo", demo)
    counts = {"index": 0, "walk": 0}
    real_init = model.ProjectIndex.__init__
    real_walk = discovery.iter_python_files

    def counting_init(self: model.ProjectIndex, facts_by_path: dict, *args: object, **kwargs: object) -> None:
        # a cold scan first indexes the models files alone (whether rules need their facts):
        # one index of the whole project, whatever else
        if not all(build._may_define_models(path, str(demo)) for path in facts_by_path):
            counts["index"] += 1
        real_init(self, facts_by_path, *args, **kwargs)  # type: ignore[arg-type]

    def counting_walk(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        counts["walk"] += 1
        return real_walk(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(model.ProjectIndex, "__init__", counting_init)
    # every module that imported the walker by name walks through the counting one
    for module in list(sys.modules.values()):
        if getattr(module, "iter_python_files", None) is real_walk:
            monkeypatch.setattr(module, "iter_python_files", counting_walk)
    monkeypatch.chdir(demo)
    status = cli.main(["--no-cache", "--output-format", output_format, "--extend-select", "OTO100", "."])
    output = capsys.readouterr().out
    assert status == 1 and "OTO001" in output  # the demo is full of findings
    assert counts == {"index": 1, "walk": 1}


def test_a_warm_run_never_imports_libcst(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    shutil.copytree(FIXTURES / "demo", demo)
    script = (
        "import sys\n"
        "from o2o_lint import cli\n"
        "status = cli.main(['--output-format', 'concise', '--extend-select', 'OTO100', '.'])\n"
        "print('LIBCST' if 'libcst' in sys.modules else 'NO-LIBCST', status)\n"
    )
    cold = subprocess.run([sys.executable, "-c", script], cwd=demo, capture_output=True, text=True, timeout=300)
    assert cold.stdout.splitlines()[-1] == "LIBCST 1", cold.stderr
    warm = subprocess.run([sys.executable, "-c", script], cwd=demo, capture_output=True, text=True, timeout=300)
    assert warm.stdout.splitlines()[-1] == "NO-LIBCST 1", warm.stderr
    assert warm.stdout.splitlines()[:-1] == cold.stdout.splitlines()[:-1]


@pytest.mark.parametrize(
    ("output_format", "loaded"), [("json", "libcst"), ("sarif", "libcst"), ("sarif", "o2o_lint.rules.base")]
)
def test_a_warm_machine_readable_run_reads_fix_edits_from_the_cache(
    tmp_path: Path, output_format: str, loaded: str
) -> None:
    """JSON and SARIF carry every fix's edits (a LibCST transformation each): the first
    report computes them and keeps them in the findings cache, so the warm run reports
    the same bytes without analysing anything and without importing LibCST or any rule
    (SARIF's rule table is read from the rule modules' text)."""
    demo = tmp_path / "demo"
    shutil.copytree(FIXTURES / "demo", demo)
    script = (
        "import sys\n"
        "from o2o_lint import cli\n"
        f"status = cli.main(['--output-format', '{output_format}', '--extend-select', 'OTO100', '.'])\n"
        f"print('LOADED' if '{loaded}' in sys.modules else 'NOT-LOADED', status)\n"
    )
    cold = subprocess.run([sys.executable, "-c", script], cwd=demo, capture_output=True, text=True, timeout=300)
    assert cold.stdout.splitlines()[-1] == "LOADED 1", cold.stderr
    assert '"content"' in cold.stdout or '"insertedContent"' in cold.stdout  # fixable findings, with edits
    for _ in range(2):  # the second warm run too: the edits stay in the cache
        warm = subprocess.run([sys.executable, "-c", script], cwd=demo, capture_output=True, text=True, timeout=300)
        assert warm.stdout.splitlines()[-1] == "NOT-LOADED 1", warm.stderr
        assert warm.stdout.splitlines()[:-1] == cold.stdout.splitlines()[:-1]
