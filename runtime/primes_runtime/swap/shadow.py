"""Import a distribution's modules together from one code dir, resolved only against each other.

While it runs, ``sys.modules`` shows none of the distribution's current modules and a
finder first on ``sys.meta_path`` serves the distribution's top-level names from the new code
dir only, so ``from .core import encode`` binds the new ``core`` and a submodule only the new
version has is found in the new dir. Afterwards ``sys.modules`` is exactly as it was. The
import system's lock is held throughout, so another thread that imports one of these names
waits instead of seeing a half-built module.

The same run serves twice: as a *shadow* import into fresh module objects before the point
of no return (everything checked, code captured, nothing current changed), and as the
*install*, where each module the node had is executed again into its own module object
from the captured code (no compiling, no reading) and merged in place right after.
"""

from __future__ import annotations

import _imp
import importlib
import importlib.abc
import importlib.machinery
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import CodeType, ModuleType

from primes_runtime.errors import CodeLoadError

from .outside import Outside

Executed = Callable[[str, ModuleType, dict[str, object] | None], None]
"""Called right after a module's code ran: its name, module, and its namespace before (None
for a module new to the node)."""


@dataclass
class Run:
    """What one import-together run did."""

    order: list[str] = field(default_factory=list)
    """Every module it executed, in the order each finished."""
    codes: dict[str, CodeType] = field(default_factory=dict)
    modules: dict[str, ModuleType] = field(default_factory=dict)
    extensions: dict[str, ModuleType] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    """Requested modules the code dir does not have (the new version dropped them)."""
    ready: set[str] = field(default_factory=set)
    """Extensions handed out as they are (already initialised)."""
    specs: list[ModuleSpec] = field(default_factory=list)
    """The specs of the modules it made: each reads as initializing until the run is over."""


@dataclass
class Plan:
    """How a run finds and makes each module."""

    new_dir: Path
    old_dir: Path | None
    tops: frozenset[str]
    reuse: dict[str, ModuleType]
    """Module objects the run executes into (the node's own, at install) or hands out as
    they are (compiled extensions loaded already)."""
    codes: dict[str, CodeType]
    """Code captured by an earlier run, executed instead of reading the files again."""
    fresh_extension: Callable[[str, Path], bool]
    """Whether a compiled extension that differs from the loaded one may be loaded anew."""
    executed: Executed | None = None


class _RunSpec(ModuleSpec):
    """The spec of a module a run makes, while the run lasts: it reads as still initializing.

    The import system puts each module in ``sys.modules`` as it runs it, so a module the run
    finished sits there, new code, until the run is over. ``code_server.current`` hands out
    ``sys.modules[name]`` without a lock unless it is initializing; so a process of another
    thread (the event loop's, a worker's) would run the new code with its old state before
    the point of no return. Initializing, it takes the import lock instead, which the run
    holds: it waits for the run and then gets the module current after it.
    """

    @property
    def _initializing(self) -> bool:
        return True

    @_initializing.setter
    def _initializing(self, value: bool) -> None:
        pass  # (the import system's own flag: this one stays up until the run is over)


class _Loader(importlib.abc.Loader):
    """Wraps the real loader of one module found in the new code dir."""

    def __init__(self, real: importlib.abc.Loader, plan: Plan, run: Run) -> None:
        self.real, self.plan, self.run = real, plan, run

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        if isinstance(self.real, importlib.machinery.ExtensionFileLoader):
            return self._extension(spec)
        return self.plan.reuse.get(spec.name)

    def _extension(self, spec: ModuleSpec) -> ModuleType:
        """The loaded extension if the new file is the same (or it is the one to reuse), a
        fresh load of the new file where that is allowed; else refused."""
        name, plan = spec.name, self.plan
        have = plan.reuse.get(name)
        origin = Path(str(spec.origin))
        if have is not None:
            loaded = Path(str(getattr(have, "__file__", "") or ""))
            if _same_file(loaded, origin):
                self.run.extensions[name] = have
                self.run.ready.add(name)
                return have
            if not plan.fresh_extension(name, origin):
                raise CodeLoadError(
                    f"compiled extension module {name} changed ({loaded.name} -> "
                    f"{origin}) and a running interpreter cannot replace it in place"
                )
        module = self.real.create_module(spec)
        assert module is not None
        self.run.extensions[name] = module
        return module

    def exec_module(self, module: ModuleType) -> None:
        name = module.__name__
        spec = module.__spec__
        assert spec is not None
        try:
            if name in self.run.extensions:
                if name not in self.run.ready:
                    self.real.exec_module(module)
                return
            before = self.plan.reuse.get(name)
            namespace = dict(before.__dict__) if before is module else None
            if namespace is not None:  # run as on a fresh import: no old name shows through
                module.__dict__.clear()
                module.__dict__["__builtins__"] = namespace.get("__builtins__", __builtins__)
            set_import_attrs(module, spec, self.real)
            code = self.plan.codes.get(name)
            if code is None:
                code = self.real.get_code(name)  # type: ignore[attr-defined]
            self.run.codes[name] = code
            exec(code, module.__dict__)
            if namespace is not None:
                _submodules_back(module)
            self.run.order.append(name)
            if self.plan.executed is not None:
                self.plan.executed(name, module, namespace)
        finally:
            spec.loader = self.real
            module.__loader__ = self.real


