"""OTO002's per-function summaries: reverse one-to-one reads, stale writes, calls.

Two halves, as for the rest of the index:

* :func:`function_writes` runs at facts time on the stdlib ``ast`` of one file and
  records, for every function and method, the *raw* events that matter for a stale
  reverse one-to-one cache: the reads that cache the accessor (``hasattr(x, "rel")``,
  ``getattr(x, "rel", None)``, ``x.rel`` in a ``try`` whose handler catches
  ``DoesNotExist``), the writes that change a relation without going through the
  instance (``Rel.objects.create(owner_id=x.pk)``, ``Rel(owner_id=...).save()``,
  ``x.rel.delete()``, ``QuerySet.update/delete`` keyed by ``x``, ...), the calls that pass
  a parameter or a read receiver on, the clears (``x.refresh_from_db(...)``,
  ``x.rel = ...``) and the rebinds. Facts are plain data: they are marshalled into the
  cache. Nothing is resolved here: the model behind ``Rel`` and whether ``rel`` is a
  reverse one-to-one accessor are only known once every file is indexed.
* :class:`StaleWrites` resolves those events against the :class:`ProjectIndex` lazily,
  at query time: which relations a write touches, which functions (across files) write
  a parameter's relation in a stale way, which functions are called after a read of
  that relation (so that the writer itself gets the fix), and the findings of one file.

Order is decided on a *path* per event: the statement indices and compound-statement
fields from the function body down to the statement holding the event, so that a write
in the ``else`` of ``if hasattr(...)`` follows the read while a write in a sibling branch
of a nested read does not.
"""

from __future__ import annotations

import ast
import builtins
import re
from collections import defaultdict
from collections.abc import Iterable
from functools import cached_property
from typing import TYPE_CHECKING, Any

