"""Fix edits for the JSON and SARIF reports, computed lazily.

A finding's fix is a LibCST transformation; machine-readable output needs it as text
edits (``content`` plus a 1-based start and end). They are computed only when such an
output is asked for, and only for files that have fixable findings: re-analyse the file
(the findings cache keeps no syntax trees), apply each fix alone to the tree, and diff
the original text against the result. The fixes of one file that only replace nodes
share one transformation and code generation (:func:`o2o_lint.cstpass.fixed_codes`),
which gives each the same result as applying it alone. The edits are then kept in the findings
cache entry of the file (:meth:`o2o_lint.result_cache.ResultCache.store_edits`), so a
warm run reads them instead: no analysis, no LibCST.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from o2o_lint.findings import Finding, Fix, LineEdit
from o2o_lint.result_cache import finding_key
from o2o_lint.sourcefile import split_lines

if TYPE_CHECKING:
    from o2o_lint.project import Project

Edit = dict[str, Any]


_TOKEN = re.compile(r"\w+|\s+|[^\w\s]")


def _position(block_start_line: int, block: str, offset: int) -> dict[str, int]:
    before = block[:offset]
    newline = before.rfind("\n")
    return {"row": block_start_line + before.count("\n"), "column": offset - (newline + 1) + 1}


def text_edits(original: str, fixed: str) -> list[Edit]:
    """Small edits turning *original* into *fixed*: the changed lines, then within them the
    changed words, so ``ForeignKey(A, B, unique=True)`` -> ``OneToOneField(A, B)`` is two
    edits. Rows and columns are 1-based; the end is exclusive."""
    old_lines, new_lines = split_lines(original), split_lines(fixed)
    # A fix touches a few lines: strip the common head and tail first, so that difflib
    # (quadratic at worst) only sees the changed region, even in a 5 MB module.
    head = 0
    limit = min(len(old_lines), len(new_lines))
    while head < limit and old_lines[head] == new_lines[head]:
        head += 1
    tail = 0
    while tail < limit - head and old_lines[-1 - tail] == new_lines[-1 - tail]:
        tail += 1
    old_middle = old_lines[head:len(old_lines) - tail]
    new_middle = new_lines[head:len(new_lines) - tail]
    matcher = difflib.SequenceMatcher(None, old_middle, new_middle, autojunk=False)
    edits: list[Edit] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        old, new = "".join(old_middle[i1:i2]), "".join(new_middle[j1:j2])
        i1 += head
        old_tokens, new_tokens = _TOKEN.findall(old), _TOKEN.findall(new)
        old_offsets = [0]
        for token in old_tokens:
            old_offsets.append(old_offsets[-1] + len(token))
        words = difflib.SequenceMatcher(None, old_tokens, new_tokens, autojunk=False)
        for word_tag, a1, a2, b1, b2 in words.get_opcodes():
            if word_tag == "equal":
                continue
            edits.append({
                "content": "".join(new_tokens[b1:b2]),
                "location": _position(i1 + 1, old, old_offsets[a1]),
                "end_location": _position(i1 + 1, old, old_offsets[a2]),
            })
    return edits


def apply_edits(text: str, edits: Sequence[Edit]) -> str:
    """Apply edits as :func:`text_edits` produces them (tests use it to check them)."""
    lines = split_lines(text)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(position: dict[str, int]) -> int:
        return starts[position["row"] - 1] + position["column"] - 1

    for edit in sorted(edits, key=lambda e: offset(e["location"]), reverse=True):
        text = text[: offset(edit["location"])] + edit["content"] + text[offset(edit["end_location"]) :]
    return text


class FixEdits:
    """Finding -> its fix's edits, for the findings of one run of *project*."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.edits: dict[Finding, list[Edit]] = {}

    def compute(self, findings: Iterable[Finding]) -> dict[Finding, list[Edit]]:
        by_path: dict[str, list[Finding]] = {}
        for finding in findings:
            if finding.fix is not None and finding not in self.edits:
                by_path.setdefault(finding.path, []).append(finding)
        result_cache = self.project.result_cache
        for path, wanted in by_path.items():
            cacheable = result_cache is not None and not self.project.differs_from_disk(path)
            if cacheable:
                assert result_cache is not None
                known = result_cache.cached_edits(path)
                missing = []
                for finding in wanted:
                    edits = known.get(finding_key(finding))
                    if edits is None:
                        missing.append(finding)
                    else:
                        self.edits[finding] = edits
                wanted = missing
            if not wanted:
                continue
            text = self.project.text_of(path)
            if text is None:
                continue
            computed = self._compute_file(path, text, wanted)
            if cacheable:
                assert result_cache is not None
                result_cache.store_edits(path, computed)
        if result_cache is not None:
            result_cache.save()
        return self.edits

    def _compute_file(self, path: str, text: str, wanted: list[Finding]) -> dict[tuple[int, int, str, str], list[Edit]]:
        """Compute *wanted*'s edits into :attr:`edits`; returns them by finding key, with an
        empty list for a fix that failed to apply (reported without edits, as always).

        Each fix's edits are those of the fix applied alone; the fixes of one file are
        applied together where that gives the same (:func:`o2o_lint.cstpass.fixed_codes`).
        """
        from o2o_lint.cstpass import fixed_codes

        computed: dict[tuple[int, int, str, str], list[Edit]] = {}
        analysis = self.project.engine.analyze(path, text, fresh_facts=self.project.differs_from_disk(path))
        fresh = {finding_key(f): f for f in analysis.findings if f.fix is not None}
        on_tree: list[tuple[Finding, Fix]] = []
        for finding in wanted:
            match = fresh.get(finding_key(finding))
            if match is None or match.fix is None:
                continue
            if match.fix.edits_text:
                self.edits[finding] = computed[finding_key(finding)] = [_line_edit(edit) for edit in match.fix.text_edits]
            elif analysis.module is not None:
                on_tree.append((finding, match.fix))
        if analysis.module is None or not on_tree:
            return computed
        for (finding, _), fixed in zip(on_tree, fixed_codes(analysis.module, [fix for _, fix in on_tree])):
            if fixed is None:
                computed[finding_key(finding)] = []
            else:
                self.edits[finding] = computed[finding_key(finding)] = text_edits(text, fixed)
        return computed


def _line_edit(edit: LineEdit) -> Edit:
    return {
        "content": edit.content,
        "location": {"row": edit.line, "column": edit.start + 1},
        "end_location": {"row": edit.line, "column": edit.end + 1},
    }
