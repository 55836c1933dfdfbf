"""Fuzzing the engine (issue 7): it never raises, every fix output re-parses, fixes are idempotent.

Three sources of input: grammar-generated programs (``hypothesmith.from_grammar()``),
programs generated from LibCST's node types (``hypothesmith.from_node()``), both glued to
the bait so that the rules' screens let them through to LibCST, and mutations of the
fixture corpus (:mod:`tests.fuzz.mutations`).

The normal suite runs a bounded, derandomized number of examples (CI-reproducible). The
long run is one command (see docs/reliability.md)::

    O2O_FUZZ_EXAMPLES=20000 pytest tests/test_fuzz.py --hypothesis-show-statistics

``O2O_FUZZ_EXAMPLES`` is the number of examples *per test* (times a weight for the cheaper ones).
"""

from __future__ import annotations

import ast
import os
import shutil
import warnings
from pathlib import Path
from unittest import mock

import hypothesmith
import libcst as cst
import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from o2o_lint import focus
from o2o_lint.engine import Analysis, Engine
from o2o_lint.index.build import facts_for_bytes
from o2o_lint.sourcefile import SourceError, decode_source
from tests.fuzz.bait import BAIT, TREE_RULES
from tests.fuzz.mutations import FIXTURES, corpus, mutated_corpus_file
from tests.helpers import engine_for

#: Left out by `pytest -m "not slow"`: hypothesis-generated programs through the engine, tens of seconds.
pytestmark = pytest.mark.slow

#: Examples per test: ~100 each keeps the three tests well under a minute.
EXAMPLES = int(os.environ.get("O2O_FUZZ_EXAMPLES", "0")) or None

FUZZ = settings(
    deadline=None,
    derandomize=os.environ.get("O2O_FUZZ_RANDOM", "") == "",
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large,
                           HealthCheck.large_base_example],
)


def examples(default: int, weight: int = 1) -> settings:
    """*weight*: how many times O2O_FUZZ_EXAMPLES this test runs (its examples are cheaper)."""
    return settings(FUZZ, max_examples=EXAMPLES * weight if EXAMPLES else default)


#: Errors that are a limitation of LibCST, not a bug of ours: the engine declines to fix.
DECLINED = ("LibCST does not reproduce this file byte for byte",)


class Projects:
    """A copy of the fixture projects (the demo one with the bait in it), an engine each,
    and the corpus files that, unmutated, get as far as LibCST."""

    def __init__(self, root: Path) -> None:
        self.root = root
        shutil.copytree(FIXTURES, root, dirs_exist_ok=True)
        (root / "demo" / "extra").mkdir()
        (root / "demo" / "extra" / "__init__.py").write_text("")
        (root / "demo" / "extra" / "models.py").write_text(BAIT)
        self.engines = {p.name: engine_for(p) for p in root.iterdir() if p.is_dir()}
        self.reaching = [(relative, text) for relative, text in _CORPUS if self.analyze(relative, text).module]

    def analyze(self, relative: str, text: str) -> Analysis:
        engine = self.engines[relative.split("/")[0]]
        return engine.analyze(str(self.root / relative), text, fresh_facts=True)

    def check(self, relative: str, text: str) -> None:
        project = relative.split("/")[0]
        check(self.engines[project], str(self.root / project), str(self.root / relative), text)


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> Projects:
    return Projects(tmp_path_factory.mktemp("fuzz"))


_CORPUS = corpus()