from o2o_lint.astutil import dotted_name as _dotted
from o2o_lint.django_api import (
    CATCHES_DOES_NOT_EXIST,
    DELETES,
    NOT_LOOKUP_KEYS,
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
from o2o_lint.sourcefile import line_numbers

if TYPE_CHECKING:
    from o2o_lint.index.model import ModelInfo, ProjectIndex, ReverseRelation

Event = dict[str, Any]

#: Queryset methods a write chain may go through; only filter/get tie rows to an instance.
QUERYSET_STEPS = with_async(SAME_ROWS_METHODS | RETURNS_INSTANCE)
LOOKUP_STEPS = with_async(SELECTING_LOOKUP_METHODS)
#: Methods whose result is one instance of the chain's model.
INSTANCE_STEPS = with_async(RETURNS_INSTANCE) | RETURNS_OBJECT
_BUILTINS = frozenset(dir(builtins))
_TRY_TYPES = tuple(t for t in (getattr(ast, "Try", None), getattr(ast, "TryStar", None)) if t is not None)
_SCOPES = (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)

# --------------------------------------------------------------------------------------
# facts time: raw events per function, from the stdlib ``ast``
# --------------------------------------------------------------------------------------


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


def _lookup_key(key: str) -> str:
    for suffix in ("__exact", "__pk", "__id"):
        if key.endswith(suffix):
            return key[: -len(suffix)]
    return key


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
    def __init__(self, params: list[str]) -> None:
        self.params = params
        self.reads: list[Event] = []
        self.writes: list[Event] = []
        self.calls: list[Event] = []
        self.clears: list[Event] = []
        self.binds: list[list[Any]] = []
        self.objects: dict[str, _Tracked] = {}
        self.others: dict[str, str] = {}  # name -> receiver whose row it is another instance of
        self.guarded = 0
        self.nested: list[ast.AST] = []

    # -- statements ----------------------------------------------------------------

    def block(self, statements: list[ast.stmt], prefix: list[Any]) -> None:
        for index, statement in enumerate(statements):
            self.statement(statement, [*prefix, index])

    def statement(self, node: ast.stmt, here: list[Any]) -> None:
        if isinstance(node, (*_FUNCTIONS, ast.ClassDef)):
            for decorator in node.decorator_list:
                self.expr(decorator, [*here, "h"])
            self.bind(node.name, _pos(node))
            self.nested.append(node)
            return
        header = [*here, "h"]
        if isinstance(node, ast.If):
            self.expr(node.test, header)
            self.block(node.body, [*here, "if.b"])
            self.block(node.orelse, [*here, "if.e"])
        elif isinstance(node, ast.While):
            self.expr(node.test, header)
            self.block(node.body, [*here, "wh.b"])
            self.block(node.orelse, [*here, "wh.e"])
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            self.expr(node.iter, header)
            self.target(node.target, None, _pos(node.target), header)
            chain = _qs_chain(node.iter)
            if isinstance(node.target, ast.Name) and chain is not None:
                self.objects[node.target.id] = _Tracked(chain[0])
            self.block(node.body, [*here, "for.b"])
            self.block(node.orelse, [*here, "for.e"])
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                self.expr(item.context_expr, header)
                if item.optional_vars is not None:
                    self.target(item.optional_vars, None, _pos(item.optional_vars), header)
            self.block(node.body, [*here, "with.b"])
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
        elif isinstance(node, getattr(ast, "Match", ())):
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
        if isinstance(node, ast.Assign):
            self.expr(node.value, path)
            for target in node.targets:
                self.target(target, node.value, _end(node), path)
        elif isinstance(node, ast.AnnAssign):
            if node.value is not None:
                self.expr(node.value, path)
                self.target(node.target, node.value, _end(node), path)
        elif isinstance(node, ast.AugAssign):
            self.expr(node.value, path)
            self.target(node.target, None, _end(node), path)
        elif isinstance(node, ast.Delete):
            for target in node.targets:
                self.target(target, None, _end(node), path)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                self.bind(alias.asname or alias.name.partition(".")[0], _pos(node))
        else:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.expr):
                    self.expr(child, path)

    def bind(self, dotted: str, pos: list[int]) -> None:
        self.binds.append([dotted, pos[0], pos[1]])
        self.objects.pop(dotted, None)
        self.others.pop(dotted, None)

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
        stack: list[ast.AST] = [node]
        while stack:
            current = stack.pop()
            if isinstance(current, ast.Call):
                self.call(current, path)
                func = current.func
                stack.append(func.value if isinstance(func, ast.Attribute) else func)
                stack.extend(current.args)
                stack.extend(k.value for k in current.keywords)
            elif isinstance(current, _SCOPES):
                continue
            elif isinstance(current, ast.NamedExpr):
                stack.append(current.value)
                if isinstance(current.target, ast.Name):
                    self.bind(current.target.id, _end(current))
            elif isinstance(current, ast.Attribute):
                if self.guarded and isinstance(current.ctx, ast.Load):
                    receiver = _dotted(current.value)
                    if receiver is not None:
                        self.reads.append({"recv": receiver, "acc": current.attr, "how": "try", "pos": _pos(current), "path": path})
                stack.append(current.value)
            else:
                stack.extend(ast.iter_child_nodes(current))

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

    def write(self, op: str, receiver: str, call: ast.Call, path: list[Any], method: str, **extra: Any) -> None:
        event = {"op": op, "recv": receiver, "m": method, "pos": _pos(call), "path": path}
        event.update((k, v) for k, v in extra.items() if v is not None)
        self.writes.append(event)

    def call(self, node: ast.Call, path: list[Any]) -> None:
        func = node.func
        if isinstance(func, ast.Name):
            name = func.id
            if name in ("hasattr", "getattr") and len(node.args) == (2 if name == "hasattr" else 3) and not node.keywords:
                receiver = _dotted(node.args[0])
                accessor = node.args[1]
                if receiver is not None and isinstance(accessor, ast.Constant) and isinstance(accessor.value, str):
                    self.reads.append({"recv": receiver, "acc": accessor.value, "how": name, "pos": _pos(node), "path": path})
                return
            if name in _BUILTINS:
                return
            self.call_event(node, name, None, path)
            return
        if not isinstance(func, ast.Attribute):
            return
        method, obj = func.attr, func.value
        written = False
        if method in SAVES:
            written = self.save(obj, node, method, path)
        elif method in DELETES:
            written = self.delete(obj, node, method, path)
        elif method in UPDATES:
            written = self.update(obj, node, method, path)
        elif method in RETURNS_OBJECT or method in RETURNS_PAIR:
            written = self.create(obj, node, method, path)
        elif method in REFRESHES:
            receiver = _dotted(obj)
            if receiver is not None:
                self.clears.append({"recv": receiver, "fields": self.refresh_fields(node), "pos": _pos(node)})
            return
        if not written:
            callee = _dotted(func)
            if callee is not None:
                self.call_event(node, callee, _dotted(obj), path)

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
            return
        event = {"callee": callee, "args": args, "pos": _pos(node), "path": path}
        if receiver is not None:
            event["recv"] = receiver
        self.calls.append(event)

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
            return False
        chain = _qs_chain(obj)
        if chain is None:
            return False
        model, steps = chain
        before = len(self.writes)
        for step, call in steps:
            if step in LOOKUP_STEPS:
                for key, (kind, receiver) in self.ties(call, lookup=True).items():
                    if kind in ("inst", "pk", "other"):
                        self.write("detach", receiver, node, path, method, model=model, key=key)
        return len(self.writes) > before

    def update(self, obj: ast.expr, node: ast.Call, method: str, path: list[Any]) -> bool:
        chain = _qs_chain(obj)
        if chain is None:
            return False
        model, steps = chain
        before = len(self.writes)
        updated = self.ties(node)
        for key, (kind, receiver) in updated.items():
            if kind in ("inst", "pk", "other"):
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

    def create(self, obj: ast.expr, node: ast.Call, method: str, path: list[Any]) -> bool:
        chain = _qs_chain(obj)
        if chain is None:
            return False
        model, _ = chain
        before = len(self.writes)
        # ``create(owner=x)`` (and ``get_or_create(owner=x)``: see the rule's docstring) go
        # through the instance; ``owner_id=x.pk`` and another instance of x's row do not.
        for key, (kind, receiver) in self.ties(node).items():
            if kind in ("pk", "other"):
                self.write("attach", receiver, node, path, method, model=model, key=key, other=kind == "other" or None)
        return len(self.writes) > before

    # -- result --------------------------------------------------------------------

    def summary(self, kind: str, class_name: str | None, line: int) -> Event | None:
        """The function's facts, or None when nothing in it can make or carry a stale write.

        Kept: every write; calls that pass on a receiver read before them (call sites)
        and, in functions that write, calls that pass on a parameter (summaries).
        Dropped: functions that only read or only call.
        """
        first_read: dict[str, tuple[int, int]] = {}
        for read in self.reads:
            receiver = read["recv"]
            if receiver not in first_read or _start(read) < first_read[receiver]:
                first_read[receiver] = _start(read)
        params = set(self.params) if self.writes else set()
        calls = []
        for call in self.calls:
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
        if class_name is not None:
            summary["class"] = class_name
        return summary


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


