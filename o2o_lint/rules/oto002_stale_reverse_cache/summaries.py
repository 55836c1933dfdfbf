"""OTO002's project-wide resolver: which writes make a cached reverse one-to-one stale.

:class:`StaleWrites` is a project view (``context.index.view(StaleWrites)``, one per
index, built on first use). It resolves the raw per-function events of :mod:`.facts`
against the :class:`~o2o_lint.index.model.ProjectIndex` lazily, at query time: which
relations a write touches, which functions (across files) write a parameter's relation
in a stale way, which functions are called after a read of that relation (so that the
writer itself gets the fix), and the findings of one file.

Text that differs from disk is analysed under :meth:`ProjectIndex.overlay`: its facts
are then the module's facts, and nothing computed from them is cached (the overlaid
module's summaries are checked against :attr:`ProjectIndex.overlaid`).
"""

from __future__ import annotations

import ast
import os
from collections import defaultdict
from collections.abc import Iterable
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from o2o_lint.astutil import dotted_name
from o2o_lint.django_api import DELETES, FACTORY_BASES
from o2o_lint.index.facts import rule_facts
from o2o_lint.index.receivers import OBJECT, QUERYSET, ModelTypes
from o2o_lint.rules.oto002_stale_reverse_cache.facts import (
    ELEMENTS, ELSEWHERE, FACTORY_SUFFIX, FIXTURE_FACTORY_SUFFIX, FIXTURES, MANAGER_USES, NOT_FUNCTIONS, _root,
    path_follows,
)
from o2o_lint.rules.oto002_stale_reverse_cache.records import (
    Call, Clear, Escape, Exit, Function, Read, Use, Write, function_record, start as _start, stop as _stop,
)
from o2o_lint.rules.oto002_stale_reverse_cache.records import Op
from o2o_lint.syntax import parse_module

if TYPE_CHECKING:
    from o2o_lint.index.django import MetaModelClass
    from o2o_lint.index.facts import Facts
    from o2o_lint.index.model import ModelInfo, ProjectIndex, ReverseRelation


#: The user model when no module sets ``AUTH_USER_MODEL``; the bases of the others (as indexed).
_DEFAULT_USER = "auth.User"
_USER_BASES = frozenset({"auth.AbstractUser", "auth.AbstractBaseUser"})


def follows(first: Read | Write | Call | Use | Escape, second: Read | Write | Call | Use | Escape) -> bool:
    """Can *second* run after *first* in the same call of the function?"""
    order = path_follows(first.path, second.path)
    return _stop(first) <= _stop(second) if order is None else order


#: factory_boy's strategies, by value or by the name of its constant (``factory.BUILD_STRATEGY``).
_STRATEGIES = {"build": "build", "create": "create", "stub": "stub",
               "BUILD_STRATEGY": "build", "CREATE_STRATEGY": "create", "STUB_STRATEGY": "stub"}

#: Path fields of a loop's body (see :func:`.facts.path_follows`).
_LOOP_BODIES = ("for.b", "wh.b")


def _exit_level(exit_: Exit, first: list[Any]) -> int | None:
    """The depth of the block where *exit_* stands on every path after a statement at path
    *first* (in the block of one of its enclosing statements, at or after it); None if not."""
    path = exit_.path
    depth = len(path) - 2
    if depth < 0 or depth >= len(first) or path[:depth] != first[:depth] or path[depth] < first[depth]:
        return None
    return depth


def _exit_stops(exit_: Exit, depth: int, second: list[Any]) -> bool:
    """After *exit_* (standing in the block at *depth*), can a statement at path *second* not run?"""
    path = exit_.path
    if second == path:
        return False  # in the exit itself: ``return x.rel``
    if second[:depth] == path[:depth]:
        return second[depth] > path[depth]  # after it in its block
    fields = range(1, depth, 2)
    for level in fields:
        if str(path[level]).startswith("try.") and path[level] != "try.f" and second[:level] == path[:level] \
                and len(second) > level and second[level] == "try.f":
            return False  # a ``finally`` around the exit runs on the way out
    if exit_.kind == "return":
        return True
    if exit_.kind == "raise":
        # an enclosing ``try`` may catch it, a ``with`` block's manager may swallow it
        return not any(str(path[level]).startswith(("try.", "with.")) for level in fields)
    loop = max((level for level in fields if path[level] in _LOOP_BODIES), default=None)
    if loop is None:
        return False
    if exit_.kind == "break":
        return second[:loop] == path[:loop]  # the rest of that loop (its ``else`` too)
    return second[:loop + 1] == path[:loop + 1]  # ``continue``: the rest of this iteration's body


def _cut_off(function: Function, first: Write | Call, second: Read | Use | Escape) -> bool:
    """Does every path from *first* to *second* (in one run of the function's body) pass an exit
    after which *second* cannot run (``create(...); break`` before a read after the loop's body)?"""
    for exit_ in function.exits:
        depth = _exit_level(exit_, first.path)
        if depth is not None and _exit_stops(exit_, depth, second.path):
            return True
    return False


def _leaves_loop(function: Function, loop_path: list[Any], first: Write | Call) -> bool:
    """Does every path from *first* (in the body of the loop at *loop_path*) leave the loop before
    its next iteration: a ``return``, a ``break`` of that loop, or an uncaught ``raise`` after it?"""
    depth = len(loop_path)
    for exit_ in function.exits:
        level = _exit_level(exit_, first.path)
        if level is None or level <= depth:
            continue
        path = exit_.path
        inner = range(depth + 2, level, 2)  # the fields of the statements between the loop's body and the exit
        if exit_.kind == "return":
            return True
        if exit_.kind == "raise" and not any(str(path[i]).startswith(("try.", "with.")) for i in inner):
            return True
        if exit_.kind == "break" and not any(path[i] in _LOOP_BODIES for i in inner):
            return True
    return False


