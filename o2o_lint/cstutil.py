"""Small LibCST helpers shared by rules and fixes."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence

import libcst as cst


def dotted(node: cst.BaseExpression) -> str | None:
    """``models.ForeignKey`` for the expression ``models.ForeignKey``; None otherwise."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr.value}" if base else None
    return None


def keyword_arg(call: cst.Call, name: str) -> cst.Arg | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


def is_true(node: cst.BaseExpression) -> bool:
    # not libcst.matchers: importing it costs every run (flake8's included) 120 ms
    return isinstance(node, cst.Name) and node.value == "True"


def _comments(whitespace: cst.BaseParenthesizableWhitespace) -> bool:
    if isinstance(whitespace, cst.ParenthesizedWhitespace):
        return whitespace.first_line.comment is not None or any(
            line.comment is not None for line in whitespace.empty_lines
        )
    return False


def _merge_whitespace(
    kept: cst.BaseParenthesizableWhitespace, removed: cst.BaseParenthesizableWhitespace
) -> cst.BaseParenthesizableWhitespace:
    """Whitespace after a kept comma that now also spans a removed argument, comments kept."""
    if not isinstance(removed, cst.ParenthesizedWhitespace):
        return kept
    if not isinstance(kept, cst.ParenthesizedWhitespace):
        return removed
    first_line = kept.first_line
    moved: list[cst.EmptyLine] = []
    if removed.first_line.comment is not None:
        if first_line.comment is None:
            first_line = first_line.with_changes(
                whitespace=removed.first_line.whitespace, comment=removed.first_line.comment
            )
        else:
            moved.append(cst.EmptyLine(indent=kept.indent, whitespace=kept.last_line, comment=removed.first_line.comment))
    return kept.with_changes(
        first_line=first_line,
        empty_lines=[*kept.empty_lines, *moved, *removed.empty_lines],
        indent=removed.indent,
        last_line=removed.last_line,
    )


def remove_arg(args: Sequence[cst.Arg], index: int) -> list[cst.Arg]:
    """Drop ``args[index]`` keeping the call's layout, trailing comma and comments."""
    result = list(args)
    removed = result.pop(index)
    is_last = index == len(result)
    if index == 0 or not isinstance(removed.comma, cst.Comma) and not is_last:
        return result
    previous = result[index - 1]
    if is_last:
        if isinstance(removed.comma, cst.Comma):
            comma = removed.comma
            if isinstance(previous.comma, cst.Comma):
                comma = previous.comma.with_changes(
                    whitespace_after=_merge_whitespace(previous.comma.whitespace_after, removed.comma.whitespace_after)
                )
            result[index - 1] = previous.with_changes(comma=comma)
        elif isinstance(previous.comma, cst.Comma) and not _comments(previous.comma.whitespace_after):
            result[index - 1] = previous.with_changes(comma=cst.MaybeSentinel.DEFAULT)
    elif isinstance(previous.comma, cst.Comma) and isinstance(removed.comma, cst.Comma) and _comments(removed.comma.whitespace_after):
        result[index - 1] = previous.with_changes(
            comma=previous.comma.with_changes(
                whitespace_after=_merge_whitespace(previous.comma.whitespace_after, removed.comma.whitespace_after)
            )
        )
    return result


#: Per LibCST node class, the names of its fields (where its children live).
_FIELDS: dict[type, tuple[str, ...]] = {}


def child_nodes(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The nodes ``node.children`` lists (whitespace included), read from the node's fields.

    ``CSTNode.children`` runs a visit that rebuilds *node*: a rule walking a long
    function's body through it spent most of its time there. The order may differ; the
    nodes are the same objects (tested on real code)."""
    names = _FIELDS.get(type(node))
    if names is None:
        names = _FIELDS[type(node)] = tuple(field.name for field in dataclasses.fields(node))
    for name in names:
        value = getattr(node, name)
        if isinstance(value, cst.CSTNode):
            yield value
        elif isinstance(value, (list, tuple)):
            for item in value:
                if isinstance(item, cst.CSTNode):
                    yield item
