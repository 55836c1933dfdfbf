"""Every place a Python module names a relation of a model: what Django (and Django REST
framework) read by name, found on the stdlib ``ast`` of one module.

A relation's accessor is named not only as an attribute (``company.invoice_set``) but as
a string Django or DRF resolves at run time:

* ``getattr(company, "invoice_set")`` / ``hasattr(company, "invoice_set")``;
* a ``prefetch_related`` lookup, each ``__``-separated segment of it, in
  ``prefetch_related("company__invoice_set")``, ``Prefetch("invoice_set", ...)`` and
  ``prefetch_related_objects(objs, "invoice_set")`` (``select_related`` and the query
  lookups of ``filter``/``values``/``annotate``/``order_by`` use query names, not
  accessors, and are not reads of an accessor);
* in a DRF serializer (a class one of whose bases is named ``...Serializer``): a field's
  ``source="invoice_set"`` / ``source="invoice_set.count"``, and the names listed in
  ``Meta.fields`` (the receiver is ``Meta.model``).

Each :class:`NameRead` says what the name is read on (an expression, and whether it is an
instance, a queryset of the model or the model class) and what is done with the value
(a manager method, iteration): rules decide what matters to them. Knows Django, no rule.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence
from typing import NamedTuple

from o2o_lint.astutil import dotted_name, walk_near
from o2o_lint.django_api import MANAGER_METHODS, PREFETCH_CALLS

#: Where a name is read.
ATTRIBUTE, GETATTR, HASATTR, LOOKUP, SOURCE, FIELDS = (
    "attribute", "getattr", "hasattr", "lookup", "serializer source", "serializer fields")
#: What is done with the value: iterated (``for x in obj.acc``).
ITERATION = "__iter__"
#: What the receiver expression is: an instance, a queryset (or manager) of the model, the class.
ON_OBJECT, ON_QUERYSET, ON_CLASS = "object", "queryset", "class"


class NameRead(NamedTuple):
    """A relation name read on a model's instances."""

    name: str
    node: ast.expr  # where the name is spelled: an Attribute, or the string constant holding it
    receiver: ast.expr | None  # the expression the path starts from, when there is one
    receiver_is: str  # ON_OBJECT, ON_QUERYSET or ON_CLASS: what *receiver* must be
    path: tuple[str, ...]  # relation names between the receiver's model and the name (lookups)
    method: str | None  # the manager method called on the value, ITERATION, or None
    place: str  # ATTRIBUTE, GETATTR, HASATTR, LOOKUP, SOURCE or FIELDS
    many: bool = False  # a serializer field declared ``many=True``


def name_reads(tree: ast.AST, near: Sequence[int] | None = None) -> Iterator[NameRead]:
    """Every read of a name that may be a relation's accessor in *tree* (see the module
    docstring); attribute reads only of names ending in ``_set`` or followed by a manager
    method or iteration, as those are the only ones a relation's kind changes.

    With *near* (sorted line numbers), only the reads in statements spanning one of those
    lines: a caller that wants only some names passes the lines where the text spells them.
    """
    in_prefetch: set[int] = set()
    for node in ast.walk(tree) if near is None else walk_near(tree, near):
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
            if node.attr.endswith("_set"):
                yield NameRead(node.attr, node, node.value, ON_OBJECT, (), None, ATTRIBUTE)
            if node.attr in MANAGER_METHODS:
                inner = node.value
                if isinstance(inner, ast.Attribute):
                    yield NameRead(inner.attr, inner, inner.value, ON_OBJECT, (), node.attr, ATTRIBUTE)
                elif isinstance(inner, ast.Call) and _builtin(inner) == "getattr":
                    found = _literal_name(inner)
                    if found is not None and not found[0].endswith("_set"):
                        yield NameRead(found[0], found[1], inner.args[0], ON_OBJECT, (), node.attr, GETATTR)
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)) and isinstance(node.iter, ast.Attribute):
            yield NameRead(node.iter.attr, node.iter, node.iter.value, ON_OBJECT, (), ITERATION, ATTRIBUTE)
        elif isinstance(node, ast.Call):
            builtin = _builtin(node)
            if builtin is not None:
                found = _literal_name(node)
                if found is not None and found[0].endswith("_set"):
                    yield NameRead(found[0], found[1], node.args[0], ON_OBJECT, (), None,
                                   GETATTR if builtin == "getattr" else HASATTR)
                continue
            yield from _prefetch_reads(node, in_prefetch)
        elif isinstance(node, ast.ClassDef) and _is_serializer(node):
            yield from _serializer_reads(node)