def _affects(bound: str, receiver: str) -> bool:
    return receiver == bound or receiver.startswith((bound + ".", bound + ELEMENTS))


class StaleWrites:
    """OTO002's resolver; one per :class:`ProjectIndex`, built on first use."""

    MAX_DEPTH = 8

    def __init__(self, index: ProjectIndex) -> None:
        self.index = index
        self._summaries: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._functions: dict[str, dict[str, Function]] = {}  # module -> records, for saved facts only
        self._types: dict[str, _ModuleTypes | None] = {}  # module -> its receivers' types, for saved texts only

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

    def relations(self, module: str, event: Write, cls: str | None = None) -> list[ReverseRelation]:
        """The reverse one-to-one relations a write can change (*cls*: the class of the writing
        method, for a manager's or queryset's write on the models of other modules)."""
        if event.model and event.method == event.model and self._factory_builds(module, event.model):
            return []  # ``BuiltProfileFactory(owner_id=...)`` with a build strategy: nothing saved
        key = event.key
        accessor = event.acc
        if event.narrow is not None:
            key = self._narrowed_key(module, event.narrow)
            if key is None or event.moved is not None and key.removesuffix("_id") not in event.moved:
                return []
        if accessor is not None:
            found = [r for r in self.accessors.get(accessor, ()) if key is None or key in (r.field_name, r.attname)]
        else:
            models: list[str] = []
            users = self._manager_users.get(f"{module}.{cls}", ()) if cls else ()
            if event.model == ELSEWHERE and len(users) > 1 or event.model != ELSEWHERE and users:
                return []  # a manager or queryset class several models use: whose rows it writes is the caller's call
            if event.model == ELSEWHERE:
                for qualified in users:
                    models += self._lineage(self.index.models[qualified])
            elif event.model:
                model = self._model_named(module, event.model) or self._fixture_factory_model(module, event)
                if model is not None:
                    models = self._lineage(model)
            elif event.via:
                models = [r.related_model for r in self.accessors.get(event.via, ())]
            found = [r for m in models for r in self._by_related_model.get(m, ())
                     if key in (r.field_name, r.attname)]
        if event.method in DELETES and not event.keep_parents:
            # Deleting a multi-table child deletes the parent row (the receiver) too.
            found = [r for r in found if not (r.field is None or r.field.parent_link)]
        return found

    def _model_named(self, module: str, name: str) -> ModelInfo | None:
        """The model a write names: a class (``Profile``), ``"app_label.Model"`` (model_bakery), or a
        factory_boy factory (``ProfileFactory``: its ``Meta.model``)."""
        if name.count(".") == 1 and name in self.index.models_by_key:
            return self.index.models_by_key[name]
        qualified = self.index.resolve(module, name)
        if qualified is None:
            return None
        model = self.index.models.get(qualified)
        if model is None and name.endswith(FACTORY_SUFFIX):
            factory = self._factories.get(qualified)
            model = factory.model if factory is not None else None
        return model

    def _factory_builds(self, module: str, name: str) -> bool:
        """Does calling the factory class *name* save nothing: its ``Meta.strategy`` is not
        "create" (factory_boy's ``Factory()`` runs ``build()`` or ``stub()`` then), or unknown?"""
        qualified = self.index.resolve(module, name)
        if qualified is None or qualified in self.index.models:
            return False
        return self._factory_strategy(qualified) not in (None, "create")

    @cached_property
    def _classes(self) -> dict[str, tuple[str, dict[str, Any]]]:
        """Class qualname -> (module, its class facts), every project class."""
        return {f"{module}.{c['name']}": (module, c) for module, facts in self.index.modules.items()
                for c in facts["classes"]}

    def _factory_strategy(self, qualified: str, depth: int = 0) -> str | None:
        """factory_boy's ``_meta.strategy`` of a factory class, as its metaclass fills it: the
        class's own ``Meta`` (its bases as Python finds attributes), else inherited from the first
        base factory's ``_meta`` (``inherit=True``), else "create". None: not a factory."""
        entry = self._classes.get(qualified)
        if entry is None:
            last = qualified.rpartition(".")[2]
            if last == "StubFactory":
                return "stub"
            return "create" if last.endswith("Factory") else None
        if depth > self.MAX_DEPTH:
            return "?"
        module, class_facts = entry
        own = self._meta_strategy(module, class_facts.get("meta"), depth)
        if own is not None:
            return own
        for base in class_facts["bases"]:
            found = self._factory_strategy(self.index.resolve(module, base) or base, depth + 1)
            if found is not None:
                return found
        return None

    def _meta_strategy(self, module: str, meta: dict[str, Any] | None, depth: int) -> str | None:
        """The ``strategy`` a ``class Meta`` (or ``class Meta(Base.Meta)``) sets: "build", "create",
        "stub", "?" (not read); None when it sets none."""
        if not meta or depth > self.MAX_DEPTH:
            return None
        if "strategy" in meta:
            value = str(meta["strategy"])
            return _STRATEGIES.get(value.rpartition(".")[2], "?")
        for base in meta.get("bases", ()):
            owner, _, last = base.rpartition(".")
            entry = self._classes.get(self.index.resolve(module, owner) or owner) if owner and last == "Meta" else None
            if entry is not None:
                found = self._meta_strategy(entry[0], entry[1].get("meta"), depth + 1)
                if found is not None:
                    return found
        return None

    @cached_property
    def _factories(self) -> dict[str, MetaModelClass]:
        return self.index.django.meta_model_classes(FACTORY_BASES)

    @cached_property
    def _model_bases(self) -> frozenset[str]:
        return frozenset(base for model in self.index.models.values() for base in model.base_qualnames)

    def _receiver_fits(self, module: str, function: Function, receiver: str,
                       relations: list[ReverseRelation]) -> list[ReverseRelation]:
        """For ``self`` of a method: only relations its class (a model, or a mixin of one) can own."""
        params = function.params
        if function.kind != "method" or not params or receiver != params[0] or function.cls is None:
            return relations
        qualname = f"{module}.{function.cls}"
        model = self.index.models.get(qualname)
        if function.hook:
            # a factory's post_generation hook: its first parameter is the factory's model instance
            factory = self._factories.get(qualname)
            model = factory.model if factory is not None else None
            if model is None:
                return []
        if model is None:
            return relations if qualname in self._model_bases else []
        lineage = set(self._lineage(model))
        return [r for r in relations if r.owner in lineage or self._descends(r.owner, model)]

    def _descends(self, key: str, ancestor: ModelInfo) -> bool:
        model = self.index.models_by_key.get(key)
        return model is not None and ancestor.key in self._lineage(model)

    # -- the receiver's model ------------------------------------------------------

    def _typed_fits(self, module: str, function: Function, receiver: str,
                    relations: list[ReverseRelation]) -> list[ReverseRelation]:
        """*relations* minus those whose accessor the receiver cannot have, when the function's
        code tells the receiver's model (:class:`~o2o_lint.index.receivers.ModelTypes`: an
        annotation, ``Model.objects.get(...)``, a loop over a queryset, ``request.user``, ``self``
        in a model's method...). An instance of the model has the accessors of the model and
        of its parents (multi-table, or an abstract base's field naming it with ``%(class)s``);
        it may be an instance of a subclass or a proxy too, so theirs are kept. Without that
        accessor, ``hasattr`` caches nothing (AttributeError) and an assignment would add a
        plain attribute: nothing to report, nothing to fix (Django 4.2, 5.2, 6.1, verified)."""
        if not relations:
            return relations
        model = self._receiver_model(module, function, receiver)
        if model is None or model.key == _DEFAULT_USER and self._own_user_model_unset:
            return relations
        lineage = set(self._lineage(model))
        return [r for r in relations if r.owner in lineage or self._descends(r.owner, model)
                or r.owner not in self.index.models_by_key]

    def _origin_fits(self, origin: tuple[str, str, int], accessor: str, relations: list[ReverseRelation]) -> bool:
        """Whether the caller's read of *accessor* at *origin* (see :attr:`taint`) is on a
        receiver that may own one of *relations* (the writer's): typed only for a finding."""
        module, qualname, line = origin
        function = self.functions(module).get(qualname)
        if function is None:
            return True
        reads = [r for r in function.reads if r.pos[0] == line and r.acc == accessor]
        return not reads or any(self._typed_fits(module, function, r.recv, relations) for r in reads)

    @cached_property
    def _own_user_model_unset(self) -> bool:
        """No module sets ``AUTH_USER_MODEL``, yet the project has a user model of its own (a
        concrete subclass of ``AbstractBaseUser``): ``request.user`` may be that one, not the
        ``auth.User`` receivers are typed as (the setting may come from the environment)."""
        if "AUTH_USER_MODEL" in self.index.settings:
            return False
        return any(not model.abstract and not model.external and not _USER_BASES.isdisjoint(self._lineage(model))
                   for model in self.index.models.values())

    def _receiver_model(self, module: str, function: Function, receiver: str) -> ModelInfo | None:
        """The model *receiver* (``x``, ``request.user``, ``xs[i]``: each element of ``xs``) is an
        instance of in *function*, or None when the module's code does not tell."""
        types = self._module_types(module)
        if types is None:
            return None
        scope = types.tree if function.kind == "module" else types.functions.get(function.line)
        elements = receiver.endswith(ELEMENTS)
        dotted = receiver[: -len(ELEMENTS)] if elements else receiver
        try:
            expression = ast.parse(dotted, mode="eval").body
        except (SyntaxError, ValueError):
            return None
        if scope is None or dotted_name(expression) != dotted:
            return None
        try:
            found = types.types.model_in(expression, scope)
        except RecursionError:
            return None
        if found is None or found.kind != (QUERYSET if elements else OBJECT):
            return None
        return found.model

    def _module_types(self, module: str) -> _ModuleTypes | None:
        """The receivers' types of *module*, from its text (the overlaid text's while one is
        analysed, never kept); None when it cannot be read or parsed."""
        cacheable = self._cacheable(module)
        if cacheable and module in self._types:
            return self._types[module]
        found = None
        path = self.index.overlaid[0] if not cacheable and self.index.overlaid else self.index.path_by_module.get(module)
        text = self.index.source_text(path) if path is not None else None
        if text is not None:
            try:
                tree = parse_module(text, filename=path or "<unknown>")
                found = _ModuleTypes(tree, ModelTypes(self.index, module, tree), {
                    node.lineno: node for node in ast.walk(tree)
                    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))})
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                found = None
        if cacheable:
            self._types[module] = found
        return found

    @staticmethod
    def clears(clear: Clear, relation: ReverseRelation) -> bool:
        if clear.model is not None:
            # A write through the instance (``Rel.objects.create(owner=x)``, ``Rel(owner=x)``) sets
            # the cache again (Django 4.2 and 5.2, verified); the model by its class name (a
            # factory_boy factory's by the field alone: taking it as a repair only silences).
            name = clear.model.rpartition(".")[2]
            return clear.key == relation.field_name and \
                (name in (relation.related_model_name, ELSEWHERE) or name.endswith(FACTORY_SUFFIX))
        if clear.acc is not None:
            return clear.acc == relation.accessor
        fields = clear.fields
        return fields is None or fields == "?" or relation.query_name in fields or relation.accessor in fields

    def _cleared_after(self, function: Function, receiver: str, event: Write | Call,
                       relations: list[ReverseRelation]) -> list[ReverseRelation]:
        """*relations* minus those a clear of *receiver* after *event* refreshes."""
        after = [c for c in function.clears if c.recv == receiver and _start(c) >= _stop(event)]
        return [r for r in relations if not any(self.clears(c, r) for c in after)]

    @staticmethod
    def _rebound_between(function: Function, receiver: str, start: tuple[int, int], stop: tuple[int, int]) -> bool:
        return any(_affects(b.name, receiver) and start <= (b.line, b.col) < stop for b in function.binds)

    def _cancelled_between(self, function: Function, receiver: str, read: Read, event: Write | Call,
                           relation: ReverseRelation) -> bool:
        return any(c.recv == receiver and _stop(read) <= _start(c) < _start(event) and self.clears(c, relation)
                   for c in function.clears)

    # -- can the stale answer be observed? --------------------------------------------

    _HOW: ClassVar[dict[str, str]] = {
        "returned": "returned at line {line}",
        "yielded": "yielded at line {line}",
        "stored": "stored at line {line}",
        "passed": "passed to `{callee}()` at line {line}",
        "method": "`{callee}()` is called on it at line {line}",
    }

    def observed(self, function: Function, receiver: str, event: Write | Call, accessor: str) -> str | None:
        """How the stale ``receiver.accessor`` after *event* can be read, or None when it cannot.

        A later read of the accessor on the receiver (in the function, or in the next iteration
        of a loop holding both that does not rebind the receiver), or the receiver escaping:
        a parameter or ``self`` (the caller holds it), a module-level name, returned, yielded,
        stored, passed to a call or used as a method's instance after the write.
        """
        params = function.params
        if receiver.endswith(ELEMENTS):
            return self._elements_observed(function, receiver[: -len(ELEMENTS)], event)
        if function.kind == "module":
            return f"`{receiver}` is a module-level name"
        if receiver in params:
            if function.kind == "method" and receiver == params[0]:
                return f"`{receiver}` escapes: the caller holds the instance"
            return f"`{receiver}` escapes: it is a parameter, the caller holds it"
        root = _root(receiver)
        if root not in params and not any(b.name == root for b in function.binds):
            return f"`{root}` is not local to the function: it outlives it"
        later: list[Read | Use] = [r for r in function.reads if r.recv == receiver and r.acc == accessor]
        later += [u for u in function.uses if u.recv == receiver and u.attr == accessor]
        inside = (_start(event), _stop(event))
        for use in sorted(later, key=_start):
            if inside[0] <= _start(use) and _stop(use) <= inside[1]:
                continue  # the write's own ``x.rel.delete()``
            if follows(event, use) and not self._rebound_between(function, receiver, _stop(event), _start(use)) \
                    and not _cut_off(function, event, use):
                return f"it is read again at line {use.pos[0]}"
        for use in sorted(later, key=_start):
            if not (inside[0] <= _start(use) and _stop(use) <= inside[1]) and self._same_loop(function, receiver, event, use):
                return f"it is read again at line {use.pos[0]}, in the loop's next iteration"
        for escape in function.escapes:
            # ``request.user`` also escapes with ``request`` (``render(request, ...)``), not through
            # a method called on ``request``.
            whole = escape.recv == root != receiver and escape.how in ("returned", "yielded", "passed", "stored")
            if escape.recv != receiver and not whole or inside[0] <= _start(escape) and _stop(escape) <= inside[1]:
                continue
            if isinstance(event, Call) and escape.pos == event.pos:
                continue  # the call into the writer itself
            if escape.how == "element":
                if _root(escape.callee or "") in params:
                    return f"`{receiver}` escapes: it is an element of `{escape.callee}`, which the caller holds"
                continue
            after = follows(event, escape) and not self._rebound_between(
                function, receiver, _stop(event), _start(escape)) and not _cut_off(function, event, escape)
            if escape.how == "stored" or after or self._same_loop(function, receiver, event, escape):
                how = self._HOW[escape.how].format(line=escape.pos[0], callee=escape.callee)
                return f"`{escape.recv}` escapes: {how}"
        return None

    def _elements_observed(self, function: Function, iterated: str, event: Write | Call) -> str | None:
        """After a write for every element of *iterated*: do the elements escape?"""
        if function.kind == "module" or _root(iterated) in function.params:
            return f"the elements of `{iterated}` escape: the caller holds `{_root(iterated)}`"
        for escape in function.escapes:
            if escape.recv == iterated and escape.how in ("returned", "yielded", "passed", "stored") \
                    and follows(event, escape) and not self._rebound_between(function, iterated, _stop(event), _start(escape)) \
                    and not _cut_off(function, event, escape):
                how = self._HOW[escape.how].format(line=escape.pos[0], callee=escape.callee)
                return f"the elements of `{iterated}` escape: {how}"
        return None

    @staticmethod
    def _same_loop(function: Function, receiver: str, first: Write | Call, second: Read | Use | Escape) -> bool:
        """Both in the body of a loop that does not rebind *receiver*: *second* runs again after *first*."""
        for loop in function.loops:
            depth = len(loop.path)
            if first.path[:depth] != loop.path or second.path[:depth] != loop.path:
                continue
            if len(first.path) <= depth or len(second.path) <= depth:
                continue
            if first.path[depth] not in ("for.b", "wh.b") or second.path[depth] not in ("for.b", "wh.b", "h"):
                continue
            if second.path[depth] == "h" and not str(first.path[depth]).startswith("wh"):
                continue
            start, stop = (loop.pos[0], loop.pos[1]), (loop.pos[2], loop.pos[3])
            # ``<=``: a rebinding ending the loop's last statement ends where the loop does
            if not any(_affects(b.name, receiver) and start <= (b.line, b.col) <= stop for b in function.binds) \
                    and not _leaves_loop(function, loop.path, first):
                return True
        return False

    # -- functions and calls -------------------------------------------------------

    def functions(self, module: str) -> dict[str, Function]:
        """*module*'s per-function facts, as records (the overlaid text's while one is analysed)."""
        if not self._cacheable(module):
            return self._records(self.index.modules.get(module))
        found = self._functions.get(module)
        if found is None:
            found = self._functions[module] = self._records(self.index.modules.get(module))
        return found

    def _records(self, facts: Facts | None) -> dict[str, Function]:
        raw = rule_facts(facts, "OTO002") if facts else None
        return {qualname: function_record(function) for qualname, function in raw.items()
                if qualname not in NOT_FUNCTIONS} if raw else {}

    def _cacheable(self, module: str) -> bool:
        """Whether what is derived from *module*'s facts may be kept for the index's life:
        not while they are an overlaid text's (see :meth:`ProjectIndex.overlay`)."""
        overlaid = self.index.overlaid
        return overlaid is None or overlaid[1]["module"] != module

    def _split_function(self, qualified: str) -> tuple[str, str] | None:
        module, _, name = qualified.rpartition(".")
        while module:
            if module in self.index.modules:
                return module, name
            module, _, head = module.rpartition(".")
            name = f"{head}.{name}"
        return None

    def _find_method(self, module: str, class_name: str, method: str, depth: int = 0) -> tuple[str, str] | None:
        if depth > self.MAX_DEPTH:
            return None
        qualname = f"{class_name}.{method}"
        if qualname in self.functions(module):
            return module, qualname
        facts = self.index.modules.get(module)
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
            found = self._find_method(base_module, base_name, method, depth + 1)
            if found is not None:
                return found
        return None

    def call_targets(self, module: str, function: Function, call: Call) -> list[tuple[str, str, dict[str, str]]]:
        """Project functions a call may run, each with {callee parameter: caller expression}."""
        callee, receiver = call.callee, call.recv
        targets: list[tuple[str, str]] = []
        bound: set[tuple[str, str]] = set()  # manager methods: their first parameter is the manager
        if receiver is not None:
            facts = self.index.modules.get(module)
            head = _root(receiver)
            if facts and (head in facts["imports"] or any(c["name"] == head for c in facts["classes"])):
                receiver = None  # ``services.ensure_profile(x)``, ``Company.create_address(c)``
        if receiver is None and callee in function.params:
            fixture = self.pytest_fixture(module, function.line, callee)  # a fixture the test calls
            if fixture is not None and fixture[0] == "function" and fixture[2]:
                targets.append((fixture[1], fixture[2]))
        elif receiver is None:
            if "." not in callee and callee in self.functions(module):
                targets.append((module, callee))
            else:
                qualified = self.index.resolve(module, callee)
                split = self._split_function(qualified) if qualified else None
                if split is not None and split[1] in self.functions(split[0]):
                    targets.append(split)
                elif callee.count(".") == 2:
                    for found in self._manager_methods(module, callee):
                        targets.append(found)
                        bound.add(found)
        else:
            method = callee.rpartition(".")[2]
            params = function.params
            if function.cls and function.kind == "method" and params and receiver == params[0]:
                found = self._find_method(module, function.cls, method)
                if found is not None:
                    targets.append(found)
            else:
                for model in self._method_owners.get(method, ()):
                    facts = self.index.facts_by_path.get(model.path or "")
                    if facts is not None:
                        owner_module = facts["module"]
                        qualname = f"{model.name}.{method}"
                        if qualname in self.functions(owner_module):
                            targets.append((owner_module, qualname))
        result = []
        for target_module, qualname in targets:
            entry = self.functions(target_module).get(qualname)
            if entry is None:
                continue
            params = entry.params
            kind = entry.kind
            through = receiver is not None or (target_module, qualname) in bound
            offset = 1 if kind in ("method", "classmethod") and through else 0
            mapping: dict[str, str] = {}
            if receiver is not None and kind == "method" and params:
                mapping[params[0]] = receiver
            for slot, expression in call.args:
                if isinstance(slot, int):
                    if slot + offset < len(params):
                        mapping[params[slot + offset]] = expression
                elif slot in params:
                    mapping[slot] = expression
            result.append((target_module, qualname, mapping))
        return result

    # -- pytest fixtures a test calls ------------------------------------------------

    def _pytest_facts(self, module: str) -> dict[str, Any]:
        facts = self.index.modules.get(module)
        return ((rule_facts(facts, "OTO002") or {}).get(FIXTURES) or {}) if facts else {}

    def _fixture_modules(self, module: str) -> list[str]:
        """Where pytest looks for the fixtures of *module*'s tests: the module itself, then the
        ``conftest.py`` of its directory and of each directory above it."""
        found = [module]
        path = self.index.path_by_module.get(module)
        if path is None:
            return found
        directory = os.path.dirname(path)
        while True:
            conftest = self.index.facts_by_path.get(os.path.join(directory, "conftest.py"))
            if conftest is not None and conftest["module"] != module:
                found.append(conftest["module"])
            parent = os.path.dirname(directory)
            if parent == directory:
                return found
            directory = parent

    def pytest_fixture(self, module: str, line: int, name: str) -> tuple[str, str, str] | None:
        """The fixture *name* the test of *module* starting at *line* is given, when pytest
        fills its parameter *name* with exactly one fixture the index can see: ``("function",
        module, qualname of the function the fixture returns)`` (a factory as fixture) or
        ``("factory", module, factory class as written)`` (pytest-factoryboy's
        ``register()``). None for a parameter ``parametrize`` gives, a fixture defined in
        several visible places (one overrides another), or in a class."""
        own = self._pytest_facts(module)
        test = next((t for t in own.get("tests", ()) if t[0] == line), None)
        if test is None or name not in test[2] or name in own.get("shadowed", ()):
            return None
        found: list[tuple[str, str, str]] = []
        for where in self._fixture_modules(module):
            facts = self._pytest_facts(where)
            if name in facts.get("fixtures", {}):
                found.append(("function", where, facts["fixtures"][name]))
            if name in facts.get("factories", {}):
                found.append(("factory", where, facts["factories"][name]))
        return found[0] if len(found) == 1 else None

    def _fixture_factory_model(self, module: str, event: Write) -> ModelInfo | None:
        """``profile_factory(owner_id=x.pk)`` in a test: the model of the factory class
        pytest-factoryboy's ``register(ProfileFactory)`` gives that fixture."""
        name = event.model or ""
        if not name.endswith(FIXTURE_FACTORY_SUFFIX):
            return None
        for test in self._pytest_facts(module).get("tests", ()):
            if test[0] <= event.pos[0] <= test[1]:
                fixture = self.pytest_fixture(module, test[0], name)
                if fixture is not None and fixture[0] == "factory":
                    return self._model_named(fixture[1], fixture[2])
        return None

    def _manager_methods(self, module: str, callee: str) -> list[tuple[str, str]]:
        """``Profile.objects.ensure_for`` -> the method of the manager (or queryset) class the
        model ``Profile`` uses, when its module defines both (see ``facts._managers``)."""
        head, _, method = callee.partition(".")
        method = method.rpartition(".")[2]
        qualified = self.index.resolve(module, head)
        model = self.index.models.get(qualified) if qualified else None
        if model is None:
            return []
        model_module = qualified.rpartition(".")[0]
        found = [(model_module, qualname) for qualname, function in self.functions(model_module).items()
                 if qualname.rpartition(".")[2] == method and qualname.count(".") == 1
                 and model.name in function.managed]
        for manager in self._managers_of.get(qualified, ()):
            manager_module, _, name = manager.rpartition(".")
            function = self.functions(manager_module).get(f"{name}.{method}")
            if function is not None and ELSEWHERE in function.managed:
                found.append((manager_module, f"{name}.{method}"))
        return found

    def _narrowed_key(self, module: str, narrow: list[Any]) -> str | None:
        """``["Rel.objects.for_user", 0]`` -> the lookup key ``for_user`` ties its argument to."""
        callee, slot = narrow
        for method_module, qualname in self._manager_methods(module, callee):
            function = self.functions(method_module)[qualname]
            params = function.params
            name = params[slot + 1] if isinstance(slot, int) and slot + 1 < len(params) else slot
            keys = {key for key, param in function.narrows if param == name}
            if len(keys) == 1:
                return keys.pop()
        return None

    @cached_property
    def _managers_of(self) -> dict[str, list[str]]:
        """Model qualname -> the manager and queryset classes of other modules it uses."""
        found: dict[str, list[str]] = defaultdict(list)
        for module, facts in self.index.modules.items():
            uses = (rule_facts(facts, "OTO002") or {}).get(MANAGER_USES)
            for model_name, names in (uses or {}).items():
                model = f"{module}.{model_name}"
                if model not in self.index.models:
                    continue
                for name in names:
                    manager = self.index.resolve(module, name)
                    if manager and manager not in found[model]:
                        found[model].append(manager)
        return dict(found)

    @cached_property
    def _manager_users(self) -> dict[str, list[str]]:
        """Manager or queryset class qualname -> the models (qualnames) of other modules using it."""
        found: dict[str, list[str]] = defaultdict(list)
        for model, managers in self._managers_of.items():
            for manager in managers:
                found[manager].append(model)
        return dict(found)

    def summary(self, module: str, qualname: str, _active: frozenset[tuple[str, str]] = frozenset()) -> list[dict[str, Any]]:
        """Stale writes *qualname* makes on its parameters, directly or through calls.

        Each item: ``{"param", "relations", "site": (module, qualname, line), "write"}``.
        """
        key = (module, qualname)
        cacheable = self._cacheable(module)
        if cacheable and key in self._summaries:
            return self._summaries[key]
        if key in _active or len(_active) > self.MAX_DEPTH:
            return []
        function = self.functions(module).get(qualname)
        found: list[dict[str, Any]] = []
        if function is not None:
            params = set(function.params)
            start = (function.line, 0)
            for write in function.writes:
                receiver = write.recv
                if receiver not in params or self._rebound_between(function, receiver, start, _start(write)):
                    continue
                relations = self._receiver_fits(module, function, receiver, self.relations(module, write, function.cls))
                relations = self._cleared_after(function, receiver, write, relations)
                relations = self._typed_fits(module, function, receiver, relations)
                if relations:
                    found.append({"param": receiver, "relations": relations, "write": write,
                                  "site": (module, qualname, write.pos[0])})
            active = _active | {key}
            for call in function.calls:
                for target_module, target, mapping in self.call_targets(module, function, call):
                    for item in self.summary(target_module, target, active):
                        expression = mapping.get(item["param"])
                        if expression not in params or self._rebound_between(function, expression, start, _start(call)):
                            continue
                        relations = self._cleared_after(function, expression, call, item["relations"])
                        relations = self._typed_fits(module, function, expression, relations)
                        if relations:
                            found.append({**item, "param": expression, "relations": relations})
        if cacheable:
            self._summaries[key] = found
        return found

    # -- who calls a writer after a read -------------------------------------------

    def _read_before(self, function: Function, read: Read, event: Write | Call,
                     relations: Iterable[ReverseRelation]) -> bool:
        receiver = read.recv
        if read.how == "peers" and not _peers_reach(function, read, event):
            return False
        return (
            follows(read, event)
            and not self._rebound_between(function, receiver, _stop(read), _start(event))
            and not any(self._cancelled_between(function, receiver, read, event, r) for r in relations)
        )

    @cached_property
    def taint(self) -> dict[tuple[str, str, str], list[tuple[str, tuple[str, str, int]]]]:
        """(module, function, parameter) -> [(accessor, "where a caller read it")].

        A parameter is tainted when some caller reads ``arg.<accessor>`` and then passes
        ``arg`` to the function (transitively through functions passing it on).
        """
        tainted: dict[tuple[str, str, str], list[tuple[str, tuple[str, str, int]]]] = defaultdict(list)
        queue: list[tuple[str, str, str, str, tuple[str, str, int]]] = []
        for module in self.index.modules:
            for qualname, function in self.functions(module).items():
                if not function.reads or not function.calls:
                    continue
                for call in function.calls:
                    targets = None
                    for read in function.reads:
                        relations = self.accessors.get(read.acc)
                        if not relations or not self._read_before(function, read, call, relations):
                            continue
                        if not self._cleared_after(function, read.recv, call, relations):
                            continue
                        if targets is None:
                            targets = self.call_targets(module, function, call)
                        origin = (module, qualname, read.pos[0])
                        for target_module, target, mapping in targets:
                            for param, expression in mapping.items():
                                if expression == read.recv:
                                    queue.append((target_module, target, param, read.acc, origin))
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
            passes: bool | None = None  # a parameter whose model lacks the accessor passes no cached answer on
            start = (function.line, 0)
            for call in function.calls:
                if not any(a[1] == param for a in call.args) and call.recv != param:
                    continue
                if self._rebound_between(function, param, start, _start(call)):
                    continue
                targets = self.call_targets(module, function, call)
                if targets and passes is None:
                    passes = bool(self._typed_fits(module, function, param, self.accessors.get(accessor, [])))
                if not passes:
                    continue
                for target_module, target, mapping in targets:
                    for callee_param, expression in mapping.items():
                        if expression == param:
                            queue.append((target_module, target, callee_param, accessor, origin))
        return dict(tainted)

    @cached_property
    def tainted_modules(self) -> frozenset[str]:
        return frozenset(module for module, _, _ in self.taint)

    # -- per file ------------------------------------------------------------------

    def screen(self, facts: Facts) -> bool:
        """False when the file (*facts*) cannot hold a finding."""
        functions = rule_facts(facts, "OTO002")
        if not functions:
            return False
        accessors = self.accessors
        if not accessors:
            return False
        functions = {qualname: f for qualname, f in functions.items() if qualname not in NOT_FUNCTIONS}
        for function in functions.values():
            if (function["writes"] or function["calls"]) and any(r["acc"] in accessors for r in function["reads"]):
                return True
        if facts["module"] in self.tainted_modules:
            return any(function["writes"] for function in functions.values())
        return False

    def findings(self, facts: Facts) -> list[Found]:
        """OTO002 findings of one file (*facts*), keyed by the event position; the rule
        words them, maps them onto LibCST nodes and builds the fixes."""
        module = facts["module"]
        results: list[Found] = []
        functions = self.functions(module) if self.index.modules.get(module) is facts else self._records(facts)
        for qualname, function in functions.items():
            reads = function.reads
            params = set(function.params)
            start = (function.line, 0)
            for write in function.writes:
                receiver = write.recv
                relations = self._receiver_fits(module, function, receiver, self.relations(module, write, function.cls))
                if not relations:
                    continue
                relations = self._cleared_after(function, receiver, write, relations)
                if not relations:
                    continue
                found = self._local(function, write, receiver, relations)
                if found is not None:  # a candidate: only now is the receiver's model looked up
                    found = self._local(function, write, receiver, self._typed_fits(module, function, receiver, relations))
                if found is not None:
                    read, matching = found
                    seen = self.observed(function, receiver, write, read.acc)
                    if seen is not None:
                        results.append(_found("write", write, receiver, read.acc, matching, read_line=read.line or read.pos[0],
                                              read_how=_filled(read),
                                              write=write, refresh=self._partial_refresh(function, receiver, write),
                                              seen=seen))
                    continue
                if receiver not in params or self._rebound_between(function, receiver, start, _start(write)):
                    continue
                for accessor, origin in self.taint.get((module, qualname, receiver), ()):
                    matching = [r for r in relations if r.accessor == accessor]
                    matching = self._typed_fits(module, function, receiver, matching)
                    if matching and self._origin_fits(origin, accessor, matching):
                        results.append(_found("writer", write, receiver, accessor, matching, write=write,
                                              function=qualname, origin=origin))
                        break
            if not reads:
                continue
            for call in function.calls:
                result = self._call_site(module, function, call)
                if result is not None:
                    results.append(result)
        return results

    @staticmethod
    def _partial_refresh(function: Function, receiver: str, event: Write) -> Clear | None:
        """A later ``refresh_from_db(fields=[...])`` of *receiver* (it cleared the cache only up to Django 5.0)."""
        for clear in function.clears:
            fields = clear.fields
            if clear.recv == receiver and isinstance(fields, list) and _start(clear) >= _stop(event):
                return clear
        return None

    def _local(self, function: Function, write: Write, receiver: str,
               relations: list[ReverseRelation]) -> tuple[Read, list[ReverseRelation]] | None:
        best: tuple[Read, list[ReverseRelation]] | None = None
        for read in function.reads:
            if read.recv != receiver:
                continue
            matching = [r for r in relations if r.accessor == read.acc]
            if matching and self._read_before(function, read, write, matching):
                if best is None or _start(read) > _start(best[0]):
                    best = (read, matching)
        return best

    def _call_site(self, module: str, function: Function, call: Call) -> Found | None:
        targets = None
        best: Found | None = None
        best_read = (0, 0)
        for read in function.reads:
            receiver = read.recv
            if receiver != call.recv and not any(a[1] == receiver for a in call.args):
                continue
            if read.acc not in self.accessors:
                continue
            if targets is None:
                targets = self.call_targets(module, function, call)
            for target_module, target, mapping in targets:
                for item in self.summary(target_module, target):
                    if mapping.get(item["param"]) != receiver:
                        continue
                    matching = [r for r in item["relations"] if r.accessor == read.acc]
                    if not matching or not self._read_before(function, read, call, matching):
                        continue
                    matching = self._cleared_after(function, receiver, call, matching)
                    matching = self._typed_fits(module, function, receiver, matching)
                    if not matching:
                        continue
                    if best is not None and _start(read) <= best_read:
                        continue
                    seen = self.observed(function, receiver, call, read.acc)
                    if seen is None:
                        continue
                    best = _found("call", call, receiver, read.acc, matching, read_line=read.line or read.pos[0],
                                  read_how=_filled(read),
                                  write=item["write"], callee=call.callee, site=item["site"], seen=seen)
                    best_read = _start(read)
        return best


