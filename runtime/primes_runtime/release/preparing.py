"""Before the point of no return: each distribution's new code imported in a shadow, or compiled."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from primes_runtime.errors import CodeLoadError
from primes_runtime.formats.relup import LoadObjectCode, Relup, StopApp
from primes_runtime.loading import code_server
from primes_runtime.swap import distribution

from .target import Release


class NotPrepared(Exception):
    """New code that cannot go in; str() is why (the evaluator names the step)."""


@dataclass
class Preparation:
    """The new code one script brings, from release `old`, in the tree at `root`."""

    root: Path
    old: Release
    script: Relup
    dists: dict[str, distribution.Prepared] = field(default_factory=dict)
    """Each app or library whose new version was imported in a shadow, by name."""
    owner: dict[str, str] = field(default_factory=dict)
    """Module -> the app or library whose load_object_code lists it."""

    @property
    def modules(self) -> list[str]:
        """The modules the swaps will execute again, every distribution's."""
        return sorted(m for d in self.dists.values() for m in d.modules)

    def load_object_code(
        self, instruction: LoadObjectCode, owners: Callable[[], Iterable[tuple[str, object]]]
    ) -> None:
        """Import the distribution's new version in a shadow (every module the node loaded
        from its old dir, together) and check it can go in whole; modules the node never
        loaded are only compiled (they load from the new dir on first use). `owners` gives
        the node's processes as roots that hold state (for naming holders)."""
        code_dir = self.root / instruction.path
        if not code_dir.is_dir():
            raise NotPrepared(f"code directory {code_dir} does not exist; unpack it first")
        name = instruction.app
        for module in instruction.modules:
            self.owner[module] = name
        old_dir = self._old_dir(name)
        loaded: set[str] = set()
        if old_dir is not None and old_dir != code_dir:
            try:
                library = name not in self.old.apps
                prepared = distribution.prepare(
                    name, old_dir, code_dir, owners(), self._restarting(name), library
                )
            except CodeLoadError as exc:
                raise NotPrepared(str(exc)) from None
            self.dists[name] = prepared
            loaded = set(prepared.names)
        for module in instruction.modules:
            if module not in loaded:
                _compile(module, code_dir)

    def _old_dir(self, name: str) -> Path | None:
        """The code dir the running release has for app or library ``name``."""
        app = self.old.apps.get(name)
        if app is not None:
            return self.root / app.path
        for lib in self.old.manifest.libraries:
            if lib.name == name:
                return self.root / lib.path
        return None

    def _restarting(self, name: str) -> bool:
        """Whether the script stops and starts ``name`` (or, for a library, any app)."""
        stops = {i.app for i in self.script.instructions if isinstance(i, StopApp)}
        return name in stops or (name not in self.old.apps and bool(stops))


def _compile(module: str, code_dir: Path) -> None:
    try:
        source, _ = code_server.find_source(module, code_dir)
        compile(source.read_bytes(), str(source), "exec", dont_inherit=True)
    except CodeLoadError:
        return  # a compiled extension or a namespace package: nothing to compile
    except (OSError, SyntaxError, ValueError) as exc:
        raise NotPrepared(f"{module} does not load: {type(exc).__name__}: {exc}") from None