_WRITE_METHODS = SAVES | DELETES | UPDATES | RETURNS_OBJECT | RETURNS_PAIR


def _interesting_lines(tree: ast.Module) -> list[int]:
    """Lines holding a read or write candidate, found by walking the whole tree."""
    lines: list[int] = []
    for node in ast.walk(tree):
        kind = type(node)
        if kind is ast.Call:
            func = node.func  # type: ignore[attr-defined]
            if type(func) is ast.Attribute:
                if func.attr in _WRITE_METHODS:
                    lines.append(node.lineno)  # type: ignore[attr-defined]
            elif type(func) is ast.Name and func.id in ("hasattr", "getattr"):
                lines.append(node.lineno)  # type: ignore[attr-defined]
        elif _TRY_TYPES and kind in _TRY_TYPES and any(_catches(h.type) for h in node.handlers):  # type: ignore[attr-defined]
            lines.append(node.lineno)  # type: ignore[attr-defined]
    return lines


#: The same candidates, found in the text (a superset: also in strings and comments). Two
#: patterns without a leading ``\\b`` let the regex engine skip ahead on literal prefixes.
_READ_WORDS = re.compile(r"hasattr|getattr|DoesNotExist|AttributeError")
_WRITE_WORDS = re.compile(r"\.a?(?:save|delete|update|create|get_or_create|update_or_create)\b")


def _candidate_lines(text: str) -> list[int]:
    """Line numbers of candidate words, from the text alone (no tree walk)."""
    matches = [m.start() for m in _READ_WORDS.finditer(text)] + [m.start() for m in _WRITE_WORDS.finditer(text)]
    return line_numbers(text, matches) if matches else []


