"""What a module's source defines and names, found statically with `ast` (never imported)."""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import CodeType

from primes_build.errors import BuildError

CALLBACKS = frozenset({"handle_call", "handle_cast", "handle_info", "handle_event"})
_STARTERS = frozenset({"start_server", "start_statem"})


@dataclass(frozen=True)
class FromImport:
    """`from <source> import <name>` (source resolved to an absolute module name)."""

    source: str
    name: str
    line: int


@dataclass(frozen=True)
class ModuleFacts:
    """The facts about one module the upgrade planner uses."""

    name: str
    callback_refs: frozenset[str]
    """Module names this module passes as a process's callback module (or a ChildSpec start)."""
    is_callback: bool
    """It defines handle_call/handle_cast/handle_info/handle_event at top level."""
    defines_code_change: bool
    from_imports: tuple[FromImport, ...]
    class_fields: Mapping[str, frozenset[str]]
    """Top-level classes with their field names (annotations, __slots__, self.x in __init__,
    namedtuple fields)."""
    handlers: Mapping[str, str] = field(default_factory=dict)
    """Top-level handle_* callbacks, each with a digest of its code (not of its lines)."""
    closures: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Functions defined inside functions, by qualified name, with their free variables."""
    layouts: Mapping[str, str] = field(default_factory=dict)
    """Classes (nested ones too), by qualified name, with their bases, metaclass and
    __slots__ as written."""


def analyse(name: str, source: bytes, *, is_package: bool, origin: str) -> ModuleFacts:
    """Parse `source` (module `name`); a syntax error is a BuildError naming the module."""
    try:
        tree = ast.parse(source, filename=name)
    except (SyntaxError, ValueError) as e:
        line = getattr(e, "lineno", None)
        msg = getattr(e, "msg", str(e))
        path = name.replace(".", "/") + ("/__init__.py" if is_package else ".py")
        raise BuildError(
            f"cannot parse module {name} ({origin}): {msg}; fix its syntax", file=path, line=line
        ) from None
    top = {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    package = name if is_package else name.rpartition(".")[0]
    return ModuleFacts(
        name=name,
        callback_refs=frozenset(_callback_refs(tree, name)),
        is_callback=bool(top & CALLBACKS),
        defines_code_change="code_change" in top,
        from_imports=tuple(_from_imports(tree, package)),
        class_fields=_classes(tree),
        handlers=_handlers(tree),
        closures=_closures(tree, name),
        layouts=_layouts(tree.body, ""),
    )


def _closures(tree: ast.Module, name: str) -> dict[str, tuple[str, ...]]:
    """Each nested function's free variables, as the compiler sees them."""
    try:
        top = compile(tree, name, "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return {}
    found: dict[str, tuple[str, ...]] = {}
    stack = [top]
    while stack:
        code = stack.pop()
        for const in code.co_consts:
            if isinstance(const, CodeType):
                if "<locals>" in const.co_qualname and const.co_freevars:
                    found[const.co_qualname] = const.co_freevars
                stack.append(const)
    return found


def _slots(value: ast.expr) -> str:
    """`__slots__` as written, its names sorted when they are literal (order is no layout
    change a running node cares about)."""
    try:
        names = ast.literal_eval(value)
    except ValueError:
        return ast.unparse(value)
    if isinstance(names, str):
        return repr((names,))
    if isinstance(names, list | tuple) and all(isinstance(n, str) for n in names):
        return repr(tuple(sorted(names)))
    return ast.unparse(value)


def _layouts(body: list[ast.stmt], prefix: str) -> dict[str, str]:
    """Bases, keywords (metaclass) and __slots__ of each class, nested classes included."""
    found: dict[str, str] = {}
    for node in body:
        if not isinstance(node, ast.ClassDef):
            continue
        name = prefix + node.name
        slots = [
            _slots(n.value)
            for n in node.body
            if isinstance(n, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "__slots__" for t in n.targets)
        ]
        bases = ", ".join(ast.unparse(b) for b in [*node.bases, *node.keywords])
        found[name] = f"({bases})" + (f" __slots__ = {slots[-1]}" if slots else "")
        found.update(_layouts(node.body, name + "."))
    return found


def _handlers(tree: ast.Module) -> dict[str, str]:
    """Each top-level callback's name and a digest of its AST (moving it changes nothing)."""
    return {
        node.name: hashlib.sha256(ast.dump(node).encode()).hexdigest()
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in CALLBACKS
    }


def _callback_refs(tree: ast.Module, own: str) -> set[str]:
    refs: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        callee = _callee(node.func)
        if (callee[-1:] and callee[-1] in _STARTERS) or callee[-2:] == ("supervisor", "start"):
            arg = _arg(node, 0, "module")
            if arg is not None:
                refs.add(_literal_module(arg, own) or "")
        elif callee[-1:] == ("ChildSpec",):
            start = _arg(node, 1, "start")
            if isinstance(start, ast.Tuple) and start.elts:
                refs.add(_literal_module(start.elts[0], own) or "")
    refs.discard("")
    return refs


def _callee(func: ast.expr) -> tuple[str, ...]:
    parts: list[str] = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        parts.append(func.id)
    return tuple(reversed(parts))


def _arg(call: ast.Call, position: int, keyword: str) -> ast.expr | None:
    for kw in call.keywords:
        if kw.arg == keyword:
            return kw.value
    return call.args[position] if len(call.args) > position else None


def _literal_module(node: ast.expr, own: str) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name) and node.id == "__name__":
        return own
    return None