def check(engine: Engine, root: str, path: str, text: str) -> None:
    """The properties, for one input."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # generated code: "invalid escape sequence" and the like
        _check(engine, root, path, text)


def _check(engine: Engine, root: str, path: str, text: str) -> None:
    # the index's facts for a file (every file of a project goes through this)
    facts_for_bytes(text.encode("utf-8", "surrogatepass"), path, root)
    analysis = engine.analyze(path, text, fresh_facts=True)
    _event("reached LibCST" if analysis.module is not None else "stopped before LibCST")
    if analysis.findings:
        _event("with findings")
    for finding in analysis.findings:
        assert "internal error" not in finding.message, finding
    unsafe_offered = any(f.fix is not None and not f.fix.safe for f in analysis.findings)
    for unsafe in (True, False) if unsafe_offered else (False,):
        outcome = engine.fix(path, text, unsafe=unsafe, fresh_facts=True)
        assert outcome.error is None or outcome.error.startswith(DECLINED), outcome.error
        for finding in outcome.remaining:
            assert "internal error" not in finding.message, finding
        if outcome.text == text:
            continue
        _event("fixed (unsafe)" if unsafe else "fixed")
        # every fix output re-parses, with both parsers
        ast.parse(outcome.text)
        cst.parse_module(outcome.text)
        # nothing fixable is left, and a second --fix changes nothing
        left = [f for f in outcome.remaining if f.fix is not None and (f.fix.safe or unsafe)]
        assert not left, left
        again = engine.fix(path, outcome.text, unsafe=unsafe, fresh_facts=True)
        assert again.error is None or again.error.startswith(DECLINED), again.error
        assert again.text == outcome.text, "a second --fix changed the text again"
        assert not again.applied


def _event(name: str) -> None:
    if currently_in_test_context():  # statistics for --hypothesis-show-statistics
        event(name)


def _glue(generated: str, where: str) -> str:
    if generated and not generated.endswith("\n"):
        generated += "\n"
    if where == "before":
        return generated + BAIT
    if where == "after":
        return BAIT + generated
    return generated


@pytest.mark.filterwarnings("ignore::SyntaxWarning")  # hypothesmith compiles what it generates
@given(generated=hypothesmith.from_grammar(), where=st.sampled_from(["before", "after", "alone"]))
@examples(100)
@example(generated="x = 1 or 2 or 3\n", where="after")
def test_grammar_generated_programs(projects: Projects, generated: str, where: str) -> None:
    projects.check("demo/extra/models.py", _glue(generated, where))


@pytest.mark.filterwarnings("ignore::SyntaxWarning")
@given(generated=hypothesmith.from_node(), where=st.sampled_from(["before", "after", "alone"]))
@examples(80)
def test_libcst_node_generated_programs(projects: Projects, generated: str, where: str) -> None:
    projects.check("demo/extra/models.py", _glue(generated, where))


@given(data=st.data())
@examples(500, weight=10)
def test_mutated_corpus(projects: Projects, data: st.DataObject) -> None:
    # mostly files the rules look at, sometimes any file of the corpus
    items = data.draw(st.sampled_from([projects.reaching] * 4 + [_CORPUS]), label="pool")
    projects.check(*data.draw(mutated_corpus_file(items), label="file"))


def _findings(projects: Projects, relative: str, text: str, focus_share: float) -> list[tuple]:
    with mock.patch.object(focus, "MAX_FOCUSED_SHARE", focus_share), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        findings = projects.analyze(relative, text).findings
    return [(f.line, f.column, f.code, f.message, f.fix and f.fix.description) for f in findings]


@given(data=st.data())
@examples(150, weight=2)
def test_focused_parsing_never_changes_findings(projects: Projects, data: st.DataObject) -> None:
    """LibCST on the screened statements only, or on the whole file: the same findings."""
    relative, text = data.draw(mutated_corpus_file(projects.reaching), label="file")
    always = _findings(projects, relative, text, 1.0)
    never = _findings(projects, relative, text, -1.0)
    assert always == never
    _event("with findings" if never else "no findings")


#: Coding declarations CPython would look up, odd ones included.
CODINGS = ("utf-8", "latin-1", "cp1252", "ascii", "utf-16", "utf-7", "idna", "punycode", "undefined",
           "unicode_escape", "raw_unicode_escape", "rot13", "hex", "klingon", "euc-jp", "utf-8-sig", "mbcs")


@st.composite
def source_bytes(draw: st.DrawFn) -> bytes:
    """Bytes a file named ``*.py`` may hold: the bait with a coding line, a BOM, bytes
    spliced in, or nothing like source at all."""
    if draw(st.booleans()):
        return draw(st.binary(max_size=400))
    data = BAIT.encode()
    if draw(st.booleans()):
        data = f"# -*- coding: {draw(st.sampled_from(CODINGS))} -*-\n".encode() + data
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
    return data


@given(data=source_bytes())
@examples(300, weight=2)
@example(data=b"# -*- coding: punycode -*-\n" + BAIT.encode())  # raised UnicodeError (sourcefile.py)
@example(data=b"# -*- coding: idna -*-\n" + BAIT.encode())
def test_any_bytes_are_read_or_refused_in_one_line(projects: Projects, data: bytes) -> None:
    path = str(projects.root / "demo" / "extra" / "models.py")
    try:
        source = decode_source(data)
    except SourceError as exc:
        assert str(exc) and "\n" not in str(exc)
        _event("refused")
        return
    _event("decoded")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        facts_for_bytes(data, path, str(projects.root / "demo"))
    check(projects.engines["demo"], str(projects.root / "demo"), path, source.text)
    # --fix writes only when the file's bytes round-trip through its encoding (runner.py)
    try:
        round_trips = source.encode(source.text) == data
    except UnicodeError:  # `coding: idna`: decodes, but will not encode lines as labels
        round_trips = False
    if not round_trips:
        _event("encoding does not round-trip: --fix declines")


def test_the_corpus_reaches_the_rules(projects: Projects) -> None:
    """Unmutated, the corpus produces findings of every tree rule (else the fuzzing of the
    rules' visitors and fixes would be shallow), and passes the properties."""
    codes = set()
    for relative, text in _CORPUS:
        codes |= {f.code for f in projects.analyze(relative, text).findings}
        projects.check(relative, text)
    assert codes >= set(TREE_RULES)
    assert len(projects.reaching) >= 20