def function_writes(tree: ast.Module, text: str | None = None) -> dict[str, Event]:
    """Per function qualname (``f``, ``Model.method``, ``f.<locals>.g``) its raw OTO002 events.

    *text*, when given, is the source of *tree*: candidate lines are then found in the
    text instead of by walking the tree. Only functions holding a read or a write
    candidate are walked, and only those with a read, a write or a relevant call are
    recorded; the module body is ``<module>``. A function that merely passes a parameter
    on is not recorded, so call chains are followed through functions that read or
    write themselves.
    """
    lines = _interesting_lines(tree) if text is None else _candidate_lines(text)
    if not lines:
        return {}
    lines.sort()
    from bisect import bisect_left

    def interesting(node: ast.AST) -> bool:
        start = bisect_left(lines, node.lineno)  # type: ignore[attr-defined]
        return start < len(lines) and lines[start] <= (node.end_lineno or node.lineno)  # type: ignore[attr-defined]

    found: dict[str, Event] = {}
    queue: list[tuple[str, ast.AST, str | None]] = [("<module>", tree, None)]
    while queue:
        qualname, node, class_name = queue.pop()
        if isinstance(node, ast.ClassDef):
            for statement in node.body:
                if isinstance(statement, (*_FUNCTIONS, ast.ClassDef)) and interesting(statement):
                    queue.append((f"{qualname}.{statement.name}", statement, node.name))
            continue
        if isinstance(node, _FUNCTIONS):
            walker = _FunctionWalker(_params(node))
            kind = _kind(node, class_name)
            line = node.lineno
        else:
            walker = _FunctionWalker([])
            kind, line = "module", 1
        walker.block(node.body, [])  # type: ignore[attr-defined]
        summary = walker.summary(kind, class_name, line)
        if summary is not None:
            found[qualname] = summary
        prefix = "" if qualname == "<module>" else f"{qualname}.<locals>."
        for child in walker.nested:
            if interesting(child):
                queue.append((f"{prefix}{child.name}", child, None))  # type: ignore[attr-defined]
    return found


# --------------------------------------------------------------------------------------
# query time: resolution against the project index
# --------------------------------------------------------------------------------------


def _start(event: Event) -> tuple[int, int]:
    pos = event["pos"]
    return (pos[0], pos[1])


def _stop(event: Event) -> tuple[int, int]:
    pos = event["pos"]
    return (pos[2], pos[3])


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
    return False  # if/else, match cases: exclusive


def follows(first: Event, second: Event) -> bool:
    """Can *second* run after *first* in the same call of the function?"""
    a, b = first["path"], second["path"]
    for index in range(min(len(a), len(b))):
        x, y = a[index], b[index]
        if x == y:
            continue
        if index % 2 == 0:
            return x < y
        return _field_follows(x, y)
    return _stop(first) <= _stop(second)


def _affects(bound: str, receiver: str) -> bool:
    return receiver == bound or receiver.startswith(bound + ".")


def describe(event: Event) -> str:
    method, key = event.get("m", ""), event.get("key")
    if event["op"] == "detach" and event.get("acc") and not event.get("model") and key is None:
        return f"`.{method}()` of the related row"
    if event.get("other"):
        return f"`{method}()` with `{key}=` another instance of its row"
    if method in SAVES:
        return f"`.{method}()` with `{key}` set"
    if method in UPDATES:
        return f"`QuerySet.{method}({key}=...)`"
    if method in DELETES:
        return f"`QuerySet.{method}()` filtered on `{key}`"
    return f"`{method}({key}=...)`"


