"""Unsaved instances that come from elsewhere: a helper function's or a method's result, a pytest fixture.

A method of a module-level class (``self.build_place()``) is summarised as a helper when no
subclass in the project may resolve it elsewhere (:class:`ClassTree`).

A module-level helper (``def _draft(data): form = ArticleForm(data); return
form.save(commit=False)``) *hands over* an unsaved instance when, analysed on its own,
every path ends in a ``return`` of one instance it built and that is unsaved on every
path there. A pytest fixture does when its body ``return``\\ s or ``yield``\\ s one such
instance; a test then receives it through its parameter of the fixture's name.

Fixtures are resolved as pytest resolves them, by name: the test module first, then
the ``conftest.py`` files of its directory and of every directory above it up to the
project root, each with the names it imports. Silent (no instance handed over) when
anything could save the instance before the test body runs or hand another object:
a fixture of another scope than ``function``, a ``name=``, ``params=`` or ``autouse``
fixture, another fixture that takes the same name as a parameter (pytest gives both the
same object, and that fixture may save it), a ``parametrize`` of the name, a test method
of a class that has bases (unittest classes get no fixtures) or defines the name.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import libcst as cst

from o2o_lint.index.model import ProjectIndex
from o2o_lint.rules.oto003_unsaved_instance.flow import (
    UNSAVED,
    FunctionAnalysis,
    Handed,
    State,
    target_names,
)

#: How deep helpers and fixtures are followed into each other.
MAX_DEPTH = 3


def bound_names(function: cst.FunctionDef) -> set[str]:
    """Names a function binds (parameters, assignments, loops, imports, ``with ... as``)."""
    found: set[str] = set()
    stack: list[cst.CSTNode] = [function.params, function.body]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Param):
            found.add(node.name.value)
        elif isinstance(node, (cst.AssignTarget, cst.AnnAssign, cst.AugAssign)):
            found.update(target_names(node.target))
        elif isinstance(node, (cst.For, cst.CompFor)):
            found.update(target_names(node.target))
        elif isinstance(node, cst.NamedExpr):
            found.update(target_names(node.target))
        elif isinstance(node, cst.AsName):
            found.update(target_names(node.name))
        elif isinstance(node, cst.ImportAlias):
            found.add(node.evaluated_alias or node.evaluated_name.split(".")[0])
        elif isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            found.add(node.name.value)
            continue
        stack.extend(node.children)
    return found


def _decorator_call(decorator: cst.Decorator) -> tuple[str | None, cst.Call | None]:
    expression = decorator.decorator
    call = expression if isinstance(expression, cst.Call) else None
    target = call.func if call is not None else expression
    if isinstance(target, cst.Attribute):
        return target.attr.value, call
    if isinstance(target, cst.Name):
        return target.value, call
    return None, call


def fixture_of(function: cst.FunctionDef) -> bool | None:
    """True: a plain function-scoped fixture; False: a fixture the analysis does not follow;
    None: not a fixture."""
    for decorator in function.decorators:
        name, call = _decorator_call(decorator)
        if name != "fixture":
            continue
        if call is None:
            return True
        for arg in call.args:
            if arg.keyword is None:
                return False  # pytest.fixture("module"): an old positional scope
            keyword = arg.keyword.value
            if keyword == "scope" and isinstance(arg.value, cst.SimpleString) and arg.value.evaluated_value == "function":
                continue
            return False  # scope, params, autouse, name, ids...
        return True
    return None


class ModuleFunctions:
    """The top-level functions of one module: helpers by name, fixtures by name."""

    def __init__(self, module: cst.Module, name: str, is_package: bool) -> None:
        self.module = module
        self.name = name
        self.is_package = is_package
        self.functions: dict[str, cst.FunctionDef | None] = {}  # None: defined twice
        self.fixtures: dict[str, cst.FunctionDef | None] = {}  # None: a fixture not followed
        #: names every fixture of the module takes as parameters
        self.fixture_parameters: set[str] = set()
        for statement in module.body:
            if not isinstance(statement, cst.FunctionDef):
                continue
            name = statement.name.value
            self.functions[name] = None if name in self.functions else statement
            kind = fixture_of(statement)
            if kind is not None:
                self.fixtures[name] = statement if kind and name not in self.fixtures else None
                self.fixture_parameters.update(p.name.value for p in statement.params.params)


class ClassTree:
    """The project's module-level classes and their bases (a project view): whether a method
    called on ``self`` may run another class's definition than the one the class holds."""

    def __init__(self, index: ProjectIndex) -> None:
        self.methods: dict[str, frozenset[str]] = {}
        self.parents: dict[str, list[str]] = {}
        for facts in index.modules.values():
            module = facts["module"]
            for class_facts in facts["classes"]:
                qualname = f"{module}.{class_facts['name']}"
                if qualname in self.methods:  # defined twice: both unknown
                    self.parents[qualname] = ["<twice>"]
                    continue
                self.methods[qualname] = frozenset(class_facts["methods"])
                self.parents[qualname] = [index.resolve(module, base) or base for base in class_facts["bases"]]
        self._ancestors: dict[str, frozenset[str]] = {}

    def ancestors(self, qualname: str) -> frozenset[str]:
        """*qualname* and every class it derives from, project classes or not (names as resolved)."""
        found = self._ancestors.get(qualname)
        if found is None:
            self._ancestors[qualname] = frozenset({qualname})  # cycles: stop here
            found = frozenset({qualname}).union(*(self.ancestors(p) for p in self.parents.get(qualname, ())))
            self._ancestors[qualname] = found
        return found

    def may_override(self, qualname: str, method: str) -> bool:
        """True when some subclass of *qualname* in the project may resolve *method* elsewhere:
        it, or a class it derives from outside *qualname*'s own ancestry, defines it, or is
        not a project class (its methods are unknown)."""
        own = self.ancestors(qualname)
        if self.parents.get(qualname) == ["<twice>"]:
            return True
        for other in self.methods:
            if other == qualname or qualname not in self.ancestors(other):
                continue
            for ancestor in self.ancestors(other) - own:
                if ancestor not in self.methods or method in self.methods[ancestor]:
                    return True
        return False


