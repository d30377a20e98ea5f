"""The code server: which module object is current for a name, and swapping it safely.

Processes look their callback module up here by name at every message, so ``install``
of a new module object takes effect at their next message (after a resume). Every
mutating call returns an :class:`Undo` that puts everything back.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from ..errors import CodeLoadError

_lock = threading.RLock()


@dataclass
class Undo:
    """Reverses one code-server change; ``undo()`` is idempotent."""

    description: str
    _steps: list[Callable[[], None]] = field(default_factory=list, repr=False)

    def undo(self) -> None:
        """Put back what the change replaced (latest step first)."""
        with _lock:
            while self._steps:
                self._steps.pop()()


@dataclass(frozen=True)
class PreparedModule:
    """A module compiled and executed into a fresh module object, not yet current."""

    name: str
    path: Path
    module: ModuleType


def current(name: str) -> ModuleType:
    """The current module object for ``name`` (imported on first use).

    A module another thread is still importing for the first time is not handed out
    half-built: the import system's lock makes this call wait for it to finish.
    """
    mod = sys.modules.get(name)
    if mod is not None and not getattr(getattr(mod, "__spec__", None), "_initializing", False):
        return mod
    try:
        return importlib.import_module(name)
    except Exception as exc:
        raise CodeLoadError(f"cannot import module {name!r}: {exc!r}") from exc


def find_source(name: str, path: Path) -> tuple[Path, bool]:
    """The source file of module ``name`` under code dir ``path`` (or ``path`` itself if it
    is a file), and whether it is a package."""
    if path.is_file():
        return path, path.name == "__init__.py"
    rel = Path(*name.split("."))
    package = path / rel / "__init__.py"
    if package.is_file():
        return package, True
    plain = (path / rel).with_suffix(".py")
    if plain.is_file():
        return plain, False
    raise CodeLoadError(f"module {name!r} not found in {path} (looked for {plain} and {package})")


def prepare(name: str, path: Path) -> PreparedModule:
    """Compile and execute module ``name`` from code dir (or file) ``path`` into a fresh
    module object. Nothing current changes; raises CodeLoadError if it fails."""
    source, is_package = find_source(name, Path(path))
    spec = importlib.util.spec_from_file_location(
        name, source, submodule_search_locations=[str(source.parent)] if is_package else None
    )
    if spec is None or spec.loader is None:
        raise CodeLoadError(f"cannot load module {name!r} from {source}")
    module = importlib.util.module_from_spec(spec)
    with _lock:
        # Running the module's top level may look it up in sys.modules (dataclasses do).
        # If an old version is current it stays there: running processes must never see
        # a half-executed new module. A brand-new module is registered only during exec.
        fresh = name not in sys.modules
        if fresh:
            sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            raise CodeLoadError(f"cannot load module {name!r} from {source}: {exc!r}") from exc
        finally:
            if fresh and sys.modules.get(name) is module:
                del sys.modules[name]
    return PreparedModule(name, source, module)


def _set_parent_attr(name: str, value: ModuleType | None, undo: Undo) -> None:
    parent_name, _, child = name.rpartition(".")
    parent = sys.modules.get(parent_name) if parent_name else None
    if parent is None:
        return
    missing = object()
    before = parent.__dict__.get(child, missing)
    if value is None:
        parent.__dict__.pop(child, None)
    else:
        setattr(parent, child, value)

    def back() -> None:
        if before is missing:
            parent.__dict__.pop(child, None)
        else:
            setattr(parent, child, before)

    undo._steps.append(back)


def _rebind_references(old: ModuleType, new: ModuleType, undo: Undo) -> None:
    """Point globals of loaded modules that hold ``old`` at ``new``."""
    changed: list[tuple[dict[str, object], str]] = []
    for mod in sys.modules.copy().values():
        namespace = getattr(mod, "__dict__", None)
        if not isinstance(namespace, dict) or mod is new:
            continue
        for key, value in list(namespace.items()):
            if value is old:
                namespace[key] = new
                changed.append((namespace, key))

    def back() -> None:
        for namespace, key in changed:
            if namespace.get(key) is new:
                namespace[key] = old

    undo._steps.append(back)


def install(prepared: PreparedModule) -> Undo:
    """Make a prepared module current: sys.modules, its package's attribute, and every
    reference to the old module object held in other modules' globals."""
    name, new = prepared.name, prepared.module
    undo = Undo(f"install {name} from {prepared.path}")
    with _lock:
        old = sys.modules.get(name)
        sys.modules[name] = new

        def back() -> None:
            if old is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = old

        undo._steps.append(back)
        _set_parent_attr(name, new, undo)
        if old is not None:
            # Submodules of a replaced package stay reachable as attributes.
            prefix = name + "."
            for sub_name, sub in sys.modules.copy().items():
                if sub_name.startswith(prefix) and "." not in sub_name[len(prefix) :]:
                    child = sub_name[len(prefix) :]
                    if child not in new.__dict__:
                        setattr(new, child, sub)
            _rebind_references(old, new, undo)
    return undo


def remove(name: str) -> Undo:
    """Drop a module from sys.modules and from its package's attributes."""
    undo = Undo(f"remove {name}")
    with _lock:
        old = sys.modules.pop(name, None)
        if old is None:
            return undo

        def back() -> None:
            sys.modules[name] = old

        undo._steps.append(back)
        _set_parent_attr(name, None, undo)
    return undo


def switch_path(old: Path | None, new: Path | None) -> Undo:
    """Replace code dir ``old`` on sys.path by ``new`` (same position; either may be None
    to only add or only remove), and invalidate import caches."""
    undo = Undo(f"switch_path {old} -> {new}")
    with _lock:
        before = list(sys.path)
        old_s = str(old) if old is not None else None
        new_s = str(new) if new is not None else None
        index = sys.path.index(old_s) if old_s is not None and old_s in sys.path else None
        if old_s is not None:
            sys.path[:] = [p for p in sys.path if p != old_s]
            sys.path_importer_cache.pop(old_s, None)
        if new_s is not None and new_s not in sys.path:
            sys.path.insert(index if index is not None else len(sys.path), new_s)
        importlib.invalidate_caches()

        def back() -> None:
            sys.path[:] = before
            if new_s is not None:
                sys.path_importer_cache.pop(new_s, None)
            importlib.invalidate_caches()

        undo._steps.append(back)
    return undo
