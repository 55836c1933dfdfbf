"""The rule API, without LibCST: what the engine asks of a rule before any LibCST parse.

A rule has two parts. Its :class:`Rule` (a rule package's ``screen.py``) says what the
rule is (code, name, summary, fixability, flags) and holds its screens and its other
LibCST-free hooks. Its visitor (the package's ``rule.py``: a
:class:`o2o_lint.rules.visitor.LintRule` subclass of that class) walks the LibCST tree;
its docstring explains the trap and ``VALID``/``INVALID`` snippets (Fixit's idea) are its
tests and its documentation examples. The engine asks every enabled rule's
:meth:`Rule.screen` first, on raw text and the file's index facts, and parses the file
with LibCST only when some rule may fire: most files of a project never pay for a
LibCST parse, and a run where none does never imports LibCST or a visitor.

The core names no rule. What a rule needs beyond one file's syntax tree, it declares
through small hooks:

* per-file facts of its own, extracted on the stdlib ``ast`` with the index's facts
  (a ``facts.py`` module in the rule's package exposing ``EXTRACTOR``, see
  :class:`o2o_lint.index.facts.FactsExtractor`), stored under its code and cached;
* a project view: any ``factory(index)``, built lazily once per index with
  :meth:`o2o_lint.index.model.ProjectIndex.view`;
* :meth:`Rule.review`: a rule that judges the other rules' findings of a file
  before ``# noqa`` is applied (``reviews_findings``), instead of visiting its tree;
* :meth:`Rule.check_template`: a rule that reads Django templates
  (``reads_templates``) gets each template file of the project (never with a fix);
* declarative cross-file effects the runner reads: ``fix_changes_relations`` and
  ``findings_outlive_relation_change``; ``after_fix``, the next step ``--fix`` tells the
  user once it has written one of the rule's fixes.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, Union

from o2o_lint.findings import Finding

#: What :meth:`Rule.screen_tree` answers: a verdict, or the lines a finding may be near.
TreeScreen = Union[bool, Collection[int]]
_T = TypeVar("_T")

if TYPE_CHECKING:
    import libcst as cst
    from libcst.metadata import CodeRange

    from o2o_lint.config import Settings
    from o2o_lint.index.facts import Facts
    from o2o_lint.index.model import ProjectIndex
    from o2o_lint.rules.visitor import LintRule


class Fixability(str, Enum):
    """Whether a rule's findings come with a fix: equal to the strings ``--list-rules`` prints."""

    ALWAYS = "always"
    SOMETIMES = "sometimes"
    NEVER = "never"

    __str__ = str.__str__
    __format__ = str.__format__


@dataclass(frozen=True)
class Valid:
    """A snippet the rule must not report, written as ``app/models.py`` of a throwaway
    project, with *files* (path -> source) beside it.

    The test runner (``tests.helpers.rule_cases``) drops the newline right after the
    opening quotes of *code*, *files* and :class:`Invalid`'s *expected_fix*, then dedents
    them: a case can be a triple-quoted block indented with the rule's code.
    Nothing is done on creation, so that importing the rules stays cheap.

    *id* is a short kebab-case name, unique among the rule's cases; the test runner uses
    it as the pytest id (``OTO123-valid-plain-foreign-key``), or the case's position
    (``OTO123-valid-0``) without one. *path* is where *code* is written instead of
    ``app/models.py``: a template (``app/templates/app/page.html``) makes it a template case.
    """

    code: str
    files: dict[str, str] = field(default_factory=dict)  # other project files, path -> source
    target_version: tuple[int, int] | None = None
    id: str | None = None
    path: str | None = None


@dataclass(frozen=True)
class Invalid:
    """A snippet the rule must report (see :class:`Valid` for *code*, *files* and *id*).

    *range* is where the first finding must be, as
    ``(line, column, end_line, end_column)`` of :class:`~o2o_lint.findings.Finding`:
    lines 1-based, columns 0-based, counted in the dedented snippet. ``None``: not checked.
    """

    code: str
    expected_fix: str | None = None  # the whole fixed file; None: no fix offered
    expected_messages: Sequence[str] = ()  # substrings, one per finding, in order
    unsafe: bool = False  # the fix is offered as unsafe
    files: dict[str, str] = field(default_factory=dict)
    target_version: tuple[int, int] | None = None
    id: str | None = None
    range: tuple[int, int, int, int] | None = None
    path: str | None = None


