"""The rule registry: every module in this package defines one rule.

Adding a rule is adding one module (and its test file and doc page); discovery is
automatic, as in django-upgrade's ``fixers`` package.
"""

from __future__ import annotations

import importlib
import pkgutil

from o2o_lint.rules.base import LintRule

_RULES: dict[str, type[LintRule]] = {}


def _discover() -> None:
    for module_info in pkgutil.iter_modules(__path__):
        if module_info.name == "base" or module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, LintRule) and value is not LintRule and value.__module__ == module.__name__:
                if value.code in _RULES:
                    raise RuntimeError(f"duplicate rule code {value.code}")
                _RULES[value.code] = value


def all_rules() -> dict[str, type[LintRule]]:
    if not _RULES:
        _discover()
    return dict(sorted(_RULES.items()))


def get_rule(code: str) -> type[LintRule]:
    return all_rules()[code]