class _ModuleTypes(NamedTuple):
    """One module's tree, its :class:`ModelTypes`, and its functions by the line of their ``def``."""

    tree: ast.Module
    types: ModelTypes
    functions: dict[int, ast.AST]


class Found(NamedTuple):
    """One finding of a file as the resolver sees it; the rule words it and fixes it."""

    #: "write": a stale write after a read in the same function; "writer": a stale write on a
    #: parameter some caller read first; "call": a call into a writer after a read.
    kind: str
    pos: list[int]  # of the write or call: line, column (UTF-8 bytes), end line, end column
    recv: str
    acc: str
    query_names: list[str]
    write: Write  # the stale write (for "call", the writer's)
    read_line: int = 0  # "write", "call": where the accessor was read
    refresh: Clear | None = None  # "write": a later refresh_from_db(fields=[...]) of the receiver
    function: str = ""  # "writer": the writing function's qualname
    origin: tuple[str, str, int] = ("", "", 0)  # "writer": a caller reading it first (module, function, line)
    callee: str = ""  # "call": the called name
    site: tuple[str, str, int] = ("", "", 0)  # "call": the writer (module, function, line)
    seen: str = ""  # "write", "call": where the stale answer can be read (a later read, an escape)
    read_how: str = ""  # "write", "call": how the cache was filled, when not by a read of the receiver itself