class StaleWrites:
    """OTO002's resolver; one per :class:`ProjectIndex`, built on first use."""

    MAX_DEPTH = 8

    def __init__(self, index: ProjectIndex) -> None:
        self.index = index
        self._summaries: dict[tuple[str, str], list[Event]] = {}

    # -- relations -----------------------------------------------------------------

    def _one_to_one_by(self, key: str) -> dict[str, list[ReverseRelation]]:
        found: dict[str, list[ReverseRelation]] = defaultdict(list)
        for relation in self.index.reverse_relations:
            if relation.is_one_to_one:
                found[getattr(relation, key)].append(relation)
        return dict(found)

    @cached_property
    def accessors(self) -> dict[str, list[ReverseRelation]]:
        return self._one_to_one_by("accessor")

    @cached_property
    def _by_related_model(self) -> dict[str, list[ReverseRelation]]:
        return self._one_to_one_by("related_model")

    @cached_property
    def _method_owners(self) -> dict[str, list[ModelInfo]]:
        found: dict[str, list[ModelInfo]] = defaultdict(list)
        for model in self.index.models.values():
            if model.path is not None:
                for method in model.methods:
                    found[method].append(model)
        return dict(found)

    def _lineage(self, model: ModelInfo) -> list[str]:
        keys, stack, seen = [], [model], set()
        while stack:
            current = stack.pop()
            if current.qualname in seen:
                continue
            seen.add(current.qualname)
            keys.append(current.key)
            stack.extend(self.index.model_parents(current))
        return keys

    def relations(self, module: str, event: Event) -> list[ReverseRelation]:
        """The reverse one-to-one relations a raw write event can change."""
        key = event.get("key")
        accessor = event.get("acc")
        if accessor is not None:
            found = [r for r in self.accessors.get(accessor, ()) if key is None or key in (r.field_name, r.attname)]
        else:
            models: list[str] = []
            if event.get("model"):
                qualified = self.index.resolve(module, event["model"])
                model = self.index.models.get(qualified) if qualified else None
                if model is not None:
                    models = self._lineage(model)
            elif event.get("via"):
                models = [r.related_model for r in self.accessors.get(event["via"], ())]
            found = [r for m in models for r in self._by_related_model.get(m, ())
                     if key in (r.field_name, r.attname)]
        if event.get("m") in DELETES and not event.get("kp"):
            # Deleting a multi-table child deletes the parent row (the receiver) too.
            found = [r for r in found if not (r.field is None or r.field.parent_link)]
        return found

    @cached_property
    def _model_bases(self) -> frozenset[str]:
        return frozenset(base for model in self.index.models.values() for base in model.base_qualnames)

    def _receiver_fits(self, module: str, function: Event, receiver: str,
                       relations: list[ReverseRelation]) -> list[ReverseRelation]:
        """For ``self`` of a method: only relations its class (a model, or a mixin of one) can own."""
        params = function["params"]
        if function.get("kind") != "method" or not params or receiver != params[0] or "class" not in function:
            return relations
        qualname = f"{module}.{function['class']}"
        model = self.index.models.get(qualname)
        if model is None:
            return relations if qualname in self._model_bases else []
        lineage = set(self._lineage(model))
        return [r for r in relations if r.owner in lineage or self._descends(r.owner, model)]

    def _descends(self, key: str, ancestor: ModelInfo) -> bool:
        model = self.index.models_by_key.get(key)
        return model is not None and ancestor.key in self._lineage(model)

    @staticmethod
    def clears(clear: Event, relation: ReverseRelation) -> bool:
        if "acc" in clear:
            return clear["acc"] == relation.accessor
        fields = clear["fields"]
        return fields is None or fields == "?" or relation.query_name in fields or relation.accessor in fields

    def _cleared_after(self, function: Event, receiver: str, event: Event, relations: list[ReverseRelation]) -> list[ReverseRelation]:
        """*relations* minus those a clear of *receiver* after *event* refreshes."""
        after = [c for c in function["clears"] if c["recv"] == receiver and _start(c) >= _stop(event)]
        return [r for r in relations if not any(self.clears(c, r) for c in after)]

    @staticmethod
    def _rebound_between(function: Event, receiver: str, start: tuple[int, int], stop: tuple[int, int]) -> bool:
        return any(_affects(b[0], receiver) and start <= (b[1], b[2]) < stop for b in function["binds"])

    def _cancelled_between(self, function: Event, receiver: str, read: Event, event: Event, relation: ReverseRelation) -> bool:
        return any(c["recv"] == receiver and _stop(read) <= _start(c) < _start(event) and self.clears(c, relation)
                   for c in function["clears"])

    # -- functions and calls -------------------------------------------------------

    def functions(self, module: str, override: tuple[str, dict] | None = None) -> dict[str, Event]:
        if override is not None and override[0] == module:
            return override[1].get("function_writes") or {}
        facts = self.index.modules.get(module)
        return (facts.get("function_writes") or {}) if facts else {}

    def _split_function(self, qualified: str) -> tuple[str, str] | None:
        module, _, name = qualified.rpartition(".")
        while module:
            if module in self.index.modules:
                return module, name
            module, _, head = module.rpartition(".")
            name = f"{head}.{name}"
        return None

    def _find_method(self, module: str, class_name: str, method: str, override: tuple[str, dict] | None,
                     depth: int = 0) -> tuple[str, str] | None:
        if depth > self.MAX_DEPTH:
            return None
        qualname = f"{class_name}.{method}"
        if qualname in self.functions(module, override):
            return module, qualname
        facts = override[1] if override is not None and override[0] == module else self.index.modules.get(module)
        if not facts:
            return None
        class_facts = next((c for c in facts["classes"] if c["name"] == class_name), None)
        if class_facts is None:
            return None
        for base in class_facts["bases"]:
            qualified = self.index.resolve(module, base)
            if qualified is None:
                continue
            base_module, _, base_name = qualified.rpartition(".")
            found = self._find_method(base_module, base_name, method, override, depth + 1)
            if found is not None:
                return found
        return None

    def call_targets(self, module: str, function: Event, call: Event,
                     override: tuple[str, dict] | None = None) -> list[tuple[str, str, dict[str, str]]]:
        """Project functions a call may run, each with {callee parameter: caller expression}."""
        callee, receiver = call["callee"], call.get("recv")
        targets: list[tuple[str, str]] = []
        if receiver is not None:
            facts = override[1] if override is not None and override[0] == module else self.index.modules.get(module)
            head = _root(receiver)
            if facts and (head in facts["imports"] or any(c["name"] == head for c in facts["classes"])):
                receiver = None  # ``services.ensure_profile(x)``, ``Company.create_address(c)``
        if receiver is None:
            if "." not in callee and callee in self.functions(module, override):
                targets.append((module, callee))
            else:
                qualified = self.index.resolve(module, callee)
                split = self._split_function(qualified) if qualified else None
                if split is not None and split[1] in self.functions(split[0], override):
                    targets.append(split)
        else:
            method = callee.rpartition(".")[2]
            params = function.get("params") or []
            if function.get("class") and function.get("kind") == "method" and params and receiver == params[0]:
                found = self._find_method(module, function["class"], method, override)
                if found is not None:
                    targets.append(found)
            else:
                for model in self._method_owners.get(method, ()):
                    facts = self.index.facts_by_path.get(model.path or "")
                    if facts is not None:
                        owner_module = facts["module"]
                        qualname = f"{model.name}.{method}"
                        if qualname in self.functions(owner_module, override):
                            targets.append((owner_module, qualname))
        result = []
        for target_module, qualname in targets:
            entry = self.functions(target_module, override).get(qualname)
            if entry is None:
                continue
            params = entry["params"]
            kind = entry["kind"]
            offset = 1 if kind in ("method", "classmethod") and receiver is not None else 0
            mapping: dict[str, str] = {}
            if receiver is not None and kind == "method" and params:
                mapping[params[0]] = receiver
            for slot, expression in call["args"]:
                if isinstance(slot, int):
                    if slot + offset < len(params):
                        mapping[params[slot + offset]] = expression
                elif slot in params:
                    mapping[slot] = expression
            result.append((target_module, qualname, mapping))
        return result

    def summary(self, module: str, qualname: str, override: tuple[str, dict] | None = None,
                _active: frozenset[tuple[str, str]] = frozenset()) -> list[Event]:
        """Stale writes *qualname* makes on its parameters, directly or through calls.

        Each item: ``{"param", "relations", "site": (module, qualname, line), "what"}``.
        """
        key = (module, qualname)
        cacheable = override is None or override[0] != module
        if cacheable and key in self._summaries:
            return self._summaries[key]
        if key in _active or len(_active) > self.MAX_DEPTH:
            return []
        function = self.functions(module, override).get(qualname)
        found: list[Event] = []
        if function is not None:
            params = set(function["params"])
            start = (function["line"], 0)
            for write in function["writes"]:
                receiver = write["recv"]
                if receiver not in params or self._rebound_between(function, receiver, start, _start(write)):
                    continue
                relations = self._receiver_fits(module, function, receiver, self.relations(module, write))
                relations = self._cleared_after(function, receiver, write, relations)
                if relations:
                    found.append({"param": receiver, "relations": relations, "what": describe(write),
                                  "site": (module, qualname, write["pos"][0])})
            active = _active | {key}
            for call in function["calls"]:
                for target_module, target, mapping in self.call_targets(module, function, call, override):
                    for item in self.summary(target_module, target, override, active):
                        expression = mapping.get(item["param"])
                        if expression not in params or self._rebound_between(function, expression, start, _start(call)):
                            continue
                        relations = self._cleared_after(function, expression, call, item["relations"])
                        if relations:
                            found.append({**item, "param": expression, "relations": relations})
        if cacheable:
            self._summaries[key] = found
        return found

    # -- who calls a writer after a read -------------------------------------------

    def _read_before(self, function: Event, read: Event, event: Event, relations: Iterable[ReverseRelation]) -> bool:
        receiver = read["recv"]
        return (
            follows(read, event)
            and not self._rebound_between(function, receiver, _stop(read), _start(event))
            and not any(self._cancelled_between(function, receiver, read, event, r) for r in relations)
        )

    @cached_property
    def taint(self) -> dict[tuple[str, str, str], list[tuple[str, str]]]:
        """(module, function, parameter) -> [(accessor, "where a caller read it")].

        A parameter is tainted when some caller reads ``arg.<accessor>`` and then passes
        ``arg`` to the function (transitively through functions passing it on).
        """
        tainted: dict[tuple[str, str, str], list[tuple[str, str]]] = defaultdict(list)
        queue: list[tuple[str, str, str, str, str]] = []
        for module in self.index.modules:
            for qualname, function in self.functions(module).items():
                if not function["reads"] or not function["calls"]:
                    continue
                for call in function["calls"]:
                    targets = None
                    for read in function["reads"]:
                        relations = self.accessors.get(read["acc"])
                        if not relations or not self._read_before(function, read, call, relations):
                            continue
                        if not self._cleared_after(function, read["recv"], call, relations):
                            continue
                        if targets is None:
                            targets = self.call_targets(module, function, call)
                        origin = f"{module}.{qualname} reads it at line {read['pos'][0]}"
                        for target_module, target, mapping in targets:
                            for param, expression in mapping.items():
                                if expression == read["recv"]:
                                    queue.append((target_module, target, param, read["acc"], origin))
        seen: set[tuple[str, str, str, str]] = set()
        while queue:
            module, qualname, param, accessor, origin = queue.pop()
            if (module, qualname, param, accessor) in seen:
                continue
            seen.add((module, qualname, param, accessor))
            tainted[(module, qualname, param)].append((accessor, origin))
            function = self.functions(module).get(qualname)
            if function is None:
                continue
            start = (function["line"], 0)
            for call in function["calls"]:
                if not any(a[1] == param for a in call["args"]) and call.get("recv") != param:
                    continue
                if self._rebound_between(function, param, start, _start(call)):
                    continue
                for target_module, target, mapping in self.call_targets(module, function, call):
                    for callee_param, expression in mapping.items():
                        if expression == param:
                            queue.append((target_module, target, callee_param, accessor, origin))
        return dict(tainted)

    @cached_property
    def tainted_modules(self) -> frozenset[str]:
        return frozenset(module for module, _, _ in self.taint)

    # -- per file ------------------------------------------------------------------

    def screen(self, facts: dict) -> bool:
        functions = facts.get("function_writes")
        if not functions:
            return False
        accessors = self.accessors
        if not accessors:
            return False
        for function in functions.values():
            if (function["writes"] or function["calls"]) and any(r["acc"] in accessors for r in function["reads"]):
                return True
        if facts["module"] in self.tainted_modules:
            return any(function["writes"] for function in functions.values())
        return False

    def findings(self, facts: dict) -> list[Event]:
        """OTO002 findings of one file, as plain descriptions keyed by the event position.

        Each: ``{"pos", "kind": "write"|"call"|"writer", "recv", "acc", "query_names",
        "message", "method"}``; the rule maps them onto LibCST nodes and builds the fixes.
        """
        module = facts["module"]
        override = (module, facts)
        results: list[Event] = []
        for qualname, function in self.functions(module, override).items():
            reads = function["reads"]
            params = set(function["params"])
            start = (function["line"], 0)
            for write in function["writes"]:
                receiver = write["recv"]
                relations = self._receiver_fits(module, function, receiver, self.relations(module, write))
                if not relations:
                    continue
                relations = self._cleared_after(function, receiver, write, relations)
                if not relations:
                    continue
                found = self._local(function, write, receiver, relations)
                if found is not None:
                    read, matching = found
                    message = (
                        f"`{receiver}.{read['acc']}` was read at line {read['pos'][0]} and its answer is cached "
                        f"on `{receiver}`; this {describe(write)} changes the relation without going through "
                        f"`{receiver}`, so the cached `{receiver}.{read['acc']}` is stale"
                    ) + self._partial_refresh_note(function, receiver, write)
                    results.append(self._result("write", write, receiver, read["acc"], matching, message))
                    continue
                if receiver not in params or self._rebound_between(function, receiver, start, _start(write)):
                    continue
                for accessor, origin in self.taint.get((module, qualname, receiver), ()):
                    matching = [r for r in relations if r.accessor == accessor]
                    if matching:
                        message = (
                            f"callers read `{receiver}.{accessor}` before calling `{qualname}()` ({origin}); "
                            f"this {describe(write)} changes the relation without going through `{receiver}`, "
                            f"so their cached `{receiver}.{accessor}` is stale"
                        )
                        results.append(self._result("writer", write, receiver, accessor, matching, message))
                        break
            if not reads:
                continue
            for call in function["calls"]:
                result = self._call_site(module, function, call, override)
                if result is not None:
                    results.append(result)
        return results

    @staticmethod
    def _partial_refresh_note(function: Event, receiver: str, event: Event) -> str:
        for clear in function["clears"]:
            fields = clear.get("fields")
            if clear["recv"] == receiver and isinstance(fields, list) and _start(clear) >= _stop(event):
                shown = ", ".join(f'"{f}"' for f in fields)
                return (f" (`refresh_from_db(fields=[{shown}])` at line {clear['pos'][0]} clears it only up to "
                        "Django 5.0)")
        return ""

    def _local(self, function: Event, write: Event, receiver: str,
               relations: list[ReverseRelation]) -> tuple[Event, list[ReverseRelation]] | None:
        best: tuple[Event, list[ReverseRelation]] | None = None
        for read in function["reads"]:
            if read["recv"] != receiver:
                continue
            matching = [r for r in relations if r.accessor == read["acc"]]
            if matching and self._read_before(function, read, write, matching):
                if best is None or _start(read) > _start(best[0]):
                    best = (read, matching)
        return best

    def _call_site(self, module: str, function: Event, call: Event, override: tuple[str, dict]) -> Event | None:
        targets = None
        best: Event | None = None
        for read in function["reads"]:
            receiver = read["recv"]
            if receiver != call.get("recv") and not any(a[1] == receiver for a in call["args"]):
                continue
            if read["acc"] not in self.accessors:
                continue
            if targets is None:
                targets = self.call_targets(module, function, call, override)
            for target_module, target, mapping in targets:
                for item in self.summary(target_module, target, override):
                    if mapping.get(item["param"]) != receiver:
                        continue
                    matching = [r for r in item["relations"] if r.accessor == read["acc"]]
                    if not matching or not self._read_before(function, read, call, matching):
                        continue
                    matching = self._cleared_after(function, receiver, call, matching)
                    if not matching:
                        continue
                    if best is not None and _start(read) <= best["read"]:
                        continue
                    site_module, site_function, site_line = item["site"]
                    message = (
                        f"`{receiver}.{read['acc']}` was read at line {read['pos'][0]} and its answer is cached "
                        f"on `{receiver}`; `{call['callee']}()` changes the relation without going through it "
                        f"({item['what']} in {site_module}.{site_function}, line {site_line}: fix it there), "
                        f"so the cached `{receiver}.{read['acc']}` is stale"
                    )
                    best = self._result("call", call, receiver, read["acc"], matching, message)
                    best["read"] = _start(read)
        if best is not None:
            best.pop("read")
        return best

    @staticmethod
    def _result(kind: str, event: Event, receiver: str, accessor: str, relations: list[ReverseRelation],
                message: str) -> Event:
        return {
            "kind": kind,
            "pos": event["pos"],
            "recv": receiver,
            "acc": accessor,
            "query_names": sorted({r.query_name for r in relations}),
            "method": event.get("m"),
            "message": message,
        }
