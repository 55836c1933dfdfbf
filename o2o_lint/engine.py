"""The analysis engine every front end calls: one file in, findings (and fixes) out.

Order of work for a file, cheapest first: text screens of the enabled rules; the
stdlib ``ast`` parse (:func:`o2o_lint.syntax.parse_module`: any Python 3.8 to 3.14
syntax, clean syntax errors, and a guard against inputs that crash LibCST's native
parser); tree screens; then, for a file some rule's screens let through, one LibCST
parse and one batched traversal shared by the visitors of those rules
(:mod:`o2o_lint.cstpass`). The screens are the rules' LibCST-free
:class:`~o2o_lint.rules.base.Rule` classes: LibCST and the visitors are imported only
once a file needs them.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from o2o_lint.config import Settings, selector_matches
from o2o_lint.discovery import is_template_path
from o2o_lint.findings import PARSE_ERROR_CODE, Finding, parse_error
from o2o_lint.focus import focused_source
from o2o_lint.index.facts import Facts, facts_for_tree
from o2o_lint.index.model import ProjectIndex
from o2o_lint.noqa import filter_suppressed_in
from o2o_lint.rules import all_screens
from o2o_lint.rules.base import FileContext, Rule, TemplateContext
from o2o_lint.sourcefile import apply_line_edits
from o2o_lint.syntax import parse_module

if TYPE_CHECKING:
    import libcst as cst

#: Deeper syntax trees crash LibCST's native parser or overflow Python's stack in its visitors.
MAX_SYNTAX_DEPTH = 400
#: ruff's approach: fix, re-check, repeat; a fix that keeps producing fixes is a bug.
MAX_FIX_ITERATIONS = 10


@dataclass
class Analysis:
    findings: list[Finding]
    module: cst.Module | None = None


@dataclass
class FixOutcome:
    text: str
    applied: list[Finding] = field(default_factory=list)
    remaining: list[Finding] = field(default_factory=list)
    error: str | None = None


def syntax_depth(tree: ast.AST) -> int:
    """How deep LibCST's tree for *tree* will be, at least.

    Mostly the ``ast`` depth, but ``a or b or c`` is one flat ``ast.BoolOp`` and a chain
    of nested ``BooleanOperation`` nodes in LibCST: 20,000 ``or`` terms (a depth of 5
    here) would crash LibCST's native parser. Dotted names in imports are plain strings
    in ``ast`` and nested ``Attribute`` nodes in LibCST.
    """
    deepest = 0
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > deepest:
            deepest = depth
            if deepest > MAX_SYNTAX_DEPTH:
                return deepest
        if isinstance(node, ast.BoolOp):
            step = len(node.values)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            # `import a.b.c` is a string here and nested Attribute nodes in LibCST
            names = [alias.name for alias in node.names] + [getattr(node, "module", None) or ""]
            step = 1 + max(name.count(".") for name in names)
        else:
            step = 1
        stack.extend((child, depth + step) for child in ast.iter_child_nodes(node))
    return deepest


class Engine:
    def __init__(self, index: ProjectIndex, settings: Settings, *, root: str | None = None) -> None:
        self.index = index
        self.settings = settings
        self.root = root or os.getcwd()
        self.rules = [
            rule for code, rule in all_screens().items()
            if (settings.opt_in_enabled(code) if rule.opt_in else settings.code_enabled(code))
        ]
        self._error_code_enabled = settings.code_enabled(PARSE_ERROR_CODE)

    def _rules_for(self, path: str) -> list[type[Rule]]:
        if not self.settings.per_file_ignores:
            return self.rules
        ignored = self.settings.ignored_for_path(os.path.relpath(os.path.abspath(path), self.root).replace(os.sep, "/"))
        if not ignored:
            return self.rules
        return [r for r in self.rules if not any(selector_matches(code, r.code) >= 0 for code in ignored)]

    def facts_for(self, path: str, tree: ast.Module, text: str | None = None) -> Facts:
        return facts_for_tree(tree, os.path.abspath(path), self.root, text)

    def analyze(
        self, path: str, text: str, *, apply_noqa: bool = True, tree: ast.Module | None = None, fresh_facts: bool = False
    ) -> Analysis:
        """Findings for *text*.

        *tree* is ``ast.parse(text)`` when the caller has it (flake8 does); *fresh_facts*
        says *text* may differ from what the index read from disk (stdin, a fix pass).
        Never raises: whatever goes wrong with one file is one parse-error finding for it.
        """
        try:
            return self._analyze_text(path, text, apply_noqa=apply_noqa, tree=tree, fresh_facts=fresh_facts)
        except RecursionError:
            return Analysis([parse_error(path, "cannot parse: too deeply nested to analyse")])
        except MemoryError:
            return Analysis([parse_error(path, "cannot parse: out of memory")])
        except Exception as exc:
            return Analysis([internal_error(path, exc)])

    def _analyze_text(
        self, path: str, text: str, *, apply_noqa: bool, tree: ast.Module | None, fresh_facts: bool
    ) -> Analysis:
        rules = self._rules_for(path)
        if not rules:
            return Analysis([])
        if is_template_path(path):
            return self._analyze_template(path, text, rules, apply_noqa)
        facts = None if fresh_facts else self.index.facts_by_path.get(os.path.abspath(path))
        if facts is None:
            if tree is None:
                tree, error = _parse_ast(path, text)
                if error is not None:
                    return Analysis([error])
            facts = self.facts_for(path, tree, text)
            # Names in this text resolve through its own imports, not the saved file's
            # (an editor buffer, a file not on disk yet, a fix pass that added an import).
            with self.index.overlay(os.path.abspath(path), facts, text):
                return self._analyze(path, text, facts, rules, tree, apply_noqa)
        return self._analyze(path, text, facts, rules, tree, apply_noqa)

    def _analyze_template(self, path: str, text: str, rules: list[type[Rule]], apply_noqa: bool) -> Analysis:
        """A template file: only rules that read templates, each on the raw text; a
        ``{# noqa: CODE #}`` on the finding's line suppresses it."""
        context = TemplateContext(path=path, text=text, index=self.index, settings=self.settings)
        findings = [finding for rule in rules if rule.reads_templates for finding in rule.check_template(context)]
        if apply_noqa:
            findings = filter_suppressed_in(path, findings, text)
        findings.sort(key=lambda f: f.sort_key)
        return Analysis(findings)

    def _analyze(
        self, path: str, text: str, facts: Facts, rules: list[type[Rule]], tree: ast.Module | None, apply_noqa: bool
    ) -> Analysis:
        if facts.get("looks_like_migration"):
            return Analysis([])
        enabled = frozenset(rule.code for rule in rules) | ({PARSE_ERROR_CODE} if self._error_code_enabled else frozenset())
        context = FileContext(path=path, text=text, facts=facts, index=self.index, settings=self.settings,
                              enabled_codes=enabled)
        analysis = self._visit_rules(context, [rule for rule in rules if not rule.reviews_findings], tree)
        if any(finding.code == PARSE_ERROR_CODE for finding in analysis.findings):
            return analysis
        for reviewer in rules:
            if reviewer.reviews_findings and reviewer.screen(context):
                analysis.findings += reviewer.review(context, list(analysis.findings))
        if apply_noqa:
            analysis.findings = filter_suppressed_in(path, analysis.findings, text)
        analysis.findings.sort(key=lambda f: f.sort_key)
        return analysis

    def _visit_rules(self, context: FileContext, rules: list[type[Rule]], tree: ast.Module | None) -> Analysis:
        """The findings of the visiting *rules*, before ``# noqa``: screens first, then one
        LibCST parse (of the flagged statements first, when the tree screens allow)."""
        path, text = context.path, context.text
        candidates = [rule for rule in rules if rule.screen(context)]
        if not candidates:
            return Analysis([])
        if tree is None:
            tree, error = _parse_ast(path, text)
            if error is not None:
                return Analysis([error])
        # screen_tree walks iteratively (safe at any depth); the depth guard, a walk of its
        # own, is only needed in front of LibCST
        verdicts = [(rule, rule.screen_tree(context, tree)) for rule in candidates]
        candidates = [rule for rule, verdict in verdicts if verdict]
        if not candidates:
            return Analysis([])
        if syntax_depth(tree) > MAX_SYNTAX_DEPTH:
            return Analysis([parse_error(path, f"cannot parse: expressions nested deeper than {MAX_SYNTAX_DEPTH} levels")])
        if all(verdict is not True for _, verdict in verdicts):
            lines = {line for _, verdict in verdicts if verdict for line in verdict}  # type: ignore[union-attr]
            focused = focused_source(text, tree, lines)
            if focused is not None:
                screened = self._visit(replace(context, text=focused), candidates)
                if not screened.findings:
                    return Analysis([])
                # something there (or the focused text did not parse): the whole file decides
        return self._visit(context, candidates)

    def _visit(self, context: FileContext, rules: list[type[Rule]]) -> Analysis:
        """One LibCST parse of ``context.text`` and one batched traversal by the visitors of *rules*."""
        from o2o_lint.cstpass import parse_and_visit  # LibCST: only for a file some screens let through

        findings, module = parse_and_visit(context, [rule.visitor() for rule in rules])
        return Analysis(findings, module)

    def fix(self, path: str, text: str, *, unsafe: bool = False, fresh_facts: bool = False,
            only: Collection[str] | None = None) -> FixOutcome:
        """Apply fixes (of the rules *only* names, if given) until none applies; never
        return text that does not parse.

        Tree fixes go first; text edits (a comment's codes) only in a round where no tree
        fix is left, since they are positions in the text as analysed."""
        outcome = FixOutcome(text)
        tree: ast.Module | None = None
        original: list[Finding] | None = None
        for _ in range(MAX_FIX_ITERATIONS):
            analysis = self.analyze(path, outcome.text, tree=tree, fresh_facts=fresh_facts or tree is not None)
            outcome.remaining = analysis.findings
            if original is None:
                original = analysis.findings
            applicable = [f for f in analysis.findings if f.fix is not None and (f.fix.safe or unsafe)
                          and (only is None or f.code in only)]
            on_tree = [f for f in applicable if f.fix is not None and not f.fix.edits_text]
            if on_tree and analysis.module is None:
                return outcome
            chosen = _non_overlapping(on_tree or applicable)
            if not chosen:
                return outcome
            failures: tuple[type[BaseException], ...] = (SyntaxError, ValueError, RecursionError, MemoryError)
            if on_tree:  # the file was visited: LibCST is loaded
                from o2o_lint.cstpass import ParserSyntaxError, apply_fixes

                failures += (ParserSyntaxError,)
            try:
                if not on_tree:
                    new_text = apply_line_edits(outcome.text, [edit for f in chosen if f.fix for edit in f.fix.text_edits])
                elif analysis.module is not None and analysis.module.code != outcome.text:
                    # e.g. libcst 1.9 drops a final lone "\r": it would cost bytes nobody asked to change
                    return _unfixed(outcome, text, original, "LibCST does not reproduce this file byte for byte")
                else:
                    assert analysis.module is not None
                    new_text = apply_fixes(analysis.module, [f.fix for f in chosen if f.fix]).code
                tree = parse_module(new_text, filename=path)
            except failures as exc:
                return _unfixed(outcome, text, original, f"a fix produced code that does not parse ({_describe(exc)})")
            except Exception as exc:
                return _unfixed(outcome, text, original, f"a fix failed ({_describe(exc)})")
            if new_text == outcome.text:
                return outcome
            outcome.text = new_text
            outcome.applied.extend(chosen)
        outcome.remaining = self.analyze(path, outcome.text).findings
        return outcome


def _describe(exc: BaseException) -> str:
    try:
        message = str(exc)
    except Exception:  # str() of an exception raised by a recursion overflow may fail too
        message = ""
    message = message.splitlines()[0][:200] if message else ""
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def internal_error(path: str, exc: BaseException) -> Finding:
    """A bug of o2o-lint's, not the user's: one line, and the run goes on."""
    return parse_error(path, f"internal error while checking this file ({_describe(exc)}); please report it")


def _unfixed(outcome: FixOutcome, text: str, original: list[Finding] | None, problem: str) -> FixOutcome:
    outcome.error = f"{problem}; the file was left unchanged"
    outcome.text = text
    outcome.applied = []
    outcome.remaining = list(original or [])
    return outcome


def _parse_ast(path: str, text: str) -> tuple[ast.Module | None, Finding | None]:
    try:
        return parse_module(text, filename=path), None
    except SyntaxError as exc:
        return None, parse_error(path, f"cannot parse: {exc.msg}", exc.lineno or 1, (exc.offset or 1) - 1)
    except (ValueError, RecursionError, MemoryError) as exc:
        return None, parse_error(path, f"cannot parse: {type(exc).__name__}: {exc}")


def _non_overlapping(findings: list[Finding]) -> list[Finding]:
    chosen: list[Finding] = []
    for finding in findings:
        assert finding.fix is not None
        if all(not finding.fix.overlaps(other.fix) for other in chosen if other.fix):
            chosen.append(finding)
    return chosen