def _peers_reach(function: Function, read: Read, event: Write | Call) -> bool:
    """A read on the peers of a ``fetch_mode(FETCH_PEERS)`` loop fills the next iterations'
    elements: it precedes what the loop's body does, not what follows the loop, and not the
    write of the accessor read on the element itself (``x.rel.delete()``, stale without peers).

    Nor a write attaching a row (or a call) that an unguarded ``x.rel`` runs before in every
    iteration: that load raised (no write) or found the element's row, so no row is attached
    to an element whose cache says "none" (a delete after it is stale, peers or not)."""
    loop = read.path[:-1]
    inside = event.path[: len(loop)] == loop and len(event.path) > len(loop) and event.path[len(loop)] == "for.b"
    if not inside or isinstance(event, Write) and event.acc is not None:
        return False
    if isinstance(event, Write) and event.op is Op.DETACH:
        return True
    guarded = {tuple(r.pos) for r in function.reads if r.how == "try" and r.recv == read.recv and r.acc == read.acc}
    return not any(use.recv == read.recv and use.attr == read.acc and tuple(use.pos) not in guarded
                   and _dominates(use, event) for use in function.uses)


def _dominates(first: Use, event: Write | Call) -> bool:
    """Does *first* run before *event* whenever *event* runs? An earlier statement of the same
    block, a header of a compound statement holding *event*, or in *event*'s own statement
    before its end (its arguments). Anything nested deeper: no (the caller then reports)."""
    first_path, second_path = first.path, event.path
    for index in range(min(len(first_path), len(second_path))):
        if first_path[index] == second_path[index]:
            continue
        if index % 2 == 0:  # statement indices of one block
            return first_path[index] < second_path[index] and len(first_path) == index + 2 \
                and first_path[index + 1] in ("", "h")
        return first_path[index] == "h" and len(first_path) == index + 1
    return len(first_path) == len(second_path) and _stop(first) <= _stop(event)


def _filled(read: Read) -> str:
    """How a cache was filled other than by reading the receiver's own accessor."""
    if read.how == "peers":
        return (f" in an earlier iteration (with `fetch_mode({read.source})` one read caches the answer on every"
                " instance of the queryset)")
    if read.how == "element":
        return f" on every element of `{read.source}`"
    if read.how == "related":
        return f' by `{read.source}("{read.acc}")`'
    return ""


def _found(kind: str, event: Write | Call, receiver: str, accessor: str, relations: list[ReverseRelation],
           **details: Any) -> Found:
    return Found(kind, event.pos, receiver, accessor, sorted({r.query_name for r in relations}), **details)
