"""``astutil.child_nodes`` lists what ``ast.iter_child_nodes`` yields, in the same order."""

from __future__ import annotations

import ast
import pathlib

import o2o_lint
from o2o_lint.astutil import child_nodes


def test_child_nodes_match_the_stdlib_on_every_node_of_the_package() -> None:
    checked = 0
    for path in sorted(pathlib.Path(o2o_lint.__file__).parent.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            assert child_nodes(node) == list(ast.iter_child_nodes(node)), (path, ast.dump(node)[:200])
            checked += 1
    assert checked > 10_000


def test_child_nodes_of_a_match_statement_and_a_missing_field() -> None:
    tree = ast.parse("match x:\n    case {'a': [1, *rest]} if rest:\n        pass\n")
    for node in ast.walk(tree):
        assert child_nodes(node) == list(ast.iter_child_nodes(node))
    # built by hand: before Python 3.13 it has no ``ctx`` attribute at all; 3.13 fills in Load()
    by_hand = ast.Name(id="x")
    assert child_nodes(by_hand) == list(ast.iter_child_nodes(by_hand))
    assert len(child_nodes(by_hand)) == (1 if hasattr(by_hand, "ctx") else 0)
