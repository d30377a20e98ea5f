"""Checks before compiling (declarations fit the versions) and after (the script fits them)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from primes_runtime.formats import relup as ll

from primes_build.errors import BuildError
from primes_build.upgrade import instructions as hl
from primes_build.upgrade.declare import Located
from primes_build.upgrade.index import (
    app_modules,
    apps,
    libraries,
    library_owners,
    module_owners,
    runtime_modules,
)
from primes_build.upgrade.libraries import replaced_extensions
from primes_build.upgrade.release_view import ReleaseView


def check_declared(
    app: str,
    sv: str,
    dv: str,
    located: Sequence[Located],
    before: Mapping[str, str],
    after: Mapping[str, str],
    src: ReleaseView,
    dst: ReleaseView,
    file: str,
) -> None:
    """Refuse, at its location, a declared instruction that cannot apply to `app` sv -> dv."""
    named: set[str] = set()
    restart = any(isinstance(item.instr, hl.RestartApplication) for item in located)
    for item in located:
        problem = _problem(app, sv, dv, item.instr, before, after, src, dst, named, restart)
        if problem:
            raise BuildError(problem, file=file, key=item.key, line=item.line)


def _problem(
    app: str, sv: str, dv: str, instr: hl.HighLevel,
    before: Mapping[str, str], after: Mapping[str, str],
    src: ReleaseView, dst: ReleaseView, named: set[str], restart: bool,
) -> str | None:  # fmt: skip
    if isinstance(instr, hl.MODULE_KINDS):
        module = instr.module
        if module in named:
            return f"{module} is named twice; one instruction per module"
        named.add(module)
        if restart:
            return (
                f"restart_application {app} already replaces all of {app}'s code; "
                "drop the module instructions beside it"
            )
    match instr:
        case hl.Update(module=m) | hl.LoadModule(module=m):
            if m not in after:
                return f"{m} is not a module of {app} {dv}"
            if m not in before:
                return f"{m} is new in {app} {dv}; use add_module"
        case hl.AddModule(module=m):
            if m not in after:
                return f"{m} is not a module of {app} {dv}"
            if m in before:
                return f"{m} is already in {app} {sv}; use update or load_module"
        case hl.DeleteModule(module=m):
            if m not in before:
                return f"{m} is not a module of {app} {sv}"
            if m in after:
                return f"{m} is still in {app} {dv}; only a module the new version lacks is deleted"
        case hl.RestartApplication(app=target):
            if target != app:
                return (
                    f"restart_application may only name the app that declares it ({app}); "
                    f"declare it in {target}'s own pyproject.toml"
                )
        case hl.AddApplication(app=target):
            if target not in apps(dst):
                return f"add_application names {target}, which is not in release {dst.version}"
        case hl.RemoveApplication(app=target):
            if target not in apps(src):
                return f"remove_application names {target}, which is not in release {src.version}"
        case hl.Apply(module=m):
            if m not in module_owners(dst) and m not in runtime_modules(dst):
                return f"apply names module {m}, which release {dst.version} does not have"
    return None


def check_script(instrs: Sequence[ll.Instruction], src: ReleaseView, dst: ReleaseView) -> None:
    """Refuse a compiled script that breaks docs/formats.md or does not fit its two releases
    (a bug in the compiler): the format layer's structural check, then the build's own."""
    found = ll.problems(instrs)
    problem = found[0] if found else _script_problem(instrs, src, dst)
    if problem:
        raise BuildError(
            f"internal error: the upgrade script {src.version} -> {dst.version} is unsound: "
            f"{problem}; please report it"
        )


def _script_problem(
    instrs: Sequence[ll.Instruction], src: ReleaseView, dst: ReleaseView
) -> str | None:
    """What the structural check cannot know: every name exists in the release it names."""
    src_apps, dst_apps = apps(src), apps(dst)
    src_owners, dst_owners = module_owners(src), module_owners(dst)
    # Third-party library dirs are switched and their modules loaded like an app's
    src_libs, dst_libs = libraries(src), libraries(dst)
    src_apps = {**src_libs, **src_apps}
    dst_apps = {**dst_libs, **dst_apps}
    src_owners = {**library_owners(src), **src_owners}
    dst_owners = {**library_owners(dst), **dst_owners}
    droppable = replaced_extensions(src, dst)
    prepared: set[str] = set()
    loaded: set[str] = set()
    for instr in instrs:
        match instr:
            case ll.LoadObjectCode(app=app, to_vsn=vsn, path=path, modules=modules):
                entry = dst_apps.get(app)
                if entry is None or str(entry["version"]) != vsn or str(entry["path"]) != path:
                    return f"load_object_code targets {app} {vsn} at {path}, not in the target"
                missing = set(modules) - set(app_modules(entry))
                if missing:
                    return f"load_object_code lists {sorted(missing)}, not modules of {app} {vsn}"
                prepared |= set(modules)
            case ll.SwitchAppPath(app=app, from_path=fp, to_path=tp) if (
                app in src_libs or app in dst_libs
            ):
                if src_libs.get(app, {}).get("path") != fp:
                    return f"switch_app_path {app} from {fp}, which the source does not have"
                if dst_libs.get(app, {}).get("path") != tp:
                    return f"switch_app_path {app} to {tp}, which the target does not have"
            case ll.SwitchAppPath(app=app, from_path=fp, to_path=tp):
                if app not in src_apps or str(src_apps[app]["path"]) != fp:
                    return f"switch_app_path {app} from {fp}, which the source does not have"
                if app not in dst_apps or str(dst_apps[app]["path"]) != tp:
                    return f"switch_app_path {app} to {tp}, which the target does not have"
            case ll.Load(module=m):
                loaded.add(m)
            case ll.Remove(module=m) if m in droppable:
                pass  # deps: a library's changed extension, imported anew by restarted apps
            case ll.Remove(module=m):
                if m not in src_owners or m in dst_owners:
                    return f"removes {m}, which is not a module only the source has"
            case ll.StartApp(app=app):
                if app not in dst_apps:
                    return f"starts {app}, which is not in the target"
            case ll.StopApp(app=app):
                if app not in src_apps:
                    return f"stops {app}, which is not in the source"
            case ll.Apply(module=m):
                if m not in dst_owners and m not in runtime_modules(dst):
                    return f"applies {m}, which the target does not have"
            case _:
                pass
    if not any(isinstance(i, ll.PointOfNoReturn) for i in instrs):
        return "no point_of_no_return"
    if prepared - loaded:
        return f"prepares {sorted(prepared - loaded)} but never loads them"
    return None
