"""OTO100: a ``# noqa: OTO...`` comment that suppresses nothing (opt-in).

A suppression outlives the finding it was written for: the field was converted, the
code moved, the rule learnt to tell the case apart. The stale comment then hides the
next real finding on that line, and reviewers learn to skim past ``# noqa``. ruff
reports such comments as RUF100 and flake8-noqa as NQA102; OTO100 does the same for
o2o-lint's own codes, leaving every other tool's codes alone.

OTO100 is not a syntax visitor: whether a directive is used depends on the findings
of the *other* rules on that line before suppression, so the CLI computes it after
the run (``o2o_lint.noqa.unused_directives``); this class registers the code, its
name and its documentation. It is off by default, even under ``select = ["OTO"]``:
enable it with ``--extend-select OTO100`` (or ``--select OTO100``, which enables no
other rule, so that every ``OTO`` code listed is reported as non-enabled). Under
flake8 it is never reported; use flake8-noqa there.
"""

from __future__ import annotations

from typing import ClassVar

from o2o_lint.rules.base import FileContext, LintRule


class UnusedNoqa(LintRule):
    code = "OTO100"
    name = "unused-noqa"
    summary = "A `# noqa: OTO...` comment that suppresses nothing"
    fixable = "always"
    opt_in: ClassVar[bool] = True

    @classmethod
    def screen(cls, context: FileContext) -> bool:
        return False  # computed by the CLI from the other rules' findings, never in the tree walk
