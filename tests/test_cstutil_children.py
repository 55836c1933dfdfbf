"""``cstutil.child_nodes`` lists the very nodes ``CSTNode.children`` does, without the
visit that rebuilds the node (OTO003's walks of long functions spent most of their time
there)."""

from __future__ import annotations

from pathlib import Path

import libcst as cst

from o2o_lint.cstutil import child_nodes

PACKAGE = Path(__file__).resolve().parent.parent / "o2o_lint"

CONSTRUCTS = '''\
import a.b as c, d
from .e import (f as g, h)
from i import *
global_value: int = 1
@decorator(1, *args, key=2, **kw)
async def j(k, /, l=1, *m, n: "int" = 2, **o) -> None:
    global global_value
    async with p as (q, r), s:
        async for t in u:
            yield from v
    w = [x async for x in y if x if not x]
    z = {1: 2, **{}}; del z[0], z
    lambda aa=1, *bb: (aa, bb)
    match cc:
        case [1, *rest] | {"k": _, **others} if rest:
            pass
        case Point(x=0, y=yy) as point:
            pass
    try:
        raise ValueError from None
    except* (TypeError, ValueError) as error:
        pass
    finally:
        assert (dd := 1) > 0, f"{dd!r:>{width}} {'x' if dd else 'y'}"
    ee = ff[1:2, ::3] @ gg ** -hh
    ii += ~jj if kk else ll or mm and not nn
class C(Base, metaclass=Meta):  # a comment
    """Doc."""
    nonlocal_name = ...
    print(*a, sep="")
'''


def _assert_same_children(module: cst.Module) -> int:
    checked = 0
    stack: list[cst.CSTNode] = [module]
    while stack:
        node = stack.pop()
        expected = node.children
        assert sorted(map(id, child_nodes(node))) == sorted(map(id, expected)), type(node).__name__
        stack.extend(expected)
        checked += 1
    return checked


def test_child_nodes_are_the_children_on_every_construct() -> None:
    assert _assert_same_children(cst.parse_module(CONSTRUCTS)) > 500


def test_child_nodes_are_the_children_on_real_code() -> None:
    checked = sum(_assert_same_children(cst.parse_module(path.read_text()))
                  for path in sorted(PACKAGE.rglob("*.py"))[:12])
    assert checked > 20_000
