"""Upgrade instructions: declared or derived per app, compiled per release pair into .relup text.

Pipeline (like OTP's systools_rc): read and check declarations (declare) -> per app,
declared or derived high-level instructions, checked against both versions (plan,
check) -> translate and order into low-level instructions (compile) -> check the script
(check) -> render reviewable text (relup_text). docs/upgrades.md describes the rules.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from primes_build.errors import BuildError
from primes_build.release_view import ReleaseView
from primes_build.upgrade.check import check_script
from primes_build.upgrade.compile import comments, compile_plan
from primes_build.upgrade.declare import read_declarations
from primes_build.upgrade.index import Facts, apps
from primes_build.upgrade.lowlevel import Mode
from primes_build.upgrade.plan import plan_pair
from primes_build.upgrade.relup_text import render

__all__ = ["plan_upgrades"]


def plan_upgrades(
    new: ReleaseView,
    earlier: Sequence[ReleaseView],
    app_sources: Mapping[str, Path],
    say: Callable[[str], None],
) -> dict[str, str]:
    """{"releases/<new>/up_from_<old>.relup": text, "releases/<new>/down_to_<old>.relup": text}
    for every earlier release."""
    decls = {
        app: read_declarations(app, path, _display(path / "pyproject.toml"))
        for app, path in app_sources.items()
        if app in apps(new)
    }
    facts = Facts()
    warned: set[str] = set()
    scripts: dict[str, str] = {}
    for old in earlier:
        if old.version == new.version:
            raise BuildError(
                f"release {new.version} is being built, but {old.origin} holds release "
                f"{old.version} too; bump the version in primes.toml",
                file="primes.toml", key="release.version",
            )  # fmt: skip
        passes: tuple[tuple[Mode, ReleaseView, ReleaseView, str], ...] = (
            ("up", old, new, f"releases/{new.version}/up_from_{old.version}.relup"),
            ("down", new, old, f"releases/{new.version}/down_to_{old.version}.relup"),
        )
        for mode, src, dst, path in passes:
            say(f"==> {'upgrade' if mode == 'up' else 'downgrade'} {src.version} -> {dst.version}")
            plan = plan_pair(src, dst, mode, decls, facts, say)
            for warning in plan.warnings:
                if warning not in warned:
                    warned.add(warning)
                    say(f"    warning: {warning}")
            instructions = compile_plan(plan)
            check_script(instructions, src, dst)
            scripts[path] = render(comments(plan), instructions)
    return scripts


def _display(path: Path) -> str:
    """How messages and scripts name a file: relative to the project root (cwd) when under it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return f"{path.parent.name}/{path.name}"