class HandedOver:
    """What the helpers and fixtures of a file hand over, computed on demand and cached."""

    def __init__(
        self,
        index: ProjectIndex,
        make_analysis: Callable[..., FunctionAnalysis],
        here: ModuleFunctions,
        path: str,
    ) -> None:
        self.index = index
        self.make_analysis = make_analysis
        self.here = here
        self.path = path
        self._helpers: dict[tuple[str, str], Handed | None] = {}
        self._scopes: list[ModuleFunctions] | None = None
        self._active: set[tuple[str, str]] = set()
        self._module_attributes: set[str] | None = None  # attribute names the module assigns
        self._class_tree: ClassTree | None = None

    # -- helpers ---------------------------------------------------------------------

    def helper(self, name: str, where: ModuleFunctions | None = None, depth: int = 0) -> Handed | None:
        """What calling the module-level function *name* returns, when it is always one unsaved instance."""
        where = where or self.here
        function = where.functions.get(name)
        if function is None or function.decorators or function.asynchronous is not None:
            return None
        return self._summary(function, where, depth, is_fixture=False)

    def _summary(self, function: cst.FunctionDef, where: ModuleFunctions, depth: int, *, is_fixture: bool) -> Handed | None:
        key = (where.name, function.name.value + ("()" if not is_fixture else ""))
        if key in self._helpers:
            return self._helpers[key]
        if key in self._active or depth > MAX_DEPTH or not isinstance(function.body, cst.IndentedBlock):
            return None
        self._active.add(key)
        try:
            result = self._analyse(function, where, depth, is_fixture=is_fixture)
        finally:
            self._active.discard(key)
        self._helpers[key] = result
        return result

    def _analyse(self, function: cst.FunctionDef, where: ModuleFunctions, depth: int, *, is_fixture: bool) -> Handed | None:
        analysis: FunctionAnalysis = self.make_analysis(
            module=where.name, is_package=where.is_package, local_names=bound_names(function),
            handed_by=lambda called: self.helper(called, where, depth + 1),
        )
        return self._returned(analysis, function, is_fixture=is_fixture)

    @staticmethod
    def _returned(analysis: FunctionAnalysis, function: cst.FunctionDef, *, is_fixture: bool) -> Handed | None:
        """Run *function* silently: the instance every path returns (or yields), if one unsaved."""
        analysis.reporting = False
        results: list[tuple[frozenset[int], State]] = []
        analysis.on_return = lambda value, state: results.append((value, state.copy()))
        end = analysis.run(function.body.body, function.body)  # type: ignore[union-attr]
        if not results or (end is not None and not is_fixture):
            return None  # a path that returns nothing, or None
        if is_fixture and sum(1 for _ in _yields(function)) > 1:
            return None
        handed: Handed | None = None
        for value, state in results:
            if len(value) != 1:
                return None
            oid = next(iter(value))
            obj = analysis.objects.get(oid)
            if obj is None or obj.kind != "new" or obj.model is None or state.status.get(oid) != UNSAVED:
                return None
            this = Handed(obj.model, obj.remedy)
            if handed is not None and handed != this:
                return None
            handed = this
        return handed

    def method(self, klass: cst.ClassDef, name: str, depth: int = 0) -> Handed | None:
        """What ``self.<name>()`` returns in a method of the module-level class *klass*, when it
        is always one unsaved instance: the class defines *name* once, as a plain method (no
        decorator, not ``async``), assigns no attribute of that name, and no subclass in the
        project may resolve it elsewhere."""
        where = self.here
        key = (where.name, f"{klass.name.value}.{name}()")
        if key in self._helpers:
            return self._helpers[key]
        found = [s for s in klass.body.body if isinstance(s, cst.FunctionDef) and s.name.value == name]  # type: ignore[union-attr]
        if len(found) != 1:
            return None
        function = found[0]
        if function.decorators or function.asynchronous is not None or not function.params.params:
            return None
        if self._module_attributes is None:
            self._module_attributes = _assigned_attributes(where.module)
        if name in self._module_attributes:
            return None  # ``self.build = ...`` may replace the method on the instance
        qualname = f"{where.name}.{klass.name.value}"
        # text that differs from disk (an editor buffer, a fix pass) may change the classes: the
        # cached view holds the saved facts, so build one on the overlaid facts then
        if self._class_tree is None:
            self._class_tree = ClassTree(self.index) if self.index.overlaid is not None else self.index.view(ClassTree)
        if self._class_tree.may_override(qualname, name):
            self._helpers[key] = None
            return None
        if key in self._active or depth > MAX_DEPTH or not isinstance(function.body, cst.IndentedBlock):
            return None
        self._active.add(key)
        try:
            analysis: FunctionAnalysis = self.make_analysis(
                module=where.name, is_package=where.is_package, local_names=bound_names(function),
                handed_by=lambda called: self.helper(called, where, depth + 1),
                self_name=function.params.params[0].name.value,
                method_handed_by=lambda called: self.method(klass, called, depth + 1),
            )
            result = self._returned(analysis, function, is_fixture=False)
        finally:
            self._active.discard(key)
        self._helpers[key] = result
        return result

    # -- fixtures --------------------------------------------------------------------

    def fixture(self, name: str) -> Handed | None:
        """The unsaved instance the fixture *name* gives a test of this file, if any."""
        scopes = self._fixture_scopes()
        if any(name in scope.fixture_parameters for scope in scopes):
            return None  # another fixture receives the same object and may save it
        for scope in scopes:
            if name in scope.fixtures:
                function = scope.fixtures[name]
                if function is None or function.asynchronous is not None:
                    return None
                return self._summary(function, scope, 0, is_fixture=True)
        return None

    def _fixture_scopes(self) -> list[ModuleFunctions]:
        if self._scopes is None:
            self._scopes = [self.here, *self._conftests()]
        return self._scopes

    def _conftests(self) -> Iterator[ModuleFunctions]:
        """The indexed ``conftest.py`` files of the file's directory and those above it, nearest first."""
        directory = os.path.dirname(os.path.abspath(self.path))
        while True:
            path = os.path.join(directory, "conftest.py")
            if path != os.path.abspath(self.path):
                loaded = self._load(path)
                if loaded is not None:
                    yield loaded
                    yield from self._imported(path, loaded)
            parent = os.path.dirname(directory)
            if parent == directory:
                return
            directory = parent

    def _imported(self, path: str, conftest: ModuleFunctions) -> Iterator[ModuleFunctions]:
        """The modules a conftest imports fixtures from (``from .fixtures import place``, ``*``)."""
        facts = self.index.facts_by_path.get(path)
        if facts is None:
            return
        modules = {target.rpartition(".")[0] for target in facts["imports"].values()}
        modules.update(facts["star_imports"])
        for module in sorted(modules):
            other = self.index.path_by_module.get(module)
            if other is not None:
                loaded = self._load(other)
                if loaded is not None:
                    yield loaded

    def _load(self, path: str) -> ModuleFunctions | None:
        facts = self.index.facts_by_path.get(path)
        if facts is None:
            return None
        text = self.index.source_text(path)
        if text is None:
            return None
        try:
            module = cst.parse_module(text)
        except Exception:  # noqa: BLE001 - a file LibCST cannot read hands nothing over
            return None
        return ModuleFunctions(module, facts["module"], bool(facts.get("is_package")))


