"""OTO002 before LibCST: what the rule is, and its screens (the index's
:class:`~.summaries.StaleWrites` view already knows where the findings are)."""

from __future__ import annotations

import ast

from o2o_lint.rules.base import FileContext, Fixability, Rule, TreeScreen
from o2o_lint.rules.oto002_stale_reverse_cache.summaries import StaleWrites


class StaleReverseCacheScreen(Rule):
    code = "OTO002"
    name = "stale-reverse-one-to-one-cache"
    summary = "A write after a reverse one-to-one read leaves the cached accessor stale"
    fixable = Fixability.SOMETIMES

    @classmethod
    def screen(cls, context: FileContext) -> bool:
        return context.index.view(StaleWrites).screen(context.facts)

    @classmethod
    def screen_tree(cls, context: FileContext, tree: ast.Module) -> TreeScreen:
        """The index already knows where the findings are: only their statements are parsed."""
        return {found.pos[0] for found in context.index.view(StaleWrites).findings(context.facts)}
