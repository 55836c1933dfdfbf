"""Typed views of OTO002's per-function facts, for the resolver.

The facts (:mod:`.facts`) are plain dicts and lists, because ``marshal`` stores them on
disk and the facts pass, run on every file, must stay cheap. The resolver
(:mod:`.summaries`) reads them through these records instead, converted lazily, one
function at a time, when a function is first looked at.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, NamedTuple

#: line, column (UTF-8 bytes), end line, end column: as the stdlib ``ast`` numbers them.
Pos = list[int]
#: Statement indices and compound-statement fields, from the function body down (see
#: :func:`.summaries.follows`).
Path = list[Any]


class Op(str, Enum):
    ATTACH = "attach"  # the write ties a row to the receiver
    DETACH = "detach"  # the write unties the receiver's row


class Read(NamedTuple):
    """A read that caches the accessor: ``hasattr``, ``getattr`` with a default, or in a ``try``;
    or a cache filled for the receiver elsewhere: a read of every element of what a loop iterates
    (in a comprehension, ``filter(lambda ...)``), ``select_related``/``prefetch_related``."""

    recv: str
    acc: str
    how: str  # "hasattr", "getattr", "try", "element", "related" or "peers" (a ``fetch_mode(FETCH_PEERS)`` loop)
    pos: Pos
    path: Path
    line: int = 0  # "element", "related", "peers": where the cache was filled (pos is where the receiver got it)
    source: str = ""  # "element": the iterated expression; "related": the queryset method; "peers": ``FETCH_PEERS``


class Write(NamedTuple):
    """A write that changes a relation without going through the receiver."""

    op: Op
    recv: str
    method: str  # the called method: "create", "save", "delete", "update", ...
    pos: Pos
    path: Path
    model: str | None = None  # the written model, as named in the file
    via: str | None = None  # or: the accessor the written object was read through
    key: str | None = None  # the keyword or attribute tying the row (``owner_id``)
    other: bool = False  # tied through another instance of the receiver's row
    acc: str | None = None  # the receiver's accessor (``x.rel.delete()``)
    keep_parents: bool = False  # ``delete(keep_parents=True)``
    narrow: list[Any] | None = None  # [``Rel.objects.for_user``, argument slot]: rows that method selects
    moved: list[str] | None = None  # an update of those rows: the fields it sets to another value
    deferred: int = 0  # run by ``on_commit()`` at the end of the durable ``atomic()`` block ending at this line


class Call(NamedTuple):
    """A call passing a parameter or a read receiver on."""

    callee: str
    args: list[list[Any]]  # [position or keyword, dotted expression]
    pos: Pos
    path: Path
    recv: str | None = None


class Clear(NamedTuple):
    """What clears a cached accessor: ``x.rel = ...`` or ``x._state.fields_cache.pop("rel")`` (*acc*),
    ``x.refresh_from_db(...)`` or ``fields_cache.clear()`` (*fields*), or a write through the
    instance that sets the cache again (``Rel.objects.create(owner=x)``: *model* and *key*)."""

    recv: str
    pos: Pos
    acc: str | None = None
    fields: Any = None  # None: every field; "?": unknown; else the list of names
    model: str | None = None  # the model written through the instance, as named in the file
    key: str | None = None  # its keyword tying the instance (``owner``)


class Use(NamedTuple):
    """A load of ``recv.attr`` (a later read of a stale accessor)."""

    recv: str
    attr: str
    pos: Pos
    path: Path


class Escape(NamedTuple):
    """Where a receiver leaves the function: "returned", "yielded", "stored", "passed", "method"."""

    recv: str
    how: str
    pos: Pos
    path: Path
    callee: str | None = None


class Loop(NamedTuple):
    path: Path  # of the loop statement
    pos: Pos


class Exit(NamedTuple):
    """A ``return``, ``raise``, ``break`` or ``continue``: the rest of its block does not run."""

    kind: str
    pos: Pos
    path: Path


class Bind(NamedTuple):
    name: str
    line: int
    col: int


class Function(NamedTuple):
    line: int
    kind: str  # "function", "method", "staticmethod", "classmethod" or "module"
    params: list[str]
    reads: list[Read]
    writes: list[Write]
    calls: list[Call]
    clears: list[Clear]
    binds: list[Bind]
    cls: str | None = None
    uses: list[Use] = []
    escapes: list[Escape] = []
    loops: list[Loop] = []
    managed: list[str] = []  # a manager's or queryset's method: the models using the class
    narrows: list[list[str]] = []  # ``return self.filter(user=user)``: [[lookup key, parameter]]
    hook: bool = False  # a factory_boy ``post_generation`` method: its first parameter is the created instance
    exits: list[Exit] = []


def function_record(raw: dict[str, Any]) -> Function:
    """One function's facts (plain data) as records."""
    return Function(
        raw["line"], raw["kind"], raw["params"],
        [Read(r["recv"], r["acc"], r["how"], r["pos"], r["path"], r.get("line", 0), r.get("src", ""))
         for r in raw["reads"]],
        [Write(Op(w["op"]), w["recv"], w["m"], w["pos"], w["path"], w.get("model"), w.get("via"), w.get("key"),
               bool(w.get("other")), w.get("acc"), bool(w.get("kp")), w.get("nw"), w.get("mv"),
               w.get("dfr", 0)) for w in raw["writes"]],
        [Call(c["callee"], c["args"], c["pos"], c["path"], c.get("recv")) for c in raw["calls"]],
        [Clear(c["recv"], c["pos"], c.get("acc"), c.get("fields"), c.get("model"), c.get("key")) for c in raw["clears"]],
        [Bind(*b) for b in raw["binds"]],
        raw.get("class"),
        [Use(*u) for u in raw.get("uses", ())],
        [Escape(*e) for e in raw.get("escapes", ())],
        [Loop(*lp) for lp in raw.get("loops", ())],
        raw.get("managed", []),
        raw.get("narrows", []),
        bool(raw.get("hook")),
        exits=[Exit(*e) for e in raw.get("exits", ())],
    )


def start(event: Read | Write | Call | Clear | Use | Escape) -> tuple[int, int]:
    return (event.pos[0], event.pos[1])


def stop(event: Read | Write | Call | Clear | Use | Escape) -> tuple[int, int]:
    return (event.pos[2], event.pos[3])