def _assigned_attributes(node: cst.CSTNode) -> set[str]:
    """Attribute names *node* assigns anywhere (``self.build = ...``, ``obj.build: T = ...``)."""
    found: set[str] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, (cst.AssignTarget, cst.AnnAssign, cst.AugAssign)):
            target = current.target
            if isinstance(target, cst.Attribute):
                found.add(target.attr.value)
        stack.extend(current.children)
    return found


def _yields(function: cst.FunctionDef) -> Iterator[cst.Yield]:
    stack: list[cst.CSTNode] = [function.body]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Yield):
            yield node
        elif isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            continue
        stack.extend(node.children)


def test_parameters(function: cst.FunctionDef, klass: cst.ClassDef | None) -> list[cst.Param]:
    """The parameters of a pytest test function that pytest fills with fixtures."""
    if not function.name.value.startswith("test") or function.asynchronous is not None:
        return []
    params = list(function.params.params)
    if klass is not None:
        if klass.bases or not klass.name.value.startswith("Test") or not params:
            return []  # unittest classes get no fixtures
        params = params[1:]
        methods = [s for s in klass.body.body if isinstance(s, cst.FunctionDef)]  # type: ignore[union-attr]
        # a class fixture of that name, or one receiving the same object (it may save it)
        taken = {m.name.value for m in methods} | {
            p.name.value for m in methods if fixture_of(m) is not None for p in m.params.params}
        params = [p for p in params if p.name.value not in taken]
    parametrized = " ".join(
        cst.Module([]).code_for_node(d) for d in function.decorators if "parametrize" in cst.Module([]).code_for_node(d)
    )
    return [p for p in params if p.default is None and p.name.value not in parametrized]