def _from_imports(tree: ast.Module, package: str) -> list[FromImport]:
    found: list[FromImport] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom):
            continue
        source = _resolve(node.module, node.level, package)
        if source is None:
            continue
        found.extend(FromImport(source, alias.name, node.lineno) for alias in node.names)
    return found


def _resolve(module: str | None, level: int, package: str) -> str | None:
    if level == 0:
        return module
    parts = package.split(".") if package else []
    if level - 1 > len(parts):
        return None
    base = parts[: len(parts) - (level - 1)]
    if module:
        base.append(module)
    return ".".join(base) or None


def _classes(tree: ast.Module) -> dict[str, frozenset[str]]:
    classes: dict[str, frozenset[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            classes[node.name] = frozenset(_class_fields(node))
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
            if isinstance(target, ast.Name) and isinstance(value, ast.Call):
                fields = _namedtuple_fields(value)
                if fields is not None:
                    classes[target.id] = frozenset(fields)
    return classes


def _class_fields(cls: ast.ClassDef) -> set[str]:
    fields: set[str] = set()
    for node in cls.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            if "ClassVar" not in ast.unparse(node.annotation):
                fields.add(node.target.id)
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__slots__" for t in node.targets
        ):
            fields.update(_strings(node.value))
        elif isinstance(node, ast.FunctionDef) and node.name == "__init__":
            for sub in ast.walk(node):
                targets = sub.targets if isinstance(sub, ast.Assign) else []
                if isinstance(sub, ast.AnnAssign):
                    targets = [sub.target]
                for t in targets:
                    if isinstance(t, ast.Attribute) and _is_self(t.value):
                        fields.add(t.attr)
    return fields


def _is_self(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id == "self"


def _namedtuple_fields(call: ast.Call) -> list[str] | None:
    if _callee(call.func)[-1:] not in (("namedtuple",), ("NamedTuple",)) or len(call.args) < 2:
        return None
    spec = call.args[1]
    if isinstance(spec, ast.Constant) and isinstance(spec.value, str):
        return spec.value.replace(",", " ").split()
    if isinstance(spec, ast.List | ast.Tuple):
        names = []
        for elt in spec.elts:
            if isinstance(elt, ast.Tuple) and elt.elts:
                elt = elt.elts[0]
            if isinstance(elt, ast.Constant) and isinstance(elt.value, str):
                names.append(elt.value)
        return names
    return None


def _strings(node: ast.expr) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return [
            e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)
        ]
    return []
