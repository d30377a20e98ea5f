"""Plan one release pair: per app, the declared or derived high-level instructions, checked."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from primes_runtime.formats.relup import Mode

from primes_build.errors import BuildError
from primes_build.upgrade import instructions as hl
from primes_build.upgrade.analysis import ModuleFacts
from primes_build.upgrade.check import check_declared
from primes_build.upgrade.declare import AppDeclarations
from primes_build.upgrade.derive import derive
from primes_build.upgrade.extensions import check_extensions, extension_changes
from primes_build.upgrade.hazards import (
    field_changes,
    in_place_hazards,
    unconverted_handlers,
)
from primes_build.upgrade.index import Facts, app_extensions, app_modules, apps
from primes_build.upgrade.libraries import library_steps
from primes_build.upgrade.release_view import ReleaseView
from primes_build.upgrade.steps import AppStep


@dataclass(frozen=True)
class PairPlan:
    """Everything to compile one script: release `from_vsn` -> `to_vsn`."""

    name: str
    mode: Mode
    from_vsn: str
    to_vsn: str
    steps: tuple[AppStep, ...]
    added: tuple[str, ...]
    removed: tuple[tuple[str, tuple[str, ...]], ...]
    """(app, its modules) for apps only the source release has, in stop order."""
    warnings: tuple[str, ...]


def plan_pair(
    src: ReleaseView,
    dst: ReleaseView,
    mode: Mode,
    decls: Mapping[str, AppDeclarations],
    facts: Facts,
    say: Callable[[str], None],
) -> PairPlan:
    """Plan `src` -> `dst` (mode "up" when dst is the release being built, else "down")."""
    src_apps, dst_apps = apps(src), apps(dst)
    callbacks = facts.callbacks(src) | facts.callbacks(dst)
    steps: list[AppStep] = []
    warnings: list[str] = []
    replaced: list[str] = []
    declared_apps: list[tuple[hl.HighLevel, str, str | None, int | None]] = []
    for app, dst_app in dst_apps.items():
        src_app = src_apps.get(app)
        if src_app is None:
            say(f"    {app} {dst_app['version']}: added (start_app)")
            continue
        sv, dv = str(src_app["version"]), str(dst_app["version"])
        if sv == dv:
            continue
        before, after = app_modules(src_app), app_modules(dst_app)
        newer = dv if mode == "up" else sv
        direction, other = ("up_from", sv) if mode == "up" else ("down_to", dv)
        decl = decls.get(app)
        found = decl.lookup(newer, direction, other) if decl is not None else None
        changed = tuple(sorted(m for m in after if before.get(m) != after[m]))
        if decl is not None and found is not None:
            key, located = found
            where = decl.key(newer, direction, key)
            check_declared(app, sv, dv, located, before, after, src, dst, decl.file)
            instrs = tuple(item.instr for item in located)
            declared_apps.extend((item.instr, decl.file, item.key, item.line) for item in located)
            how = f"declared in {decl.file}"
            say(hl.listed(f"    {app} {sv} -> {dv}: declared (", instrs, ")"))
            warnings.extend(_uncovered(app, sv, dv, instrs, changed, decl.file, where))
        else:
            instrs = derive(before, after, callbacks)
            how = "derived from module changes"
            say(hl.listed(f"    {app} {sv} -> {dv}: derived ", instrs))
        restart = any(isinstance(i, hl.RestartApplication) for i in instrs)
        warnings.extend(
            check_extensions(
                app, sv, dv,
                extension_changes(app, dv, app_extensions(src_app), app_extensions(dst_app)),
                restart=restart, file=decl.file if decl is not None else None,
                declare_at=f'[tool.primes.app.upgrade."{newer}"] {direction}."{other}"',
            )
        )  # fmt: skip
        if restart:
            replaced.extend(m for m in changed if m in before)
        else:
            for instr in instrs:
                if not isinstance(instr, hl.Update | hl.LoadModule):
                    continue
                replaced.append(instr.module)
                if instr.module in callbacks:
                    warnings.extend(
                        _state_classes(
                            app, instr.module, src, dst, mode, facts,
                            derived=found is None, decl=decl, newer=newer, other=other,
                        )
                    )  # fmt: skip
                if found is None and isinstance(instr, hl.Update):
                    warnings.extend(
                        _handlers_without_code_change(app, instr.module, src, dst, mode, facts)
                    )
        steps.append(
            AppStep(
                app, sv, dv, str(src_app["path"]), str(dst_app["path"]), instrs, changed,
                tuple(sorted(set(before) - set(after))), how,
            )
        )  # fmt: skip
    # Third-party libraries first, so each loads before the apps that use it
    restarting = {
        s.app for s in steps if any(isinstance(i, hl.RestartApplication) for i in s.instructions)
    }
    first, last = library_steps(src, dst, mode, restarting, say)
    steps[:0], steps[len(steps) :] = first, last
    replaced += [
        i.module for st in first for i in st.instructions if isinstance(i, hl.LoadModule)
    ]  # an app's `from lib import name` keeps the old object: the same hazard warning
    added = tuple(app for app in dst_apps if app not in src_apps)
    removed = tuple(
        (app, tuple(sorted(app_modules(src_apps[app]))))
        for app in reversed(src_apps)
        if app not in dst_apps
    )
    for app, _ in removed:
        say(f"    {app} {src_apps[app]['version']}: removed (stop_app)")
    _check_app_instructions(declared_apps, added, tuple(app for app, _ in removed))
    warnings.extend(_in_place(replaced, facts.all_of(src), facts.all_of(dst)))
    return PairPlan(
        str(src.manifest.get("name", "")), mode, src.version, dst.version,
        tuple(steps), added, removed, tuple(warnings),
    )  # fmt: skip


def _in_place(
    replaced: list[str], before: list[ModuleFacts], after: list[ModuleFacts]
) -> list[str]:
    """in_place_hazards of every replaced module both releases have."""
    old = {m.name: m for m in before}
    new = {m.name: m for m in after}
    return [
        warning
        for module in dict.fromkeys(replaced)
        if module in old and module in new
        for warning in in_place_hazards(old[module], new[module])
    ]


def _uncovered(
    app: str, sv: str, dv: str, instrs: tuple[hl.HighLevel, ...],
    changed: tuple[str, ...], file: str, key: str,
) -> list[str]:  # fmt: skip
    if any(isinstance(i, hl.RestartApplication) for i in instrs):
        return []
    named = {i.module for i in instrs if isinstance(i, hl.MODULE_KINDS)}
    return [
        f"{app} {sv} -> {dv}: {m} changed but {file} `{key}` does not name it; "
        "it keeps its old code until the node restarts"
        for m in changed
        if m not in named
    ]


def _state_classes(
    app: str, module: str, src: ReleaseView, dst: ReleaseView, mode: Mode, facts: Facts,
    *, derived: bool, decl: AppDeclarations | None, newer: str, other: str,
) -> list[str]:  # fmt: skip
    """Warn (or refuse, for a derived update with no code_change) about changed state classes."""
    before, after = facts.of(src, app, module), facts.of(dst, app, module)
    changes = field_changes(before, after)
    if not changes:
        return []
    # code_change always runs in the newer code: after loading (up), before unloading (down).
    newer_facts = after if mode == "up" else before
    what = "; ".join(c.describe() for c in changes)
    if derived and not newer_facts.defines_code_change:
        direction = "up_from" if mode == "up" else "down_to"
        file = decl.file if decl is not None else "the app's pyproject.toml"
        raise BuildError(
            f"cannot upgrade {module} in place: {what}, its instances may sit in process "
            f"state, and {module} defines no code_change; add code_change to {module}, or "
            f'declare [tool.primes.app.upgrade."{newer}"] {direction}."{other}" = '
            f'[{{ restart_application = "{app}" }}] in {file}',
            file=decl.file if decl is not None else None,
        )
    return [f"{what}; instances in process state keep the old fields, convert them in code_change"]


def _handlers_without_code_change(
    app: str, module: str, src: ReleaseView, dst: ReleaseView, mode: Mode, facts: Facts
) -> list[str]:
    """Warn about a derived update whose handlers changed and whose newer code has no
    code_change (its processes would run new handlers on the old state)."""
    before, after = facts.of(src, app, module), facts.of(dst, app, module)
    newer = after if mode == "up" else before
    if newer.defines_code_change:
        return []
    older = before if mode == "up" else after
    return unconverted_handlers(module, older, newer)


def _check_app_instructions(
    declared: list[tuple[hl.HighLevel, str, str | None, int | None]],
    added: tuple[str, ...],
    removed: tuple[str, ...],
) -> None:
    for instr, file, key, line in declared:
        if isinstance(instr, hl.AddApplication) and instr.app not in added:
            raise BuildError(
                f"add_application names {instr.app}, which is not new in the target release",
                file=file, key=key, line=line,
            )  # fmt: skip
        if isinstance(instr, hl.RemoveApplication) and instr.app not in removed:
            raise BuildError(
                f"remove_application names {instr.app}, which the target release still has",
                file=file, key=key, line=line,
            )  # fmt: skip