@dataclass
class FileContext:
    """What a rule sees of the file being checked and of the project."""

    path: str
    text: str
    facts: Facts
    index: ProjectIndex
    settings: Settings
    wrapper: cst.MetadataWrapper | None = None
    #: Every code enabled for this file (the rules', and the parse-error code's when it is).
    enabled_codes: frozenset[str] = frozenset()
    #: What rules computed for this text (:meth:`memo`); a context made for another text
    #: (``dataclasses.replace``) starts with none.
    _memo: dict[object, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def memo(self, key: object, compute: Callable[[], _T]) -> _T:
        """``compute()``, computed once per file text and *key*: a rule's screens and its
        visitor share one result under a key the rule owns."""
        try:
            return self._memo[key]  # type: ignore[no-any-return]
        except KeyError:
            result = self._memo[key] = compute()
            return result

    def positions(self) -> Mapping[cst.CSTNode, CodeRange]:
        """Start and end of every node, computed on first use and shared by all rules."""
        from libcst.metadata import PositionProvider  # loaded already: the file is being visited

        assert self.wrapper is not None, "positions are only known while the file is visited"
        return self.wrapper.resolve(PositionProvider)

    @property
    def abspath(self) -> str:
        return os.path.abspath(self.path)

    @property
    def module_name(self) -> str:
        return self.facts["module"]

    def resolve(self, dotted: str) -> str | None:
        return self.index.resolve(self.module_name, dotted)


@dataclass
class TemplateContext:
    """What a rule sees of a template file (:mod:`o2o_lint.index.templates`) and of the project."""

    path: str
    text: str
    index: ProjectIndex
    settings: Settings

    def finding(self, code: str, line: int, column: int, end_column: int, message: str) -> Finding:
        """A finding on one line of the template; templates are never fixed."""
        return Finding(path=self.path, line=line, column=column, code=code, message=message,
                       end_line=line, end_column=end_column)


class Rule:
    """A rule as the engine knows it before LibCST: what it is, and its screens.

    Each rule's subclass lives in a module that imports no LibCST (a rule package's
    ``screen.py``); the rule's visitor subclasses it (:meth:`visitor`). A rule that only
    reviews findings or reads templates needs no visitor and may be this class alone.
    """

    code: ClassVar[str]
    name: ClassVar[str]  # kebab-case, as ruff names rules
    summary: ClassVar[str]
    fixable: ClassVar[Fixability] = Fixability.SOMETIMES
    #: Off unless selected by its own code (``--extend-select OTOnnn``), even under ``OTO``.
    opt_in: ClassVar[bool] = False
    #: The rule judges the other rules' findings of a file in :meth:`review` (before
    #: ``# noqa`` is applied) instead of visiting its syntax tree.
    reviews_findings: ClassVar[bool] = False
    #: A fix of this rule changes the relations every file sees (a field's kind): after
    #: ``--fix`` writes one, the runner checks (and fixes) every file again.
    fix_changes_relations: ClassVar[bool] = False
    #: A finding of this rule is code that a relation-changing fix breaks: once such a fix
    #: is applied no rule sees it any more, so the runner keeps it reported.
    findings_outlive_relation_change: ClassVar[bool] = False
    #: What is left to do once ``--fix`` has written a fix of this rule (a migration to
    #: make, ...): printed once under the list of fixed files.
    after_fix: ClassVar[str] = ""
    #: The rule reads template files (:meth:`check_template`), not only Python modules.
    reads_templates: ClassVar[bool] = False
    VALID: ClassVar[Sequence[str | Valid]] = ()
    INVALID: ClassVar[Sequence[str | Invalid]] = ()

    @classmethod
    def screen(cls, context: FileContext) -> bool:
        """Cheap test on text and facts: False means this file cannot hold a finding."""
        return True

    @classmethod
    def screen_tree(cls, context: FileContext, tree: ast.Module) -> TreeScreen:
        """A second, finer screen on the file's ``ast`` (parsed anyway before LibCST).

        False: no finding here. True: a finding may be anywhere. Line numbers: findings
        can only lie in the statements around these lines (a function, a method), and the
        engine parses just those first (see :mod:`o2o_lint.focus`).
        """
        return True

    @classmethod
    def review(cls, context: FileContext, findings: Sequence[Finding]) -> list[Finding]:
        """For ``reviews_findings`` rules: findings about the file's other findings
        (every enabled rule's, before ``# noqa``)."""
        return []

    @classmethod
    def check_template(cls, context: TemplateContext) -> list[Finding]:
        """For ``reads_templates`` rules: the findings of one template file (no fixes)."""
        return []

    @classmethod
    def visitor(cls) -> type[LintRule]:
        """The rule's LibCST visitor class, imported on first use (with LibCST)."""
        from o2o_lint.rules import visitor_of

        return visitor_of(cls)
