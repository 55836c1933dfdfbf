"""The analysis engine every front end calls: one file in, findings (and fixes) out.

Order of work for a file, cheapest first: text screens of the enabled rules; the
stdlib ``ast`` parse (:func:`o2o_lint.syntax.parse_module`: any Python 3.8 to 3.14
syntax, clean syntax errors, and a guard against inputs that crash LibCST's native
parser); one LibCST parse with only the metadata the rules asked
for; one batched traversal shared by all rules.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Collection
from dataclasses import dataclass, field, replace

import libcst as cst
from libcst._nodes.internal import CodegenState

from o2o_lint.config import Settings, selector_matches
from o2o_lint.discovery import is_template_path
from o2o_lint.findings import PARSE_ERROR_CODE, Finding, Fix, Replacement, parse_error
from o2o_lint.focus import focused_source
from o2o_lint.index.facts import Facts, facts_for_tree
from o2o_lint.index.model import ProjectIndex
from o2o_lint.noqa import filter_suppressed_in
from o2o_lint.rules import all_rules
from o2o_lint.rules.base import FileContext, LintRule, TemplateContext
from o2o_lint.sourcefile import apply_line_edits
from o2o_lint.syntax import parse_module

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
            rule for code, rule in all_rules().items()
            if (settings.opt_in_enabled(code) if rule.opt_in else settings.code_enabled(code))
        ]
        self._error_code_enabled = settings.code_enabled(PARSE_ERROR_CODE)

    def _rules_for(self, path: str) -> list[type[LintRule]]:
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

    def _analyze_template(self, path: str, text: str, rules: list[type[LintRule]], apply_noqa: bool) -> Analysis:
        """A template file: only rules that read templates, each on the raw text; a
        ``{# noqa: CODE #}`` on the finding's line suppresses it."""
        context = TemplateContext(path=path, text=text, index=self.index, settings=self.settings)
        findings = [finding for rule in rules if rule.reads_templates for finding in rule.check_template(context)]
        if apply_noqa:
            findings = filter_suppressed_in(path, findings, text)
        findings.sort(key=lambda f: f.sort_key)
        return Analysis(findings)

    def _analyze(
        self, path: str, text: str, facts: Facts, rules: list[type[LintRule]], tree: ast.Module | None, apply_noqa: bool
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

    def _visit_rules(self, context: FileContext, rules: list[type[LintRule]], tree: ast.Module | None) -> Analysis:
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

    def _visit(self, context: FileContext, rules: list[type[LintRule]]) -> Analysis:
        """One LibCST parse of ``context.text`` and one batched traversal by *rules*."""
        path, text = context.path, context.text
        try:
            module = cst.parse_module(text)
        except cst.ParserSyntaxError as exc:
            return Analysis([parse_error(path, f"cannot parse: {exc.message}", exc.raw_line, exc.raw_column)])
        except (RecursionError, MemoryError) as exc:
            return Analysis([parse_error(path, f"cannot parse: {type(exc).__name__}")])
        visitors = [rule(context) for rule in rules]
        try:
            wrapper = context.wrapper = cst.MetadataWrapper(module, unsafe_skip_copy=True)
            wrapper.visit_batched(visitors)
        except RecursionError:
            return Analysis([parse_error(path, "cannot parse: too deeply nested to analyse")])
        return Analysis([finding for visitor in visitors for finding in visitor.findings], module)

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
            except (SyntaxError, ValueError, RecursionError, MemoryError, cst.ParserSyntaxError) as exc:
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


class _ReplaceNodes(cst.CSTTransformer):
    def __init__(self, replacements: dict[cst.CSTNode, Replacement]) -> None:
        super().__init__()
        self.replacements = replacements

    def on_leave(self, original_node, updated_node):  # type: ignore[override]
        replacement = self.replacements.get(original_node)
        return updated_node if replacement is None else replacement


class _RecordingCodegenState(CodegenState):
    """Code generation that also notes where the code of some nodes starts and ends (as
    token indices: cheap while generating, turned into offsets once at the end)."""

    __slots__ = ("wanted", "spans", "_starts")

    def __init__(self, module: cst.Module, wanted: set[cst.CSTNode]) -> None:
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.wanted = wanted
        self.spans: dict[cst.CSTNode, list[tuple[int, int]]] = {}
        self._starts: list[int] = []

    def before_codegen(self, node: cst.CSTNode) -> None:
        if node in self.wanted:
            self._starts.append(len(self.tokens))

    def after_codegen(self, node: cst.CSTNode) -> None:
        if node in self.wanted:
            self.spans.setdefault(node, []).append((self._starts.pop(), len(self.tokens)))


def _generate(module: cst.Module, wanted: set[cst.CSTNode]) -> tuple[str, dict[cst.CSTNode, tuple[int, int]]] | None:
    """*module*'s code and the character span of every node of *wanted* in it (owned
    whitespace included); None when one of them is not generated exactly once."""
    state = _RecordingCodegenState(module, wanted)
    module._codegen(state)
    offsets = [0]
    for token in state.tokens:
        offsets.append(offsets[-1] + len(token))
    last = len(state.tokens)
    spans = {}
    for node in wanted:
        found = state.spans.get(node)
        if found is None or len(found) != 1:
            return None
        start, end = found[0]
        spans[node] = (offsets[min(start, last)], offsets[min(end, last)])
    return "".join(state.tokens), spans


def _replaces_nodes_only(fix: Fix) -> bool:
    return bool(fix.replacements) and not fix.add_imports and not fix.remove_imports and all(
        isinstance(new, cst.CSTNode) or isinstance(new, cst.FlattenSentinel) and len(new.nodes) > 0
        for new in fix.replacements.values()
    )


def _fixed_together(module: cst.Module, fixes: list[Fix]) -> list[str] | None:
    """Each fix's result alone, from one transformation applying them all and two code
    generations; None when that cannot be shown to give what each would give alone.

    A replaced node's code is a contiguous piece of the module's code that depends only
    on the node and its ancestors (their indentation), so when the replaced nodes do not
    nest, each fix alone gives the original code with its own nodes' pieces replaced by
    the pieces their replacements generate in the combined module; the combined code
    must be exactly the original with every piece replaced, or nothing is trusted.
    """
    replacements: dict[cst.CSTNode, Replacement] = {}
    for fix in fixes:
        for old, new in fix.replacements.items():
            if old in replacements:
                return None
            replacements[old] = new
    original = _generate(module, set(replacements))
    if original is None:
        return None
    code, old_spans = original
    ordered = sorted(replacements, key=lambda node: old_spans[node])
    if any(old_spans[a][1] > old_spans[b][0] for a, b in zip(ordered, ordered[1:])):
        return None  # nested or overlapping replacements: a fix alone would differ
    new_nodes = {node for new in replacements.values()
                 for node in (new.nodes if isinstance(new, cst.FlattenSentinel) else (new,))}
    combined = _generate(module.visit(_ReplaceNodes(replacements)), new_nodes)
    if combined is None:
        return None
    combined_code, new_spans = combined
    pieces: dict[cst.CSTNode, str] = {}
    for old, new in replacements.items():
        nodes = new.nodes if isinstance(new, cst.FlattenSentinel) else (new,)
        pieces[old] = combined_code[new_spans[nodes[0]][0]:new_spans[nodes[-1]][1]]

    def rewrite(olds: list[cst.CSTNode]) -> str:
        parts, position = [], 0
        for old in sorted(olds, key=lambda node: old_spans[node]):
            start, end = old_spans[old]
            parts += [code[position:start], pieces[old]]
            position = end
        parts.append(code[position:])
        return "".join(parts)

    if rewrite(ordered) != combined_code:
        return None
    return [rewrite(list(fix.replacements)) for fix in fixes]


def fixed_codes(module: cst.Module, fixes: list[Fix]) -> list[str | None]:
    """``apply_fixes(module, [fix]).code`` for each fix (None: the fix failed), in as few
    whole-module passes as possible: the fixes that only replace nodes share one
    transformation (:func:`_fixed_together`); a fix that adds or removes imports, or that
    cannot be shown to give the same result that way, gets its own."""
    results: list[str | None] = [None] * len(fixes)
    alone = list(range(len(fixes)))
    shared = [i for i in alone if _replaces_nodes_only(fixes[i])]
    if len(shared) > 1:
        try:
            together = _fixed_together(module, [fixes[i] for i in shared])
        except Exception:  # noqa: BLE001 - then each fix is tried alone, as before
            together = None
        if together is not None:
            for i, code in zip(shared, together):
                results[i] = code
            alone = [i for i in alone if i not in set(shared)]
    for i in alone:
        try:
            results[i] = apply_fixes(module, [fixes[i]]).code
        except Exception:  # noqa: BLE001 - a broken fix must not break the report
            results[i] = None
    return results


def apply_fixes(module: cst.Module, fixes: list[Fix]) -> cst.Module:
    replacements: dict[cst.CSTNode, Replacement] = {}
    for fix in fixes:
        replacements.update(fix.replacements)
    if replacements:
        module = module.visit(_ReplaceNodes(replacements))
    # imported here: libcst.codemod pulls in libcst.matchers, 120 ms that a check never needs
    from libcst.codemod import CodemodContext
    from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor

    context = CodemodContext(full_package_name=next((fix.package for fix in fixes if fix.package), None))
    additions = [item for fix in fixes for item in fix.add_imports]
    removals = [item for fix in fixes for item in fix.remove_imports]
    if additions:
        for module_name, obj in additions:
            AddImportsVisitor.add_needed_import(context, module_name, obj)
        module = AddImportsVisitor(context).transform_module(module)
    if removals:
        for module_name, obj, alias in removals:
            RemoveImportsVisitor.remove_unused_import(context, module_name, obj, alias)
        module = RemoveImportsVisitor(context).transform_module(module)
    return module