def _builtin(node: ast.Call) -> str | None:
    func = node.func
    return func.id if isinstance(func, ast.Name) and func.id in ("getattr", "hasattr") else None


def _literal_name(node: ast.Call) -> tuple[str, ast.Constant] | None:
    if len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str):
        return node.args[1].value, node.args[1]
    return None


def _lookup_reads(lookup: ast.expr, receiver: ast.expr | None) -> Iterator[NameRead]:
    if isinstance(lookup, ast.Constant) and isinstance(lookup.value, str):
        segments = lookup.value.split("__")
        for i, segment in enumerate(segments):
            if segment:
                yield NameRead(segment, lookup, receiver, ON_QUERYSET, tuple(segments[:i]), None, LOOKUP)


def _prefetch_lookup(node: ast.Call) -> ast.expr | None:
    """The lookup of a ``Prefetch(lookup, ...)`` call."""
    if node.args:
        return node.args[0]
    return next((k.value for k in node.keywords if k.arg == "lookup"), None)


def _prefetch_reads(node: ast.Call, in_prefetch: set[int]) -> Iterator[NameRead]:
    func = node.func
    callee = func.attr if isinstance(func, ast.Attribute) else dotted_name(func)
    name = callee.rpartition(".")[2] if callee is not None else None
    if name not in PREFETCH_CALLS or id(node) in in_prefetch:
        return
    if name == "Prefetch":  # not an argument of a prefetch_related seen first: receiver unknown
        lookup = _prefetch_lookup(node)
        if lookup is not None:
            yield from _lookup_reads(lookup, None)
        return
    receiver = func.value if isinstance(func, ast.Attribute) and name == "prefetch_related" else None
    arguments = node.args if name == "prefetch_related" else node.args[1:]
    for argument in arguments:
        if isinstance(argument, ast.Call) and (dotted_name(argument.func) or "").rpartition(".")[2] == "Prefetch":
            in_prefetch.add(id(argument))
            lookup = _prefetch_lookup(argument)
            if lookup is not None:
                yield from _lookup_reads(lookup, receiver)
        else:
            yield from _lookup_reads(argument, receiver)


def _is_serializer(node: ast.ClassDef) -> bool:
    return any((dotted_name(base) or "").rpartition(".")[2].endswith("Serializer") for base in node.bases)


def _serializer_reads(node: ast.ClassDef) -> Iterator[NameRead]:
    meta = next((s for s in node.body if isinstance(s, ast.ClassDef) and s.name == "Meta"), None)
    model: ast.expr | None = None
    fields: ast.expr | None = None
    for statement in meta.body if meta is not None else ():
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name):
            if statement.targets[0].id == "model":
                model = statement.value
            elif statement.targets[0].id == "fields":
                fields = statement.value
    for statement in node.body:
        if not isinstance(statement, (ast.Assign, ast.AnnAssign)) or not isinstance(statement.value, ast.Call):
            continue
        keywords = {k.arg: k.value for k in statement.value.keywords if k.arg}
        source = keywords.get("source")
        if not (isinstance(source, ast.Constant) and isinstance(source.value, str)) or not source.value:
            continue
        many = keywords.get("many")
        head, _, rest = source.value.partition(".")
        method = rest.partition(".")[0] or None
        yield NameRead(head, source, model, ON_CLASS, (), method if method in MANAGER_METHODS else None, SOURCE,
                       many=isinstance(many, ast.Constant) and many.value is True)
    if model is not None and isinstance(fields, (ast.List, ast.Tuple)):
        for element in fields.elts:
            if isinstance(element, ast.Constant) and isinstance(element.value, str):
                yield NameRead(element.value, element, model, ON_CLASS, (), None, FIELDS)
