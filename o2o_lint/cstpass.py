"""The engine's LibCST layer: one parse and one batched visit of a file, and fixes.

Imported only once a file passes some rule's screens (:mod:`o2o_lint.engine`), or a fix
or its edits are computed (:mod:`o2o_lint.edits`): a run where no file needs a visitor
never loads LibCST (about 0.2 s of a cold run's start-up).
"""

from __future__ import annotations

import libcst as cst
from libcst import ParserSyntaxError
from libcst._nodes.internal import CodegenState

from o2o_lint.findings import Finding, Fix, Replacement, parse_error
from o2o_lint.rules.base import FileContext
from o2o_lint.rules.visitor import LintRule

__all__ = ["ParserSyntaxError", "apply_fixes", "fixed_codes", "parse_and_visit"]


def parse_and_visit(context: FileContext, visitors: list[type[LintRule]]) -> tuple[list[Finding], cst.Module | None]:
    """The findings of *visitors* on ``context.text`` (one LibCST parse, one batched
    traversal), and the parsed module; a parse error is one finding and no module."""
    path, text = context.path, context.text
    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        return [parse_error(path, f"cannot parse: {exc.message}", exc.raw_line, exc.raw_column)], None
    except (RecursionError, MemoryError) as exc:
        return [parse_error(path, f"cannot parse: {type(exc).__name__}")], None
    instances = [visitor(context) for visitor in visitors]
    try:
        wrapper = context.wrapper = cst.MetadataWrapper(module, unsafe_skip_copy=True)
        wrapper.visit_batched(instances)
    except RecursionError:
        return [parse_error(path, "cannot parse: too deeply nested to analyse")], None
    return [finding for instance in instances for finding in instance.findings], module


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