class _Finder(importlib.abc.MetaPathFinder):
    """Serves the distribution's names from the new code dir, and only from there."""

    def __init__(self, plan: Plan, run: Run) -> None:
        self.plan, self.run = plan, run

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        plan = self.plan
        if fullname.partition(".")[0] not in plan.tops:
            return None
        parts = fullname.split(".")
        where = [str(plan.new_dir.joinpath(*parts[:-1]))]
        spec = importlib.machinery.PathFinder.find_spec(fullname, where)
        if spec is None:
            if plan.old_dir is not None and _has_module(plan.old_dir, parts):
                raise ModuleNotFoundError(
                    f"No module named {fullname!r} in {plan.new_dir}", name=fullname
                )
            return None
        loader = spec.loader
        if isinstance(loader, importlib.machinery.ExtensionFileLoader) or hasattr(
            loader, "get_code"
        ):
            spec.loader = _Loader(loader, plan, self.run)  # type: ignore[arg-type]
        spec.__class__ = _RunSpec
        self.run.specs.append(spec)
        return spec


def import_together(names: Sequence[str], plan: Plan, keep: bool = False) -> Run:
    """Import ``names`` (and what they import of the distribution) from ``plan.new_dir``.

    Named modules the new dir lacks are listed in ``Run.missing``; any other failure raises
    CodeLoadError naming the module. Unless ``keep``, ``sys.modules`` and the package
    attributes the run set are restored, and the modules it made are in ``Run.modules``;
    with ``keep`` what the run imported stays current and the named modules it did not
    import again are gone from ``sys.modules``.
    """
    run = Run()
    finder = _Finder(plan, run)
    wanted = set(names)
    outside = None if keep else Outside(lambda n: n.partition(".")[0] in plan.tops)
    with _import_lock():
        saved = {n: sys.modules.pop(n) for n in list(sys.modules) if n in wanted}
        parents = _parent_attrs(saved)
        sys.meta_path.insert(0, finder)
        try:
            for name in names:
                if name in sys.modules:
                    continue
                try:
                    importlib.import_module(name)
                except ModuleNotFoundError as exc:
                    gone = exc.name == name or name.startswith(f"{exc.name}.")
                    if not gone or exc.name not in wanted:
                        raise CodeLoadError(f"{name} does not load: {_line(exc)}") from exc
                    run.missing.append(name)
                except CodeLoadError:
                    raise
                except BaseException as exc:
                    raise CodeLoadError(f"{name} does not load: {_line(exc)}") from exc
        except BaseException:
            keep = False
            raise
        finally:
            sys.meta_path.remove(finder)
            for spec in run.specs:  # (still under the import lock: nobody looked meanwhile)
                spec.__class__ = ModuleSpec
                spec._initializing = False  # type: ignore[attr-defined]
            # list(): one C-level copy, which another thread's import cannot break midway
            for made in [n for n in list(sys.modules) if n.partition(".")[0] in plan.tops]:
                if sys.modules[made] is not saved.get(made):
                    run.modules[made] = sys.modules[made]
                    if not keep:
                        del sys.modules[made]
            if outside is not None:
                outside.restore()
            if not keep:
                sys.modules.update(saved)
                _restore_parent_attrs(parents)
            else:
                for name, module in saved.items():
                    if name not in sys.modules and module is plan.reuse.get(name):
                        continue  # dropped by the new version
                    sys.modules.setdefault(name, module)
    return run


@contextmanager
def _import_lock() -> Iterator[None]:
    _imp.acquire_lock()
    try:
        yield
    finally:
        _imp.release_lock()


def _submodules_back(package: ModuleType) -> None:
    """A package executed again has each loaded submodule as its attribute again (its code
    binds only those it imports itself)."""
    prefix = package.__name__ + "."
    namespace = package.__dict__
    for name, module in sys.modules.copy().items():
        child = name[len(prefix) :]
        if name.startswith(prefix) and "." not in child and child not in namespace:
            namespace[child] = module


_NOTHING = object()


def _parent_attrs(saved: dict[str, ModuleType]) -> list[tuple[ModuleType, str, object]]:
    """Each saved module's package attribute as it is (the import system sets it anew)."""
    kept: list[tuple[ModuleType, str, object]] = []
    for name in saved:
        parent_name, _, child = name.rpartition(".")
        parent = saved.get(parent_name) or sys.modules.get(parent_name)
        if parent is not None:
            kept.append((parent, child, parent.__dict__.get(child, _NOTHING)))
    return kept


def _restore_parent_attrs(kept: list[tuple[ModuleType, str, object]]) -> None:
    for parent, child, value in kept:
        if value is _NOTHING:
            parent.__dict__.pop(child, None)
        else:
            parent.__dict__[child] = value


def set_import_attrs(module: ModuleType, spec: ModuleSpec, loader: importlib.abc.Loader) -> None:
    """What the import system sets on a fresh module, set on a module executed again."""
    namespace = module.__dict__
    namespace["__name__"] = spec.name
    namespace.setdefault("__doc__", None)
    namespace["__spec__"] = spec
    namespace["__loader__"] = loader
    namespace["__package__"] = spec.parent
    if spec.has_location:
        namespace["__file__"] = spec.origin
        namespace["__cached__"] = spec.cached
    if spec.submodule_search_locations is not None:
        namespace["__path__"] = list(spec.submodule_search_locations)
    else:
        namespace.pop("__path__", None)


def _has_module(code_dir: Path, parts: list[str]) -> bool:
    base = code_dir.joinpath(*parts)
    if base.is_dir() or base.with_suffix(".py").is_file():
        return True
    return any(
        base.with_name(base.name + suffix).is_file()
        for suffix in importlib.machinery.EXTENSION_SUFFIXES
    )


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.read_bytes() == b.read_bytes()
    except OSError:
        return False


def _line(exc: BaseException) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())
