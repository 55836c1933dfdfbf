"""The codemod commands: each runs the engine's fix for its rule(s) on the module.

A command sees one file at a time, like any LibCST codemod, but the fix needs the
project: the command builds the project index once per process (from the on-disk
cache the CLI shares) for the project the file belongs to, reads that project's
``[tool.o2o-lint]`` settings, enables only its own rule and runs the same
``Engine.fix`` as ``o2o-lint --fix``: same fixes, same ``# noqa`` handling, same
safety (``--unsafe-fixes`` to apply unsafe ones). A file the command leaves unchanged
is reported by LibCST as skipped.
"""

from __future__ import annotations

import argparse
import os
from abc import abstractmethod
from typing import TYPE_CHECKING, ClassVar

import libcst as cst
from libcst.codemod import CodemodCommand, CodemodContext, SkipFile

from o2o_lint.config import ConfigError, Settings, find_project_root, load_settings
from o2o_lint.project import Project
from o2o_lint.rules import all_rules
from o2o_lint.rules.base import Fixability

if TYPE_CHECKING:
    from o2o_lint.engine import Engine

_PROJECTS: dict[tuple[str, tuple[str, ...]], Project] = {}


def _engine_for(path: str, codes: tuple[str, ...]) -> Engine:
    """The engine of the project *path* belongs to, with only *codes* enabled (one
    :class:`Project` per root and command in this process)."""
    root = find_project_root(path)
    key = (root, codes)
    project = _PROJECTS.get(key)
    if project is None:
        try:
            settings, _ = load_settings(path)
        except ConfigError:
            settings = Settings()
        # the command names its rules: the configuration's selection does not apply; a rule
        # that reviews the other rules' findings needs them all to run
        rules = all_rules()
        select = codes
        if any(rules[code].reviews_findings for code in codes):
            select = tuple(code for code, rule in rules.items() if not rule.opt_in) + codes
        settings = settings.with_overrides(select=select, extend_select=(), ignore=(), per_file_ignores=())
        project = _PROJECTS[key] = Project(settings, [root], root=root)
    return project.engine


class O2OLintFixCommand(CodemodCommand):
    """Base of the commands: apply o2o-lint's fixes for ``CODES`` (safe ones; unsafe
    ones too with ``--unsafe-fixes``)."""

    DESCRIPTION: str = "Apply o2o-lint's fixes."
    CODES: ClassVar[tuple[str, ...]] = ()

    def __init__(self, context: CodemodContext, unsafe_fixes: bool = False, stdin_filename: str | None = None) -> None:
        super().__init__(context)
        self.unsafe_fixes = unsafe_fixes
        self.stdin_filename = stdin_filename

    @staticmethod
    def add_args(arg_parser: argparse.ArgumentParser) -> None:
        arg_parser.add_argument(
            "--unsafe-fixes", action="store_true", default=False,
            help="also apply the fixes o2o-lint marks unsafe (they need a human look)",
        )
        arg_parser.add_argument(
            "--stdin-filename", metavar="PATH", default=None,
            help="with - (standard input): the path of the file the code belongs to, for the project index",
        )

    def _path(self) -> str:
        return self.context.filename or os.path.abspath(self.stdin_filename or "stdin.py")

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        path = self._path()
        text = tree.code
        fixed = self.fixed_text(_engine_for(path, self.CODES), path, text)
        if fixed == text:
            if self.context.filename is None:
                return tree  # standard input: LibCST treats a skip as a failure there
            raise SkipFile(f"no {'/'.join(self.CODES)} fix applies")
        return cst.parse_module(fixed)

    @abstractmethod
    def fixed_text(self, engine: Engine, path: str, text: str) -> str: ...


def _engine_fix(self: O2OLintFixCommand, engine: Engine, path: str, text: str) -> str:
    outcome = engine.fix(path, text, unsafe=self.unsafe_fixes, fresh_facts=True, only=self.CODES)
    if outcome.error:
        self.warn(outcome.error)
        return text
    return outcome.text


def _class_name(rule_name: str) -> str:
    return "".join(part.capitalize() for part in rule_name.split("-")) + "Command"


__all__ = ["O2OLintFixCommand", "FixAllCommand"]

_FIXABLE = {code: rule for code, rule in all_rules().items() if rule.fixable is not Fixability.NEVER}
for _code, _rule in _FIXABLE.items():
    _name = _class_name(_rule.name)
    _command = type(_name, (O2OLintFixCommand,), {
        "__doc__": f"{_code} {_rule.name}: {_rule.summary}. Runs o2o-lint's fix for {_code}.",
        "DESCRIPTION": f"o2o-lint {_code} ({_rule.name}): {_rule.summary}.",
        "CODES": (_code,),
        "fixed_text": _engine_fix,
        "__module__": __name__,
    })
    globals()[_name] = _command
    globals()[_code] = _command
    __all__ += [_name, _code]


class FixAllCommand(O2OLintFixCommand):
    """Every fixable o2o-lint rule's fix at once (what ``o2o-lint --fix`` applies: the
    opt-in rules only when selected, so not here)."""

    DESCRIPTION = "o2o-lint: apply the fixes of every rule."
    CODES = tuple(code for code, rule in _FIXABLE.items() if not rule.opt_in)
    fixed_text = _engine_fix
