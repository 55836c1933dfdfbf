"""The rule registry: every module or package in this package defines one rule.

Adding a rule is adding one package (``oto005_some_trap/``) or one module
(``oto005_some_trap.py``), its doc page and its tests; discovery is automatic, as in
django-upgrade's ``fixers`` package, and nothing else names the rule.

A rule package holds ``screen.py``: the rule's :class:`~o2o_lint.rules.base.Rule`
(metadata, screens, template checks), which imports no LibCST; ``rule.py``: its visitor,
a :class:`~o2o_lint.rules.visitor.LintRule` subclass of that class (the trap, the cases,
the visitor, the messages, the fixes); and may hold ``facts.py``: an extractor of
per-file facts on the stdlib ``ast`` (``EXTRACTOR``), run by the index for every file. A
rule that needs no visitor (it reviews findings) may be one LibCST-free module. This
module, screens and ``facts.py`` modules never import LibCST: the facts pass runs in pool
workers and on warm runs, and screens on every file, where LibCST is loaded only once a
file needs a visitor. Keep rule packages' ``__init__.py`` empty.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import os
import pkgutil
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from o2o_lint.index.facts import FactsExtractor
    from o2o_lint.rules.base import Rule
    from o2o_lint.rules.visitor import LintRule

#: Modules of this package that are not rules.
_NOT_RULES = frozenset({"base", "visitor"})

_SCREENS: dict[str, type[Rule]] = {}
_RULES: dict[str, type[Rule]] = {}
_EXTRACTORS: list[FactsExtractor] | None = None


def _rule_modules() -> list[tuple[str, bool]]:
    return [
        (info.name, info.ispkg) for info in pkgutil.iter_modules(__path__)
        if info.name not in _NOT_RULES and not info.name.startswith("_")
    ]


def _screen_module(name: str, is_package: bool) -> str:
    return f"{__name__}.{name}.screen" if is_package else f"{__name__}.{name}"


def _defined_rule(module_name: str) -> type[Rule]:
    """The one rule class *module_name* defines (imported ones do not count)."""
    from o2o_lint.rules.base import Rule

    module = importlib.import_module(module_name)
    found = [value for value in vars(module).values()
             if isinstance(value, type) and issubclass(value, Rule) and value.__module__ == module.__name__]
    if len(found) != 1:
        raise RuntimeError(f"{module_name} defines {len(found)} rule classes, not one")
    return found[0]


def _by_code(classes: list[type[Rule]]) -> dict[str, type[Rule]]:
    found: dict[str, type[Rule]] = {}
    for rule in classes:
        if rule.code in found:
            raise RuntimeError(f"duplicate rule code {rule.code}")
        found[rule.code] = rule
    return dict(sorted(found.items()))


def all_screens() -> dict[str, type[Rule]]:
    """Every rule as the engine needs it before LibCST: its :class:`~o2o_lint.rules.base.Rule`
    (metadata and screens), by code. Imports no LibCST and no visitor."""
    if not _SCREENS:
        _SCREENS.update(_by_code([_defined_rule(_screen_module(name, is_package))
                                  for name, is_package in _rule_modules()]))
    return dict(_SCREENS)


def all_rules() -> dict[str, type[Rule]]:
    """Every rule's whole class, by code: its visitor (a rule package's ``rule.py``, with
    LibCST), or its ``Rule`` when it has none."""
    if not _RULES:
        _RULES.update(_by_code([_defined_rule(f"{__name__}.{name}.rule" if is_package else f"{__name__}.{name}")
                                for name, is_package in _rule_modules()]))
    return dict(_RULES)


def visitor_of(rule: type[Rule]) -> type[LintRule]:
    """The LibCST visitor of *rule* (a screen class), imported on first use."""
    from o2o_lint.rules.visitor import LintRule

    whole = all_rules()[rule.code]
    if not issubclass(whole, LintRule):
        raise TypeError(f"{rule.code} has no visitor")
    return whole


def known_codes() -> tuple[str, ...]:
    """Every rule's code, read from the module names (``oto005_some_trap``) without importing
    any rule: validating ``--select`` on a warm run must not load LibCST (tested equal to
    :func:`all_rules`)."""
    return tuple(sorted(name.split("_", 1)[0].upper() for name, _ in _rule_modules()))


_TABLE_FIELDS = {
    "name": re.compile(r'^    name = "([a-z0-9-]+)"$', re.MULTILINE),
    "summary": re.compile(r'^    summary = ("(?:[^"\\\n]|\\.)*")$', re.MULTILINE),
    "fix": re.compile(r"^    fixable = Fixability\.(ALWAYS|SOMETIMES|NEVER)$", re.MULTILINE),
    "opt_in": re.compile(r"^    opt_in(?:: ClassVar\[bool\])? = (True|False)$", re.MULTILINE),
}
_TABLE: dict[str, dict[str, object]] = {}


def rule_table() -> dict[str, dict[str, object]]:
    """Every rule's name, summary, fixability (``Fixability``'s value) and opt-in flag by
    code, read from the rule modules' text (their one class-level literal of each) without
    importing them: a warm JSON or SARIF report describes rules without importing any. A
    module whose text is not that plain falls back to :func:`all_screens` (tested equal
    to :func:`all_rules`)."""
    if _TABLE:
        return {code: dict(row) for code, row in _TABLE.items()}
    table: dict[str, dict[str, object]] = {}
    directory = os.path.dirname(os.path.abspath(__file__))
    for module, is_package in _rule_modules():
        path = os.path.join(directory, module, "screen.py") if is_package else os.path.join(directory, f"{module}.py")
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        except (OSError, UnicodeError):
            text = ""
        found = {key: pattern.findall(text) for key, pattern in _TABLE_FIELDS.items()}
        if any(len(found[key]) != 1 for key in ("name", "summary", "fix")) or len(found["opt_in"]) > 1:
            table = {code: {"name": rule.name, "summary": rule.summary, "fix": rule.fixable.value,
                            "opt_in": bool(rule.opt_in)} for code, rule in all_screens().items()}
            break
        table[module.split("_", 1)[0].upper()] = {
            "name": found["name"][0], "summary": ast.literal_eval(found["summary"][0]),
            "fix": found["fix"][0].lower(), "opt_in": found["opt_in"] == ["True"],
        }
    _TABLE.update(sorted(table.items()))
    return {code: dict(row) for code, row in _TABLE.items()}


def rule_names() -> dict[str, str]:
    """Every rule's name by code (:func:`rule_table`: no rule imported)."""
    return {code: str(row["name"]) for code, row in rule_table().items()}


def get_rule(code: str) -> type[Rule]:
    return all_rules()[code]


def all_extractors() -> list[FactsExtractor]:
    """Every rule package's facts extractor, by code (imports no rule and no LibCST)."""
    global _EXTRACTORS
    if _EXTRACTORS is None:
        found = []
        for name, is_package in _rule_modules():
            if is_package and importlib.util.find_spec(f"{__name__}.{name}.facts") is not None:
                found.append(importlib.import_module(f"{__name__}.{name}.facts").EXTRACTOR)
        _EXTRACTORS = sorted(found, key=lambda extractor: extractor.code)
    return _EXTRACTORS
