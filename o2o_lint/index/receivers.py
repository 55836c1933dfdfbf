"""Which model an expression of a module stands for: a small, local type inference.

On the stdlib ``ast`` of one module, :class:`ModelTypes` answers "is this expression an
instance of a model (or the model class, or one of its querysets), and of which one?",
from what Django makes of the indexed models:

* ``Model`` (a class the index knows as a model), ``get_user_model()``, swapper's
  ``load_model("app_label", "Model")``;
* ``Model(...)``, ``Model.objects.get(...)`` / ``.create()`` / ``.first()`` / ``[0]``,
  ``get_or_create(...)[0]`` and ``obj, created = ...get_or_create(...)``,
  ``get_object_or_404(Model, ...)``; querysets through ``Model.objects.filter(...)...``;
* ``for x in <queryset>``; parameters annotated with a model; ``self`` / ``cls`` in a
  model's methods; ``request.user`` as the user model (``AUTH_USER_MODEL``);
* forward relations (``invoice.company``), reverse one-to-one accessors and related
  managers (``company.invoice_set`` is a queryset of ``Invoice``);
* names assigned these, in a function or at module level, and ``self.x`` assigned them
  in the methods of a class.

Flow-insensitive and conservative: a name bound more than once to different things, or
once to anything unknown (an unannotated parameter, a ``with`` target, an unresolved
call), is unknown. Unknown is always a possible answer: rules decide what it means.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from typing import TYPE_CHECKING, ClassVar, NamedTuple

from o2o_lint.astutil import child_nodes, dotted_name
from o2o_lint.django_api import (
    QUERYSET_METHODS, RETURNS_INSTANCE, RETURNS_OBJECT, RETURNS_PAIR, with_async,
)
from o2o_lint.index.name_reads import ON_CLASS, ON_OBJECT, NameRead

if TYPE_CHECKING:
    from o2o_lint.index.model import ModelInfo, ProjectIndex

#: What an expression is: an instance, the class, a queryset (or manager), an ``(obj, created)`` pair.
OBJECT, CLASS, QUERYSET, PAIR = "object", "class", "queryset", "pair"
_INSTANCE_METHODS = with_async(RETURNS_INSTANCE) | RETURNS_OBJECT
_MANAGERS = frozenset({"objects", "_default_manager", "_base_manager"})
_USER_MODEL_FUNCTIONS = frozenset({"django.contrib.auth.get_user_model"})
_SWAPPER_LOAD_MODEL = "swapper.load_model"
_GET_OBJECT = frozenset({"django.shortcuts.get_object_or_404", "django.shortcuts.aget_object_or_404"})
_UNKNOWN = object()


class ModelType(NamedTuple):
    kind: str  # OBJECT, CLASS, QUERYSET or PAIR
    model: ModelInfo


_Scope = ast.AST  # a Module, FunctionDef or AsyncFunctionDef (or Lambda)
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


class ModelTypes:
    """The model types of one module's expressions (see the module docstring)."""

    def __init__(self, index: ProjectIndex, module: str, tree: ast.Module) -> None:
        self.index = index
        self.module = module
        self._scope_of: dict[int, _Scope] = {}
        self._parent_scope: dict[int, _Scope | None] = {id(tree): None}
        self._bindings: dict[int, dict[str, list[object]]] = defaultdict(lambda: defaultdict(list))
        self._self_attrs: dict[str, dict[str, list[object]]] = defaultdict(lambda: defaultdict(list))
        self._class_of_function: dict[int, str] = {}
        self._names: dict[tuple[int, str], ModelType | None] = {}
        self._busy: set[object] = set()
        self._collect(tree, tree, None)

    @classmethod
    def of(cls, index: ProjectIndex, module: str, tree: ast.Module) -> ModelTypes:
        """The types of *tree*, shared by every rule that asks about the same tree (the
        collection walks the whole module: on a 9,000-line test module, a second of CPU)."""
        last = cls._last
        if last is not None and last[0] is tree and last[1] is index and last[2] == module:
            return last[3]
        types = cls(index, module, tree)
        # one entry, holding the tree: an id() alone could be reused by the next file's tree
        cls._last = (tree, index, module, types)
        return types

    _last: ClassVar[tuple[ast.Module, ProjectIndex, str, ModelTypes] | None] = None

    # -- collection ------------------------------------------------------------------

    def _collect(self, node: ast.AST, scope: _Scope, class_name: str | None) -> None:
        for child in child_nodes(node):
            self._scope_of[id(child)] = scope
            if isinstance(child, _FUNCTIONS):
                self._parent_scope[id(child)] = scope
                self._bind_parameters(child, None)
                if not isinstance(child, ast.Lambda) and not isinstance(scope, ast.Module):
                    self._bind(scope, child.name, _UNKNOWN)
                    for decorator in child.decorator_list:
                        self._scope_of[id(decorator)] = scope
                        self._collect(decorator, scope, class_name)
                self._collect(child, child, None)
                continue
            if isinstance(child, ast.ClassDef):
                if not isinstance(scope, ast.Module):  # module-level names resolve through the index
                    self._bind(scope, child.name, _UNKNOWN)
                # a class body is no scope for its methods: they see the enclosing one
                self._collect_class(child, scope)
                continue
            self._record_binding(child, scope, class_name)
            self._collect(child, scope, class_name)

    def _collect_class(self, node: ast.ClassDef, scope: _Scope) -> None:
        qualified = f"{self.module}.{node.name}" if isinstance(scope, ast.Module) else None
        for child in node.body:
            self._scope_of[id(child)] = scope
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self._parent_scope[id(child)] = scope
                if qualified is not None:
                    self._class_of_function[id(child)] = qualified
                self._bind_parameters(child, qualified)
                for decorator in child.decorator_list:
                    self._scope_of[id(decorator)] = scope
                self._collect(child, child, None)
            else:
                # class-level statements: their names are class attributes, not the scope's
                for sub in ast.walk(child):
                    self._scope_of.setdefault(id(sub), scope)

    def _bind(self, scope: _Scope, name: str, value: object) -> None:
        self._bindings[id(scope)][name].append(value)

    def _bind_parameters(self, function: ast.AST, class_qualname: str | None) -> None:
        args = function.args  # type: ignore[attr-defined]
        positional = [*args.posonlyargs, *args.args]
        decorators = {dotted_name(d) for d in getattr(function, "decorator_list", ())}
        first_is_instance = class_qualname is not None and "staticmethod" not in decorators and positional
        for i, arg in enumerate([*positional, *args.kwonlyargs]):
            if i == 0 and first_is_instance:
                model = self.index.models.get(class_qualname or "")
                kind = CLASS if "classmethod" in decorators else OBJECT
                self._bind(function, arg.arg, ModelType(kind, model) if model is not None else _UNKNOWN)
            elif arg.annotation is not None:
                self._bind(function, arg.arg, ("annotation", arg.annotation))
            else:
                self._bind(function, arg.arg, _UNKNOWN)
        for extra in (args.vararg, args.kwarg):
            if extra is not None:
                self._bind(function, extra.arg, _UNKNOWN)

    def _record_binding(self, node: ast.AST, scope: _Scope, class_name: str | None) -> None:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if isinstance(node, ast.AnnAssign) and node.value is None:
                return
            for target in targets:
                self._assign(target, ("expr", node.value), scope)
        elif isinstance(node, ast.NamedExpr):
            self._assign(node.target, ("expr", node.value), scope)
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
            self._assign(node.target, ("item", node.iter), scope)
        elif isinstance(node, (ast.AugAssign,)):
            self._assign(node.target, _UNKNOWN, scope)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if item.optional_vars is not None:
                    self._assign(item.optional_vars, _UNKNOWN, scope)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            self._bind(scope, node.name, _UNKNOWN)
        elif isinstance(node, (ast.Import, ast.ImportFrom)) and not isinstance(scope, ast.Module):
            for alias in node.names:
                if isinstance(node, ast.ImportFrom) and alias.name != "*":
                    self._bind(scope, alias.asname or alias.name, ("import", self._imported(node, alias.name)))
                else:
                    self._bind(scope, (alias.asname or alias.name).partition(".")[0], _UNKNOWN)
        elif isinstance(node, (ast.Global, ast.Nonlocal, ast.Delete)):
            names = node.names if not isinstance(node, ast.Delete) else [
                t.id for t in node.targets if isinstance(t, ast.Name)]
            for name in names:
                self._bind(scope, name, _UNKNOWN)

    def _imported(self, node: ast.ImportFrom, name: str) -> str | None:
        module = node.module or ""
        if node.level:
            package = self.module.split(".")
            is_package = self.index.path_by_module.get(self.module, "").endswith("__init__.py")
            keep = len(package) - node.level + (1 if is_package else 0)
            if keep < 0:
                return None
            module = ".".join([*package[:keep], *([module] if module else [])])
        return self.index.canonical(f"{module}.{name}") if module else None

    def _assign(self, target: ast.AST, value: object, scope: _Scope) -> None:
        if isinstance(target, ast.Name):
            self._bind(scope, target.id, value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for i, element in enumerate(target.elts):
                self._assign(element, ("element", value, i) if not isinstance(element, ast.Starred) else _UNKNOWN, scope)
        elif isinstance(target, ast.Starred):
            self._assign(target.value, _UNKNOWN, scope)
        elif (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
              and target.value.id in ("self", "cls")):
            qualname = self._class_of_function.get(id(scope))
            if qualname is not None or not isinstance(scope, ast.Module):
                self._self_attrs[qualname or f"<{id(scope)}>"][target.attr].append((value, scope))

    # -- queries ---------------------------------------------------------------------

    def model_of(self, node: ast.expr) -> ModelType | None:
        """What *node* (an expression of the module) stands for, or None when unknown."""
        scope = self._scope_of.get(id(node))
        if scope is None:
            return None
        return self._type(node, scope)

    def read_on(self, read: NameRead) -> ModelInfo | None:
        """The model whose instances *read* (:mod:`o2o_lint.index.name_reads`) reads its
        name on: its receiver's model, then each relation of its lookup path; None when
        any step is unknown."""
        if read.receiver is None:
            return None
        found = self.model_of(read.receiver)
        expected = (OBJECT, CLASS) if read.receiver_is == ON_OBJECT else (
            (CLASS,) if read.receiver_is == ON_CLASS else (QUERYSET, CLASS))
        model = found.model if found is not None and found.kind in expected else None
        for step in read.path:
            if model is None:
                return None
            model = self.index.django.related_model(model, step)
        return model

    def model_in(self, node: ast.expr, scope: ast.AST) -> ModelType | None:
        """What *node*, an expression built apart from the tree (``ast.parse("request.user")``),
        stands for when written in *scope*: the module's tree or one of its functions; None
        when unknown, or when *scope* is not a scope of the tree."""
        if id(scope) not in self._parent_scope:
            return None
        return self._type(node, scope)

    def instance_model(self, node: ast.expr) -> ModelInfo | None:
        """The model *node* is an instance (or the class) of, or None."""
        found = self.model_of(node)
        return found.model if found is not None and found.kind in (OBJECT, CLASS) else None

    def _type(self, node: ast.expr, scope: _Scope) -> ModelType | None:
        if isinstance(node, ast.Name):
            return self._name(node.id, scope)
        if isinstance(node, ast.Await):
            return self._type(node.value, scope)
        if isinstance(node, ast.Attribute):
            return self._attribute(node, scope)
        if isinstance(node, ast.Subscript):
            inner = self._type(node.value, scope)
            if inner is None:
                return None
            if inner.kind == QUERYSET:
                return inner._replace(kind=OBJECT) if not isinstance(node.slice, ast.Slice) else inner
            if inner.kind == PAIR and isinstance(node.slice, ast.Constant) and node.slice.value == 0:
                return inner._replace(kind=OBJECT)
            return None
        if isinstance(node, ast.Call):
            return self._call(node, scope)
        return None

    def _call(self, node: ast.Call, scope: _Scope) -> ModelType | None:
        func = node.func
        name = dotted_name(func)
        if name is not None:
            qualified = self._resolve(name, scope)
            if qualified in _USER_MODEL_FUNCTIONS:
                user = self.user_model()
                return ModelType(CLASS, user) if user is not None else None
            if qualified == _SWAPPER_LOAD_MODEL:
                model = self._swapper_model(node)
                return ModelType(CLASS, model) if model is not None else None
            if qualified in _GET_OBJECT and node.args:
                inner = self._type(node.args[0], scope)
                return ModelType(OBJECT, inner.model) if inner is not None and inner.kind in (CLASS, QUERYSET) else None
        if isinstance(func, ast.Attribute):
            inner = self._type(func.value, scope)
            if inner is not None and inner.kind == QUERYSET:
                if func.attr in _INSTANCE_METHODS:
                    return inner._replace(kind=OBJECT)
                if func.attr in RETURNS_PAIR:
                    return inner._replace(kind=PAIR)
                if func.attr in QUERYSET_METHODS or func.attr == "all":
                    return inner
                return None
        callee = self._type(func, scope)
        if callee is not None and callee.kind == CLASS:
            return callee._replace(kind=OBJECT)
        return None

    def _attribute(self, node: ast.Attribute, scope: _Scope) -> ModelType | None:
        if node.attr == "user" and self._is_request(node.value):
            user = self.user_model()
            return ModelType(OBJECT, user) if user is not None else None
        if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
            found = self._self_attribute(node.value.id, node.attr, scope)
            if found is not None:
                return found
        inner = self._type(node.value, scope)
        if inner is None:
            return None
        django = self.index.django
        if inner.kind == CLASS and node.attr in _MANAGERS:
            return inner._replace(kind=QUERYSET)
        if inner.kind != OBJECT:
            return None
        relation = django.single_valued(inner.model).get(node.attr)
        if relation is not None:
            return ModelType(OBJECT, relation.target) if relation.target is not None else None
        reverse = django.reverse_one_to_one(inner.model).get(node.attr)
        if reverse is not None:
            return ModelType(OBJECT, reverse.model)
        manager = django.managers(inner.model).get(node.attr)
        if manager is not None and manager.related is not None:
            return ModelType(QUERYSET, manager.related)
        return None

    @staticmethod
    def _is_request(node: ast.expr) -> bool:
        return (isinstance(node, ast.Name) and node.id == "request") or (
            isinstance(node, ast.Attribute) and node.attr == "request"
            and isinstance(node.value, ast.Name) and node.value.id == "self")

    def _self_attribute(self, receiver: str, attr: str, scope: _Scope) -> ModelType | None:
        qualname = self._class_of_function.get(id(scope))
        if qualname is None:
            return None
        values = self._self_attrs.get(qualname, {}).get(attr)
        if not values:
            return None
        key = (qualname, attr)
        if key in self._busy:  # `self.a = self.b.x` and `self.b = self.a.y`: a cycle, unknown
            return None
        self._busy.add(key)
        try:
            return self._agree([self._value(value, where) for value, where in values])
        finally:
            self._busy.discard(key)

    def _name(self, name: str, scope: _Scope) -> ModelType | None:
        current: _Scope | None = scope
        while current is not None:
            bindings = self._bindings.get(id(current), {}).get(name)
            if bindings:
                key = (id(current), name)
                if key in self._names:
                    return self._names[key]
                if key in self._busy:
                    return None
                self._busy.add(key)
                try:
                    found = self._agree([self._value(value, current) for value in bindings])
                finally:
                    self._busy.discard(key)
                self._names[key] = found
                return found
            current = self._parent_scope.get(id(current))
        qualified = self.index.resolve(self.module, name)
        model = self.index.models.get(qualified) if qualified else None
        return ModelType(CLASS, model) if model is not None else None

    @staticmethod
    def _agree(values: list[ModelType | None]) -> ModelType | None:
        first = values[0] if values else None
        if first is None or any(v is None or v.kind != first.kind or v.model.qualname != first.model.qualname
                                for v in values):
            return None
        return first

    def _value(self, value: object, scope: _Scope) -> ModelType | None:
        if value is _UNKNOWN or not isinstance(value, tuple):
            return value if isinstance(value, ModelType) else None
        tag = value[0]
        if tag == "expr":
            return self._type(value[1], scope)
        if tag == "item":
            inner = self._type(value[1], scope)
            return inner._replace(kind=OBJECT) if inner is not None and inner.kind == QUERYSET else None
        if tag == "element":
            inner = self._value(value[1], scope)
            return inner._replace(kind=OBJECT) if inner is not None and inner.kind == PAIR and value[2] == 0 else None
        if tag == "import":
            model = self.index.models.get(value[1]) if value[1] else None
            return ModelType(CLASS, model) if model is not None else None
        if tag == "annotation":
            return self._annotation(value[1], scope)
        return None

    def _annotation(self, node: ast.expr, scope: _Scope) -> ModelType | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                node = ast.parse(node.value, mode="eval").body
            except SyntaxError:
                return None
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            sides = [s for s in (node.left, node.right) if not (isinstance(s, ast.Constant) and s.value is None)]
            if len(sides) != 1:
                return None
            node = sides[0]
        name = dotted_name(node)
        if name is None:
            return None
        qualified = self._resolve(name, scope)
        model = self.index.models.get(qualified) if qualified else None
        return ModelType(OBJECT, model) if model is not None else None

    def _resolve(self, dotted: str, scope: _Scope) -> str | None:
        head = dotted.partition(".")[0]
        current: _Scope | None = scope
        while current is not None:
            bindings = self._bindings.get(id(current), {}).get(head) if not isinstance(current, ast.Module) else None
            if bindings:  # a local name shadows the module's
                if len(bindings) == 1 and isinstance(bindings[0], tuple) and bindings[0][0] == "import" and bindings[0][1]:
                    rest = dotted.partition(".")[2]
                    return f"{bindings[0][1]}.{rest}" if rest else bindings[0][1]
                return None
            current = self._parent_scope.get(id(current))
        return self.index.resolve(self.module, dotted)

    def _swapper_model(self, node: ast.Call) -> ModelInfo | None:
        """The model ``swapper.load_model("app_label", "Model")`` loads: the one its
        setting names, else that one (literal arguments only; ``required=`` and
        ``require_ready=`` change nothing about which)."""
        arguments = list(node.args[:2])
        for keyword in node.keywords:
            if keyword.arg in ("app_label", "model") and len(arguments) == ("app_label", "model").index(keyword.arg):
                arguments.append(keyword.value)
            elif keyword.arg not in ("required", "require_ready"):
                return None
        literals = [a.value for a in arguments if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        if len(arguments) != 2 or len(literals) != 2 or len(node.args) > 4:
            return None
        label = self.index.swapped_label(literals[0], literals[1])
        return self.index.model_for_label(label) if label is not None else None

    def user_model(self) -> ModelInfo | None:
        """The model ``AUTH_USER_MODEL`` names (``auth.User`` by default)."""
        value = self.index.settings.get("AUTH_USER_MODEL", "auth.User")
        app_label, _, name = value.rpartition(".")
        found = self.index.models_by_key.get(f"{app_label}.{name}")
        if found is None:
            found = next((m for m in self.index.models.values()
                          if m.app_label.lower() == app_label.lower() and m.name.lower() == name.lower()), None)
        return found
