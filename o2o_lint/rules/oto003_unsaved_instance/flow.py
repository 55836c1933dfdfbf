"""The flow analysis: which model instances are unsaved where.

One function body at a time, statement by statement, an abstract interpreter keeps:

* which local names refer to which *objects* (allocation sites: one object per
  ``Place(...)`` call node, so loops reach a fixed point);
* for each instance built here, whether it is unsaved (``U``), saved (``S``) or
  either, depending on the path taken (both bits);
* the relations set on instances (``Restaurant(place=p)``, ``r.place = p``) and
  the ``<relation>_id`` values computed while the target was unsaved;
* the contents of local lists (``objs.append(...)`` then ``bulk_create(objs)``).

Names of unknown origin (parameters, attributes, results of unknown calls) are
never unsaved. An instance passed to a call the analysis cannot see into is
treated as saved from then on. Only LibCST nodes and the project index are used:
no scope or qualified-name metadata, nothing is imported or executed.

The analysis calls back with a :class:`Hit` for every save point an unsaved
instance reaches; the rule turns hits into messages and fixes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import libcst as cst

from o2o_lint.astutil import resolve_relative
from o2o_lint.cstutil import child_nodes, dotted
from o2o_lint.django_api import (
    ASYNC_TWINS,
    CATCHES_VALUE_ERROR,
    FACTORY_BASES,
    LOOKUP_METHODS,
    MANAGER_READS,
    MANAGER_WRITES,
    MODEL_CLASS_ATTRIBUTES,
    MODEL_FORM_BASES,
    MODEL_FORM_NON_SAVING,
    NON_SAVING_METHODS,
    NOT_LOOKUP_KEYS,
    QUERYSET_METHODS,
    TERMINAL_METHODS,
)
from o2o_lint.index.django import DjangoModels, Manager, MetaModelClass, Relation
from o2o_lint.index.model import ModelInfo, RelationKind
from o2o_lint.rules.oto003_unsaved_instance.sinks import (
    FORM_DRIVERS,
    FORMSET_READS,
    LOGGER_RECEIVERS,
    NON_SAVING_FUNCTIONS,
)

# ---------------------------------------------------------------------------------------
# Vocabulary.

UNSAVED, SAVED = 1, 2
UNKNOWN = 0  # the object id of "a value of unknown origin"
NONE = -1  # the object id of ``None`` bound to a local name (``group = None``)
UNKNOWN_SET = frozenset({UNKNOWN})
NOTHING: frozenset[int] = frozenset()

#: Context managers under which the error is expected (Django's own tests, pytest).
EXPECTING_CONTEXTS = frozenset({
    "raises", "warns", "deprecated_call", "assertRaises", "assertRaisesMessage", "assertRaisesRegex",
    "assertRaisesRegexp", "assertWarns", "assertWarnsMessage", "assertWarnsRegex",
})
#: Factory methods that build without saving: one instance, or a list of them.
FACTORY_BUILDS = {"build": False, "build_batch": True}
#: model_bakery's (and model_mommy's) ``prepare(Model)``: an unsaved instance.
BAKERY_PREPARE = frozenset({"model_bakery.baker.prepare", "model_mommy.mommy.prepare"})
#: Django's model formset factories: the position of the model argument.
FORMSET_FACTORIES = {
    "django.forms.modelformset_factory": 0, "django.forms.models.modelformset_factory": 0,
    "django.forms.inlineformset_factory": 1, "django.forms.models.inlineformset_factory": 1,
}
#: What saves a formset's new objects, for the message.
FORMSET_REMEDY = "save each new object (`obj.save()`) before it is attached or looked up"
_CONSTANTS = (cst.SimpleString, cst.Integer, cst.Float, cst.Imaginary, cst.Ellipsis)
#: Loops nested deeper than this are analysed in one pass (no fixed point).
MAX_LOOP_DEPTH = 5


@dataclass(eq=False)
class Obj:
    """One allocation site: an instance built here, a reference, a list, a queryset..."""

    oid: int
    kind: str  # "new", "ref", "class", "queryset", "manager", "list", "form"
    model: ModelInfo | None = None
    ctor: cst.Call | None = None
    #: positions cost a code generation of the whole file: computed only when a message needs one
    line_of: Callable[[cst.CSTNode], int] | None = None
    label: str = ""  # the name it was first bound to
    site: Site | None = None  # where the constructor runs
    in_condition: bool = False  # built where evaluation is conditional (comprehension, `x if c else y`)
    owners: frozenset[int] = NOTHING  # managers: the instances they belong to
    manager: Manager | None = None
    #: an instance no constructor here built, handed over unsaved: the expression that did
    #: (``form.save(commit=False)``, ``form.instance``) and its node
    origin: str = ""
    origin_node: cst.CSTNode | None = None
    remedy: str = ""  # what to write instead, for such an instance (``use create()``)

    @property
    def line(self) -> int:
        node = self.ctor if self.ctor is not None else self.origin_node
        return self.line_of(node) if self.line_of is not None and node is not None else 0


@dataclass(frozen=True, eq=False)
class Site:
    """The statement being executed: where a ``place.save()`` line can be inserted."""

    stmt: cst.CSTNode | None  # None: not a statement of a block (an ``elif`` test, a one-line suite)
    block: object | None  # identity of the statement list holding ``stmt``
    index: int
    small: int  # index among the ``;``-separated statements of a simple line, else 0
    conditional: bool = False  # inside ``x if c else y``, ``a or b``, a comprehension, a loop test
    catching: bool = False  # inside ``try:`` whose handlers catch ValueError

    def same_statement(self, other: Site) -> bool:
        return self.stmt is other.stmt and self.stmt is not None

    def precedes_in_block(self, other: Site) -> bool:
        """True when *self* runs before *other* on straight-line code of the same block."""
        if self.block is None or self.block is not other.block or self.stmt is None:
            return False
        if self.stmt is other.stmt:
            return self.small < other.small
        return self.index < other.index


@dataclass(frozen=True)
class StaleId:
    """``owner.<field>_id`` computed while the target was unsaved."""

    targets: frozenset[int]
    site: Site
    definite: bool
    names: tuple[tuple[int, str], ...]  # target oid -> name bound to exactly it at the assignment
    #: as for :attr:`Obj.line_of`: a position only when a message needs it
    line_of: Callable[[cst.CSTNode], int] | None = field(default=None, compare=False)

    @property
    def line(self) -> int:
        return self.line_of(self.site.stmt) if self.line_of is not None and self.site.stmt is not None else 0


@dataclass
class Hit:
    kind: str
    node: cst.CSTNode  # where the finding is reported
    field: str  # the relation (or manager accessor) name
    model: ModelInfo | None  # the model declaring the relation / owning the manager
    objects: list[Obj]  # the unsaved instances, in construction order
    definite: bool  # unsaved on every path reaching here
    site: Site
    names: dict[int, str]  # oid -> a name bound to exactly that object here
    to_save: list[Obj]  # what a fix saves, dependencies first
    owner: Obj | None = None  # the instance whose relation / manager is used
    owner_name: str | None = None
    call: str = ""  # the save point, as written (shortened)
    is_async: bool = False
    lookup: str = ""  # the lookup keyword, for lookups
    stale: StaleId | None = None
    extra: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Handed:
    """An unsaved instance a helper function returns or a pytest fixture provides."""

    model: ModelInfo
    remedy: str = ""  # the remedy of what built it there (a factory's build()), if any


class State:
    """What is known at one program point; ``None`` stands for "unreachable".

    The per-object dicts of ``rels`` and ``stale`` are shared between copies and never
    changed in place (:func:`_set_inner`, :func:`_pop_inner` replace them): a copy and a
    join then cost a pointer per object, not the object's relations, and a join of two
    paths that did not touch an object keeps its dicts as they are. A long function (a
    test building hundreds of instances, each in a loop) copies and joins its state at
    every branch: copying every dict made its analysis quadratic in its length.
    """

    __slots__ = ("names", "status", "rels", "stale", "items", "guards", "conds")

    def __init__(self) -> None:
        self.names: dict[str, frozenset[int]] = {}
        self.status: dict[int, int] = {}
        self.rels: dict[int, dict[str, frozenset[int]]] = {}
        self.stale: dict[int, dict[str, StaleId]] = {}
        self.items: dict[int, frozenset[int]] = {}
        #: name -> the name's value when the guard was made, and per object (its status then,
        #: its status on the paths where the name is not None): ``try: g.save() except: g = None``
        #: then ``if g:``. Valid while the name and the status are unchanged.
        self.guards: dict[str, Guard] = {}
        #: a condition name (a parameter or local never rebound) -> per object (its status then,
        #: its status on the paths where the name was true, where it was false): ``if create:
        #: lang = get_or_create() else: lang = Language()`` then ``elif create:``.
        self.conds: dict[str, dict[int, tuple[int, int, int]]] = {}

    def copy(self) -> State:
        other = State()
        other.names = dict(self.names)
        other.status = dict(self.status)
        other.rels = dict(self.rels)
        other.stale = dict(self.stale)
        other.items = dict(self.items)
        other.guards = dict(self.guards)
        other.conds = dict(self.conds)
        return other

    def replace_with(self, other: State) -> None:
        self.names, self.status, self.rels = other.names, other.status, other.rels
        self.stale, self.items = other.stale, other.items
        self.guards, self.conds = other.guards, other.conds

    def status_if(self, name: str, truth: bool, oid: int) -> int:
        """The status of *oid* on the paths reaching here where the condition *name* had *truth*."""
        entry = self.conds.get(name, {}).get(oid)
        if entry is not None and self.status.get(oid, 0) == entry[0]:
            return entry[1] if truth else entry[2]
        return self.status.get(oid, 0)

    def status_unless_none(self, name: str, oid: int) -> int:
        """The status of *oid* on the paths reaching here where *name* holds it (not None)."""
        value = self.names.get(name)
        if value is None or oid not in value:
            return 0  # None, or another object (``group = groups[0]`` on the other branch)
        guard = self.guards.get(name)
        if guard is not None and guard.value == value and oid in guard.statuses:
            then, unless_none = guard.statuses[oid]
            if self.status.get(oid, 0) == then:
                return unless_none
        return self.status.get(oid, 0)


_V = TypeVar("_V")


def _set_inner(outer: dict[int, dict[str, _V]], oid: int, key: str, value: _V) -> None:
    """``outer[oid][key] = value`` without changing ``outer[oid]`` in place (see :class:`State`)."""
    inner = dict(outer.get(oid, {}))
    inner[key] = value
    outer[oid] = inner


def _pop_inner(outer: dict[int, dict[str, object]], oid: int, key: str) -> None:
    """``outer[oid].pop(key, None)`` without changing ``outer[oid]`` in place (see :class:`State`)."""
    inner = outer.get(oid)
    if inner is not None and key in inner:
        inner = dict(inner)
        del inner[key]
        outer[oid] = inner


@dataclass(frozen=True)
class Guard:
    value: frozenset[int] | None
    statuses: dict[int, tuple[int, int]]


def join(*states: State | None) -> State | None:
    live = [s for s in states if s is not None]
    if not live:
        return None
    result = live[0].copy()
    for other in live[1:]:
        result = _join_two(result, other)
    return result


def _join_two(a: State, b: State) -> State:
    out = State()
    for name in a.names.keys() | b.names.keys():
        value = a.names.get(name, UNKNOWN_SET) | b.names.get(name, UNKNOWN_SET)
        if value != UNKNOWN_SET:
            out.names[name] = value
    for oid in a.status.keys() | b.status.keys():
        out.status[oid] = a.status.get(oid, 0) | b.status.get(oid, 0)
    for oid in a.rels.keys() | b.rels.keys():
        fa, fb = a.rels.get(oid), b.rels.get(oid)
        if fa is fb:  # not changed on either path since they parted
            out.rels[oid] = fa  # type: ignore[assignment]
            continue
        if fa is None or fb is None:
            # the object does not exist on one path: keep the other path's view
            only = fa if fa is not None else fb
            exists_elsewhere = oid in (b.status if fa is not None else a.status)
            out.rels[oid] = {k: (v | UNKNOWN_SET if exists_elsewhere else v) for k, v in (only or {}).items()}
            continue
        out.rels[oid] = {
            k: fa.get(k, UNKNOWN_SET) | fb.get(k, UNKNOWN_SET) for k in fa.keys() | fb.keys()
        }
    for oid in a.stale.keys() | b.stale.keys():
        sa, sb = a.stale.get(oid, {}), b.stale.get(oid, {})
        if sa is sb:
            if sa:
                out.stale[oid] = sa
            continue
        merged: dict[str, StaleId] = {}
        for key in sa.keys() | sb.keys():
            x, y = sa.get(key), sb.get(key)
            if x is not None and y is not None and x.site is y.site:
                merged[key] = StaleId(x.targets | y.targets, x.site, x.definite and y.definite, x.names, x.line_of)
            else:
                chosen = x or y
                assert chosen is not None
                merged[key] = StaleId(chosen.targets, chosen.site, False, chosen.names, chosen.line_of)
        if merged:
            out.stale[oid] = merged
    for name in a.guards.keys() | b.guards.keys() | {
        n for s in (a, b) for n, v in s.names.items() if NONE in v
    }:
        statuses: dict[int, tuple[int, int]] = {}
        for oid in (a.names.get(name, NOTHING) | b.names.get(name, NOTHING)) - {UNKNOWN, NONE}:
            unless_none = a.status_unless_none(name, oid) | b.status_unless_none(name, oid)
            then = out.status.get(oid, 0)
            if unless_none != then:
                statuses[oid] = (then, unless_none)
        if statuses:
            out.guards[name] = Guard(out.names.get(name), statuses)
    for name in a.conds.keys() | b.conds.keys():
        entries: dict[int, tuple[int, int, int]] = {}
        for oid in a.status.keys() | b.status.keys():
            then = out.status.get(oid, 0)
            when_true = a.status_if(name, True, oid) | b.status_if(name, True, oid)
            when_false = a.status_if(name, False, oid) | b.status_if(name, False, oid)
            if when_true != then or when_false != then:
                entries[oid] = (then, when_true, when_false)
        if entries:
            out.conds[name] = entries
    for oid in a.items.keys() | b.items.keys():
        ia, ib = a.items.get(oid), b.items.get(oid)
        if ia is None or ib is None:
            out.items[oid] = ia if ia is not None else ib  # type: ignore[assignment]
        else:
            out.items[oid] = ia | ib if ia == ib else ia | ib | UNKNOWN_SET
    return out


# ---------------------------------------------------------------------------------------
# Names.


def target_names(node: cst.CSTNode) -> Iterator[str]:
    if isinstance(node, cst.Name):
        yield node.value
    elif isinstance(node, (cst.Tuple, cst.List)):
        for element in node.elements:
            yield from target_names(element.value)
    elif isinstance(node, cst.StarredElement):
        yield from target_names(node.value)


def _rebound_names(body: Sequence[cst.CSTNode]) -> set[str]:
    """Every name a statement of *body* (nested scopes included: more is safer) binds."""
    found: set[str] = set()
    stack: list[cst.CSTNode] = list(body)
    while stack:
        current = stack.pop()
        kind = type(current)  # exact types: isinstance on LibCST's abstract classes is slow
        if kind in _BINDS_TARGET:
            found.update(free_names(current.target))  # type: ignore[attr-defined]
        elif kind is cst.AsName:
            found.update(free_names(current.name))  # type: ignore[attr-defined]
        elif kind is cst.Import or kind is cst.ImportFrom:
            if not isinstance(current.names, cst.ImportStar):  # type: ignore[attr-defined]
                found.update((a.evaluated_alias or a.evaluated_name).split(".")[0]
                             for a in current.names)  # type: ignore[attr-defined]
        elif kind is cst.FunctionDef or kind is cst.ClassDef:
            found.add(current.name.value)  # type: ignore[attr-defined]
        elif kind is cst.Global or kind is cst.Nonlocal:
            found.update(n.name.value for n in current.names)  # type: ignore[attr-defined]
        stack.extend(child_nodes(current))
    return found


#: The nodes whose ``target`` a statement binds.
_BINDS_TARGET = frozenset({cst.AssignTarget, cst.AnnAssign, cst.AugAssign, cst.For, cst.CompFor, cst.NamedExpr, cst.Del})


def free_names(node: cst.CSTNode) -> set[str]:
    """Every name read anywhere inside *node* (used for closures: they capture)."""
    found: set[str] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if type(current) is cst.Name:
            found.add(current.value)  # type: ignore[attr-defined]
        stack.extend(child_nodes(current))
    return found


def _short(node: cst.CSTNode, limit: int = 60) -> str:
    text = cst.Module([]).code_for_node(node)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ---------------------------------------------------------------------------------------
# The interpreter.


def _commit_argument(call: cst.Call) -> bool | None:
    """The ``commit`` of ``form.save(...)``: True, False, or None when it is not a literal."""
    if not call.args:
        return True
    if len(call.args) > 1 or call.args[0].star:
        return None
    arg = call.args[0]
    if arg.keyword is not None and arg.keyword.value != "commit":
        return None
    if isinstance(arg.value, cst.Name) and arg.value.value in ("True", "False"):
        return arg.value.value == "True"
    return None


class _Loop:
    __slots__ = ("breaks", "continues")

    def __init__(self) -> None:
        self.breaks: list[State] = []
        self.continues: list[State] = []


class FunctionAnalysis:
    """Run one function body (or a module's top-level code) and report hits."""

    def __init__(
        self,
        *,
        django: DjangoModels,
        resolve: Callable[[str], str | None],
        module: str,
        is_package: bool,
        line_of: Callable[[cst.CSTNode], int],
        on_hit: Callable[[Hit], None],
        local_names: set[str],
        is_async: bool,
        used_names: dict[int, set[str]] | None = None,
        handed_by: Callable[[str], Handed | None] | None = None,
        self_name: str | None = None,
        method_handed_by: Callable[[str], Handed | None] | None = None,
        module_formsets: dict[str, cst.Call] | None = None,
    ) -> None:
        self.django = django
        self.index = django.index
        self.resolve_module_name = resolve
        self.module = module
        self.is_package = is_package
        self.line_of = line_of
        self.on_hit = on_hit
        self.local_names = local_names
        self.is_async = is_async
        self.used_names = used_names or {}
        #: what a module-level helper of this name returns, when it is an unsaved instance
        self.handed_by = handed_by
        #: in a method: its first parameter, and what a method of its class returns when
        #: called on it (``self.build_place()``), when that is always one unsaved instance
        self.self_name = self_name
        self.method_handed_by = method_handed_by
        #: module-level ``ChildFormSet = inlineformset_factory(...)``: name -> the factory call
        self.module_formsets = module_formsets or {}
        #: called with the value of every ``return`` / ``yield`` (summaries of helpers and fixtures)
        self.on_return: Callable[[frozenset[int], State], None] | None = None
        self.local_imports: dict[str, str] = {}
        self.objects: dict[int, Obj] = {UNKNOWN: Obj(UNKNOWN, "ref"), NONE: Obj(NONE, "none")}
        self.by_node: dict[int, int] = {}  # id(node) or key -> oid
        self._class_objects: dict[str, int] = {}
        self._ref_objects: dict[str, int] = {}
        self.values: dict[int, frozenset[int]] = {}  # id(expression) -> its last value
        self.loops: list[_Loop] = []
        self.reporting = True
        self.expecting = 0
        self.conditional = 0
        self.catching = 0
        self.site = Site(None, None, 0, 0)
        self.reported: set[int] = set()
        self._call_of: dict[int, cst.Call] = {}
        #: the body :meth:`run` runs, and the names it rebinds: computed on the first question
        #: (few functions ask one), since the walk costs as much as the body's analysis
        self._body: Sequence[cst.CSTNode] = ()
        self._rebound: set[str] | None = None
        self._form_instance: dict[int, int] = {}  # form oid -> the oid of the instance it builds
        self._form_methods: dict[int, frozenset[str]] = {}  # form oid -> methods its classes define
        self._batch_item: dict[int, int] = {}  # list oid of a build_batch() -> the oid of its elements
        #: ids of the Name nodes of ``formset.is_valid()`` / ``formset.save(commit=False)``: uses of a
        #: formset that leave its forms' instances unsaved
        self._formset_reads: set[int] = set()

    # -- allocation ----------------------------------------------------------------

    def _new(self, key: object, kind: str, **attrs: object) -> Obj:
        oid = self.by_node.get(id(key))
        if oid is None:
            oid = len(self.objects) + 1
            self.by_node[id(key)] = oid
            self.objects[oid] = Obj(oid, kind)
        obj = self.objects[oid]
        for name, value in attrs.items():
            setattr(obj, name, value)
        return obj

    def class_object(self, model: ModelInfo) -> int:
        oid = self._class_objects.get(model.qualname)
        if oid is None:
            oid = len(self.objects) + 1
            self.objects[oid] = Obj(oid, "class", model=model)
            self._class_objects[model.qualname] = oid
        return oid

    def ref_object(self, name: str, model: ModelInfo | None = None) -> int:
        """A value of unknown origin held by a name: never unsaved, but relations can be set on it."""
        oid = self._ref_objects.get(name)
        if oid is None:
            oid = len(self.objects) + 1
            self.objects[oid] = Obj(oid, "ref", model=model, label=name)
            self._ref_objects[name] = oid
        return oid

    # -- entry ---------------------------------------------------------------------

    def run(self, body: Sequence[cst.BaseStatement], block: object, state: State | None = None) -> State | None:
        """Run a body; the state at its end (None: every path returns or raises)."""
        self._body, self._rebound = body, None
        return self.run_block(body, state or State(), block)

    @property
    def rebound(self) -> set[str]:
        """Every name a statement of the body being run binds (:func:`_rebound_names`)."""
        if self._rebound is None:
            self._rebound = _rebound_names(self._body)
        return self._rebound

    def _names_used_in(self, node: cst.CSTNode) -> set[str]:
        found = self.used_names.get(id(node))
        return found if found is not None else free_names(node)

    # -- statements ----------------------------------------------------------------

    def run_block(self, statements: Sequence[cst.CSTNode], state: State | None, block: object | None) -> State | None:
        for index, statement in enumerate(statements):
            if state is None:
                return None
            state = self.run_statement(statement, state, block, index)
        return state

    def run_suite(self, suite: cst.BaseSuite, state: State | None) -> State | None:
        if state is None:
            return None
        if isinstance(suite, cst.IndentedBlock):
            return self.run_block(suite.body, state, suite)
        # ``if x: a(); b()`` on one line: statements of no block a line can be inserted in
        saved = self.site
        try:
            for small in suite.body:  # type: ignore[attr-defined]
                self.site = Site(None, None, 0, 0, self.conditional > 0, self.catching > 0)
                state = self.run_small(small, state)  # type: ignore[arg-type]
                if state is None:
                    return None
            return state
        finally:
            self.site = saved

    def _enter(self, statement: cst.CSTNode | None, block: object | None, index: int, small: int = 0) -> Site:
        saved = self.site
        self.site = Site(statement, block, index, small, self.conditional > 0, self.catching > 0)
        return saved

    def run_statement(self, statement: cst.CSTNode, state: State, block: object | None, index: int) -> State | None:
        saved = self._enter(statement, block, index)
        try:
            if isinstance(statement, cst.SimpleStatementLine):
                for small_index, small in enumerate(statement.body):
                    self.site = Site(statement, block, index, small_index, self.conditional > 0, self.catching > 0)
                    result = self.run_small(small, state)
                    if result is None:
                        return None
                    state = result
                return state
            return self.run_compound(statement, state)
        finally:
            self.site = saved

    def run_compound(self, node: cst.CSTNode, state: State) -> State | None:
        if isinstance(node, cst.If):
            return self.run_if(node, state)
        if isinstance(node, cst.For):
            return self.run_for(node, state)
        if isinstance(node, cst.While):
            return self.run_while(node, state)
        if isinstance(node, cst.Try) or type(node).__name__ == "TryStar":
            return self.run_try(node, state)  # type: ignore[arg-type]
        if isinstance(node, cst.With):
            return self.run_with(node, state)
        if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            self.escape_names(self._names_used_in(node), state)
            state.names.pop(node.name.value, None)
            return state
        if isinstance(node, cst.Match):
            return self.run_match(node, state)
        # anything else: evaluate what it holds, conservatively
        for child in node.children:
            self.eval_any(child, state)
        return state

    def run_if(self, node: cst.If, state: State) -> State | None:
        self.eval(node.test, state)
        then_state = state.copy()
        self.refine(node.test, then_state, True)
        else_state = state
        self.refine(node.test, else_state, False)
        then_end = self.run_suite(node.body, then_state)
        orelse = node.orelse
        if orelse is None:
            else_end: State | None = else_state
        elif isinstance(orelse, cst.If):
            saved = self._enter(orelse, None, 0)  # an ``elif`` test: no line can go before it
            try:
                else_end = self.run_if(orelse, else_state)
            finally:
                self.site = saved
        else:
            else_end = self.run_suite(orelse.body, else_state)
        condition = self._condition(node.test)
        if condition is not None and then_end is not None and else_end is not None:
            name, positive = condition
            self._tag(then_end, name, positive)
            self._tag(else_end, name, not positive)
        return join(then_end, else_end)

    def _condition(self, test: cst.BaseExpression) -> tuple[str, bool] | None:
        """``if create:`` / ``if not create:`` on a name never rebound in the function."""
        positive = True
        while isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            test, positive = test.expression, not positive
        if not isinstance(test, cst.Name) or test.value in ("None", "True", "False"):
            return None
        if test.value in self.rebound:
            return None
        return test.value, positive

    @staticmethod
    def _tag(state: State, name: str, truth: bool) -> None:
        """On every path reaching *state* the condition *name* had *truth*."""
        state.conds = dict(state.conds)
        state.conds[name] = {
            oid: (status, status if truth else 0, 0 if truth else status) for oid, status in state.status.items()
        }

    def _loop(self, state: State, body: cst.BaseSuite, bind: Callable[[State], None],
              test: cst.BaseExpression | None) -> tuple[State | None, list[State]]:
        """Run a loop body to a (two-pass) fixed point; returns (normal exit state, break states)."""
        single = len(self.loops) >= MAX_LOOP_DEPTH
        head = state
        if not single:
            reporting = self.reporting
            self.reporting = False
            try:
                end, loop = self._loop_pass(head, body, bind, test)
                head = join(state, end, *loop.continues) or state
            finally:
                self.reporting = reporting
        end, loop = self._loop_pass(head, body, bind, test)
        exit_state = join(head, end, *loop.continues)
        return exit_state, loop.breaks

    def _loop_pass(self, head: State, body: cst.BaseSuite, bind: Callable[[State], None],
                   test: cst.BaseExpression | None) -> tuple[State | None, _Loop]:
        """One pass over a loop body from *head*: its end state, and its breaks and continues."""
        loop = _Loop()
        self.loops.append(loop)
        current = head.copy()
        if test is not None:
            self._eval_conditionally(test, current)
        bind(current)
        end = self.run_suite(body, current)
        self.loops.pop()
        return end, loop

    def _eval_conditionally(self, node: cst.BaseExpression, state: State) -> frozenset[int]:
        self.conditional += 1
        try:
            return self.eval(node, state)
        finally:
            self.conditional -= 1

    def run_for(self, node: cst.For, state: State) -> State | None:
        iterated = self.eval(node.iter, state)
        items = self.container_items(iterated, state)
        if (
            not items and isinstance(node.iter, cst.Name) and isinstance(node.target, cst.Name)
            and not (iterated - UNKNOWN_SET) and self.class_named(node.iter.value) is None
        ):
            # ``for book in books: book.author = a`` then ``bulk_update(books, ...)``: the
            # elements of an unknown list, as one reference whose relations are tracked
            element = self._new(node, "ref", label=node.target.value)
            container = self._new(node.iter, "list")
            items = frozenset({element.oid})
            state.names[node.iter.value] = frozenset({container.oid})
            state.items[container.oid] = items | UNKNOWN_SET

        def bind(current: State) -> None:
            names = list(target_names(node.target))
            if isinstance(node.target, cst.Name) and items:
                current.names[node.target.value] = items
            else:
                for name in names:
                    current.names.pop(name, None)

        exit_state, breaks = self._loop(state, node.body, bind, None)
        if exit_state is not None and not breaks and isinstance(node.target, cst.Name):
            self._saved_each(node, items, exit_state)
        if node.orelse is not None:
            exit_state = self.run_suite(node.orelse.body, exit_state)
        return join(exit_state, *breaks)

    def _saved_each(self, node: cst.For, items: frozenset[int], exit_state: State) -> None:
        """``for g in groups: g.save()``: each iteration saves its own element, so after a
        loop that ran to completion every element is saved, however many there were.

        The body runs once more (silently) with the loop variable bound to a stand-in
        unsaved instance; when the stand-in is saved at the end of the body and at every
        ``continue``, and nothing breaks out, the elements still maybe unsaved are saved.
        """
        pending = [o for o in items if o != UNKNOWN and self.is_maybe_unsaved(o, exit_state)]
        if not pending or len(self.loops) >= MAX_LOOP_DEPTH:
            return
        assert isinstance(node.target, cst.Name)
        stand_in = self._new(node.target, "new", label=node.target.value)
        current = exit_state.copy()
        current.status[stand_in.oid] = UNSAVED
        current.rels[stand_in.oid] = {}
        current.names[node.target.value] = frozenset({stand_in.oid})
        reporting, self.reporting = self.reporting, False
        loop = _Loop()
        self.loops.append(loop)
        try:
            end = self.run_suite(node.body, current)
        finally:
            self.loops.pop()
            self.reporting = reporting
        ends = [s for s in (end, *loop.continues) if s is not None]
        if loop.breaks or not ends or any(s.status.get(stand_in.oid) != SAVED for s in ends):
            return
        for oid in pending:
            exit_state.status[oid] = SAVED

    def run_while(self, node: cst.While, state: State) -> State | None:
        exit_state, breaks = self._loop(state, node.body, lambda current: None, node.test)
        if node.orelse is not None:
            exit_state = self.run_suite(node.orelse.body, exit_state)
        return join(exit_state, *breaks)

    def run_try(self, node: cst.Try, state: State) -> State | None:
        entry = state.copy()
        catching = any(self._catches_value_error(handler) for handler in node.handlers)
        if catching:
            self.catching += 1
        try:
            body_end = self.run_suite(node.body, state)
        finally:
            if catching:
                self.catching -= 1
        handler_entry = join(entry, body_end) or entry
        ends: list[State | None] = []
        for handler in node.handlers:
            current = handler_entry.copy()
            if handler.name is not None:
                for name in target_names(handler.name.name):
                    current.names.pop(name, None)
            if handler.type is not None:
                self.eval(handler.type, current)
            ends.append(self.run_suite(handler.body, current))
        if node.orelse is not None:
            body_end = self.run_suite(node.orelse.body, body_end)
        result = join(body_end, *ends)
        if node.finalbody is not None:
            if result is None:
                self.run_suite(node.finalbody.body, handler_entry.copy())
                return None
            result = self.run_suite(node.finalbody.body, result)
        return result

    @staticmethod
    def _catches_value_error(handler: cst.CSTNode) -> bool:
        kind = getattr(handler, "type", None)
        if kind is None:
            return True
        names = [kind] if not isinstance(kind, cst.Tuple) else [e.value for e in kind.elements]
        return any((dotted(n) or "").rpartition(".")[2] in CATCHES_VALUE_ERROR for n in names)

    def run_with(self, node: cst.With, state: State) -> State | None:
        expecting = False
        for item in node.items:
            self.eval(item.item, state)
            if isinstance(item.item, cst.Call):
                callee = dotted(item.item.func)
                if callee is not None and callee.rpartition(".")[2] in EXPECTING_CONTEXTS:
                    expecting = True
            if item.asname is not None:
                for name in target_names(item.asname.name):
                    state.names.pop(name, None)
        if not expecting:
            return self.run_suite(node.body, state)
        entry = state.copy()
        self.expecting += 1
        try:
            end = self.run_suite(node.body, state)
        finally:
            self.expecting -= 1
        # the block raised part-way: anything between entry and end may hold afterwards
        return join(entry, end) or entry

    def run_match(self, node: cst.Match, state: State) -> State | None:
        self.eval(node.subject, state)
        ends: list[State | None] = [state]
        for case in node.cases:
            current = state.copy()
            for name in free_names(case.pattern):
                current.names.pop(name, None)
            if case.guard is not None:
                self.eval(case.guard, current)
            ends.append(self.run_suite(case.body, current))
        return join(*ends)

    def run_small(self, node: cst.BaseSmallStatement, state: State) -> State | None:
        if isinstance(node, cst.Expr):
            self.eval(node.value, state)
            return state
        if isinstance(node, cst.Assign):
            self.run_assign(node.targets, node.value, state)
            return state
        if isinstance(node, cst.AnnAssign):
            if node.value is not None:
                self.run_assign([cst.AssignTarget(node.target)], node.value, state)
            return state
        if isinstance(node, cst.AugAssign):
            self.escape(self.eval(node.value, state), state)
            if isinstance(node.target, cst.Name):
                state.names.pop(node.target.value, None)
            else:
                self.eval_any(node.target, state)
            return state
        if isinstance(node, cst.Return):
            value = self.eval(node.value, state) if node.value is not None else frozenset({NONE})
            if self.on_return is not None:
                self.on_return(value, state)
            return None
        if isinstance(node, cst.Raise):
            if node.exc is not None:
                self.eval(node.exc, state)
            return None
        if isinstance(node, cst.Break):
            if self.loops:
                self.loops[-1].breaks.append(state)
            return None
        if isinstance(node, cst.Continue):
            if self.loops:
                self.loops[-1].continues.append(state)
            return None
        if isinstance(node, cst.Del):
            for name in target_names(node.target):
                state.names.pop(name, None)
            return state
        if isinstance(node, cst.ImportFrom):
            self.run_import_from(node, state)
            return state
        if isinstance(node, cst.Import):
            for alias in node.names:
                local = alias.evaluated_alias or alias.evaluated_name.split(".")[0]
                state.names.pop(local, None)
                self.local_imports[local] = alias.evaluated_name if alias.evaluated_alias else local
            return state
        if isinstance(node, cst.Assert):
            self.eval(node.test, state)
            if node.msg is not None:
                self.eval(node.msg, state)
            return state
        if isinstance(node, (cst.Pass, cst.Global, cst.Nonlocal)):
            return state
        for child in node.children:
            self.eval_any(child, state)
        return state

    def run_import_from(self, node: cst.ImportFrom, state: State) -> None:
        if isinstance(node.names, cst.ImportStar):
            return
        source = dotted(node.module) if node.module is not None else None
        if node.relative:
            source = resolve_relative(self.module, self.is_package, len(node.relative), source)
        for alias in node.names:
            local = alias.evaluated_alias or alias.evaluated_name
            state.names.pop(local, None)
            if source:
                self.local_imports[local] = f"{source}.{alias.evaluated_name}"

    def run_assign(self, targets: Sequence[cst.AssignTarget], value: cst.BaseExpression, state: State) -> None:
        if (
            len(targets) == 1
            and isinstance(targets[0].target, (cst.Tuple, cst.List))
            and isinstance(value, (cst.Tuple, cst.List))
            and len(targets[0].target.elements) == len(value.elements)
            and not any(isinstance(e, cst.StarredElement) for e in (*targets[0].target.elements, *value.elements))
        ):
            values = [self.eval(element.value, state) for element in value.elements]
            for element, element_value, element_node in zip(targets[0].target.elements, values, value.elements):
                self.assign(element.value, element_value, element_node.value, state)
            return
        result = self.eval(value, state)
        for target in targets:
            self.assign(target.target, result, value, state)

    def assign(self, target: cst.BaseExpression, value: frozenset[int], value_node: cst.BaseExpression, state: State) -> None:
        if isinstance(target, cst.Name):
            if isinstance(value_node, cst.Name) and value_node.value == "None":
                state.names[target.value] = frozenset({NONE})
            elif value and value != UNKNOWN_SET:
                state.names[target.value] = value
                for oid in value:
                    obj = self.objects[oid]
                    if obj.kind == "new" and not obj.label and value_node in (obj.ctor, obj.origin_node):
                        obj.label = target.value
            elif target.value in self._ref_objects:
                # rebound to a value of unknown origin: a fresh reference, not the old one
                state.names[target.value] = frozenset({self._new(value_node, "ref").oid})
            else:
                state.names.pop(target.value, None)
            self.local_imports.pop(target.value, None)
            return
        if isinstance(target, cst.Attribute):
            if not value and isinstance(value_node, cst.Name) and self.class_named(value_node.value) is None:
                value = frozenset({self.ref_object(value_node.value)})  # ``place.restaurant = restaurant``
            self.assign_attribute(target, value, state)
            return
        if isinstance(target, (cst.Tuple, cst.List)):
            for name in target_names(target):
                state.names.pop(name, None)
            self.escape(value, state)
            return
        # obj[key] = value, starred targets...
        self.eval_any(target, state)
        self.escape(value, state)

    def assign_attribute(self, target: cst.Attribute, value: frozenset[int], state: State) -> None:
        attr = target.attr.value
        if not isinstance(target.value, cst.Name):
            self.eval(target.value, state)
            self.escape(value, state)
            return
        owners = self.eval(target.value, state)
        if any(self.objects[o].kind == "form" for o in owners):
            # ``form.instance = other``: the form no longer builds the instance followed
            self.escape(owners | value, state)
            return
        if not owners or owners == UNKNOWN_SET:
            if target.value.value in state.names or self.class_named(target.value.value) is not None:
                self.escape(value, state)
                return
            owners = frozenset({self.ref_object(target.value.value)})
        owner_objects = [self.objects[o] for o in owners if o != UNKNOWN]
        generic = frozenset().union(*(self.django.generic_foreign_keys(o.model) for o in owner_objects
                                      if o.model is not None))
        if attr in generic:
            self.set_relation(owners, attr, value, state)  # ``item.content_object = tag``
            return
        for owner in owners:  # ``item.object_id = tag.pk`` may set what the key copied: forget it
            for name in generic:
                _pop_inner(state.stale, owner, name)
        if attr.endswith("_id"):
            for owner in owners:
                _pop_inner(state.stale, owner, attr[:-3])
                _pop_inner(state.rels, owner, attr[:-3])
            return
        relation = self.relation_of(owner_objects, attr, value)
        if relation is None:
            reverse = next((r for o in owner_objects if o.model is not None
                            for r in [self.django.reverse_one_to_one(o.model).get(attr)] if r), None)
            if reverse is not None:
                # ``place.restaurant = r``: Django sets ``r.place = place`` (and ``r.place_id``)
                related = frozenset(v for v in value if v != UNKNOWN and self.objects[v].kind in ("new", "ref"))
                for other in related:
                    self.set_relation(frozenset({other}), reverse.name, owners, state)
                return
        if relation is None and not any(attr in state.rels.get(o, {}) for o in owners):
            self.escape(value, state)
            return
        self.set_relation(owners, attr, value, state)

    def set_relation(self, owners: frozenset[int], attr: str, value: frozenset[int], state: State) -> None:
        strong = len(owners) == 1 and UNKNOWN not in owners
        # An instance saved on every path when attached stays saved: the relation holds that
        # one instance, not its allocation site, which a later loop iteration may build again
        # unsaved (``cp.save(); children.append(Child(parent=cp))`` in a loop).
        value = frozenset(
            UNKNOWN if o != UNKNOWN and self.objects[o].kind == "new" and state.status.get(o) == SAVED else o
            for o in value
        )
        unsaved = [o for o in value if self.is_maybe_unsaved(o, state)]
        names = tuple((o, n) for o in unsaved for n in [self.name_of(o, state)] if n)
        for owner in owners:
            if owner == UNKNOWN:
                continue
            _set_inner(state.rels, owner, attr,
                       value if strong else state.rels.get(owner, {}).get(attr, UNKNOWN_SET) | value)
            if owner not in state.stale:
                state.stale[owner] = {}
            if unsaved:
                definite = strong and self.definitely_unsaved(value, state)
                _set_inner(state.stale, owner, attr, StaleId(value, self.here(), definite, names, self.line_of))
            elif strong:
                _pop_inner(state.stale, owner, attr)

    def relation_of(self, owners: list[Obj], attr: str, value: frozenset[int]) -> Relation | None:
        """The single-valued relation ``owner.<attr>`` is, when the index can tell."""
        known_models = [o.model for o in owners if o.model is not None]
        if known_models:
            for model in known_models:
                relation = self.django.single_valued(model).get(attr)
                if relation is not None:
                    return relation
            return None
        targets = [self.objects[v].model for v in value if v != UNKNOWN and self.objects[v].kind == "new"]
        for target in targets:
            candidates = self.django.relations_named(attr, target)
            if candidates:
                return candidates[0]
        return None

    # -- facts about objects ------------------------------------------------------------

    def is_maybe_unsaved(self, oid: int, state: State) -> bool:
        return self.objects[oid].kind == "new" and bool(state.status.get(oid, 0) & UNSAVED)

    def definitely_unsaved(self, oids: frozenset[int], state: State) -> bool:
        return bool(oids) and all(
            self.objects[o].kind == "new" and state.status.get(o) == UNSAVED for o in oids
        )

    def name_of(self, oid: int, state: State) -> str | None:
        """A local name for this object here: bound to exactly it, else to it on some paths."""
        obj = self.objects[oid]
        if obj.label and state.names.get(obj.label) == frozenset({oid}):
            return obj.label
        for name, value in state.names.items():
            if value == frozenset({oid}):
                return name
        if obj.label and oid in state.names.get(obj.label, NOTHING):
            return obj.label
        for name, value in state.names.items():
            if oid in value:
                return name
        return None

    def container_items(self, value: frozenset[int], state: State) -> frozenset[int]:
        items: frozenset[int] = NOTHING
        for oid in value:
            if oid != UNKNOWN and self.objects[oid].kind == "list":
                items |= state.items.get(oid, NOTHING)
        return items

    def class_named(self, dotted_name: str) -> ModelInfo | None:
        """The model class a (dotted) name refers to here, unless a local shadows it."""
        qualified = self._qualified(dotted_name)
        return self.index.models.get(qualified) if qualified is not None else None

    def form_class_named(self, dotted_name: str) -> MetaModelClass | None:
        """The ModelForm class (with a ``Meta.model`` in the index) a name refers to here."""
        qualified = self._qualified(dotted_name)
        if qualified is None:
            return None
        return self.django.meta_model_classes(MODEL_FORM_BASES).get(qualified)

    def _qualified(self, dotted_name: str) -> str | None:
        head, _, rest = dotted_name.partition(".")
        if head in self.local_imports:
            qualified = self.local_imports[head]
            qualified = self.index.canonical(f"{qualified}.{rest}" if rest else qualified)
        elif head in self.local_names:
            return None
        else:
            qualified = self.resolve_module_name(dotted_name)
        return qualified

    # -- escapes and saves ----------------------------------------------------------

    def escape(self, value: frozenset[int], state: State, seen: set[int] | None = None) -> None:
        """*value* reaches code the analysis cannot see: it may be saved there."""
        seen = seen if seen is not None else set()
        for oid in value:
            if oid == UNKNOWN or oid in seen:
                continue
            seen.add(oid)
            obj = self.objects[oid]
            if obj.kind == "new":
                state.status[oid] = SAVED
            if obj.kind in ("new", "ref"):
                state.stale.pop(oid, None)
                for targets in state.rels.get(oid, {}).values():
                    self.escape(targets, state, seen)
            elif obj.kind == "list":
                self.escape(state.items.get(oid, NOTHING), state, seen)
            elif obj.kind == "manager":
                self.escape(obj.owners, state, seen)
            elif obj.kind == "form":
                self.escape(frozenset({self._form_instance[oid]}), state, seen)
            elif obj.kind == "formset":
                self.touch_formsets(frozenset({oid}), state)

    def touch_formsets(self, value: frozenset[int], state: State) -> None:
        """A use of a formset that may save its forms' instances (``formset.forms``, iterating it,
        ``formset.save()``, handing it over): the objects its ``save(commit=False)`` listed may be
        saved from here on, and a later ``save(commit=False)`` may list saved objects."""
        for oid in value:
            if oid != UNKNOWN and self.objects[oid].kind == "formset":
                state.status[oid] = SAVED  # touched: its save(commit=False) is not followed any more
                self.escape(state.items.get(oid, NOTHING), state)

    def escape_names(self, names: set[str], state: State) -> None:
        for name in names:
            value = state.names.get(name)
            if value:
                self.escape(value, state)

    def mark_saved(self, objects: Sequence[Obj], state: State) -> None:
        for obj in objects:
            if obj.kind == "new":
                state.status[obj.oid] = SAVED

    # -- conditions -------------------------------------------------------------------

    def refine(self, test: cst.BaseExpression, state: State, truth: bool) -> None:
        """``if x.pk:`` / ``if x.pk is None:`` / ``if x._state.adding:`` tell whether x is saved."""
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            self.refine(test.expression, state, not truth)
            return
        if isinstance(test, cst.BooleanOperation):
            both_hold = isinstance(test.operator, cst.And) and truth
            neither_holds = isinstance(test.operator, cst.Or) and not truth
            if both_hold or neither_holds:
                self.refine(test.left, state, truth)
                self.refine(test.right, state, truth)
            return
        condition = self._condition(test)
        if condition is not None and condition[0] in state.conds:
            name, positive = condition
            for oid in list(state.status):
                state.status[oid] = state.status_if(name, truth == positive, oid)
            state.conds = {k: v for k, v in state.conds.items() if k != name}
        subject, not_none_when_true = self._none_test(test)
        if subject is not None:
            if not_none_when_true == truth:
                self._not_none(subject, state)
            return
        subject, saved_when_true = self._saved_test(test)
        if subject is None:
            return
        value = state.names.get(subject)
        if not value:
            return
        if saved_when_true == truth:
            for oid in value:
                if self.objects[oid].kind == "new":
                    state.status[oid] = SAVED

    def _not_none(self, name: str, state: State) -> None:
        """On this path *name* is not None: the statuses it had where it was not None hold."""
        value = state.names.get(name)
        if not value or NONE not in value and name not in state.guards:
            return
        for oid in value - {UNKNOWN, NONE}:
            if self.objects[oid].kind == "new":
                state.status[oid] = state.status_unless_none(name, oid) or state.status.get(oid, 0)
        if value - {NONE}:
            state.names[name] = value - {NONE}
        state.guards.pop(name, None)

    @staticmethod
    def _none_test(test: cst.BaseExpression) -> tuple[str | None, bool]:
        """``if g:``, ``if g is not None:``, ``if g is None:``: (name, not None when true)."""
        if isinstance(test, cst.Name) and test.value not in ("None", "True", "False"):
            return test.value, True
        if isinstance(test, cst.Comparison) and len(test.comparisons) == 1 and isinstance(test.left, cst.Name):
            comparison = test.comparisons[0]
            if isinstance(comparison.comparator, cst.Name) and comparison.comparator.value == "None":
                if isinstance(comparison.operator, cst.IsNot):
                    return test.left.value, True
                if isinstance(comparison.operator, cst.Is):
                    return test.left.value, False
        return None, False

    @staticmethod
    def _saved_test(test: cst.BaseExpression) -> tuple[str | None, bool]:
        def pk_of(node: cst.BaseExpression) -> str | None:
            if isinstance(node, cst.Attribute) and node.attr.value in ("pk", "id") and isinstance(node.value, cst.Name):
                return node.value.value
            return None

        def adding_of(node: cst.BaseExpression) -> str | None:
            if (
                isinstance(node, cst.Attribute) and node.attr.value == "adding"
                and isinstance(node.value, cst.Attribute) and node.value.attr.value == "_state"
                and isinstance(node.value.value, cst.Name)
            ):
                return node.value.value.value
            return None

        if pk_of(test):
            return pk_of(test), True
        if adding_of(test):
            return adding_of(test), False
        if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
            comparison = test.comparisons[0]
            if isinstance(comparison.comparator, cst.Name) and comparison.comparator.value == "None":
                name = pk_of(test.left)
                if name is not None:
                    if isinstance(comparison.operator, cst.IsNot):
                        return name, True
                    if isinstance(comparison.operator, cst.Is):
                        return name, False
        return None, False

    # -- expressions ------------------------------------------------------------------

    def eval_any(self, node: cst.CSTNode, state: State) -> None:
        if isinstance(node, cst.BaseExpression):
            self.eval(node, state)
            return
        for child in node.children:
            self.eval_any(child, state)

    def eval(self, node: cst.BaseExpression, state: State) -> frozenset[int]:
        value = self._eval(node, state)
        self.values[id(node)] = value
        return value

    def _eval(self, node: cst.BaseExpression, state: State) -> frozenset[int]:
        if isinstance(node, cst.Name):
            bound = state.names.get(node.value)
            if bound is not None:
                if id(node) not in self._formset_reads:
                    self.touch_formsets(bound, state)
                return bound
            ref = self._ref_objects.get(node.value)
            if ref is not None:  # a parameter or global whose attributes were used
                return frozenset({ref})
            factory_call = self.module_formsets.get(node.value)
            if factory_call is not None and node.value not in self.local_names:
                return self.formset_class(factory_call)
            model = self.class_named(node.value)
            return frozenset({self.class_object(model)}) if model is not None else NOTHING
        if isinstance(node, cst.Attribute):
            return self.eval_attribute(node, state)
        if isinstance(node, cst.Call):
            return self.eval_call(node, state)
        if isinstance(node, cst.Await):
            return self.eval(node.expression, state)
        if isinstance(node, (cst.List, cst.Tuple, cst.Set)):
            items: frozenset[int] = NOTHING
            for element in node.elements:
                element_value = self.eval(element.value, state)
                if isinstance(element, cst.StarredElement):
                    element_value = self.container_items(element_value, state) or UNKNOWN_SET
                items |= element_value
            container = self._new(node, "list")
            state.items[container.oid] = items
            return frozenset({container.oid})
        if isinstance(node, cst.Dict):
            items = NOTHING
            for element in node.elements:
                if isinstance(element, cst.DictElement):
                    self.eval(element.key, state)
                items |= self.eval(element.value, state)
            container = self._new(node, "list")
            state.items[container.oid] = items
            return frozenset({container.oid})
        if isinstance(node, (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)):
            return self.eval_comprehension(node, state)
        if isinstance(node, cst.IfExp):
            self.eval(node.test, state)
            other = state.copy()
            self.conditional += 1
            try:
                self.refine(node.test, state, True)
                self.refine(node.test, other, False)
                first = self.eval(node.body, state)
                second = self.eval(node.orelse, other)
            finally:
                self.conditional -= 1
            state.replace_with(join(state, other) or state)
            return first | second
        if isinstance(node, cst.BooleanOperation):
            left = self.eval(node.left, state)
            other = state.copy()
            self.conditional += 1
            try:
                right = self.eval(node.right, other)
            finally:
                self.conditional -= 1
            state.replace_with(join(state, other) or state)
            return left | right
        if isinstance(node, cst.NamedExpr):
            value = self.eval(node.value, state)
            self.assign(node.target, value, node.value, state)
            return value
        if isinstance(node, cst.Lambda):
            self.escape_names(self._names_used_in(node), state)
            return NOTHING
        if isinstance(node, cst.Subscript):
            base = self.eval(node.value, state)
            for element in node.slice:
                inner = element.slice
                if isinstance(inner, cst.Index):
                    self.eval(inner.value, state)
                else:
                    for part in (inner.lower, inner.upper, inner.step):
                        if part is not None:
                            self.eval(part, state)
            return self.container_items(base, state)
        if isinstance(node, _CONSTANTS):
            return NOTHING
        if isinstance(node, cst.Comparison):
            self.eval(node.left, state)
            for comparison in node.comparisons:
                self.eval(comparison.comparator, state)
            return NOTHING
        if isinstance(node, cst.BinaryOperation):
            self.eval(node.left, state)
            self.eval(node.right, state)
            return NOTHING
        if isinstance(node, cst.UnaryOperation):
            self.eval(node.expression, state)
            return NOTHING
        if isinstance(node, cst.ConcatenatedString):
            self.eval(node.left, state)
            self.eval(node.right, state)
            return NOTHING
        if isinstance(node, cst.FormattedString):
            for part in node.parts:
                if isinstance(part, cst.FormattedStringExpression):
                    self.eval(part.expression, state)
            return NOTHING
        if isinstance(node, cst.StarredElement):
            return self.eval(node.value, state)
        if isinstance(node, cst.Yield):
            if isinstance(node.value, cst.From):
                self.escape(self.eval(node.value.item, state), state)
            elif node.value is not None:
                value = self.eval(node.value, state)
                if self.on_return is not None:
                    self.on_return(value, state)
                self.escape(value, state)
            return NOTHING
        for child in node.children:
            self.eval_any(child, state)
        return NOTHING

    def eval_comprehension(self, node: cst.BaseExpression, state: State) -> frozenset[int]:
        generator = node.for_in  # type: ignore[attr-defined]
        iterated = self.eval(generator.iter, state)  # evaluated once, outside the comprehension
        saved_names = dict(state.names)
        self.conditional += 1
        try:
            current: cst.CompFor | None = generator
            while current is not None:
                if current is not generator:
                    iterated = self.eval(current.iter, state)
                for name in target_names(current.target):
                    state.names.pop(name, None)
                # ``[Restaurant(place=p) for p in places]``: each element of a list of known
                # elements, as ``for p in places:`` binds it
                elements = self.container_items(iterated, state)
                if isinstance(current.target, cst.Name) and elements:
                    state.names[current.target.value] = elements
                for condition in current.ifs:
                    self.eval(condition.test, state)
                    # ``[p for p in places if p.pk]``: the elements kept are saved (this holds on
                    # after the comprehension too: it only makes the analysis quieter)
                    self.refine(condition.test, state, True)
                current = current.inner_for_in
            if isinstance(node, cst.DictComp):
                self.eval(node.key, state)
                items = self.eval(node.value, state)
            else:
                items = self.eval(node.elt, state)  # type: ignore[attr-defined]
        finally:
            self.conditional -= 1
        # comprehension variables do not leak; walrus targets do, conservatively dropped
        state.names = {k: v for k, v in state.names.items() if saved_names.get(k) == v}
        container = self._new(node, "list")
        state.items[container.oid] = items | UNKNOWN_SET if items else items
        return frozenset({container.oid})

    def eval_attribute(self, node: cst.Attribute, state: State) -> frozenset[int]:
        name = dotted(node)
        if name is not None:
            head = name.partition(".")[0]
            if head not in state.names:
                model = self.class_named(name)
                if model is not None:
                    return frozenset({self.class_object(model)})
        attr = node.attr.value
        if isinstance(node.value, cst.Name) and attr in FORMSET_READS:
            self._formset_reads.add(id(node.value))
        base = self.eval(node.value, state)
        if not base and isinstance(node.value, cst.Name):
            base = frozenset({self.ref_object(node.value.value)})  # a parameter, a global...
        elif not base and id(node) in self._call_of:
            base = frozenset({self._new(node.value, "ref").oid})  # ``self.owner.tags.add(tag)``
        objects = [self.objects[o] for o in base if o != UNKNOWN]
        if not objects:
            return NOTHING
        if all(o.kind == "form" for o in objects):
            if attr != "instance":
                return NOTHING
            return self._form_instances(base, node)
        if all(o.kind == "class" for o in objects):
            model = objects[0].model
            if model is None or attr in MODEL_CLASS_ATTRIBUTES:
                return NOTHING
            if attr in model.methods or (attr in self.django.forward(model)):
                return NOTHING
            return frozenset({self._new(node, "queryset", model=model).oid})
        if all(o.kind in ("new", "ref") for o in objects):
            if attr.endswith("_id") and isinstance(node.value, cst.Name):
                self.check_id_read(node, base, attr[:-3], state)
            managers = [m for o in objects if o.model is not None for m in [self.django.managers(o.model).get(attr)] if m]
            if not managers and all(o.model is None for o in objects):
                managers = self._managers_by_use(node, attr, state)
            if managers:
                manager = self._new(node, "manager", model=managers[0].related, manager=managers[0], owners=base)
                return frozenset({manager.oid})
            targets: frozenset[int] = NOTHING
            for oid in base:
                targets |= state.rels.get(oid, {}).get(attr, NOTHING)
            return targets
        return NOTHING

    def _managers_by_use(self, node: cst.Attribute, attr: str, state: State) -> list[Manager]:
        """``x.tags.add(tag)`` with ``x`` of unknown model: the manager the added instance fits."""
        parent_call = self._call_of.get(id(node))
        if parent_call is None:
            return []
        found: list[Manager] = []
        for arg in parent_call.args:
            if arg.keyword is not None:
                continue
            if isinstance(arg.value, cst.Name):
                value = state.names.get(arg.value.value, NOTHING)
                for oid in self.container_items(value, state) if arg.star == "*" else value:
                    obj = self.objects[oid]
                    if obj.kind == "new":
                        found.extend(self.django.managers_named(attr, obj.model))
            elif isinstance(arg.value, cst.Call):
                model = self.class_named(dotted(arg.value.func) or "")
                found.extend(self.django.managers_named(attr, model))
        kinds = {m.kind for m in found}
        return found[:1] if len(kinds) == 1 else []

    # -- calls --------------------------------------------------------------------------

    def eval_args(self, call: cst.Call, state: State) -> list[frozenset[int]]:
        return [self.eval(arg.value, state) for arg in call.args]

    def eval_call(self, call: cst.Call, state: State) -> frozenset[int]:
        func = call.func
        if isinstance(func, cst.Attribute):
            callee_name = dotted(func)
            if callee_name is not None and callee_name.partition(".")[0] not in state.names:
                model = self.class_named(callee_name)
                if model is not None and not model.abstract:
                    return self.construct(call, model, state)
                form = self.form_class_named(callee_name)
                if form is not None:
                    return self.construct_form(call, form, state)
                built = self.built_by(call, callee_name)
                if built is not None:
                    return self.construct_built(call, *built, state)
                if self._qualified(callee_name) in FORMSET_FACTORIES:
                    self.eval_args(call, state)
                    return self.formset_class(call)
            method = func.attr.value
            if (
                self.method_handed_by is not None and isinstance(func.value, cst.Name)
                and func.value.value == self.self_name and self.self_name not in self.rebound
            ):
                handed = self.method_handed_by(method)
                if handed is not None:
                    self.escape_all(self.eval_args(call, state), state)
                    return self.receive(handed, call, _short(call), state)
            if method in ("add", "aadd", "set", "aset") and isinstance(func.value, cst.Attribute):
                self._call_of[id(func.value)] = call
            receiver_name = func.value.value if isinstance(func.value, cst.Name) else None
            if receiver_name is not None and (
                method in FORMSET_READS or (method == "save" and _commit_argument(call) is False)
            ):
                self._formset_reads.add(id(func.value))
            if receiver_name in LOGGER_RECEIVERS or method.startswith("assert"):
                self.eval(func.value, state)
                self.eval_args(call, state)
                return NOTHING
            receiver = self.eval(func.value, state)
            objects = [self.objects[o] for o in receiver if o != UNKNOWN]
            kinds = {o.kind for o in objects}
            if objects and kinds == {"queryset"} and UNKNOWN not in receiver:
                return self.queryset_call(call, objects[0].model, method, state)
            if objects and kinds == {"manager"} and UNKNOWN not in receiver:
                return self.manager_call(call, objects[0], method, state)
            if objects and kinds <= {"new", "ref"}:
                return self.instance_call(call, receiver, method, state)
            if objects and kinds == {"form"} and UNKNOWN not in receiver:
                return self.form_call(call, receiver, method, state)
            if objects and kinds == {"formset"} and UNKNOWN not in receiver:
                return self.formset_call(call, objects[0], method, state)
            if objects and kinds == {"list"} and method in ("append", "extend", "insert"):
                values = self.eval_args(call, state)
                added = values[-1] if values else NOTHING
                if method == "extend":
                    added = self.container_items(added, state) or UNKNOWN_SET
                for container in receiver:
                    state.items[container] = state.items.get(container, NOTHING) | added
                return NOTHING
            if objects and kinds == {"class"}:
                self.escape_all(self.eval_args(call, state), state)
                return NOTHING
            values = self.eval_args(call, state)
            self.escape(receiver, state)
            if not receiver and isinstance(func.value, cst.Attribute):
                # ``x.history.record()``: an attribute of ``x`` may save ``x``
                self.escape(self.values.get(id(func.value.value), NOTHING), state)
            self.escape_all(values, state)
            return NOTHING
        if isinstance(func, cst.Name) and func.value not in state.names:
            form = self.form_class_named(func.value)
            if form is not None:
                return self.construct_form(call, form, state)
            built = self.built_by(call, func.value)
            if built is not None:
                return self.construct_built(call, *built, state)
            if self._qualified(func.value) in FORMSET_FACTORIES:
                self.eval_args(call, state)
                return self.formset_class(call)
            if self.handed_by is not None and func.value not in self.local_names and func.value not in self.local_imports:
                handed = self.handed_by(func.value)
                if handed is not None:
                    self.escape_all(self.eval_args(call, state), state)
                    return self.receive(handed, call, _short(call), state)
        callee = self.eval(func, state)
        callee_objects = [self.objects[o] for o in callee if o != UNKNOWN]
        if callee_objects and all(o.kind == "class" for o in callee_objects):
            model = callee_objects[0].model
            if model is not None and not model.abstract:
                return self.construct(call, model, state)
        if callee_objects and UNKNOWN not in callee and all(o.kind == "formset_class" for o in callee_objects):
            # ``formset = ChildFormSet(request.POST, instance=parent)``: whatever it is given, the
            # objects of its new forms are new rows
            self.escape_all(self.eval_args(call, state), state)
            models = {o.model.qualname for o in callee_objects if o.model is not None}
            if len(models) != 1:
                return NOTHING
            return frozenset({self._new(call, "formset", model=callee_objects[0].model).oid})
        values = self.eval_args(call, state)
        name = dotted(func)
        if name is not None and (name in NON_SAVING_FUNCTIONS or name.rpartition(".")[2].startswith("assert")):
            return NOTHING
        self.escape_all(values, state)
        return NOTHING

    def escape_all(self, values: Sequence[frozenset[int]], state: State) -> None:
        for value in values:
            self.escape(value, state)

    def construct(self, call: cst.Call, model: ModelInfo, state: State) -> frozenset[int]:
        values = self.eval_args(call, state)
        pk_names, preset = self.django.primary_key(model)
        has_pk = preset or any(
            arg.keyword is not None and arg.keyword.value in pk_names
            and not (isinstance(arg.value, cst.Name) and arg.value.value == "None")
            and not self._unsaved_pk_source(value, state)
            for arg, value in zip(call.args, values)
        ) or any(arg.star == "**" for arg in call.args)
        if has_pk:
            # Django sees an instance with a pk as saved (``Person(id=1)``, ``Model(**data)``)
            self.escape_all(values, state)
            return frozenset({self._new(call, "ref", model=model).oid})
        obj = self._new(
            call, "new", model=model, ctor=call, line_of=self.line_of, site=self.site,
            in_condition=self.conditional > 0,
        )
        state.status[obj.oid] = UNSAVED
        state.rels[obj.oid] = {}
        state.stale.pop(obj.oid, None)
        relations = self.django.single_valued(model).keys() | self.django.generic_foreign_keys(model)
        for arg, value in zip(call.args, values):
            if arg.keyword is not None and arg.keyword.value in relations and not arg.star:
                self.set_relation(frozenset({obj.oid}), arg.keyword.value, value, state)
            elif arg.star:
                self.escape(value, state)
        return frozenset({obj.oid})

    def construct_form(self, call: cst.Call, form: MetaModelClass, state: State) -> frozenset[int]:
        """``ArticleForm(request.POST)``: a ModelForm builds a new, unsaved ``Meta.model`` instance.

        Followed only when nothing can hand it an existing row: no ``instance=``, no
        ``*args``/``**kwargs``, at most ``data`` and ``files`` positionally, and no
        ``__init__``, ``save()`` or validation driver (``is_valid``, ``full_clean``,
        ``_post_clean``: they may replace ``self.instance``) of the project's own in the
        form's classes.
        """
        self.escape_all(self.eval_args(call, state), state)
        if (
            any(arg.star for arg in call.args)
            or sum(arg.keyword is None for arg in call.args) > 2
            or any(arg.keyword is not None and arg.keyword.value == "instance" for arg in call.args)
            or FORM_DRIVERS & form.methods
        ):
            return NOTHING
        obj = self._new(call, "form", model=form.model)
        instance = self._form_instance.get(obj.oid)
        if instance is None:
            instance = len(self.objects) + 1
            self.objects[instance] = Obj(instance, "new", model=form.model, line_of=self.line_of, site=self.site,
                                         in_condition=self.conditional > 0)
            self._form_instance[obj.oid] = instance
            self._form_methods[obj.oid] = form.methods
        state.status[instance] = UNSAVED
        state.rels[instance] = {}
        state.stale.pop(instance, None)
        return frozenset({obj.oid})

    def built_by(self, call: cst.Call, callee_name: str) -> tuple[ModelInfo, bool, str] | None:
        """``XFactory.build(...)``/``build_batch(n, ...)``, ``baker.prepare(Model)``: (the model,
        whether a list is built, the remedy) for a call that builds unsaved instances on purpose,
        when nothing can give them a primary key."""
        owner, _, method = callee_name.rpartition(".")
        if any(arg.star for arg in call.args):
            return None
        if method in FACTORY_BUILDS and owner:
            qualified = self._qualified(owner)
            factory = self.django.meta_model_classes(FACTORY_BASES).get(qualified) if qualified else None
            if factory is None or {"_build", "build", "build_batch", "_generate"} & factory.methods:
                return None
            pk_names, _ = self.django.primary_key(factory.model)
            if pk_names & factory.attributes:
                return None  # the factory declares the primary key: Django sees a saved instance
            return factory.model, FACTORY_BUILDS[method], f"use `{owner}.create()` to save it"
        qualified = self._qualified(callee_name)
        if qualified not in BAKERY_PREPARE or not call.args or call.args[0].keyword is not None:
            return None
        first = call.args[0].value
        if isinstance(first, cst.SimpleString) and isinstance(first.evaluated_value, str):
            model = self.django.model_named_by(self.module, first.evaluated_value)
            if model is None and first.evaluated_value.count(".") == 1:
                model = self.index.models_by_key.get(first.evaluated_value)
        else:
            name = dotted(first)
            model = self.class_named(name) if name is not None else None
        if model is None or model.abstract:
            return None
        many = any(arg.keyword is not None and arg.keyword.value == "_quantity" for arg in call.args)
        return model, many, f"use `{callee_name.replace('prepare', 'make')}()` to save it"

    def construct_built(self, call: cst.Call, model: ModelInfo, many: bool, remedy: str,
                        state: State) -> frozenset[int]:
        values = self.eval_args(call, state)
        pk_names, preset = self.django.primary_key(model)
        if preset or any(arg.keyword is not None and arg.keyword.value in pk_names for arg in call.args):
            self.escape_all(values, state)
            return NOTHING
        self.escape_all(values, state)  # related instances given to it: the factory may save them
        obj = self._new(call, "list" if many else "new", model=None if many else model)
        instance = obj.oid
        if many:
            instance = self._batch_item.get(obj.oid, 0)
            if not instance:
                instance = self._batch_item[obj.oid] = len(self.objects) + 1
                self.objects[instance] = Obj(instance, "new")
        item = self.objects[instance]
        item.model, item.line_of, item.site, item.in_condition = model, self.line_of, self.site, self.conditional > 0
        item.origin, item.origin_node, item.remedy = _short(call), call, remedy
        state.status[instance] = UNSAVED
        state.rels[instance] = {}
        state.stale.pop(instance, None)
        if many:
            state.items[obj.oid] = frozenset({instance})
        return frozenset({obj.oid})

    def formset_class(self, call: cst.Call) -> frozenset[int]:
        """``modelformset_factory(Place, fields=...)`` / ``inlineformset_factory(Parent, Place, ...)``:
        a formset class whose ``save(commit=False)`` lists its new forms' objects unsaved.

        Followed only when nothing of the project's own takes part in saving: no ``formset=``
        (its ``save_new()`` may save), no ``edit_only`` or ``max_num`` (maybe no new objects), no
        ``*args``/``**kwargs``,
        and a ``form=`` only of a ModelForm of the project that defines no ``__init__``,
        ``save()`` or validation driver (``save_new()`` calls ``form.save(commit=False)``)."""
        position = FORMSET_FACTORIES.get(self._qualified(dotted(call.func) or "") or "")
        if position is None or any(arg.star for arg in call.args):
            return NOTHING
        positional = [arg for arg in call.args if arg.keyword is None]
        keywords = {arg.keyword.value: arg.value for arg in call.args if arg.keyword is not None}
        model_node = positional[position].value if len(positional) > position else keywords.get("model")
        if model_node is None or {"formset", "edit_only", "max_num"} & keywords.keys():
            return NOTHING  # a class of its own, or maybe no new forms (``max_num=0``)
        if "form" in keywords:
            form = self.form_class_named(dotted(keywords["form"]) or "")
            if form is None or FORM_DRIVERS & form.methods:
                return NOTHING
        model = self.class_named(dotted(model_node) or "")
        if model is None or model.abstract:
            return NOTHING
        return frozenset({self._new(call, "formset_class", model=model).oid})

    def formset_call(self, call: cst.Call, formset: Obj, method: str, state: State) -> frozenset[int]:
        """``formset.save(commit=False)``: a list holding the new forms' objects, unsaved (the
        changed forms' objects are existing rows: the list holds both)."""
        values = self.eval_args(call, state)
        self.escape_all(values, state)
        if method != "save" or _commit_argument(call) is not False or formset.model is None:
            return NOTHING
        if state.status.get(formset.oid, 0) & SAVED or state.items.get(formset.oid):
            # touched, or listed before (maybe on a path or loop pass): the forms' instances are
            # the same objects each time, and may have been saved since
            self.touch_formsets(frozenset({formset.oid}), state)
            return NOTHING
        container = self._new(call, "list")
        item = self._batch_item.get(container.oid, 0)
        if not item:
            item = self._batch_item[container.oid] = len(self.objects) + 1
            self.objects[item] = Obj(item, "new")
        obj = self.objects[item]
        obj.model, obj.line_of, obj.site, obj.in_condition = formset.model, self.line_of, self.site, self.conditional > 0
        obj.origin, obj.origin_node, obj.remedy = _short(call), call, FORMSET_REMEDY
        state.status[item] = UNSAVED
        state.rels[item] = {}
        state.stale.pop(item, None)
        state.items[container.oid] = frozenset({item})
        state.items[formset.oid] = frozenset({item})
        return frozenset({container.oid})

    def receive(self, handed: Handed, node: cst.CSTNode, origin: str, state: State) -> frozenset[int]:
        """An unsaved instance handed over by a helper's call or a fixture parameter (*node*)."""
        obj = self._new(node, "new", model=handed.model, line_of=self.line_of, site=self.site,
                        in_condition=self.conditional > 0, origin=origin, origin_node=node, remedy=handed.remedy)
        state.status[obj.oid] = UNSAVED
        state.rels[obj.oid] = {}
        state.stale.pop(obj.oid, None)
        return frozenset({obj.oid})

    def _form_instances(self, forms: frozenset[int], node: cst.CSTNode) -> frozenset[int]:
        instances = frozenset(self._form_instance[o] for o in forms if o != UNKNOWN)
        for oid in instances:
            obj = self.objects[oid]
            if obj.origin_node is None:
                obj.origin, obj.origin_node = _short(node), node
        return instances

    def form_call(self, call: cst.Call, forms: frozenset[int], method: str, state: State) -> frozenset[int]:
        """``form.save(commit=False)`` hands over the unsaved instance; ``form.save()`` saves it."""
        values = self.eval_args(call, state)
        if method == "save":
            commit = _commit_argument(call)
            if commit is False:
                return self._form_instances(forms, call)
            self.escape(forms, state)  # saved (or, for a commit of unknown value, maybe)
            self.escape_all(values, state)
            return self._form_instances(forms, call) if commit else NOTHING
        overridden = any(method in self._form_methods.get(o, NOTHING) for o in forms)
        if method in MODEL_FORM_NON_SAVING and not overridden:
            self.escape_all(values, state)
            return NOTHING
        self.escape(forms, state)
        self.escape_all(values, state)
        return NOTHING

    def _unsaved_pk_source(self, value: frozenset[int], state: State) -> bool:
        """``Restaurant(place=p)`` with ``place`` the pk and ``p`` unsaved: the pk is still None."""
        return any(self.is_maybe_unsaved(o, state) for o in value)

    def instance_call(self, call: cst.Call, receiver: frozenset[int], method: str, state: State) -> frozenset[int]:
        method = ASYNC_TWINS.get(method, method)
        values = self.eval_args(call, state)
        if method == "save":
            self.check_owner_relations(call, "save", receiver, state)
            for oid in receiver:
                if oid != UNKNOWN:
                    if self.objects[oid].kind == "new":
                        state.status[oid] = SAVED
                    state.stale.pop(oid, None)
            return NOTHING
        if method == "refresh_from_db":
            for oid in receiver:
                state.stale.pop(oid, None)
                if self.objects[oid].kind == "new":
                    # an unsaved instance raises DoesNotExist here: only the paths where it was saved go on
                    state.status[oid] = SAVED
            return NOTHING
        if (method in NON_SAVING_METHODS or (method.startswith("get_") and method.endswith("_display"))) and not any(
            method in ancestor.methods
            for oid in receiver if self.objects[oid].model is not None
            for ancestor in self.django.ancestors(self.objects[oid].model)  # type: ignore[arg-type]
        ):
            return NOTHING  # Django's own method (a project override may save)
        self.escape(receiver, state)
        self.escape_all(values, state)
        return NOTHING

    # -- save points ---------------------------------------------------------------------

    def here(self) -> Site:
        """The current site, marked conditional inside ``x if c else y``, ``a or b``, comprehensions."""
        if self.conditional and not self.site.conditional:
            return dataclasses.replace(self.site, conditional=True)
        return self.site

    def _hit(self, hit: Hit) -> None:
        if self.expecting or not self.reporting or id(hit.node) in self.reported:
            return
        self.reported.add(id(hit.node))
        self.on_hit(hit)

    def _ordered_saves(self, objects: Sequence[Obj], state: State) -> list[Obj]:
        """Objects to save, each after the unsaved instances it refers to."""
        ordered: list[Obj] = []
        visiting: set[int] = set()

        def visit(obj: Obj) -> None:
            if obj.oid in visiting or obj in ordered:
                return
            visiting.add(obj.oid)
            for targets in state.rels.get(obj.oid, {}).values():
                for target in sorted(targets):
                    if target != UNKNOWN and self.is_maybe_unsaved(target, state):
                        visit(self.objects[target])
            ordered.append(obj)

        for obj in sorted(objects, key=lambda o: o.oid):
            visit(obj)
        return ordered

    def _make_hit(self, kind: str, node: cst.CSTNode, field_name: str, model: ModelInfo | None,
                  value: frozenset[int], state: State, *, definite: bool | None = None, **extra: object) -> Hit:
        unsaved = sorted((self.objects[o] for o in value if self.is_maybe_unsaved(o, state)), key=lambda o: o.oid)
        is_definite = self.definitely_unsaved(value, state) if definite is None else definite
        if any(o.in_condition for o in unsaved) and unsaved[0].site is not None and not unsaved[0].site.same_statement(self.site):
            is_definite = False
        to_save = self._ordered_saves(unsaved, state)
        # a fix saves a name only when it holds exactly that object here (a loop variable that
        # held each element of a container in turn is not the container)
        names = {o.oid: n for o in to_save for n in [self.name_of(o.oid, state)]
                 if n and state.names.get(n) == frozenset({o.oid})}
        # a fix saves only objects built here and unsaved on every path reaching this point
        hit = Hit(kind, node, field_name, model, unsaved, is_definite, self.here(), names, to_save,
                  is_async=self.is_async, **extra)  # type: ignore[arg-type]
        hit.extra["all_unsaved"] = all(state.status.get(o.oid) == UNSAVED for o in to_save)
        return hit

    def check_kwargs(self, call: cst.Call, kind: str, model: ModelInfo | None, state: State, *,
                     skip: frozenset[str] = frozenset()) -> None:
        """``Model.objects.create(rel=x)`` and friends: keyword arguments that are relations."""
        if model is None:
            return
        relations = self.django.single_valued(model).keys()
        generic = self.django.generic_foreign_keys(model) if kind == "create" else frozenset()
        for arg in call.args:
            if arg.keyword is None or arg.keyword.value in skip or arg.keyword.value not in relations | generic:
                continue
            value = self.values.get(id(arg.value), NOTHING)
            if not any(self.is_maybe_unsaved(o, state) for o in value):
                continue
            if kind in ("create",) and self.django.saves_relation_itself(model, arg.keyword.value):
                continue
            hit = self._make_hit(kind, call, arg.keyword.value, model, value, state, call=_short(call),
                                 extra={"generic": arg.keyword.value in generic})
            self._hit(hit)
            if not self.expecting:
                self.mark_saved(hit.to_save, state)

    def check_defaults(self, call: cst.Call, model: ModelInfo | None, state: State) -> None:
        if model is None:
            return
        relations = self.django.single_valued(model)
        for arg in call.args:
            if arg.keyword is None or arg.keyword.value not in ("defaults", "create_defaults"):
                continue
            if not isinstance(arg.value, cst.Dict):
                continue
            for element in arg.value.elements:
                if not isinstance(element, cst.DictElement) or not isinstance(element.key, cst.SimpleString):
                    continue
                key = element.key.evaluated_value
                if not isinstance(key, str) or key not in relations:
                    continue
                value = self.values.get(id(element.value), NOTHING)
                if any(self.is_maybe_unsaved(o, state) for o in value):
                    hit = self._make_hit("defaults", call, key, model, value, state, call=_short(call))
                    self._hit(hit)
                    if not self.expecting:
                        self.mark_saved(hit.to_save, state)

    def lookup_relation(self, model: ModelInfo, key: str) -> tuple[Relation | None, bool]:
        """The relation a lookup keyword ends on, and whether it is an ``__in`` lookup."""
        parts = key.split("__")
        relation: Relation | None = None
        current: ModelInfo | None = model
        position = 0
        while position < len(parts) and current is not None:
            found = self.django.lookups(current).get(parts[position])
            if found is None:
                break
            relation, current = found, found.target
            position += 1
        rest = parts[position:]
        if relation is None or position == 0:
            return None, False
        if rest == [] or rest == ["exact"]:
            return relation, False
        if rest == ["in"]:
            return relation, True
        return None, False

    def check_lookups(self, call: cst.Call, model: ModelInfo | None, state: State, kind: str,
                      skip: frozenset[str] = frozenset()) -> None:
        if model is None:
            return
        for arg in call.args:
            if arg.keyword is not None:
                if arg.keyword.value in skip:
                    continue
                self._check_lookup(call, model, arg.keyword.value, arg.value, state, kind)
            elif not arg.star and kind == "lookup":
                self._check_q(call, model, arg.value, state)

    def _check_q(self, call: cst.Call, model: ModelInfo, node: cst.BaseExpression, state: State) -> None:
        if isinstance(node, cst.BinaryOperation):
            self._check_q(call, model, node.left, state)
            self._check_q(call, model, node.right, state)
        elif isinstance(node, cst.UnaryOperation):
            self._check_q(call, model, node.expression, state)
        elif isinstance(node, cst.Call) and (dotted(node.func) or "").rpartition(".")[2] == "Q":
            for arg in node.args:
                if arg.keyword is not None:
                    self._check_lookup(call, model, arg.keyword.value, arg.value, state, "lookup")

    def _check_lookup(self, call: cst.Call, model: ModelInfo, key: str, value_node: cst.BaseExpression,
                      state: State, kind: str) -> None:
        relation, is_in = self.lookup_relation(model, key)
        if relation is None:
            return
        value = self.values.get(id(value_node), NOTHING)
        if is_in:
            value = self.container_items(value, state)
        if not any(self.is_maybe_unsaved(o, state) for o in value):
            return
        hit_kind = "in_lookup" if is_in and kind == "lookup" else kind
        hit = self._make_hit(hit_kind, call, relation.name, relation.model, value, state, call=_short(call), lookup=key)
        self._hit(hit)
        if kind == "goc_lookup" and not self.expecting:
            self.mark_saved(hit.to_save, state)

    def check_owner_relations(self, call: cst.Call, kind: str, owners: frozenset[int], state: State,
                              only: set[str] | None = None) -> None:
        """``r.save()``, ``bulk_create([r])``: the relations set on the instances being written."""
        findings: list[tuple[str, Obj, frozenset[int]]] = []
        generic_hit = False
        for oid in sorted(owners):
            if oid == UNKNOWN:
                continue
            owner = self.objects[oid]
            generic = self.django.generic_foreign_keys(owner.model) if owner.model is not None else frozenset()
            for name, targets in state.rels.get(oid, {}).items():
                if only is not None and name not in only or name in generic and kind != "save":
                    continue  # a GenericForeignKey: only save() is known to check it
                if name in generic and not self.expecting:
                    self._check_generic_late(call, owner, name, state)
                if not any(self.is_maybe_unsaved(t, state) for t in targets):
                    continue
                if kind == "save" and self.django.saves_relation_itself(owner.model, name):
                    continue
                if kind == "save" and owner.model is None:
                    candidates = self.django.relations_named(name, None)
                    if any(self.django.saves_relation_itself(c.model, name) for c in candidates):
                        continue
                findings.append((name, owner, targets))
                generic_hit = name in generic
        if not findings:
            return
        name, owner, _ = findings[0]
        value: frozenset[int] = NOTHING
        for _, _, targets in findings:
            value |= targets
        attached = (
            UNKNOWN not in owners
            and all(all(name in state.rels.get(o, {}) for o in owners) for name, _, _ in findings)
            and not any(self.objects[o].in_condition for o in owners if not self._in_this_statement(o))
        )
        if kind == "bulk_create":
            attached = attached and all(self.objects[o].kind == "new" for o in owners)
        definite = attached and self.definitely_unsaved(value, state)
        model = owner.model
        if model is None:
            candidates = self.django.relations_named(name, None)
            model = candidates[0].model if candidates else None
        hit = self._make_hit(kind, call, name, model, value, state, definite=definite,
                             owner=owner, owner_name=self.name_of(owner.oid, state), call=_short(call),
                             extra={"more": len(findings) - 1, "partial": not attached, "generic": generic_hit})
        self._hit(hit)
        if not self.expecting:
            self.mark_saved(hit.to_save, state)

    def _check_generic_late(self, call: cst.Call, owner: Obj, name: str, state: State) -> None:
        """``TaggedItem(content_object=t); t.save(); item.save()``: the key copied ``t.pk`` (None)
        when it was assigned, and ``save()`` writes that: ``object_id`` NULL."""
        stale = state.stale.get(owner.oid, {}).get(name)
        targets = state.rels.get(owner.oid, {}).get(name, NOTHING)
        if stale is None or not stale.definite or UNKNOWN in targets or stale.targets != targets:
            return
        if any(state.status.get(t) != SAVED for t in targets):
            return  # still unsaved on some path: the unsaved-object error, reported as such
        hit = self._make_hit("generic_late", call, name, owner.model, NOTHING, state, definite=True,
                             owner=owner, owner_name=self.name_of(owner.oid, state), call=_short(call),
                             stale=stale, extra={"generic": True})
        hit.objects = [self.objects[t] for t in sorted(targets)]
        hit.names.update(dict(stale.names))
        self._hit(hit)

    def _in_this_statement(self, oid: int) -> bool:
        site = self.objects[oid].site
        return site is not None and site.same_statement(self.site)

    def queryset_call(self, call: cst.Call, model: ModelInfo | None, method: str, state: State,
                      manager: Obj | None = None) -> frozenset[int]:
        method = ASYNC_TWINS.get(method, method)
        values = self.eval_args(call, state)
        if method == "create":
            self.check_kwargs(call, "create", model, state)
            if model is None:
                return NOTHING
            return frozenset({self._new(call, "ref", model=model).oid})
        if method in ("get_or_create", "update_or_create"):
            self.check_lookups(call, model, state, "goc_lookup", skip=NOT_LOOKUP_KEYS)
            self.check_defaults(call, model, state)
            return NOTHING
        if method == "bulk_create":
            owners = self.container_items(values[0], state) if values else NOTHING
            self.check_owner_relations(call, "bulk_create", owners, state)
            if not self.expecting:
                self.mark_saved([self.objects[o] for o in owners if o != UNKNOWN], state)
            for owner in owners:
                state.stale.pop(owner, None)
            return NOTHING
        if method == "bulk_update":
            owners = self.container_items(values[0], state) if values else NOTHING
            self.check_owner_relations(call, "bulk_update", owners, state, only=self._field_list(call))
            for owner in owners:  # like save(), it fills ``<rel>_id`` in from the cached instance
                state.stale.pop(owner, None)
            return NOTHING
        if method == "update":
            self.check_kwargs(call, "update", model, state)
            return NOTHING
        if method in LOOKUP_METHODS:
            self.check_lookups(call, model, state, "lookup")
            if method == "get":
                return frozenset({self._new(call, "ref", model=model).oid}) if model is not None else NOTHING
            return frozenset({self._new(call, "queryset", model=model).oid})
        if method in QUERYSET_METHODS:
            return frozenset({self._new(call, "queryset", model=model).oid})
        if method in ("first", "last", "latest", "earliest") and model is not None:
            return frozenset({self._new(call, "ref", model=model).oid})
        if method in TERMINAL_METHODS:
            return NOTHING
        # a custom manager or queryset method: it may save what it is given
        self.escape_all(values, state)
        return frozenset({self._new(call, "queryset", model=model).oid})

    @staticmethod
    def _field_list(call: cst.Call) -> set[str] | None:
        node: cst.BaseExpression | None = None
        positional = [a for a in call.args if a.keyword is None]
        if len(positional) >= 2:
            node = positional[1].value
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value == "fields":
                node = arg.value
        if not isinstance(node, (cst.List, cst.Tuple, cst.Set)):
            return None
        names: set[str] = set()
        for element in node.elements:
            if not isinstance(element.value, cst.SimpleString):
                return None
            value = element.value.evaluated_value
            if not isinstance(value, str):
                return None
            names.add(value)
        return names

    def manager_call(self, call: cst.Call, manager_obj: Obj, method: str, state: State) -> frozenset[int]:
        method = ASYNC_TWINS.get(method, method)
        manager = manager_obj.manager
        assert manager is not None
        owners = manager_obj.owners
        unsaved_owners = frozenset(o for o in owners if self.is_maybe_unsaved(o, state))
        if unsaved_owners and (method in MANAGER_WRITES or method in MANAGER_READS):
            values = self.eval_args(call, state)
            owner = self.objects[min(unsaved_owners)]
            kind = "manager_write" if method in MANAGER_WRITES else "manager_read"
            hit = self._make_hit(kind, call, manager.accessor, owner.model, owners, state,
                                 owner=owner, call=_short(call), extra={"manager": manager, "method": method})
            self._hit(hit)
            if kind == "manager_write" and not self.expecting:
                self.mark_saved(hit.to_save, state)
            if method in ("add", "set"):
                self.escape_all(values, state)
            return NOTHING
        if method in ("add", "set"):
            values = self.eval_args(call, state)
            items: frozenset[int] = NOTHING
            bulk_false = any(
                a.keyword is not None and a.keyword.value == "bulk" and (dotted(a.value) == "False")
                for a in call.args
            )
            for arg, value in zip(call.args, values):
                if arg.keyword is not None:
                    continue
                if method == "set" or arg.star:
                    items |= self.container_items(value, state)
                else:
                    items |= value
            if manager.kind == RelationKind.REVERSE_FOREIGN_KEY and bulk_false:
                self.mark_saved([self.objects[o] for o in items if o != UNKNOWN], state)
                return NOTHING
            if any(self.is_maybe_unsaved(o, state) for o in items):
                kind = "m2m_add" if manager.kind == RelationKind.MANY_TO_MANY else "reverse_add"
                unsaved_items = frozenset(o for o in items if o != UNKNOWN)
                definite = self.definitely_unsaved(unsaved_items, state) and (
                    method == "add" or UNKNOWN not in items
                )
                hit = self._make_hit(kind, call, manager.accessor, manager.owner, unsaved_items, state,
                                     definite=definite, call=_short(call), extra={"manager": manager, "method": method})
                self._hit(hit)
                if not self.expecting:
                    self.mark_saved(hit.objects, state)
            return NOTHING
        return self.queryset_call(call, manager.related, method, state, manager=manager_obj)

    # -- the ``_id`` read -------------------------------------------------------------

    def check_id_read(self, node: cst.Attribute, owners: frozenset[int], field_name: str, state: State) -> None:
        for oid in owners:
            stale = state.stale.get(oid, {}).get(field_name)
            if stale is None:
                continue
            unsaved = [self.objects[t] for t in stale.targets if t != UNKNOWN and self.objects[t].kind == "new"]
            if not unsaved:
                continue
            owner = self.objects[oid]
            hit = Hit(
                "id_read", node, field_name, owner.model, sorted(unsaved, key=lambda o: o.line), stale.definite,
                self.here(), dict(stale.names), sorted(unsaved, key=lambda o: o.line), owner=owner,
                owner_name=node.value.value if isinstance(node.value, cst.Name) else None,
                call=_short(node), is_async=self.is_async, stale=stale,
            )
            self._hit(hit)
            if not self.expecting:
                _pop_inner(state.stale, oid, field_name)
            return
