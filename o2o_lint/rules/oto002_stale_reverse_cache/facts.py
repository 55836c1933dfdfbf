"""OTO002's per-file facts: each function's reverse one-to-one reads, writes and calls.

Runs at facts time, on every file, on the stdlib ``ast`` (never LibCST: this module is
imported by the pool workers and on warm runs). For every function and method it
records the *raw* events that matter for a stale reverse one-to-one cache: the reads
that cache the accessor (``hasattr(x, "rel")``, ``getattr(x, "rel", None)``, ``x.rel``
in a ``try`` whose handler catches ``DoesNotExist``), the writes that change a relation
without going through the instance (``Rel.objects.create(owner_id=x.pk)``,
``Rel(owner_id=...).save()``, ``x.rel.delete()``, ``QuerySet.update/delete`` keyed by
``x``, ...), the calls that pass a parameter or a read receiver on, the clears
(``x.refresh_from_db(...)``, ``x.rel = ...``) and the rebinds. Facts are plain data
(dicts and lists): they are marshalled into the cache, under ``facts["rules"]["OTO002"]``.
Nothing is resolved here: the model behind ``Rel`` and whether ``rel`` is a reverse
one-to-one accessor are only known once every file is indexed
(:mod:`.summaries` resolves them).

Each event carries a *path*: the statement indices and compound-statement fields from
the function body down to the statement holding it, so that the resolver can decide
order (a write in the ``else`` of ``if hasattr(...)`` follows the read, a write in a
sibling branch of a nested read does not).
"""

from __future__ import annotations

import ast
import builtins
import re
import unicodedata
from bisect import bisect_left, bisect_right
from itertools import accumulate
from typing import TYPE_CHECKING, Any

from o2o_lint.astutil import child_nodes
from o2o_lint.astutil import dotted_name as _dotted
from o2o_lint.django_api import (
    ASYNC_TWINS,
    CATCHES_DOES_NOT_EXIST,
    DELETES,
    EVALUATING_METHODS,
    MANAGER_METHODS,
    NOT_LOOKUP_KEYS,
    QUERYSET_METHODS,
    REFRESHES,
    RETURNS_INSTANCE,
    RETURNS_OBJECT,
    RETURNS_PAIR,
    SAME_ROWS_METHODS,
    SAVES,
    SELECTING_LOOKUP_METHODS,
    UPDATES,
    with_async,
)
from o2o_lint.index.facts import FactsExtractor
from o2o_lint.sourcefile import COMMENT_PATTERN, EXPRESSION_GAP, line_numbers

if TYPE_CHECKING:
    from o2o_lint.index.model import ProjectIndex

Event = dict[str, Any]

