"""Upgrade instructions: declared or derived per app, compiled per release pair into .relup text.

Pipeline (like OTP's systools_rc): read and check declarations (declare) -> per app,
declared or derived high-level instructions, checked against both versions (plan,
check) -> translate and order into low-level instructions (compile) -> check the script
(check, with the format layer's structural check) -> a typed Script per direction, which
the release assembler renders with primes_runtime.formats.relup. docs/upgrades.md has the rules.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from primes_runtime.formats import relup

from primes_build.errors import BuildError
from primes_build.upgrade.check import check_script
from primes_build.upgrade.compile import comments, compile_plan
from primes_build.upgrade.declare import read_declarations
from primes_build.upgrade.index import Facts, apps
from primes_build.upgrade.plan import plan_pair
from primes_build.upgrade.release_view import ReleaseView

__all__ = ["Script", "plan_upgrades"]


@dataclass(frozen=True)
class Script:
    """One compiled upgrade script of release `version`: up from, or down to, `other`."""

    kind: relup.Mode
    version: str
    other: str
    instructions: tuple[relup.Instruction, ...]
    comments: tuple[str, ...]

    @property
    def path(self) -> str:
        """Where it goes in the package: `releases/<version>/up_from_<other>.relup`."""
        direction = "up_from" if self.kind == "up" else "down_to"
        return f"releases/{self.version}/{direction}_{self.other}.relup"

    def render(self, against_sha256: str) -> str:
        """The .relup text (current format), naming `other`'s release.json by its sha256."""
        script = relup.Relup(
            Path(self.path), self.instructions, against=relup.Against(self.other, against_sha256)
        )
        return relup.render(script, self.comments)


def plan_upgrades(
    new: ReleaseView,
    earlier: Sequence[ReleaseView],
    app_sources: Mapping[str, Path],
    say: Callable[[str], None],
) -> list[Script]:
    """The up script from, and the down script to, every earlier release (in that order)."""
    decls = {
        app: read_declarations(app, path, _display(path / "pyproject.toml"))
        for app, path in app_sources.items()
        if app in apps(new)
    }
    facts = Facts()
    warned: set[str] = set()
    scripts: list[Script] = []
    for old in earlier:
        if old.version == new.version:
            raise BuildError(
                f"release {new.version} is being built, but {old.origin} holds release "
                f"{old.version} too; bump the version in primes.toml",
                file="primes.toml", key="release.version",
            )  # fmt: skip
        passes: tuple[tuple[relup.Mode, ReleaseView, ReleaseView], ...] = (
            ("up", old, new),
            ("down", new, old),
        )
        for mode, src, dst in passes:
            say(f"==> {'upgrade' if mode == 'up' else 'downgrade'} {src.version} -> {dst.version}")
            plan = plan_pair(src, dst, mode, decls, facts, say)
            for warning in plan.warnings:
                if warning not in warned:
                    warned.add(warning)
                    say(f"    warning: {warning}")
            instructions = tuple(compile_plan(plan))
            check_script(instructions, src, dst)
            scripts.append(
                Script(mode, new.version, old.version, instructions, tuple(comments(plan)))
            )
    return scripts


def _display(path: Path) -> str:
    """How messages and scripts name a file: relative to the project root (cwd) when under it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return f"{path.parent.name}/{path.name}"