#: Queryset methods a write chain may go through; only filter/get tie rows to an instance.
QUERYSET_STEPS = with_async(SAME_ROWS_METHODS | RETURNS_INSTANCE)
LOOKUP_STEPS = with_async(SELECTING_LOOKUP_METHODS)
#: Methods whose result is one instance of the chain's model.
INSTANCE_STEPS = with_async(RETURNS_INSTANCE) | RETURNS_OBJECT
_BUILTINS = frozenset(dir(builtins))
_TRY_TYPES = tuple(t for t in (getattr(ast, "Try", None), getattr(ast, "TryStar", None)) if t is not None)
_SCOPES = (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_SCOPE_TYPES = frozenset(_SCOPES)
_NAME, _CONSTANT, _ATTRIBUTE, _CALL, _LOAD = ast.Name, ast.Constant, ast.Attribute, ast.Call, ast.Load
#: Expression types -> their fields holding expressions (or lists of them, never holding None), in
#: ``_fields`` order: ``child_nodes()`` without the contexts and operators.
_EXPR_FIELDS: dict[type, tuple[str, ...]] = {
    kind: tuple(f for f in kind._fields if f not in ("ctx", "op", "ops", "conversion"))
    for kind in (ast.BinOp, ast.BoolOp, ast.Compare, ast.UnaryOp, ast.Subscript, ast.Tuple, ast.List, ast.Set,
                 ast.JoinedStr, ast.FormattedValue, ast.IfExp, ast.Starred, ast.Slice)
}
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_DEFINITIONS = (*_FUNCTIONS, ast.ClassDef)
_MATCH = getattr(ast, "Match", ())
#: Statements after which nothing of their block runs.
_EXITS = {ast.Return: "return", ast.Raise: "raise", ast.Break: "break", ast.Continue: "continue"}
#: Model methods that save the instance: ``save_base(raw=True)`` too (multi-table promotion by id).
SAVE_METHODS = SAVES | {"save_base"}
#: Manager methods that save a list of instances.
BULK_WRITES = with_async({"bulk_create", "bulk_update"})
#: factory_boy's model factories, by the usual name of the class (``ProfileFactory``).
FACTORY_SUFFIX = "Factory"
#: Appended to ``xs``: the receiver standing for every element of ``xs`` (``xs[i]``).
ELEMENTS = "[i]"
#: ORM calls: passing an instance to them (a lookup, a create) does not hand it to code that reads it.
_ORM_CALLS = with_async(QUERYSET_METHODS | EVALUATING_METHODS | REFRESHES) | MANAGER_METHODS | SAVES | DELETES | \
    UPDATES | RETURNS_OBJECT | RETURNS_PAIR | BULK_WRITES | SAVE_METHODS
#: The methods :meth:`_FunctionWalker.call` takes as a write or a refresh: any other is a plain call.
_WRITES_AND_REFRESHES = SAVE_METHODS | DELETES | UPDATES | RETURNS_OBJECT | RETURNS_PAIR | {"make"} | BULK_WRITES | \
    REFRESHES
_FIELDS_CACHE = "._state.fields_cache"


def _walk(node: ast.AST) -> list[ast.AST]:
    """``list(ast.walk(node))``: the same nodes in the same order (breadth first)."""
    found = [node]
    for current in found:  # grows as it goes
        found.extend(child_nodes(current))
    return found


def _root(dotted: str) -> str:
    return dotted.partition(".")[0]


def _pos(node: ast.AST) -> list[int]:
    return [node.lineno, node.col_offset, node.end_lineno or node.lineno, node.end_col_offset or node.col_offset]


def _end(node: ast.AST) -> list[int]:
    line, col = node.end_lineno or node.lineno, node.end_col_offset or node.col_offset
    return [line, col, line, col]


def _catches(handler_type: ast.expr | None) -> bool:
    if handler_type is None:
        return False
    names = handler_type.elts if isinstance(handler_type, ast.Tuple) else [handler_type]
    for name in names:
        dotted = _dotted(name)
        if dotted is None:
            continue
        if dotted.rpartition(".")[2] in CATCHES_DOES_NOT_EXIST:
            return True
    return False


def _field_follows(first: str, second: str) -> bool:
    """Both fields belong to the same compound statement: does *second* run after *first*?"""
    if first == "h":
        return True
    if second == "h":
        return False
    kind, _, first_field = first.partition(".")
    second_field = second.partition(".")[2]
    if kind == "try":
        if first_field == "b":
            return True
        return second_field == "f" and first_field != "f"
    if kind in ("for", "wh"):
        return first_field == "b" and second_field == "e"
    if kind == "with":  # "with.e": a write deferred to the block's end (``on_commit`` in a durable block)
        return first_field == "b" and second_field == "e"
    return False  # if/else, match cases: exclusive


def path_follows(first: list[Any], second: list[Any]) -> bool | None:
    """Can a statement at path *second* run after one at *first*? None: one path holds the other."""
    for index in range(min(len(first), len(second))):
        x, y = first[index], second[index]
        if x == y:
            continue
        if index % 2 == 0:
            return x < y
        return _field_follows(x, y)
    return None


def _qs_chain(node: ast.AST) -> tuple[str, list[tuple[str, ast.Call]]] | None:
    """``Model.manager.filter(...).get(...)`` -> ("Model", [("filter", call), ("get", call)])."""
    steps: list[tuple[str, ast.Call]] = []
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in QUERYSET_STEPS:
        steps.append((node.func.attr, node))
        node = node.func.value
    dotted = _dotted(node)
    if dotted is None or "." not in dotted:
        return None
    model = dotted.rpartition(".")[0]
    if not model.rpartition(".")[2][:1].isupper():
        return None  # ``self.profile_set``, ``qs.objects``: not ``Model.manager``
    steps.reverse()
    return model, steps


def _read_of(node: ast.Call) -> tuple[str, str] | None:
    """``hasattr(x, "rel")`` / ``getattr(x, "rel", default)`` -> ("x", "rel")."""
    func = node.func
    if not isinstance(func, ast.Name) or func.id not in ("hasattr", "getattr") or node.keywords:
        return None
    if len(node.args) != (2 if func.id == "hasattr" else 3):
        return None
    receiver, accessor = _dotted(node.args[0]), node.args[1]
    if receiver is None or not isinstance(accessor, ast.Constant) or not isinstance(accessor.value, str):
        return None
    return receiver, accessor.value


#: QuerySet methods that fill each fetched instance's relation cache, "none" included.
RELATED_FILLERS = frozenset({"select_related", "prefetch_related"})


#: Queryset methods whose rows are not model instances (no relation cache).
_NOT_INSTANCES = frozenset({"values", "values_list", "dates", "datetimes", "aggregate", "count", "exists"})


def _related_of(value: ast.expr, local: dict[str, list[Any]] | None = None) -> list[Any] | None:
    """A queryset chain with ``select_related("rel")`` / ``prefetch_related("rel")``: the
    accessors it fills on each instance (the first name of each lookup), its line, the method.
    *local*: the local querysets known to fill some (``qs.get(...)`` after ``qs = ...``)."""
    if isinstance(value, ast.Await):
        value = value.value
    accessors: list[str] = []
    line, method = 0, ""
    node: ast.AST = value
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr in RELATED_FILLERS:
            line, method = node.lineno, node.func.attr
            accessors += [a.value.partition("__")[0] for a in node.args
                          if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        elif node.func.attr in _NOT_INSTANCES or \
                node.func.attr not in QUERYSET_STEPS and node.func.attr not in QUERYSET_METHODS:
            return None
        node = node.func.value
    if local and isinstance(node, ast.Name) and node.id in local and node is not value:
        known, known_line, known_method = local[node.id]
        return [known + accessors, line or known_line, method or known_method]
    return [accessors, line, method] if accessors else None


def _selected_from(value: ast.expr) -> str | None:
    """``[v for v in vs if ...]`` / ``filter(lambda v: ..., vs)`` -> "vs": a selection of its elements."""
    if isinstance(value, (ast.ListComp, ast.SetComp, ast.GeneratorExp)) and len(value.generators) == 1:
        generator = value.generators[0]
        if isinstance(generator.target, ast.Name) and isinstance(value.elt, ast.Name) \
                and value.elt.id == generator.target.id:
            return _dotted(generator.iter)
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "filter" \
            and len(value.args) == 2:
        return _dotted(value.args[1])
    return None


#: QuerySet methods that keep the instances a queryset fetches, and their fetch mode (Django 6.1).
_PEER_STEPS = SAME_ROWS_METHODS | frozenset({"annotate", "alias", "reverse", "extra", "complex_filter", "get_queryset"})


def _peers_source(value: ast.expr, spellings: frozenset[str], local: dict[str, str]) -> str | None:
    """How *value* spells ``FETCH_PEERS`` when it is a queryset fetching with it (the last
    ``fetch_mode()`` of its chain), or one evaluated whole (``list(qs)``, ``sorted(qs)``,
    ``qs[:n]``): every instance it fetches is a peer of the others. *local*: the local
    querysets known to (``for o in owners`` after ``owners = ...fetch_mode(FETCH_PEERS)``)."""
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in ("list", "sorted") \
            and value.args and not isinstance(value.args[0], ast.Starred):
        value = value.args[0]
    if isinstance(value, ast.Subscript) and isinstance(value.slice, ast.Slice):
        value = value.value
    node: ast.expr = value
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr == "fetch_mode":
            spelling = _dotted(node.args[0]) if len(node.args) == 1 and not node.keywords else None
            return spelling if spelling in spellings else None
        if node.func.attr not in _PEER_STEPS:
            return None
        node = node.func.value
    return local.get(node.id) if isinstance(node, ast.Name) else None


def _fetch_peers_spellings(tree: ast.Module, text: str | None) -> frozenset[str]:
    """How the module can name ``django.db.models.FETCH_PEERS``: ``FETCH_PEERS`` imported from
    ``django.db.models`` (or ``.fetch_modes``), ``models.FETCH_PEERS`` after ``from django.db
    import models``, ``django.db.models.FETCH_PEERS`` after ``import django.db.models``."""
    if text is not None and "FETCH_PEERS" not in text:
        return frozenset()
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0:
            for alias in node.names:
                bound = alias.asname or alias.name
                if node.module in ("django.db.models", "django.db.models.fetch_modes") and alias.name == "FETCH_PEERS":
                    found.add(bound)
                elif node.module == "django.db" and alias.name == "models" or \
                        node.module == "django.db.models" and alias.name == "fetch_modes":
                    found.add(f"{bound}.FETCH_PEERS")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in ("django.db.models", "django.db.models.fetch_modes"):
                    found.add(f"{alias.asname or alias.name}.FETCH_PEERS")
    return frozenset(found)


def _lookup_key(key: str) -> str:
    for suffix in ("__exact", "__pk", "__id"):
        if key.endswith(suffix):
            return key[: -len(suffix)]
    return key


def _field_of(key: str) -> str:
    """``owner_id`` / ``owner__pk`` / ``owner`` -> ``owner``: the field a keyword sets or looks up."""
    return _lookup_key(key).removesuffix("_id")


def _defaults_fields(call: ast.Call) -> set[str]:
    """The fields ``defaults=`` / ``create_defaults=`` set, when literal (``{"owner_id": ...}``,
    ``dict(owner_id=...)``)."""
    found: set[str] = set()
    for keyword in call.keywords:
        if keyword.arg not in ("defaults", "create_defaults"):
            continue
        value = keyword.value
        if isinstance(value, ast.Dict):
            found.update(_field_of(k.value) for k in value.keys if isinstance(k, ast.Constant) and isinstance(k.value, str))
        elif isinstance(value, ast.Call) and _dotted(value.func) == "dict":
            found.update(_field_of(k.arg) for k in value.keywords if k.arg)
    return found


def _other_database(obj: ast.expr, call: ast.Call) -> bool:
    """A write to a database named in the call: ``Rel.objects.using("other").create(...)``,
    ``rel.save(using="other")``. The receiver's rows (and its cache) are in its own database:
    the write does not concern them, and assigning its result raises (the router refuses the
    relation across databases, verified on 4.2, 5.2 and 6.1)."""
    for keyword in call.keywords:
        if keyword.arg == "using":
            return True
    node: ast.AST = obj
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr in ("using", "db_manager"):
            return True
        node = node.func.value
    return False


def _looks_like_class(dotted: str) -> bool:
    return dotted.rpartition(".")[2][:1].isupper()


class _Tracked:
    """What a local name (or ``x.rel``) holds: an instance of a model, or ``x``'s cached row."""

    __slots__ = ("model", "alias", "sets")

    def __init__(self, model: str | None = None, alias: tuple[str, str] | None = None) -> None:
        self.model = model
        self.alias = alias  # (receiver, accessor): the object is ``receiver.accessor``
        self.sets: dict[str, list[Any]] = {}


class _FunctionWalker:
    def __init__(self, params: list[str], managed: list[str] | None = None,
                 rebinders: dict[str, list[str]] | None = None) -> None:
        self.params = params
        #: a manager's or queryset's method: the models using the class, and its ``self``
        self.managed = managed or []
        self.manager_self = params[0] if managed and params else None
        self.reads: list[Event] = []
        self.writes: list[Event] = []
        self.calls: list[Event] = []
        self.clears: list[Event] = []
        self.binds: list[list[Any]] = []
        self.objects: dict[str, _Tracked] = {}
        self.others: dict[str, str] = {}  # name -> receiver whose row it is another instance of
        self.guarded = 0
        self.nested: list[ast.AST] = []
        # Observability: loads of ``x.attr`` (uses), where a receiver leaves the function
        # (escapes) and the loops (to see a read in the next iteration).
        self.uses: list[list[Any]] = []
        self.escapes: list[list[Any]] = []
        self.loops: list[list[Any]] = []
        # Caches filled on elements: [iterated expression, accessor, line, path] of a read of each
        # element (``[v for v in vs if hasattr(v, "rel")]``); a loop over the same elements
        # (``vs``, or ``missing`` built from it: ``element_of``) starts with that cache.
        self.element_reads: list[list[Any]] = []
        self.lazy = False  # walking the value of ``gen = (... for ...)`` / ``filter(...)``
        self.element_of: dict[str, str] = {}
        #: a local queryset -> [accessors its select_related/prefetch_related fill, line, method]
        self.related: dict[str, list[Any]] = {}
        #: a local queryset (``rows = Rel.objects.filter(owner=x)``, ``self.filter(...)`` in a
        #: manager's method) -> its chains, as :meth:`chains` gives them
        self.querysets: dict[str, list[tuple[str, list[tuple[str, ast.Call]]]]] = {}
        #: the enclosing ``with transaction.atomic(durable=True):`` blocks: [path, last line]
        self.durable: list[tuple[list[Any], int]] = []
        #: how the module spells Django 6.1's ``FETCH_PEERS`` (``models.FETCH_PEERS``), set by
        #: :func:`function_writes`; and the local querysets fetching with it -> that spelling
        self.fetch_peers: frozenset[str] = frozenset()
        self.peer_querysets: dict[str, str] = {}
        #: ``id()`` of the calls an ``await`` runs: an async write not awaited writes nothing
        self.awaited: set[int] = set()
        #: ``return``, ``raise``, ``break``, ``continue``: [kind, pos, path] (what cannot follow them)
        self.exits: list[list[Any]] = []
        #: a function called by name -> the names it rebinds through ``nonlocal`` / ``global``
        #: (None: the module declares none)
        self.rebinders: dict[str, list[str]] | None = None if rebinders is None else dict(rebinders)

    # -- statements ----------------------------------------------------------------

    def block(self, statements: list[ast.stmt], prefix: list[Any]) -> None:
        for index, statement in enumerate(statements):
            kind = type(statement)
            if kind is ast.Expr:  # the commonest statement: what simple() does with it
                self.expr(statement.value, [*prefix, index, ""])  # type: ignore[attr-defined]
            elif kind in _BLOCKS:
                self.statement(statement, [*prefix, index])
            else:
                self.simple(statement, [*prefix, index, ""])

    def statement(self, node: ast.stmt, here: list[Any]) -> None:
        if type(node) not in _BLOCKS:
            self.simple(node, [*here, ""])
            return
        if isinstance(node, _DEFINITIONS):
            for decorator in node.decorator_list:
                self.expr(decorator, [*here, "h"])
            self.bind(node.name, _pos(node))
            self.nested.append(node)
            rebound = _rebound_names(node) if self.rebinders is not None and isinstance(node, _FUNCTIONS) else []
            if rebound and self.rebinders is not None:
                self.rebinders[node.name] = rebound
            return
        header = [*here, "h"]
        if isinstance(node, ast.If):
            self.expr(node.test, header)
            self.block(node.body, [*here, "if.b"])
            self.block(node.orelse, [*here, "if.e"])
        elif isinstance(node, ast.While):
            self.loops.append([here, _pos(node)])
            self.expr(node.test, header)
            self.block(node.body, [*here, "wh.b"])
            self.block(node.orelse, [*here, "wh.e"])
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            self.loops.append([here, _pos(node)])
            self.expr(node.iter, header)
            self.target(node.target, None, _pos(node.target), header)
            iterated = _dotted(node.iter) or _selected_from(node.iter)
            if isinstance(node.target, ast.Name):
                self.filled(node.target.id, node.iter, _pos(node.target), header)
            if isinstance(node.target, ast.Name) and iterated is not None:
                # the elements of a parameter (a list the caller holds) escape with it
                source = self.element_of.get(iterated, iterated)
                self.escapes.append([node.target.id, "element", node.target, header, source])
            chain = _qs_chain(node.iter)
            if isinstance(node.target, ast.Name) and chain is not None:
                self.objects[node.target.id] = _Tracked(chain[0])
            self.block(node.body, [*here, "for.b"])
            self.peer_reads(node, here)
            self.block(node.orelse, [*here, "for.e"])
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                self.expr(item.context_expr, header)
                if item.optional_vars is not None:
                    self.target(item.optional_vars, None, _pos(item.optional_vars), header)
            # a block that may end by an exception rolls back: its on_commit() jobs never run
            durable = any(_durable(item.context_expr) for item in node.items) and not _may_roll_back(node)
            if durable:
                self.durable.append((here, node.end_lineno or node.lineno))
            self.block(node.body, [*here, "with.b"])
            if durable:
                self.durable.pop()
        elif _TRY_TYPES and isinstance(node, _TRY_TYPES):
            guarded = any(_catches(h.type) for h in node.handlers)
            self.guarded += guarded
            self.block(node.body, [*here, "try.b"])
            self.guarded -= guarded
            for number, handler in enumerate(node.handlers):
                if handler.name:
                    self.bind(handler.name, _pos(handler))
                self.block(handler.body, [*here, f"try.h{number}"])
            self.block(node.orelse, [*here, "try.e"])
            self.block(node.finalbody, [*here, "try.f"])
        elif isinstance(node, _MATCH):
            self.expr(node.subject, header)
            for number, case in enumerate(node.cases):
                for child in ast.walk(case.pattern):
                    name = getattr(child, "name", None)
                    if isinstance(name, str):
                        self.bind(name, _pos(case.pattern))
                self.block(case.body, [*here, f"m.c{number}"])
        else:
            self.simple(node, [*here, ""])

    def simple(self, node: ast.stmt, path: list[Any]) -> None:
        if type(node) is ast.Expr:  # the commonest: nothing but its expression
            self.expr(node.value, path)  # type: ignore[attr-defined]
            return
        exit_kind = _EXITS.get(type(node))
        if exit_kind is not None:
            self.exits.append([exit_kind, _pos(node), path])
        if isinstance(node, ast.Return) and node.value is not None:
            self.escape(node.value, "returned", node, path)
        if isinstance(node, ast.Assign):
            # a generator, filter() or map() bound to a name runs only when consumed: its reads
            # are not taken (a later loop over its source would come before them)
            self.lazy = isinstance(node.value, ast.GeneratorExp) or isinstance(node.value, ast.Call) \
                and isinstance(node.value.func, ast.Name) and node.value.func.id in ("filter", "map")
            self.expr(node.value, path)
            self.lazy = False
            if any(not isinstance(t, ast.Name) for t in node.targets):
                self.escape(node.value, "stored", node, path)
            single = len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
            local = self.chains(node.value, rows=True) if single and isinstance(node.value, ast.Call) else []
            for target in node.targets:
                self.target(target, node.value, _end(node), path)
            if single:
                name = node.targets[0].id  # type: ignore[attr-defined]
                if local:
                    self.querysets[name] = local
                self.assigned(name, node.value, node, path)
        elif isinstance(node, ast.AnnAssign):
            if node.value is not None:
                self.expr(node.value, path)
                self.target(node.target, node.value, _end(node), path)
        elif isinstance(node, ast.AugAssign):
            self.expr(node.value, path)
            self.target(node.target, None, _end(node), path)
        elif isinstance(node, ast.Delete):
            for target in node.targets:
                if isinstance(target, ast.Attribute):
                    # ``del x.rel`` clears nothing: the reverse descriptor has no ``__delete__``
                    # (AttributeError, Django 4.2 and 5.2 alike); only a rebinding of ``x.rel``.
                    owner = _dotted(target.value)
                    if owner is not None:
                        self.bind(f"{owner}.{target.attr}", _end(node))
                    continue
                cache = self.fields_cache(target.value) if isinstance(target, ast.Subscript) else None
                if cache is not None and isinstance(target.slice, ast.Constant) and isinstance(target.slice.value, str):
                    self.clears.append({"recv": cache, "acc": target.slice.value, "pos": _pos(node)})
                    continue
                self.target(target, None, _end(node), path)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                self.bind(alias.asname or alias.name.partition(".")[0], _pos(node))
        else:
            for child in child_nodes(node):
                if isinstance(child, ast.expr):
                    self.expr(child, path)

    def bind(self, dotted: str, pos: list[int]) -> None:
        self.binds.append([dotted, pos[0], pos[1]])
        self.objects.pop(dotted, None)
        self.others.pop(dotted, None)
        self.element_of.pop(dotted, None)
        self.related.pop(dotted, None)
        self.querysets.pop(dotted, None)
        self.peer_querysets.pop(dotted, None)

    # -- caches filled elsewhere: on each element, by select_related/prefetch_related ----

    def filled(self, name: str, value: ast.expr, pos: list[int], path: list[Any]) -> None:
        """*name* is bound to *value* (an element of it, for a loop): the caches it starts with."""
        iterated = _dotted(value) or _selected_from(value)
        if iterated is not None:
            sources = {iterated, self.element_of.get(iterated, iterated)}
            for source, accessor, line, read_path in self.element_reads:
                if source in sources and path_follows(read_path, path) is not False:
                    self.reads.append({"recv": name, "acc": accessor, "how": "element", "pos": pos, "path": path,
                                       "line": line, "src": source})
            related = self.related.get(iterated)
        else:
            related = _related_of(value, self.related)
        if related is not None:
            accessors, line, method = related
            for accessor in accessors:
                self.reads.append({"recv": name, "acc": accessor, "how": "related", "pos": pos, "path": path,
                                   "line": line, "src": method})

    def assigned(self, name: str, value: ast.expr, node: ast.stmt, path: list[Any]) -> None:
        """``missing = [v for v in vs if ...]``: its elements are ``vs``'s; ``x = qs.get(...)``
        with ``select_related("rel")`` in ``qs``: x's cache is filled."""
        if isinstance(value, ast.Await):
            value = value.value
        if self.fetch_peers:
            spelling = _peers_source(value, self.fetch_peers, self.peer_querysets)
            if spelling is not None:
                self.peer_querysets[name] = spelling
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in ("list", "tuple", "set") \
                and len(value.args) == 1:
            value = value.args[0]
        source = _selected_from(value)
        if source is not None:
            self.element_of[name] = self.element_of.get(source, source)
            return
        related = _related_of(value, self.related)
        if related is None:
            return
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr in INSTANCE_STEPS:
            # after the statement, so that the binding of *name* comes first
            line, col = node.end_lineno or node.lineno, (node.end_col_offset or node.col_offset) + 1
            self.filled(name, value, [line, col, line, col], path)
        elif isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr in QUERYSET_STEPS:
            self.related[name] = related

    def element_read(self, target: str, source: ast.expr, body: list[ast.expr], path: list[Any]) -> None:
        """A read of ``target.<rel>`` in *body*, run for each element of *source*."""
        iterated = _dotted(source)
        if iterated is None or self.lazy:
            return
        for expression in body:
            for node in _walk(expression):
                read = _read_of(node) if type(node) is _CALL else None
                if read is not None and read[0] == target:
                    source = self.element_of.get(iterated, iterated)
                    self.element_reads.append([source, read[1], node.lineno, path])
                    self.reads.append({"recv": source + ELEMENTS, "acc": read[1], "how": "element", "pos": _pos(node),
                                       "path": path, "line": node.lineno, "src": source})

    def peer_reads(self, node: ast.For | ast.AsyncFor, here: list[Any]) -> None:
        """A loop over a queryset fetching with ``fetch_mode(FETCH_PEERS)`` (Django 6.1): one read
        of ``target.<rel>`` in the body fetches the relation for every instance of the queryset
        and caches it, "none" included, on each (verified on 6.1): the elements of the next
        iterations start with that cache. Recorded as a read ("peers") at the loop's target,
        whose ``line`` is the body's first read of that accessor (a plain ``target.rel`` load
        too: it fills the peers even when it raises for its own instance).

        Not for ``async for`` (an unfetched accessor raises ``SynchronousOnlyOperation`` there),
        ``.iterator()`` (its peers are only the instances fetched so far: verified, nothing
        stale), a body that rebinds the target or leaves the loop at its top level."""
        if not self.fetch_peers or not isinstance(node, ast.For) or not isinstance(node.target, ast.Name):
            return
        spelling = _peers_source(node.iter, self.fetch_peers, self.peer_querysets)
        if spelling is None or any(isinstance(s, (ast.Break, ast.Return, ast.Raise)) for s in node.body):
            return
        name = node.target.id
        body = [*here, "for.b"]
        start = (node.body[0].lineno, node.body[0].col_offset)
        stop = (node.end_lineno or node.lineno, node.end_col_offset or 0)
        if any(b[0] == name and start <= (b[1], b[2]) <= stop for b in self.binds):
            return
        first: dict[str, list[int]] = {}
        candidates = [(r["acc"], r["pos"], r["path"]) for r in self.reads
                      if r["recv"] == name and r["how"] in ("hasattr", "getattr", "try")]
        candidates += [(attr, _pos(load), path) for receiver, attr, load, path in self.uses
                       if receiver == name and not attr.startswith("_") and attr not in ("pk", "id")]
        for accessor, pos, path in candidates:
            if path[: len(body)] == body and (accessor not in first or pos < first[accessor]):
                first[accessor] = pos
        for accessor, pos in sorted(first.items(), key=lambda item: item[1]):
            self.reads.append({"recv": name, "acc": accessor, "how": "peers", "pos": _pos(node.target),
                               "path": [*here, "h"], "line": pos[0], "src": spelling})

    def comprehension(self, node: ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp, path: list[Any]) -> None:
        body: list[ast.expr] = [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
        for generator in node.generators:
            body.extend(generator.ifs)
        for generator in node.generators:
            if isinstance(generator.target, ast.Name):
                self.element_read(generator.target.id, generator.iter, body, path)

    def target(self, node: ast.expr, value: ast.expr | None, pos: list[int], path: list[Any]) -> None:
        if isinstance(node, ast.Name):
            self.bind(node.id, pos)
            if value is not None:
                self.track(node.id, value)
        elif isinstance(node, ast.Attribute):
            owner = _dotted(node.value)
            if owner is None:
                self.expr(node.value, path)
                return
            dotted = f"{owner}.{node.attr}"
            self.clears.append({"recv": owner, "acc": node.attr, "pos": pos})
            self.bind(dotted, pos)
            if value is None:
                return
            tracked = self.objects.get(owner)
            if tracked is None and "." in owner:
                receiver, _, accessor = owner.rpartition(".")
                tracked = self.objects[owner] = _Tracked(alias=(receiver, accessor))
            if tracked is not None:
                tracked.sets[node.attr] = self.tie(value)
        elif isinstance(node, (ast.Tuple, ast.List)):
            chain = _qs_chain(value.func.value) if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) \
                and value.func.attr in RETURNS_PAIR else None
            for number, element in enumerate(node.elts):
                self.target(element, None, pos, path)
                if number == 0 and chain is not None and isinstance(element, ast.Name):
                    self.objects[element.id] = _Tracked(chain[0])
        elif isinstance(node, ast.Starred):
            self.target(node.value, None, pos, path)
        else:  # subscripts: their expressions are loads
            self.expr(node, path)

    def track(self, name: str, value: ast.expr) -> None:
        if isinstance(value, ast.Await):
            value = value.value
        if isinstance(value, ast.Call):
            other = self.other_instance(value)
            if other is not None:
                self.others[name] = other
                return
            callee = _dotted(value.func)
            if callee is not None and _looks_like_class(callee):
                tracked = self.objects[name] = _Tracked(callee)
                for keyword in value.keywords:
                    if keyword.arg:
                        tracked.sets[keyword.arg] = self.tie(keyword.value)
                return
            if isinstance(value.func, ast.Attribute) and value.func.attr in INSTANCE_STEPS:
                chain = _qs_chain(value.func.value)
                if chain is not None:
                    self.objects[name] = _Tracked(chain[0])
            return
        dotted = _dotted(value)
        if dotted is not None and "." in dotted:
            receiver, _, accessor = dotted.rpartition(".")
            self.objects[name] = _Tracked(alias=(receiver, accessor))

    # -- expressions ---------------------------------------------------------------

    def expr(self, node: ast.expr, path: list[Any]) -> None:
        # exact types (no node class is subclassed): the hottest loop of the facts pass
        stack: list[ast.AST] = [node]
        pop, push = stack.pop, stack.append
        while stack:
            current = pop()
            kind = type(current)
            if kind is _NAME or kind is _CONSTANT:
                continue  # nothing below them but a context
            if kind is _ATTRIBUTE:
                if type(current.ctx) is _LOAD:  # type: ignore[attr-defined]
                    receiver = _dotted(current.value)  # type: ignore[attr-defined]
                    if receiver is not None:
                        # the load's node stands for its position until :meth:`summary` keeps the use
                        self.uses.append([receiver, current.attr, current, path])  # type: ignore[attr-defined]
                        if self.guarded:
                            self.reads.append({"recv": receiver, "acc": current.attr, "how": "try",  # type: ignore[attr-defined]
                                               "pos": _pos(current), "path": path})
                push(current.value)  # type: ignore[attr-defined]
            elif kind is _CALL:
                self.call(current, path)  # type: ignore[arg-type]
                func = current.func  # type: ignore[attr-defined]
                push(func.value if type(func) is _ATTRIBUTE else func)
                stack.extend(current.args)  # type: ignore[attr-defined]
                stack.extend(k.value for k in current.keywords)  # type: ignore[attr-defined]
            elif kind in _SCOPE_TYPES:
                if kind is not ast.Lambda:
                    self.comprehension(current, path)  # type: ignore[arg-type]
                continue
            elif kind in _EXPR_FIELDS:
                # what child_nodes() gives, without the contexts and operators (nothing below them)
                for field in _EXPR_FIELDS[kind]:
                    value = getattr(current, field)
                    if type(value) is list:
                        stack.extend(value)
                    elif value is not None:
                        push(value)
            elif kind is ast.NamedExpr:
                push(current.value)  # type: ignore[attr-defined]
                if isinstance(current.target, ast.Name):  # type: ignore[attr-defined]
                    self.bind(current.target.id, _end(current))  # type: ignore[attr-defined]
            elif kind is ast.Yield or kind is ast.YieldFrom:
                if current.value is not None:  # type: ignore[attr-defined]
                    self.escape(current.value, "yielded", current, path)  # type: ignore[attr-defined]
                    push(current.value)  # type: ignore[attr-defined]
            elif kind is ast.Await:
                self.awaited.add(id(current.value))  # type: ignore[attr-defined]
                push(current.value)  # type: ignore[attr-defined]
            else:
                stack.extend(child_nodes(current))

    def escape(self, value: ast.expr, how: str, node: ast.AST, path: list[Any], callee: str | None = None) -> None:
        """*value* (a name, ``x.y``, or a literal container of them) leaves the function."""
        values = value.elts if isinstance(value, (ast.Tuple, ast.List, ast.Set)) else \
            [v for v in value.values if v is not None] if isinstance(value, ast.Dict) else [value]
        for element in values:
            if isinstance(element, ast.Starred):
                element = element.value
            dotted = _dotted(element)
            if dotted is not None:
                event = [dotted, how, node, path]  # the node's position once the event is kept (summary)
                if callee is not None:
                    event.append(callee)
                self.escapes.append(event)

    @staticmethod
    def fields_cache(node: ast.expr) -> str | None:
        """``x._state.fields_cache`` -> ``x``."""
        dotted = _dotted(node)
        if dotted is None or not dotted.endswith(_FIELDS_CACHE):
            return None
        return dotted[: -len(_FIELDS_CACHE)] or None

    def tie(self, value: ast.expr) -> list[Any]:
        """How an expression ties a relation to an instance: [kind, receiver]."""
        if isinstance(value, ast.Constant) and value.value is None:
            return ["none", None]
        dotted = _dotted(value)
        if dotted is not None:
            head, _, last = dotted.rpartition(".")
            if head and last in ("pk", "id"):
                return ["pk", head]
            if dotted in self.others:
                return ["other", self.others[dotted]]
            return ["inst", dotted]
        if isinstance(value, (ast.Call, ast.Await)):
            other = self.other_instance(value)
            if other is not None:
                return ["other", other]
        return ["?", None]

    def other_instance(self, value: ast.expr) -> str | None:
        """``Owner.objects.get(pk=x.pk)`` (any call chain looking a row up by ``x``'s pk)."""
        node: ast.AST = value.value if isinstance(value, ast.Await) else value
        while isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg in ("pk", "id", "pk__exact", "id__exact"):
                    dotted = _dotted(keyword.value)
                    if dotted is not None:
                        head, _, last = dotted.rpartition(".")
                        if head and last in ("pk", "id"):
                            return head
            node = node.func.value if isinstance(node.func, ast.Attribute) else node.func
        return None

    def ties(self, call: ast.Call, *, lookup: bool = False) -> dict[str, list[Any]]:
        found = {}
        for keyword in call.keywords:
            if keyword.arg and keyword.arg not in NOT_LOOKUP_KEYS:
                key = _lookup_key(keyword.arg) if lookup else keyword.arg
                found[key] = self.tie(keyword.value)
        return found

    @staticmethod
    def defaults(call: ast.Call) -> list[tuple[str, ast.expr]]:
        """``update_or_create(..., defaults={"owner_id": x.pk})``: the fields its defaults set on
        the returned row, found or created. Not ``get_or_create``'s (a found row keeps its owner)
        nor with ``create_defaults=`` (then ``defaults`` only updates)."""
        method = call.func.attr if isinstance(call.func, ast.Attribute) else ""
        if method not in with_async({"update_or_create"}) or any(k.arg == "create_defaults" for k in call.keywords):
            return []
        found = []
        for keyword in call.keywords:
            if keyword.arg == "defaults" and isinstance(keyword.value, ast.Dict):
                for key, value in zip(keyword.value.keys, keyword.value.values):
                    if isinstance(key, ast.Constant) and isinstance(key.value, str):
                        found.append((key.value, value))
        return found

    def write(self, op: str, receiver: str, call: ast.Call, path: list[Any], method: str, **extra: Any) -> None:
        event = {"op": op, "recv": receiver, "m": method, "pos": _pos(call), "path": path}
        event.update((k, v) for k, v in extra.items() if v is not None)
        self.writes.append(event)

    def on_commit(self, node: ast.Call) -> None:
        """``transaction.on_commit(lambda: <write>)`` / ``on_commit(partial(<method>, ...))`` in a
        ``with transaction.atomic(durable=True):`` block: the write runs when the block ends (a
        durable block is the outermost: its end is the commit). It is taken as a write standing
        after the block (path field ``with.e``), so that only reads after the block observe it.
        Elsewhere the commit may be a caller's (or ``ATOMIC_REQUESTS``'): not followed."""
        job = node.args[0] if len(node.args) == 1 else None
        body: ast.expr | None = None
        if isinstance(job, ast.Lambda) and not job.args.args:
            body = job.body
        elif isinstance(job, ast.Call) and _dotted(job.func) in ("partial", "functools.partial") and job.args \
                and not any(isinstance(a, ast.Starred) for a in job.args):
            body = ast.copy_location(ast.Call(func=job.args[0], args=job.args[1:], keywords=job.keywords), job)
            body.end_lineno, body.end_col_offset = job.end_lineno, job.end_col_offset
        if not isinstance(body, ast.Call):
            return
        block, last_line = self.durable[-1]
        before = len(self.writes)
        kept = (self.calls, self.clears, self.escapes, self.uses, self.binds, self.reads)
        sizes = [len(events) for events in kept]
        self.call(body, [*block, "with.e"])
        for events, size in zip(kept, sizes):
            del events[size:]  # only the write: the rest would stand at the wrong time
        for write in self.writes[before:]:
            write["dfr"] = last_line

    def call(self, node: ast.Call, path: list[Any]) -> None:
        func = node.func
        if self.durable and (_dotted(func) or "").rpartition(".")[2] == "on_commit":
            self.on_commit(node)
        if isinstance(func, ast.Name):
            name = func.id
            for rebound in self.rebinders.get(name, ()) if self.rebinders else ():
                # ``fresh()`` doing ``nonlocal x; x = ...``: a rebinding of ``x`` here
                self.bind(rebound, _end(node))
            if name in ("hasattr", "getattr"):
                read = _read_of(node)
                if read is not None:
                    self.reads.append({"recv": read[0], "acc": read[1], "how": name, "pos": _pos(node), "path": path})
                return
            if name in _BUILTINS:
                self.lambda_reads(node, path)
                return
            self.passed(node, name, path)
            if _looks_like_class(name):
                self.through_instance(name, node)
                if name.endswith(FACTORY_SUFFIX) and self.factory(name, node, path, name):
                    return
            elif name.endswith(FIXTURE_FACTORY_SUFFIX) and name in self.params and self.factory(name, node, path, name):
                return  # pytest-factoryboy's ``profile_factory`` fixture: the summaries resolve it
            self.call_event(node, name, None, path)
            return
        if not isinstance(func, ast.Attribute):
            return
        method, obj = func.attr, func.value
        # one dotted name of the receiver for the tests below; each event gets its own string
        # (as many objects as before: marshal's bytes tell shared strings from equal ones)
        receiver = _dotted(obj)
        if receiver is not None and receiver.endswith(_FIELDS_CACHE):
            cache = receiver[: -len(_FIELDS_CACHE)] or None  # as :meth:`fields_cache`
            if cache is not None:
                # ``x._state.fields_cache.pop("rel", None)`` / ``.clear()``: private, but it clears the
                # cached answer on Django 4.2 and 5.2 alike (verified); ``del ...["rel"]`` in simple().
                if method == "pop" and node.args and isinstance(node.args[0], ast.Constant) \
                        and isinstance(node.args[0].value, str):
                    self.clears.append({"recv": cache, "acc": node.args[0].value, "pos": _pos(node)})
                elif method == "clear":
                    self.clears.append({"recv": cache, "pos": _pos(node)})
                return
        if method not in _ORM_CALLS:
            callee = _dotted(func) or method
            self.passed(node, callee, path)
            if receiver is not None:
                self.escape(obj, "method", node, path, callee)
        if receiver is not None and method[:1].isupper():  # ``_looks_like_class(_dotted(func))``
            self.through_instance(_dotted(func), node)  # type: ignore[arg-type]
        if method in ASYNC_TWINS and id(node) not in self.awaited:
            return  # an unawaited coroutine (``c = Rel.objects.acreate(...)``): it writes nothing here
        if _other_database(obj, node):
            return  # ``using("other")``: rows of another database, not the receiver's (its cache is right)
        written = False
        if method not in _WRITES_AND_REFRESHES:
            pass
        elif method in SAVE_METHODS:
            written = self.save(obj, node, method, path)
        elif method in DELETES:
            written = self.delete(obj, node, method, path)
        elif method in UPDATES:
            written = self.update(obj, node, method, path)
        elif method in RETURNS_OBJECT or method in RETURNS_PAIR:
            written = self.create(obj, node, method, path)
        elif method == "make" and (_dotted(obj) or "").rpartition(".")[2] in ("baker", "mommy") and node.args:
            written = self.baked(node, path)
        elif method in BULK_WRITES:
            written = self.bulk(node, method, path)
        elif method in REFRESHES:
            receiver = _dotted(obj)
            if receiver is not None:
                self.clears.append({"recv": receiver, "fields": self.refresh_fields(node), "pos": _pos(node)})
            return
        if not written and receiver is not None:  # ``_dotted(func)`` is None when ``_dotted(obj)`` is
            self.call_event(node, _dotted(func), receiver, path)  # type: ignore[arg-type]

    def lambda_reads(self, node: ast.Call, path: list[Any]) -> None:
        """``filter(lambda v: hasattr(v, "rel"), vs)``, ``map(...)``, ``sorted(vs, key=lambda v: ...)``."""
        name = node.func.id if isinstance(node.func, ast.Name) else ""
        function: ast.expr | None = None
        source: ast.expr | None = None
        if name in ("filter", "map") and len(node.args) == 2:
            function, source = node.args
        elif name in ("sorted", "min", "max") and len(node.args) == 1:
            source = node.args[0]
            function = next((k.value for k in node.keywords if k.arg == "key"), None)
        if isinstance(function, ast.Lambda) and source is not None and len(function.args.args) == 1:
            self.element_read(function.args.args[0].arg, source, [function.body], path)

    def passed(self, node: ast.Call, callee: str, path: list[Any]) -> None:
        # a name and a constant, the commonest arguments, as :meth:`escape` takes them
        for argument in [*node.args, *(k.value for k in node.keywords)]:
            kind = type(argument)
            if kind is _NAME:
                self.escapes.append([argument.id, "passed", node, path, callee])  # type: ignore[attr-defined]
            elif kind is not _CONSTANT:
                self.escape(argument, "passed", node, path, callee)

    def through_instance(self, model: str, node: ast.Call) -> None:
        """``Rel(owner=x)``, ``Rel.objects.create(owner=x)``: Django sets ``x``'s reverse cache
        (the forward one-to-one ``__set__``, run by the model's constructor): a repair."""
        for key, (kind, receiver) in self.ties(node).items():
            if kind == "inst":
                self.clears.append({"recv": receiver, "model": model, "key": key, "pos": _pos(node)})

    @staticmethod
    def refresh_fields(node: ast.Call) -> Any:
        value: ast.expr | None = node.args[1] if len(node.args) > 1 else None
        for keyword in node.keywords:
            if keyword.arg == "fields":
                value = keyword.value
            elif keyword.arg is None:
                return "?"
        if value is None or isinstance(value, ast.Constant) and value.value is None:
            return None
        if isinstance(value, (ast.List, ast.Tuple, ast.Set)):
            names = [e.value for e in value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
            if len(names) == len(value.elts):
                return names
        return "?"

    def call_event(self, node: ast.Call, callee: str, receiver: str | None, path: list[Any]) -> None:
        # the event itself once :meth:`summary` needs it (most walks keep no call)
        self.calls.append((node, callee, receiver, path))  # type: ignore[arg-type]

    @staticmethod
    def _call_event(node: ast.Call, callee: str, receiver: str | None, path: list[Any]) -> Event | None:
        """The event of a call passing names on (or of a method of a named receiver)."""
        args: list[list[Any]] = []
        for number, argument in enumerate(node.args):
            if isinstance(argument, ast.Starred):
                break
            dotted = _dotted(argument)
            if dotted is not None:
                args.append([number, dotted])
        for keyword in node.keywords:
            if keyword.arg:
                dotted = _dotted(keyword.value)
                if dotted is not None:
                    args.append([keyword.arg, dotted])
        if receiver is None and not args:
            return None
        event = {"callee": callee, "args": args, "pos": _pos(node), "path": path}
        if receiver is not None:
            event["recv"] = receiver
        return event

    def save(self, obj: ast.expr, node: ast.Call, method: str, path: list[Any]) -> bool:
        if isinstance(obj, ast.Call):
            callee = _dotted(obj.func)
            if callee is None or not _looks_like_class(callee):
                return False
            tracked = _Tracked(callee)
            for keyword in obj.keywords:
                if keyword.arg:
                    tracked.sets[keyword.arg] = self.tie(keyword.value)
            return self.emit(tracked, node, method, path)
        dotted = _dotted(obj)
        if dotted is None:
            return False
        tracked = self.objects.get(dotted)
        if tracked is None:
            return False
        written = self.emit(tracked, node, method, path)
        tracked.sets = {}
        return written

    def emit(self, tracked: _Tracked, node: ast.Call, method: str, path: list[Any]) -> bool:
        before = len(self.writes)
        via = tracked.alias[1] if tracked.alias else None
        for key, (kind, receiver) in tracked.sets.items():
            if kind in ("pk", "other") and (tracked.model or via):
                self.write("attach", receiver, node, path, method, model=tracked.model,
                           via=via if not tracked.model else None, key=key, other=kind == "other" or None)
            if tracked.alias is not None:
                old, accessor = tracked.alias
                moved = kind in ("?", "pk", "other", "inst") and receiver != old or kind == "none" and key.endswith("_id")
                if moved:
                    self.write("detach", old, node, path, method, acc=accessor, key=key)
        return len(self.writes) > before

    def delete(self, obj: ast.expr, node: ast.Call, method: str, path: list[Any]) -> bool:
        keep_parents = any(k.arg == "keep_parents" and isinstance(k.value, ast.Constant) and k.value.value is True
                           for k in node.keywords) or None
        dotted = _dotted(obj)
        if dotted is not None:
            tracked = self.objects.get(dotted)
            if tracked is not None and tracked.alias is not None:
                self.write("detach", tracked.alias[0], node, path, method, acc=tracked.alias[1], kp=keep_parents)
                return True
            if tracked is None and "." in dotted:
                receiver, _, accessor = dotted.rpartition(".")
                self.write("detach", receiver, node, path, method, acc=accessor, kp=keep_parents)
                return True
            if (self.manager_self is None or dotted != self.manager_self) and dotted not in self.querysets:
                return False
        before = len(self.writes)
        for model, steps in self.chains(obj):
            for step, call in steps:
                if step in LOOKUP_STEPS:
                    for key, (kind, receiver) in self.ties(call, lookup=True).items():
                        if kind in ("inst", "pk", "other"):
                            self.write("detach", receiver, node, path, method, model=model, key=key)
        return len(self.writes) > before or self.narrowed(obj, node, method, path)

    @staticmethod
    def custom_step(obj: ast.expr, *, through_lookups: bool = False) -> tuple[ast.Call, str, str] | None:
        """``Rel.objects.for_user(u)...``: the call of the custom manager or queryset method, its
        name and ``Rel.objects``. The steps after it keep its rows (a later ``filter()`` may drop
        some: only *through_lookups*)."""
        current = obj
        while isinstance(current, ast.Call) and isinstance(current.func, ast.Attribute) \
                and current.func.attr in QUERYSET_STEPS and (through_lookups or current.func.attr not in LOOKUP_STEPS):
            current = current.func.value
        if not (isinstance(current, ast.Call) and isinstance(current.func, ast.Attribute)):
            return None
        custom = current.func.attr
        manager = _dotted(current.func.value)
        if custom in QUERYSET_STEPS or custom in QUERYSET_METHODS or custom in EVALUATING_METHODS \
                or manager is None or "." not in manager or not _looks_like_class(manager.rpartition(".")[0]):
            return None
        return current, custom, manager

    def narrowed(self, obj: ast.expr, node: ast.Call, method: str, path: list[Any],
                 moved: list[str] | None = None) -> bool:
        """``Rel.objects.for_user(u).delete()``: rows selected by a method of ``Rel``'s custom
        manager or queryset; which field ties them to ``u`` is that method's ``narrows``.
        ``...for_user(u).update(user=other)``: *moved*, the fields the update sets to another value."""
        step = self.custom_step(obj)
        if step is None:
            return False
        current, custom, manager = step
        written = False
        arguments = [*enumerate(current.args), *((k.arg, k.value) for k in current.keywords if k.arg)]
        for slot, argument in arguments:
            if isinstance(argument, ast.Starred):
                break
            kind, receiver = self.tie(argument)
            if kind in ("inst", "pk", "other"):
                moves = None if moved is None else \
                    [f for f in moved if (self.tie_of(node, f) or ["?", None])[1] != receiver]
                if moves == []:
                    continue
                self.write("detach", receiver, node, path, method, model=manager.rpartition(".")[0],
                           nw=[f"{manager}.{custom}", slot], mv=moves)
                written = True
        return written

    def tie_of(self, call: ast.Call, field: str) -> list[Any] | None:
        """How *call*'s keyword for *field* (``owner`` or ``owner_id``) ties it."""
        for keyword in call.keywords:
            if keyword.arg and keyword.arg.removesuffix("_id") == field:
                return self.tie(keyword.value)
        return None

    def update(self, obj: ast.expr, node: ast.Call, method: str, path: list[Any]) -> bool:
        chains = self.chains(obj)
        if len(chains) != 1:
            return self.custom_update(obj, node, method, path)
        model, steps = chains[0]
        before = len(self.writes)
        updated = self.ties(node)
        kept = _kept_owners(self, steps)
        for key, (kind, receiver) in updated.items():
            if kind in ("inst", "pk", "other") and receiver not in kept.get(key.removesuffix("_id"), ()):
                self.write("attach", receiver, node, path, method, model=model, key=key)
        fields = {k.removesuffix("_id"): tie for k, tie in updated.items()}
        for step, call in steps:
            if step not in LOOKUP_STEPS:
                continue
            for key, (kind, receiver) in self.ties(call, lookup=True).items():
                new = fields.get(key.removesuffix("_id"))
                if kind in ("inst", "pk", "other") and new is not None and new[1] != receiver:
                    self.write("detach", receiver, node, path, method, model=model, key=key)
        return len(self.writes) > before

    def custom_update(self, obj: ast.expr, node: ast.Call, method: str, path: list[Any]) -> bool:
        """``Rel.objects.for_user(u).update(...)``, through a custom manager or queryset method:
        ``user_id=x.pk`` ties the rows to ``x`` whichever they are; ``user=other`` (or ``None``)
        moves ``u``'s row away when the method selects the rows by ``user`` (its ``narrows``)."""
        step = self.custom_step(obj, through_lookups=True)
        if step is None:
            return False
        call, _, manager = step
        model = manager.rpartition(".")[0]
        # ``for_user(u).update(user=u)``: the rows may be u's own already (not stale): silent.
        selecting = {self.tie(a)[1] for a in [*call.args, *(k.value for k in call.keywords)]}
        before = len(self.writes)
        updated = self.ties(node)
        for key, (kind, receiver) in updated.items():
            if kind in ("inst", "pk", "other") and receiver not in selecting:
                self.write("attach", receiver, node, path, method, model=model, key=key)
        moved = [key.removesuffix("_id") for key in updated]
        return self.narrowed(obj, node, method, path, moved) or len(self.writes) > before

    def bulk(self, node: ast.Call, method: str, path: list[Any]) -> bool:
        """``bulk_create([Rel(owner_id=x.pk), rel])``, ``bulk_update([rel], [...])``: each element is
        saved as by ``save()``; ``bulk_create([Rel(owner_id=x.pk) for x in xs])`` writes for every
        element of ``xs`` (the receiver ``xs[i]``)."""
        if not node.args:
            return False
        rows = node.args[0]
        written = False
        if isinstance(rows, (ast.List, ast.Tuple)):
            for element in rows.elts:
                written = self.save(element, node, method, path) or written
            return written
        if not isinstance(rows, (ast.ListComp, ast.GeneratorExp)) or len(rows.generators) != 1 \
                or not isinstance(rows.elt, ast.Call):
            return False
        generator = rows.generators[0]
        iterated = _dotted(generator.iter) or _selected_from(generator.iter)
        callee = _dotted(rows.elt.func)
        if not isinstance(generator.target, ast.Name) or iterated is None or callee is None \
                or not _looks_like_class(callee):
            return False
        source = self.element_of.get(iterated, iterated)
        for keyword in rows.elt.keywords:
            if keyword.arg and self.tie(keyword.value) == ["pk", generator.target.id]:
                self.write("attach", source + ELEMENTS, node, path, method, model=callee, key=keyword.arg)
                written = True
        return written

    def chains(self, obj: ast.expr, *, rows: bool = False) -> list[tuple[str, list[tuple[str, ast.Call]]]]:
        """``Model.objects...`` -> one chain; in a manager's method ``self...`` -> one per model using it;
        ``rows.filter(...)`` after ``rows = ...`` -> the local queryset's chains, continued.
        *rows*: only chains of querysets (no ``get()``: not an instance)."""
        chain = _qs_chain(obj)
        if chain is not None and any(step == "using" for step, _ in chain[1]):
            return []  # another database's rows (see ``_other_database``)
        if chain is not None:
            return [chain] if not rows or all(step in SAME_ROWS_METHODS for step, _ in chain[1]) else []
        steps: list[tuple[str, ast.Call]] = []
        node = obj
        while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and (node.func.attr in QUERYSET_STEPS or node.func.attr == "get_queryset"):
            if rows and node.func.attr not in SAME_ROWS_METHODS and node.func.attr != "get_queryset":
                return []
            if node.func.attr != "get_queryset":  # ``self.get_queryset()``: all rows of the manager
                steps.append((node.func.attr, node))
            node = node.func.value
        steps.reverse()
        if isinstance(node, ast.Name) and node.id in self.querysets:
            return [(model, [*known, *steps]) for model, known in self.querysets[node.id]]
        if self.manager_self is None or not (isinstance(node, ast.Name) and node.id == self.manager_self):
            return []
        if len(self.managed) > 1:
            return []  # a class several models use: which model's rows (and accessor) is the caller's call
        return [(model, steps) for model in self.managed]

    def factory(self, factory: str, node: ast.Call, path: list[Any], method: str = "create") -> bool:
        """``ProfileFactory(owner_id=x.pk)`` / ``ProfileFactory.create(...)`` (factory_boy): saved
        with those fields, as ``create()`` saves (which model: the factory's ``Meta.model``,
        resolved with the index). ``ProfileFactory(owner=x)`` goes through the instance (a repair)."""
        before = len(self.writes)
        for key, (kind, receiver) in self.ties(node).items():
            if kind in ("pk", "other"):
                self.write("attach", receiver, node, path, method, model=factory, key=key, other=kind == "other" or None)
        return len(self.writes) > before

    def baked(self, node: ast.Call, path: list[Any]) -> bool:
        """``baker.make(Profile, owner_id=x.pk)`` / ``baker.make("shop.Profile", ...)`` (model_bakery):
        one saved instance (not with ``_quantity=``: a list)."""
        first = node.args[0]
        model = first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else _dotted(first)
        if model is None or len(node.args) != 1 or any(k.arg in (None, "_quantity") for k in node.keywords):
            return False
        if not isinstance(first, ast.Constant):
            self.through_instance(model, node)
        before = len(self.writes)
        for key, (kind, receiver) in self.ties(node).items():
            if kind in ("pk", "other") and not key.startswith("_"):
                self.write("attach", receiver, node, path, "make", model=model, key=key, other=kind == "other" or None)
        return len(self.writes) > before

    def create(self, obj: ast.expr, node: ast.Call, method: str, path: list[Any]) -> bool:
        factory = _dotted(obj)
        if method == "create" and factory is not None and _looks_like_class(factory) and factory.endswith(FACTORY_SUFFIX):
            return self.factory(factory, node, path)
        before = len(self.writes)
        for model, _ in self.chains(obj):
            # ``create(owner=x)`` (and ``get_or_create(owner=x)``: see the rule's docstring) go
            # through the instance; ``owner_id=x.pk`` and another instance of x's row do not.
            defaults = [(key, self.tie(value)) for key, value in self.defaults(node)]
            # ``get_or_create(owner_id=x.pk, defaults={"owner_id": y.pk})`` creates y's row: the
            # lookup ties the row to x only when it finds one, which no one can tell statically.
            overridden = _defaults_fields(node) if method in RETURNS_PAIR else set()
            looked_up = [(key, tie) for key, tie in self.ties(node).items() if _field_of(key) not in overridden]
            for key, (kind, receiver) in [*looked_up, *defaults]:
                if kind in ("pk", "other"):
                    self.write("attach", receiver, node, path, method, model=model, key=key,
                               other=kind == "other" or None)
            if method in RETURNS_OBJECT:
                self.through_instance(model, node)
        return len(self.writes) > before

    # -- result --------------------------------------------------------------------

    def summary(self, kind: str, class_name: str | None, line: int) -> Event | None:
        """The function's facts, or None when nothing in it can make or carry a stale write.

        Kept: every write; calls that pass on a receiver read before them (call sites)
        and, in functions that write, calls that pass on a parameter (summaries).
        Dropped: functions that only read or only call.
        """
        if not self.writes and not self.reads:
            return None  # no call is kept without a read before it or a write in the function
        first_read: dict[str, tuple[int, int]] = {}
        for read in self.reads:
            receiver = read["recv"]
            if receiver not in first_read or _start(read) < first_read[receiver]:
                first_read[receiver] = _start(read)
        params = set(self.params) if self.writes else set()
        calls = []
        for node, callee, receiver, path in self.calls:  # type: ignore[misc]
            call = self._call_event(node, callee, receiver, path)
            if call is None:
                continue
            end = _stop(call)
            passed = [a for a in call["args"] if _root(a[1]) in params or first_read.get(a[1], end) < end]
            receiver = call.get("recv")
            if passed or receiver is not None and (_root(receiver) in params or first_read.get(receiver, end) < end):
                call["args"] = passed
                calls.append(call)
        if not (self.writes or calls):
            return None
        roots = {_root(r) for r in first_read} | params | {_root(w["recv"]) for w in self.writes}
        summary: Event = {
            "line": line,
            "kind": kind,
            "params": self.params,
            "reads": self.reads,
            "writes": self.writes,
            "calls": calls,
            "clears": [c for c in self.clears if _root(c["recv"]) in roots],
            "binds": [b for b in self.binds if _root(b[0]) in roots],
        }
        watched = {w["recv"] for w in self.writes} | {c.get("recv") for c in calls} | \
            {a[1] for c in calls for a in c["args"]}
        watched |= {w[: -len(ELEMENTS)] for w in watched if w and w.endswith(ELEMENTS)}
        watched |= {_root(w) for w in watched if w}
        uses = [u for u in self.uses if u[0] in watched]
        escapes = [e for e in self.escapes if e[0] in watched]
        for event in uses:
            event[2] = _pos(event[2])
        for event in escapes:
            event[2] = _pos(event[2])
        if uses:
            summary["uses"] = uses
        if escapes:
            summary["escapes"] = escapes
        if self.loops:
            summary["loops"] = self.loops
        if self.exits:
            summary["exits"] = self.exits
        if self.managed:
            summary["managed"] = self.managed
        if class_name is not None:
            summary["class"] = class_name
        return summary


def _narrows(node: ast.FunctionDef | ast.AsyncFunctionDef, params: list[str]) -> list[list[str]]:
    """A manager's or queryset's method that is ``return self.filter(user=user)`` (through
    ``all()``, ``get_queryset()`` and other filters too), or straight-line assignments of such
    chains to locals before it (``qs = self.filter(user=user)``, ``return qs.order_by(...)``):
    [[lookup key, parameter], ...]. Any other statement: nothing (which rows it returns is unsure)."""
    body = [s for s in node.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    if not body or not isinstance(body[-1], ast.Return) or body[-1].value is None or len(params) < 2:
        return []
    chains: dict[str, list[list[str]]] = {}
    for statement in body[:-1]:
        if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Name)):
            return []
        found = _narrowing(statement.value, params, chains)
        if found is None:
            return []
        chains[statement.targets[0].id] = found
    return _narrowing(body[-1].value, params, chains) or []


def _narrowing(value: ast.expr, params: list[str], chains: dict[str, list[list[str]]]) -> list[list[str]] | None:
    """A queryset chain from ``self`` (*params[0]*) or a local holding one (*chains*): the lookup
    keys it ties to the other parameters; None when it is not such a chain."""
    found: list[list[str]] = []
    current: ast.AST = value
    while isinstance(current, ast.Call) and isinstance(current.func, ast.Attribute) \
            and (current.func.attr in QUERYSET_STEPS or current.func.attr == "get_queryset"):
        if current.func.attr in LOOKUP_STEPS:
            for keyword in current.keywords:
                dotted = _dotted(keyword.value) if keyword.arg else None
                if dotted is not None and dotted.partition(".")[0] in params[1:] \
                        and dotted.partition(".")[2] in ("", "pk", "id"):
                    found.append([_lookup_key(keyword.arg or ""), dotted.partition(".")[0]])
        current = current.func.value
    if not isinstance(current, ast.Name):
        return None
    if current.id == params[0]:
        return found
    if current.id in chains and current.id not in params:
        return chains[current.id] + found
    return None


def _post_generation(node: ast.AST) -> bool:
    """``@factory.post_generation`` (``@post_generation`` imported)."""
    return any((_dotted(d) or "").rpartition(".")[2] == "post_generation"
               for d in getattr(node, "decorator_list", ()))


def _durable(context: ast.expr) -> bool:
    """``transaction.atomic(durable=True)`` (``atomic(...)`` imported, ``using=`` too)."""
    return isinstance(context, ast.Call) and (_dotted(context.func) or "").rpartition(".")[2] == "atomic" \
        and any(k.arg == "durable" and isinstance(k.value, ast.Constant) and k.value.value is True
                for k in context.keywords)


def _may_roll_back(node: ast.With | ast.AsyncWith) -> bool:
    """A block holding a ``raise``, an ``assert`` or a ``set_rollback(...)`` call may roll back
    (Django discards its ``on_commit()`` jobs then): which of them runs is not followed."""
    for child in ast.walk(node):
        if isinstance(child, (ast.Raise, ast.Assert)):
            return True
        if isinstance(child, ast.Call) and (_dotted(child.func) or "").rpartition(".")[2] == "set_rollback":
            return True
    return False


def _kept_owners(walker: _FunctionWalker, steps: list[tuple[str, ast.Call]]) -> dict[str, set[str]]:
    """The fields a chain's ``filter()``/``get()`` steps tie to an instance (``filter(owner=x)``:
    ``{"owner": {"x"}}``): an ``update(owner=x)`` of those rows leaves them ``x``'s (a no-op move)."""
    kept: dict[str, set[str]] = {}
    for step, call in steps:
        if step in LOOKUP_STEPS:
            for key, (kind, receiver) in walker.ties(call, lookup=True).items():
                if kind in ("inst", "pk", "other"):
                    kept.setdefault(key.removesuffix("_id"), set()).add(receiver)
    return kept


def _rebound_names(node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    """The names a function declares ``nonlocal`` or ``global`` (calling it may rebind them)."""
    names: list[str] = []
    stack: list[ast.AST] = list(node.body)
    while stack:
        current = stack.pop()
        if isinstance(current, (ast.Nonlocal, ast.Global)):
            names += [n for n in current.names if n not in names]
        elif not isinstance(current, _DEFINITIONS):
            stack.extend(c for c in child_nodes(current) if not isinstance(c, ast.expr))  # statements only
    return names


def _params(node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    arguments = node.args
    return [a.arg for a in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs)]


def _kind(node: ast.FunctionDef | ast.AsyncFunctionDef, class_name: str | None) -> str:
    if class_name is None:
        return "function"
    for decorator in node.decorator_list:
        name = _dotted(decorator)
        if name in ("staticmethod", "classmethod"):
            return name
    return "method"


_WRITE_METHODS = SAVE_METHODS | DELETES | UPDATES | RETURNS_OBJECT | RETURNS_PAIR | BULK_WRITES


def _interesting_lines(tree: ast.Module) -> list[int]:
    """Lines holding a read or write candidate, found by walking the whole tree."""
    lines: list[int] = []
    for node in ast.walk(tree):
        kind = type(node)
        if kind is ast.Call:
            func = node.func  # type: ignore[attr-defined]
            if type(func) is ast.Attribute:
                if func.attr in _WRITE_METHODS or func.attr in RELATED_FILLERS or func.attr in ("make", "fetch_mode"):
                    lines.append(node.lineno)  # type: ignore[attr-defined]
            elif type(func) is ast.Name and (func.id in ("hasattr", "getattr") or func.id.endswith(FACTORY_SUFFIX)):
                lines.append(node.lineno)  # type: ignore[attr-defined]
        elif _TRY_TYPES and kind in _TRY_TYPES and any(_catches(h.type) for h in node.handlers):  # type: ignore[attr-defined]
            lines.append(node.lineno)  # type: ignore[attr-defined]
    return lines


#: The same candidates, found in the text (a superset: also in strings and comments). Two
#: patterns without a leading ``\\b`` let the regex engine skip ahead on literal prefixes.
_READ_WORDS = re.compile(r"hasattr|getattr|DoesNotExist|AttributeError|select_related|prefetch_related")
_WRITE_VERBS = r"(?:save|save_base|delete|update|create|get_or_create|update_or_create|bulk_create|bulk_update)\b"
#: ``x. delete()``, ``(x.\n delete())``: what the tokenizer lets stand between the dot and the
#: method (the word is then none of :data:`_WORD_KINDS`: the function is always walked).
_SPACED_WRITE = rf"\.(?=[\s\\#]){EXPRESSION_GAP}(?:a?{_WRITE_VERBS}|make\()"
_WRITE_WORDS = re.compile(rf"\.a?{_WRITE_VERBS}|Factory\(|_factory\(|\.make\(|{_SPACED_WRITE}")


def _candidate_lines(text: str) -> list[int]:
    """Line numbers of candidate words, from the text alone (no tree walk)."""
    matches = [m.start() for m in _READ_WORDS.finditer(text)] + [m.start() for m in _WRITE_WORDS.finditer(text)]
    return line_numbers(text, matches) if matches else []


#: The per-function screen (:class:`_Screen`). Its patterns allow what the tokenizer lets stand
#: between the parts of a name or a call (spaces, line breaks, a comment, a backslash, a closing
#: parenthesis): where a pattern fails to match, the function is walked.
_GAP = EXPRESSION_GAP
#: What the screen looks at: :data:`_READ_WORDS` and :data:`_WRITE_WORDS` in one pattern. It
#: defines the words; :func:`_screen_words` finds its matches faster (this alternation makes the
#: regex engine try most letters of the text).
_SCREEN_WORDS = re.compile(f"{_READ_WORDS.pattern}|{_WRITE_WORDS.pattern}")
#: A screen word -> what it may give: a read ("read", unless :data:`_NOT_A_READ`), a handler's
#: exception ("catch": the ``try`` is checked on the tree), a write, a write that needs ``x.pk``
#: ("create") or a ``Model.`` head ("update") in the function too.
_WORD_KINDS = {
    **dict.fromkeys(("hasattr", "getattr", "select_related", "prefetch_related"), "read"),
    **dict.fromkeys(("DoesNotExist", "AttributeError"), "catch"),
    **{f".{prefix}{word}": "write" for prefix in ("", "a")
       for word in ("save", "save_base", "delete", "bulk_create", "bulk_update")},
    **{f".{prefix}{word}": "create" for prefix in ("", "a") for word in ("create", "get_or_create", "update_or_create")},
    **dict.fromkeys(("Factory(", "_factory(", ".make("), "create"),  # ``_factory(``: pytest-factoryboy
    **dict.fromkeys((".update", ".aupdate"), "update"),
}
_KINDS = frozenset(_WORD_KINDS.values())
#: A read word that reads nothing (:func:`_read_of`, :func:`_related_of`): part of a longer
#: name, or followed by anything but a gap and ``(`` (no call); ``hasattr``/``getattr`` whose
#: second argument starts with a letter or digit that begins no ``str`` literal (a name, a call,
#: a number, ``b"..."``, ``f"..."``), or a ``getattr`` with two arguments (no default). The first
#: argument is then plain text (no bracket, string or comment), so the comma after it is the call's.
_NOT_A_READ = re.compile(
    r"(?:hasattr|getattr|select_related|prefetch_related)(?:\w|[ \t]*[^\s(#\\)])"
    r"|(?:hasattr|getattr)\([\w.\s]*,\s*(?![rRuU]['\"])\w"
    r"|getattr\([\w.\s]*,\s*[rRuU]?(?:\"[^\"\\\n]*\"|'[^'\\\n]*')\s*\)"
)
_WORD_CHAR = re.compile(r"\w")
#: ``hasattr(x.y, ...)``: the last name of the receiver, when the first argument is a plain dotted name.
_READ_RECEIVER = re.compile(r"(?:hasattr|getattr)\(\s*(?:[A-Za-z_]\w*\s*\.\s*)*([A-Za-z_]\w*)\s*,")
#: Between ``for``/``lambda`` and its variable.
_OPENING = r"(?:[\s(\\]|%s)*" % COMMENT_PATTERN
#: After a name: what makes it a call's argument (``,`` or ``)``) or receiver (``x.method(``).
_PASSED = r"(?:[\s\\]|%s)*(?:[,)]|\." % COMMENT_PATTERN + _GAP + r"\w+" + _GAP + r"\()"
#: ``Model.``: a write chain (:func:`_qs_chain`, ``custom_step``) has a class-like dotted head
#: (a first letter ``str.isupper`` takes: ``[A-Z]`` in ASCII, any letter but ``a-z`` beyond it).
_CLASS_DOT = re.compile(r"\b[^\W\d_a-z]\w*" + _GAP + r"\.")
#: ``x.pk`` / ``x.id``: what ties a created row to an instance by id (``tie`` kinds "pk", "other").
_PK = re.compile(r"\." + _GAP + r"(?:pk|id)\b")
#: Runs of characters beyond ASCII: the screen only needs the lines holding one.
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
#: The last name of a dotted receiver of an attribute load that is not called (``x`` and ``y`` in
#: ``x.y.z``, ``x`` in ``x.y.m()`` but not ``y``): :meth:`_FunctionWalker.expr` takes the function
#: of a call as no load. Only spaces before the call's ``(``: ``f(x.y)(z)`` loads ``x.y``, and a
#: ``(`` on the next line may start another statement.
_RECEIVER_NAME = re.compile(r"(?<!\w)(\w+)(?=" + _GAP + r"\." + _GAP + r"\w+(?!\w)(?![ \t]*\())")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # as the tokenizer (and :func:`line_numbers`) counts lines
#: The words of :data:`_SCREEN_WORDS` that start with a dot, in its order: one scan that the regex
#: engine skips through from dot to dot (the whole alternation tries most letters of the text).
_DOT_WORDS = re.compile(rf"\.(?:a?{_WRITE_VERBS}|make\()|{_SPACED_WRITE}")
#: The other words of :data:`_SCREEN_WORDS`, each found by ``str.find`` of a part it shares with
#: the others: (part, [(what stands before the part, the word)]).
_LITERAL_WORDS = (
    ("attr", (("has", "hasattr"), ("get", "getattr"))),
    ("DoesNotExist", (("", "DoesNotExist"),)),
    ("AttributeError", (("", "AttributeError"),)),
    ("_related", (("select", "select_related"), ("prefetch", "prefetch_related"))),
    ("actory(", (("F", "Factory("), ("_f", "_factory("))),
)


def _screen_words(text: str) -> list[tuple[int, str]]:
    """``[(m.start(), m.group()) for m in _SCREEN_WORDS.finditer(text)]``, in a few ``str.find``
    passes. The same list: no two of the words can overlap (none starts inside another), so
    every occurrence of each is a match of the alternation, and only one word matches at a place."""
    found = [(match.start(), match.group()) for match in _DOT_WORDS.finditer(text)]
    for part, words in _LITERAL_WORDS:
        index = text.find(part)
        while index >= 0:
            for before, word in words:
                start = index - len(before)
                if start >= 0 and text.startswith(before, start):
                    found.append((start, word))
                    break
            index = text.find(part, index + 1)
    found.sort()
    return found


#: After a name, as :data:`_PASSED` says, and the variable after ``for``/``lambda`` (see
#: :func:`_passed` and :func:`_loop_variables`: one compiled pattern for every name).
_PASSED_AFTER = re.compile(_PASSED)
_LOOP_VARIABLE = re.compile(r"\b(?:for|lambda)" + _OPENING + r"(\w+)")


def _respelled_lines(text: str) -> list[int]:
    """The lines NFKC changes (each holds a character beyond ASCII).

    The parser reads each name as NFKC spells it (``ｈasattr`` is ``hasattr``), and a name is
    part of one line. NFKC leaves alone every part of a line it leaves alone (it composes
    only characters next to each other, and only the last letter before a mark takes it): the
    names on such a line, or the text of its strings and comments, are spelled as the parser
    reads them, and the screen may read the line as it reads ASCII. On the others a word may
    be spelled with other letters."""
    if unicodedata.is_normalized("NFKC", text):
        return []
    lines = _LINE_BREAK.split(text) if "\r" in text else text.split("\n")
    return [number for number, line in enumerate(lines, 1)
            if not line.isascii() and not unicodedata.is_normalized("NFKC", line)]


def _passed(segment: str, name: str, times: int, start: int = 0, end: int | None = None) -> bool:
    """``len(re.findall(rf"\\b{name}{_PASSED}", segment[start:end])) >= times`` for a name
    (``[A-Za-z_]\\w*``), without compiling a pattern per name: the same matches, found from each
    ``name`` at a word's start; and one of them is not the first argument of a builtin
    (:func:`_builtin_argument`)."""
    end = len(segment) if end is None else end
    count = 0
    elsewhere = False
    index = segment.find(name, start, end)
    while index >= 0:
        if index == start or _WORD_CHAR.match(segment, index - 1) is None:
            passed = _PASSED_AFTER.match(segment, index + len(name), end)
            if passed is not None:
                count += 1
                elsewhere = elsewhere or segment[passed.end() - 1] == "(" or not _builtin_argument(segment, index)
                if count >= times and elsewhere:
                    return True
                index = segment.find(name, passed.end(), end)
                continue
        index = segment.find(name, index + 1, end)
    return False


#: Before a call's first argument, after what cannot end an expression (a bracket, a comma, an
#: operator, a keyword): ``isinstance(``, a call of a name (not of ``x.isinstance``).
_CALL_BEFORE = re.compile(
    r"(?:[(\[{,=:;<>!+\-*/%&|^~@]|(?<![\w.])(?:if|elif|while|return|not|and|or|in|is|else|assert|yield|await))"
    r"[ \t]*(?<!\w)([A-Za-z_]\w*)[ \t]*\([ \t]*\Z")


def _builtin_argument(segment: str, index: int) -> bool:
    """Is the name at *index* the first argument of a call of a builtin (``isinstance(x, ...)``,
    ``len(x)``)? :meth:`_FunctionWalker.call` takes no such call as an event. Looks back on
    the same line only; unsure: False."""
    line_start = segment.rfind("\n", max(index - 80, 0), index) + 1
    call = _CALL_BEFORE.search(segment, max(line_start, index - 80), index)
    return call is not None and call.group(1) in _BUILTINS


def _loop_variables(segment: str, start: int = 0, end: int | None = None, first: int = 1,
                    statements: list[int] | None = None) -> set[str]:
    """The names ``re.search(rf"\\b(?:for|lambda){_OPENING}{name}\\b", segment[start:end])`` finds, for every
    name at once: at each place the words start, what follows the gap is the only name that can
    stand there (the gap cannot end before a letter), whole (it ends at a word boundary).
    Without the variables of the ``for`` statements starting on the lines *statements* (the
    text from *start* is line *first*): the first word of such a line is the statement's."""
    end = len(segment) if end is None else end
    names: set[str] = set()
    match = _LOOP_VARIABLE.search(segment, start, end)
    line, position = first, start
    while match is not None:
        if statements and match.group().startswith("for"):
            line += segment.count("\n", position, match.start())
            position = match.start()
            line_start = segment.rfind("\n", start, position) + 1 if line > first else start
            head = segment[line_start:position]
            statement = line in statements and (not head.strip() or head.split() == ["async"])
        else:
            statement = False
        if not statement:
            names.add(match.group(1))
        match = _LOOP_VARIABLE.search(segment, match.start() + 1, end)
    return names


#: The words of a save or a delete of a row (:meth:`_FunctionWalker.save`, ``delete``).
_SAVES_AND_DELETES = frozenset({".save", ".asave", ".save_base", ".delete", ".adelete"})
#: A dotted name (or ``super(...)``) before a dot (``item`` in ``item.save``, ``x.rel`` in
#: ``x.rel.save``) after what cannot end an expression (a bracket, a comma, ``=``, ``:``, a
#: keyword) on its line; or alone on its line, after the indentation (then the line before
#: must not continue it).
_RECEIVER = r"((?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*|super\([^()\r\n]*\))\Z"
_RECEIVER_AFTER_SYNTAX = re.compile(
    r"(?:[(\[{,;=:]|(?<![\w.])(?:return|await|not|and|or|if|elif|else|while|in|yield|assert|del|lambda))"
    r"[ \t]*(?<!\w)" + _RECEIVER)
_RECEIVER_ALONE = re.compile(r"[ \t]*" + _RECEIVER)
_DOT_AFTER = re.compile(_GAP + r"\.")
#: After a name: ``.attr =`` (or ``.attr: T =``), a store into an attribute of the row it holds.
_STORE_AFTER = re.compile(_GAP + r"\." + _GAP + r"\w+[^\n=]*=(?!=)")


def _saved_receiver(text: str, dot: int) -> str | None:
    """The dotted name (or ``super(...)``) before the dot at *dot* (``item`` in ``item.save()``),
    when it is certainly the whole receiver (no part of a longer dotted name or expression);
    else None."""
    line_start = max(text.rfind("\n", 0, dot), text.rfind("\r", 0, dot)) + 1
    receiver = _RECEIVER_AFTER_SYNTAX.search(text, max(line_start, dot - 80), dot)
    if receiver is not None:
        return receiver.group(1)
    receiver = _RECEIVER_ALONE.match(text, line_start, dot)
    if receiver is None:
        return None
    previous, end = "", line_start
    while end > 0 and not previous:  # the last line before that is not blank
        begin = max(text.rfind("\n", 0, end - 1), text.rfind("\r", 0, end - 1)) + 1
        previous, end = text[begin:end].strip(), begin
    if "#" in previous or previous.endswith((".", "\\")):
        return None  # ``x.`` (or a comment that may follow one) continues into this line
    return receiver.group(1)


def _stored_into(segment: str, name: str, start: int, end: int) -> bool:
    """Does *name* stand, from *start* to *end*, before a store into one of its attributes
    (``name.attr = ...``, a target :meth:`_FunctionWalker.target` sets a field by)?"""
    index = segment.find(name, start, end)
    while index >= 0:
        after = index + len(name)
        if (index == start or _WORD_CHAR.match(segment, index - 1) is None) \
                and _STORE_AFTER.match(segment, after, end) is not None:
            return True
        index = segment.find(name, after, end)
    return False


def _only_received(segment: str, name: str, start: int, end: int) -> bool:
    """Does *name* stand, from *start* to *end*, nowhere but before a dot (``name.attr``): is it
    bound nowhere there (an assignment, a ``for``, ``as``, a parameter of a lambda)?"""
    index = segment.find(name, start, end)
    while index >= 0:
        after = index + len(name)
        if (index == start or _WORD_CHAR.match(segment, index - 1) is None) \
                and _WORD_CHAR.match(segment, after, end) is None and _DOT_AFTER.match(segment, after, end) is None:
            return False
        index = segment.find(name, after, end)
    return True


#: What the scan of a call's arguments stops at (:func:`_may_pass_keyword`).
_CALL_SYNTAX = re.compile(r"[()\[\]{}'\"#=\\]")
#: The end of a string literal from its opening quote (a backslash takes the next character,
#: raw or not); the letters before the quote: a prefix without ``f`` (no expression within).
_STRING_ENDS = {
    quote: (re.compile(rf"{quote * 3}(?:[^{quote}\\]|\\[\s\S]|{quote}(?!{quote * 2}))*{quote * 3}"),
            re.compile(rf"{quote}(?:[^{quote}\\\r\n]|\\[\s\S])*{quote}"))
    for quote in ("'", '"')
}
_PLAIN_PREFIX = re.compile(r"(?<!\w)(?:[rRbBuU]|[rR][bB]|[bB][rR])?\Z")


def _may_pass_keyword(text: str, index: int) -> bool:
    """Can the call whose method name ends at *index* (``x.update``) pass a keyword argument
    (``name=``)? False only when ``(`` follows at once and no ``=`` stands at the top level of
    its arguments, up to the matching ``)`` (string literals skipped); anything unsure (an
    f-string, a comment, a lambda's default, no call) answers True."""
    while index < len(text) and text[index] in " \t":
        index += 1
    if not text.startswith("(", index):
        return True
    depth = 1
    match = _CALL_SYNTAX.search(text, index + 1)
    while match is not None:
        char, position = match.group(), match.start()
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth == 0:
                return False
        elif char in "'\"":
            if _PLAIN_PREFIX.search(text, max(position - 3, 0), position) is None:
                return True  # an f-string (or no string at all)
            triple, single = _STRING_ENDS[char]
            string = (triple if text.startswith(char * 3, position) else single).match(text, position)
            if string is None:
                return True
            match = _CALL_SYNTAX.search(text, string.end())
            continue
        elif char == "=":
            if text.startswith("=", position + 1):  # ``==``
                match = _CALL_SYNTAX.search(text, position + 2)
                continue
            if depth == 1 and text[position - 1] not in "<>!:":  # not ``<=``, ``>=``, ``!=``, ``:=``
                return True
        elif char == "#":
            return True
        match = _CALL_SYNTAX.search(text, position + 1)  # a backslash: a line continuation
    return True


class _Screen:
    """Which functions of one file can produce a record; the others are not walked.

    A record needs a write or a read (:meth:`_FunctionWalker.summary` drops a function that
    only calls), taken from the function's own statements (not its nested definitions). So
    a function is walked when its own lines hold a possible read (not :data:`_NOT_A_READ`), a
    save or delete (of a plain name only when that name is bound in the function: else no
    row the walk follows), a bulk write, a create (``create``, ``get_or_create``,
    ``update_or_create``, ``baker.make``, a factory) with an ``x.pk`` or ``x.id`` in the
    function (it ties rows by id), an update passing a keyword argument with a ``Model.`` head
    in the function (a write chain starts there; any in a manager's or queryset's method:
    ``self.update(...)``), or a name NFKC spells otherwise (it may spell a word with other
    letters: ``ｈasattr``). Without a write, a read makes a record only through a call that
    passes its receiver on (or calls a method of it) and ends after it, not a builtin's: a
    ``hasattr``/``getattr`` of a plain dotted name counts only when that name stands again
    where a call's argument or receiver can from the statement holding the read on, or is a
    comprehension's or a lambda's variable; a ``try`` catching ``DoesNotExist`` or
    ``AttributeError`` (found on the tree: every attribute loaded in its body is a read) only
    when a name loaded before a dot in its body stands so from the statement holding it on.
    A manager's or queryset's method the screen rules out still gets its ``narrows`` (on the
    tree). Each test errs towards walking; ``benchmarks/facts_screen_check.py`` compares the
    facts with and without it.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        offsets: list[int] = []
        kinds: list[Any] = []
        for start, word in _screen_words(text):
            kind = _WORD_KINDS.get(word, "write")  # a word added to the patterns later: always walked
            if kind == "read" and start and (
                    _WORD_CHAR.match(text, start - 1) or text[start - 1] == "." and word.endswith("attr")) \
                    or kind == "read" and _NOT_A_READ.match(text, start):
                continue  # ``__getattr__``, ``x.hasattr``, ``getattr(x, name)``, ``"select_related"``
            if kind == "read" and word.endswith("attr"):
                receiver = _READ_RECEIVER.match(text, start)
                if receiver is not None:
                    kind = receiver.group(1)  # a read that matters only if that name is passed on
            elif kind == "update" and not _may_pass_keyword(text, start + len(word)):
                continue  # ``context.update(extra)``: an update sets the fields its keywords name
            elif word in _SAVES_AND_DELETES:
                saved = _saved_receiver(text, start)
                if saved is not None:
                    kind = (saved, word.endswith("delete"))  # a write only on a row the walk follows
            offsets.append(start)
            kinds.append(kind)
        self._lines: list[str] | None = None
        self._ends: list[int] | None = None
        lines = line_numbers(text, offsets) if offsets else []
        if not text.isascii():
            beyond = _respelled_lines(text)
            lines += beyond
            kinds += ["read"] * len(beyond)
        #: every line the screen looks at: a function spanning none is not even queued
        self.lines = sorted(set(lines))
        self.maybe = sorted({line for line, kind in zip(lines, kinds) if kind in ("read", "write")})
        self.creates = sorted({line for line, kind in zip(lines, kinds) if kind == "create"})
        self.updates = sorted({line for line, kind in zip(lines, kinds) if kind == "update"})
        #: ``hasattr``/``getattr`` reads of a plain dotted name: line -> the last names read; and
        #: saves or deletes of a dotted name: line -> (that name, a delete?)
        self.reads: dict[int, set[str]] = {}
        self.saves: dict[int, set[tuple[str, bool]]] = {}
        for line, kind in zip(lines, kinds):
            if type(kind) is tuple:
                self.saves.setdefault(line, set()).add(kind)
            elif kind not in _KINDS:
                self.reads.setdefault(line, set()).add(kind)
        self.read_lines = sorted(self.reads)
        self.save_lines = sorted(self.saves)

    def _segment(self, first: int, last: int) -> str:
        """Lines *first* to *last* (line breaks as ``\\n``)."""
        if self._lines is None:
            self._lines = _LINE_BREAK.split(self.text) if "\r" in self.text else self.text.split("\n")
        return "\n".join(self._lines[first - 1:last])

    def _span(self, first: int, last: int) -> tuple[str, int, int]:
        """Lines *first* to *last* as (string, start, end): :meth:`_segment`'s text, but as a
        part of the whole text (no copy) when every line break is ``\\n``. The patterns read
        alike with ``pos``/``endpos`` there: a line break stands just outside either end."""
        if "\r" in self.text:
            segment = self._segment(first, last)
            return segment, 0, len(segment)
        if self._ends is None:
            if self._lines is None:
                self._lines = self.text.split("\n")
            self._ends = list(accumulate(map(len, self._lines)))  # the lines' lengths so far
        last = min(last, len(self._ends))
        if first > last:
            return "", 0, 0
        start = (self._ends[first - 2] if first > 1 else 0) + first - 1
        return self.text, start, self._ends[last - 1] + last - 1

    def walks(self, node: ast.AST, nested: list[ast.stmt], guarded: list[ast.stmt], loops: list[int],
              managed: bool = False) -> bool:
        """Can *node* (a function, or the module) produce a record? *nested*: its nested
        definitions (walked apart); *guarded*: its own ``try`` statements whose handler catches
        ``DoesNotExist`` or ``AttributeError``; *loops*: the first lines of its own ``for``
        statements; *managed*: a manager's or queryset's method."""
        function = isinstance(node, _FUNCTIONS)
        if function:
            first, last = node.lineno, node.end_lineno or node.lineno  # type: ignore[attr-defined]
        elif guarded:
            return True
        else:
            first, last = 1, 1 << 62
        starts = [d.lineno for d in nested]  # in the order of the source: sorted, disjoint
        ends = [d.end_lineno or d.lineno for d in nested]

        def own(lines: list[int]) -> list[int]:
            found = []
            index = bisect_left(lines, first)
            while index < len(lines) and lines[index] <= last:
                line = lines[index]
                inner = bisect_right(starts, line) - 1
                if inner < 0 or ends[inner] < line:
                    found.append(line)
                    index += 1
                else:
                    index = bisect_right(lines, ends[inner], index)  # past that nested definition
            return found

        if own(self.maybe):
            return True
        if own(self.creates) and _PK.search(*self._span(first, last)):
            return True
        if own(self.updates) and (managed or _CLASS_DOT.search(*self._span(first, last))):
            return True
        body = node.body  # type: ignore[attr-defined]
        body_first = body[0].lineno if body else first
        save_lines = own(self.save_lines)
        if save_lines and (managed or not function):
            return True  # a manager's ``self`` is its rows
        if save_lines and self._saves_write(save_lines, body_first, last):
            return True
        if guarded and self._guarded_receiver_passed(guarded, body, body_first, last):
            return True
        read_lines = own(self.read_lines)
        if not read_lines:
            return False
        if not function:
            return True
        # Without a write, a read makes a record only with a call passing its receiver on
        # (:meth:`_FunctionWalker.summary`) and ending after it: its name then stands twice
        # where a call's argument or receiver can from the statement holding the read on, the
        # read's own ``hasattr(x,`` being the first (a call ending after the read either holds
        # it, in that statement, or comes after it). From the body on, so that a parameter's
        # name in the signature does not count.
        names: dict[str, int] = {}  # name -> the first line the calls passing it on may start at
        for line in read_lines:
            bound = _statement_start(body, line, body_first)
            for name in self.reads[line]:
                names[name] = min(bound, names.get(name, bound))
        for name, bound in names.items():
            segment, start, end = self._span(bound, last)
            if segment.count(name, start, end) > 1 and _passed(segment, name, 2, start, end):
                return True
        # a comprehension's or a lambda's variable (not a ``for`` statement's): a read of each
        # element, which a later loop over the same elements hands to its own variable (``filled``)
        segment, start, end = self._span(body_first, last)
        return not names.keys().isdisjoint(_loop_variables(segment, start, end, body_first, loops))

    def _saves_write(self, save_lines: list[int], first: int, last: int) -> bool:
        """Can a save or delete of a dotted name on *save_lines* write (the function's body from
        line *first* to *last*)? Only on a row the walk follows (:meth:`_FunctionWalker.save`,
        ``delete``): never ``super().save()`` (a call of a name that is no model); a plain name's
        only when a binding of it in the function starts one (a name that stands nowhere but
        before a dot is bound nowhere); ``x.rel.delete()`` always (a detach of x's row); a save
        only with fields set on the row: by id (``x.pk``, ``x.id``) or by a store into an
        attribute of the name (``item.owner = ...``)."""
        segment, start, end = self._span(first, last)
        by_id: bool | None = None
        for line in save_lines:
            for receiver, deletes in self.saves[line]:
                if receiver.startswith("super("):
                    continue
                name = receiver.rpartition(".")[2]
                if name == receiver and _only_received(segment, name, start, end):
                    continue  # bound nowhere: no row the walk follows
                if deletes:
                    return True
                if by_id is None:
                    by_id = _PK.search(segment, start, end) is not None
                if by_id or _stored_into(segment, name, start, end):
                    return True
        return False

    def _guarded_receiver_passed(self, guarded: list[ast.stmt], body: list[ast.stmt], body_first: int,
                                 last: int) -> bool:
        """Can a call pass on the receiver of an attribute load in the body of a *guarded*
        ``try`` (a read), or call a method of it, and end after the load (up to line *last*)?
        Its last name stands before a dot and an attribute not called in that body
        (:data:`_RECEIVER_NAME`), and again where a call's argument or receiver can from the
        statement holding that load on (a call ending after it holds it, or comes after it).
        *body*, *body_first*: the function's body and its first line."""
        segment, start, end = self._span(min(t.lineno for t in guarded), last)
        if _NON_ASCII.search(segment, start, end):
            return True  # a name may end in a character ``\w`` does not take (``x·``)
        names: dict[str, int] = {}  # name -> the first line the calls passing it on may start at
        for statement in guarded:
            statements = statement.body  # type: ignore[attr-defined]
            line = statement.lineno
            text, position, stop = self._span(line, statements[-1].end_lineno or statements[-1].lineno)
            for match in _RECEIVER_NAME.finditer(text, position, stop):
                line += text.count("\n", position, match.start())
                position = match.start()
                bound = _statement_start(body, line, body_first)
                name = match.group(1)
                names[name] = min(bound, names.get(name, bound))
        for name, bound in names.items():
            segment, start, end = self._span(bound, last)
            if _passed(segment, name, 1, start, end):
                return True
        return False


def _inner_statements(statement: ast.stmt) -> list[ast.stmt]:
    """The statements of a compound statement's blocks, in the order of the source."""
    kind = type(statement)
    if kind in _LOOPS_AND_IFS:
        return [*statement.body, *statement.orelse]  # type: ignore[attr-defined]
    if kind in _WITHS:
        return statement.body  # type: ignore[attr-defined,no-any-return]
    if kind in _TRIES:
        return [*statement.body, *(s for h in statement.handlers for s in h.body),  # type: ignore[attr-defined]
                *statement.orelse, *statement.finalbody]  # type: ignore[attr-defined]
    return [s for case in statement.cases for s in case.body]  # type: ignore[attr-defined]


def _end_line(statement: ast.stmt) -> int:
    return statement.end_lineno or statement.lineno


def _statement_start(statements: list[ast.stmt], line: int, start: int) -> int:
    """The first line of the innermost statement among *statements* and the blocks within them
    (not within a nested definition) that spans *line*; *start* when none does (a decorator's
    line, an ``else:``'s). Every expression holding something on *line* starts there or later."""
    while statements:
        index = bisect_left(statements, line, key=_end_line)  # the first to end on *line* or later
        if index == len(statements) or statements[index].lineno > line:
            break
        statement = statements[index]
        start = statement.lineno
        kind = type(statement)
        if kind not in _BLOCKS or kind in _DEFINITION_TYPES:
            break
        statements = _inner_statements(statement)
    return start


_LOOPS_AND_IFS = frozenset({ast.If, ast.While, ast.For, ast.AsyncFor})
_WITHS = frozenset({ast.With, ast.AsyncWith})
_TRIES = frozenset(_TRY_TYPES)
_DEFINITION_TYPES = frozenset(_DEFINITIONS)
_BLOCKS = _LOOPS_AND_IFS | _WITHS | _TRIES | _DEFINITION_TYPES | ({_MATCH} if _MATCH else set())


def _own_definitions(statements: list[ast.stmt], found: list[ast.stmt], guarded: list[ast.stmt],
                     loops: list[int]) -> None:
    """Append to *found* the definitions :meth:`_FunctionWalker.statement` meets in *statements*
    (its ``nested``, in its order), to *guarded* the ``try`` statements among them whose handler
    catches ``DoesNotExist`` or ``AttributeError`` (every attribute loaded in their body is a
    read), and to *loops* the first lines of the ``for`` statements among them."""
    for node in statements:
        kind = type(node)
        if kind not in _BLOCKS:
            continue
        if kind in _DEFINITION_TYPES:
            found.append(node)
        elif kind in _LOOPS_AND_IFS:
            if kind is ast.For or kind is ast.AsyncFor:
                loops.append(node.lineno)
            _own_definitions(node.body, found, guarded, loops)  # type: ignore[attr-defined]
            _own_definitions(node.orelse, found, guarded, loops)  # type: ignore[attr-defined]
        elif kind in _WITHS:
            _own_definitions(node.body, found, guarded, loops)  # type: ignore[attr-defined]
        elif kind in _TRIES:
            if any(_catches(h.type) for h in node.handlers):  # type: ignore[attr-defined]
                guarded.append(node)
            _own_definitions(node.body, found, guarded, loops)  # type: ignore[attr-defined]
            for handler in node.handlers:  # type: ignore[attr-defined]
                _own_definitions(handler.body, found, guarded, loops)
            _own_definitions(node.orelse, found, guarded, loops)  # type: ignore[attr-defined]
            _own_definitions(node.finalbody, found, guarded, loops)  # type: ignore[attr-defined]
        else:
            for case in node.cases:  # type: ignore[attr-defined]
                _own_definitions(case.body, found, guarded, loops)


def _narrows_only(line: int, kind: str, params: list[str], managed: list[str], class_name: str | None) -> Event:
    """The record of a manager's or queryset's method that only narrows its rows (``narrows``
    is added to it): no event of its own."""
    return {"line": line, "kind": kind, "params": params, "reads": [], "writes": [], "calls": [], "clears": [],
            "binds": [], "managed": managed, "class": class_name}


def function_writes(tree: ast.Module, text: str | None = None, *, screen: bool = True) -> dict[str, Event]:
    """Per function qualname (``f``, ``Model.method``, ``f.<locals>.g``) its raw OTO002 events.

    *text*, when given, is the source of *tree*: candidate lines are then found in the
    text instead of by walking the tree. Only functions holding a read or a write
    candidate are walked, and only those with a read, a write or a relevant call are
    recorded; the module body is ``<module>``. A function that merely passes a parameter
    on is not recorded, so call chains are followed through functions that read or
    write themselves.
    """
    fetch_peers = _fetch_peers_spellings(tree, text)
    # a FETCH_PEERS loop reads with a plain ``o.rel``, which the word screen does not look for
    words = _Screen(text) if text is not None and screen and not fetch_peers else None
    lines = _interesting_lines(tree) if text is None else _candidate_lines(text) if words is None else words.lines
    if fetch_peers and text is not None:
        # a loop over a FETCH_PEERS queryset reads with a plain ``o.rel``: its line is a candidate
        lines += line_numbers(text, [m.start() for m in re.finditer(r"\bfetch_mode\b", text)])
    managers, uses = _managers(tree) if text is None or not screen or _may_name_managers(text) else ({}, {})
    found: dict[str, Event] = {}
    if uses:
        found[MANAGER_USES] = uses  # type: ignore[assignment]
    pytest_facts = _pytest_fixtures(tree, text)
    if pytest_facts:
        found[FIXTURES] = pytest_facts  # type: ignore[assignment]
    if not lines and not managers:
        return found
    rebinders: list[dict[str, list[str]] | None] = []  # found once, at the first walk

    def module_rebinders() -> dict[str, list[str]] | None:
        if not rebinders:
            if text is None or "global" in text and "global " in text or "nonlocal" in text and "nonlocal " in text:
                # module functions rebinding module names (``global G``): calling one rebinds them
                every = {n.name: _rebound_names(n) for n in tree.body if isinstance(n, _FUNCTIONS)}
                rebinders.append({name: names for name, names in every.items() if names})
            else:
                rebinders.append(None)
        return rebinders[0]

    lines.sort()

    def interesting(node: ast.AST) -> bool:
        start = bisect_left(lines, node.lineno)  # type: ignore[attr-defined]
        return start < len(lines) and lines[start] <= (node.end_lineno or node.lineno)  # type: ignore[attr-defined]

    queue: list[tuple[str, ast.AST, str | None]] = [("<module>", tree, None)]
    while queue:
        qualname, node, class_name = queue.pop()
        if isinstance(node, ast.ClassDef):
            for statement in node.body:
                if isinstance(statement, _DEFINITIONS) and (interesting(statement) or node.name in managers):
                    queue.append((f"{qualname}.{statement.name}", statement, node.name))
            continue
        function = isinstance(node, _FUNCTIONS)
        if function:
            kind = _kind(node, class_name)  # type: ignore[arg-type]
            managed = managers.get(class_name or "") if kind == "method" else None
        else:
            kind, managed = "module", None
        if words is not None:
            nested: list[ast.stmt] = []
            guarded: list[ast.stmt] = []
            loops: list[int] = []
            _own_definitions(node.body, nested, guarded, loops)  # type: ignore[attr-defined]
            if not words.walks(node, nested, guarded, loops, bool(managed)):
                if managed:  # what the walk would give: no summary, but the method's narrows
                    params = _params(node)  # type: ignore[arg-type]
                    narrows = _narrows(node, params)  # type: ignore[arg-type]
                    if narrows:
                        found[qualname] = _narrows_only(node.lineno, kind, params, managed, class_name)  # type: ignore[attr-defined]
                        found[qualname]["narrows"] = narrows
                prefix = "" if qualname == "<module>" else f"{qualname}.<locals>."
                for child in nested:
                    if interesting(child) or getattr(child, "name", None) in managers:
                        queue.append((f"{prefix}{child.name}", child, None))  # type: ignore[attr-defined]
                continue
        if function:
            walker = _FunctionWalker(_params(node), managed, module_rebinders())  # type: ignore[arg-type]
            line = node.lineno  # type: ignore[attr-defined]
        else:
            walker = _FunctionWalker([], rebinders=module_rebinders())
            line = 1
        walker.fetch_peers = fetch_peers
        walker.block(node.body, [])  # type: ignore[attr-defined]
        summary = walker.summary(kind, class_name, line)
        if summary is not None and kind == "method" and _post_generation(node):
            summary["hook"] = True  # factory_boy calls it with the created instance as its first argument
        narrows = _narrows(node, walker.params) if walker.managed and isinstance(node, _FUNCTIONS) else []
        if narrows:
            if summary is None:
                summary = _narrows_only(line, kind, walker.params, walker.managed, class_name)
            summary["narrows"] = narrows
        if summary is not None:
            found[qualname] = summary
        prefix = "" if qualname == "<module>" else f"{qualname}.<locals>."
        for child in walker.nested:
            if interesting(child) or getattr(child, "name", None) in managers:
                queue.append((f"{prefix}{child.name}", child, None))  # type: ignore[attr-defined]
    return found


#: The key of a module's facts holding its models' manager classes defined elsewhere (no function).
MANAGER_USES = "@managers"
#: The key of a module's facts holding its pytest fixtures and tests (no function).
FIXTURES = "@fixtures"
#: The keys of a module's facts that are no function's.
NOT_FUNCTIONS = frozenset({MANAGER_USES, FIXTURES})
#: pytest-factoryboy's fixture returning a registered factory class: ``register(ProfileFactory)``
#: makes ``profile_factory``.
FIXTURE_FACTORY_SUFFIX = "_factory"

#: A manager's or queryset's method whose class the module's models do not use: its models are
#: those of other modules using it (``objects = ProfileManager()`` after an import).
ELSEWHERE = "*"
#: Django's own manager and queryset classes: nothing to summarise.
_DJANGO_MANAGERS = frozenset({"Manager", "BaseManager", "QuerySet"})


def _may_name_managers(text: str) -> bool:
    """Can :func:`_managers` find anything in *text*? Only names ending in ``Manager`` or
    ``QuerySet`` count (spelled so, or with other letters that NFKC folds to them)."""
    return "Manager" in text or "QuerySet" in text or not text.isascii()


def _managers(tree: ast.Module) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Manager and queryset classes of the module -> the module's models using them; and the
    module's classes -> the manager and queryset classes they use that are defined elsewhere.

    ``objects = ProfileManager()``, ``ProfileQuerySet.as_manager()``,
    ``Manager.from_queryset(ProfileQuerySet)()`` in a class body (a model's) tie the class
    to that model; only classes whose name ends in ``Manager`` or ``QuerySet``. A class of the
    module no model of it uses is tied to :data:`ELSEWHERE`: the models importing it.
    """
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    candidates = {c.name for c in classes if c.name.endswith(("Manager", "QuerySet"))}
    found: dict[str, list[str]] = {}
    uses: dict[str, list[str]] = {}
    for model in classes:
        for statement in model.body:
            value = statement.value if isinstance(statement, (ast.Assign, ast.AnnAssign)) else None
            if not isinstance(value, ast.Call):
                continue
            for node in ast.walk(value):
                if isinstance(node, ast.Name) and node.id in candidates and node.id != model.name:
                    models = found.setdefault(node.id, [])
                    if model.name not in models:
                        models.append(model.name)
                    continue
                dotted = _dotted(node) if isinstance(node, (ast.Name, ast.Attribute)) else None
                last = (dotted or "").rpartition(".")[2]
                if dotted and last.endswith(("Manager", "QuerySet")) and last not in _DJANGO_MANAGERS \
                        and dotted not in candidates:
                    used = uses.setdefault(model.name, [])
                    if dotted not in used:
                        used.append(dotted)
    for name in candidates - found.keys():
        found[name] = [ELSEWHERE]
    return found, uses


def _start(event: Event) -> tuple[int, int]:
    pos = event["pos"]
    return (pos[0], pos[1])


def _stop(event: Event) -> tuple[int, int]:
    pos = event["pos"]
    return (pos[2], pos[3])


def _underscore(name: str) -> str:
    """``ProfileFactory`` -> ``profile_factory``: the ``inflection.underscore`` pytest-factoryboy
    names a registered factory's fixture with."""
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    name = re.sub(r"([a-z\d])([A-Z])", r"\1_\2", name)
    return name.replace("-", "_").lower()


def _is_fixture(decorator: ast.expr) -> bool:
    """``@pytest.fixture``, ``@pytest.fixture(...)``, ``@fixture`` (imported)."""
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    return (_dotted(target) or "").rpartition(".")[2] == "fixture"


def _fixture_name(function: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    """The name a fixture function is requested by: ``name=`` of its decorator, else its own;
    None when ``name=`` is no literal."""
    for decorator in function.decorator_list:
        if isinstance(decorator, ast.Call) and _is_fixture(decorator):
            for keyword in decorator.keywords:
                if keyword.arg == "name":
                    value = keyword.value
                    return value.value if isinstance(value, ast.Constant) and isinstance(value.value, str) else None
    return function.name


def _returned_function(function: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    """``def _make(...): ...; return _make`` (or ``yield _make``) in a fixture's body: the
    nested function's qualname (as :func:`function_writes` names it); "" when the fixture
    returns anything else, or more than one thing."""
    nested = {s.name for s in function.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))}
    returned: set[str] = set()
    stack: list[ast.AST] = list(function.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue  # their returns are their own
        if isinstance(node, (ast.Return, ast.Yield, ast.YieldFrom)):
            value = node.value
            returned.add(value.id if isinstance(value, ast.Name) and value.id in nested else "")
        stack.extend(ast.iter_child_nodes(node))
    if len(returned) != 1 or "" in returned:
        return ""
    return f"{function.name}.<locals>.{returned.pop()}"


def _parametrized(function: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str] | None:
    """The argument names ``@pytest.mark.parametrize`` gives *function* (not fixtures); None
    when they are not literal."""
    names: set[str] = set()
    for decorator in function.decorator_list:
        if not (isinstance(decorator, ast.Call) and (_dotted(decorator.func) or "").endswith("parametrize")):
            continue
        first = decorator.args[0] if decorator.args else next(
            (k.value for k in decorator.keywords if k.arg == "argnames"), None)
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            names.update(n.strip() for n in first.value.split(","))
        elif isinstance(first, (ast.List, ast.Tuple)) and all(
                isinstance(e, ast.Constant) and isinstance(e.value, str) for e in first.elts):
            names.update(e.value for e in first.elts)  # type: ignore[attr-defined]
        else:
            return None
    return names


def _registered(node: ast.expr) -> str | None:
    """``register(ProfileFactory)`` / ``register(ProfileFactory, "name")`` (pytest-factoryboy):
    the factory class as written."""
    if isinstance(node, ast.Call) and (_dotted(node.func) or "").rpartition(".")[2] == "register" and node.args:
        factory = _dotted(node.args[0])
        return factory if factory is not None and factory.endswith(FACTORY_SUFFIX) else None
    return None


def _may_be_pytest(statement: ast.stmt) -> bool:
    """Can *statement* (at the module's top level) give :func:`_pytest_fixtures` a fixture, a
    factory or a test: a fixture or a ``test*`` function, a ``Test*`` class or a decorated
    factory class, a ``register(...)`` call?"""
    kind = type(statement)
    if kind is ast.FunctionDef or kind is ast.AsyncFunctionDef:
        return statement.name.startswith("test") or any(_is_fixture(d) for d in statement.decorator_list)  # type: ignore[attr-defined]
    if kind is ast.ClassDef:
        return statement.name.startswith("Test") or \
            bool(statement.decorator_list) and statement.name.endswith(FACTORY_SUFFIX)  # type: ignore[attr-defined]
    return kind is ast.Expr and _registered(statement.value) is not None  # type: ignore[attr-defined]


#: ``def test...``, as the tokenizer reads it (``def  test_x``, ``def\ttest_x``).
_DEF_TEST = re.compile(r"\bdef(?:\s|\\)+test")


def _pytest_fixtures(tree: ast.Module, text: str | None) -> dict[str, Any] | None:
    """pytest's view of a module (a test module or a ``conftest.py``), from its top level:

    * ``fixtures``: fixture name -> the qualname of the nested function the fixture returns
      (a "factory as fixture"), "" when it returns anything else; a name defined twice: "";
    * ``factories``: pytest-factoryboy's factory fixtures (``register(ProfileFactory)`` and
      ``@register`` on the class make ``profile_factory``) -> the factory class as written;
    * ``tests``: ``[first line, last line, parameters pytest fills with fixtures]`` of each
      test (``test*`` functions, ``test*`` methods of ``Test*`` classes, without ``self`` and
      the names ``@pytest.mark.parametrize`` gives);
    * ``shadowed``: fixture names defined inside a class (they override the module's for its tests).
    """
    if not any(_may_be_pytest(statement) for statement in tree.body):
        return None  # nothing below could be found: no need to read the text
    if text is not None and text.isascii() and "fixture" not in text and "register" not in text \
            and _DEF_TEST.search(text) is None:
        return None
    fixtures: dict[str, str] = {}
    factories: dict[str, str] = {}
    tests: list[list[Any]] = []
    shadowed: list[str] = []

    def test(function: ast.FunctionDef | ast.AsyncFunctionDef, skip: int) -> None:
        given = _parametrized(function)
        if given is None:
            return
        params = [p for p in _params(function)[skip:] if p not in given]
        tests.append([function.lineno, function.end_lineno or function.lineno, params])

    for statement in tree.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if any(_is_fixture(d) for d in statement.decorator_list):
                name = _fixture_name(statement)
                if name is not None:
                    fixtures[name] = "" if name in fixtures else _returned_function(statement)
            elif statement.name.startswith("test"):
                test(statement, 0)
        elif isinstance(statement, ast.ClassDef):
            for decorator in statement.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                if (_dotted(target) or "").rpartition(".")[2] == "register" and statement.name.endswith(FACTORY_SUFFIX) \
                        and not (isinstance(decorator, ast.Call) and decorator.args):
                    factories[_underscore(statement.name)] = statement.name  # ``@register`` on the class
            for item in statement.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    if any(_is_fixture(d) for d in item.decorator_list):
                        shadowed.append(_fixture_name(item) or "")
                    elif statement.name.startswith("Test") and item.name.startswith("test"):
                        test(item, 1)
        elif isinstance(statement, ast.Expr):
            registered = _registered(statement.value)
            if registered is not None:
                factories[_underscore(registered.rpartition(".")[2])] = registered
    if not (fixtures or factories or tests):
        return None
    return {"fixtures": fixtures, "factories": factories, "tests": tests, "shadowed": shadowed}


def _needed(index: ProjectIndex) -> bool:
    """Whether the project has a reverse one-to-one accessor: without one no file can hold a
    finding (:meth:`StaleWrites.screen <.summaries.StaleWrites.screen>`), and nothing reads these facts."""
    from o2o_lint.rules.oto002_stale_reverse_cache.summaries import StaleWrites

    return bool(index.view(StaleWrites).accessors)


#: OTO002's per-file facts, stored under ``facts["rules"]["OTO002"]``.
EXTRACTOR = FactsExtractor(code="OTO002", version=12, extract=function_writes, needed=_needed)
