"""The dry run before the point of no return: the script is sound and every target exists."""

from __future__ import annotations

from collections.abc import Iterable

from primes_runtime import process

from .errors import ReleaseError
from .evaluator import Evaluator, StepFailed
from .relup import (
    CodeChange,
    Instruction,
    Load,
    LoadObjectCode,
    Resume,
    StartApp,
    StopApp,
    Suspend,
    SwitchAppPath,
)
from .reports import CheckReport


def static_problems(
    instructions: Iterable[Instruction], running_apps: dict[str, str] | None, evaluator: Evaluator
) -> list[str]:
    """What is wrong with a script against the running node, one entry per problem."""
    new = evaluator.new
    apps = running_apps if running_apps is not None else {}
    known = running_apps is not None
    problems: list[str] = []
    prepared: set[str] = set()
    suspended: set[str] = set()
    loaded: set[str] = set()
    # deps (issue 14): a library's dir is switched and its modules prepared like an app's
    new_libs = {lib.name: lib.version for lib in new.manifest.libraries}
    old_libs = {lib.name: lib.version for lib in evaluator.old.manifest.libraries}
    for ins in instructions:
        where = f"line {ins.line}"
        match ins:
            case LoadObjectCode(app=app, modules=modules):
                prepared.update(modules)
                if app not in new.apps and app not in new_libs:
                    problems.append(f"{where}: app {app} is not in release {new.version}")
            case Suspend(modules=modules):
                suspended.update(modules)
            case CodeChange(modules=modules):
                problems += [
                    f"{where}: code_change of {m} without a suspend before it"
                    for m in modules
                    if m not in suspended
                ]
            case Resume(modules=modules):
                problems += [
                    f"{where}: resume of {m} never suspended" for m in modules if m not in suspended
                ]
                suspended.difference_update(modules)
            case Load(module=module):
                if module not in prepared:
                    problems.append(f"{where}: load of {module} not prepared by load_object_code")
                if module in loaded:
                    problems.append(f"{where}: {module} is loaded twice")
                loaded.add(module)
            case SwitchAppPath(app=app, from_vsn=from_vsn, to_vsn=to_vsn) if (
                app in new_libs or app in old_libs
            ):
                if (from_vsn or None) != old_libs.get(app):
                    problems.append(f"{where}: library {app} {from_vsn} is not in the running one")
                if (to_vsn or None) != new_libs.get(app):
                    problems.append(f"{where}: release {new.version} has no library {app} {to_vsn}")
            case SwitchAppPath(app=app, from_vsn=from_vsn, to_vsn=to_vsn):
                if known and from_vsn is not None and apps.get(app) != from_vsn:
                    have = apps.get(app, "not running")
                    problems.append(f"{where}: app {app} should run {from_vsn}, it runs {have}")
                if to_vsn is not None and (app not in new.apps or new.apps[app].version != to_vsn):
                    problems.append(f"{where}: release {new.version} has no {app} {to_vsn}")
            case StartApp(app=app):
                if app not in new.apps:
                    problems.append(f"{where}: start_app {app}: not in release {new.version}")
                elif app in apps:
                    problems.append(f"{where}: start_app {app}: it is already running")
            case StopApp(app=app):
                if known and app not in apps:
                    problems.append(f"{where}: stop_app {app}: it is not running")
            case _:
                pass
    problems += [f"{m} is suspended and never resumed" for m in sorted(suspended)]
    return problems


def dry_run(evaluator: Evaluator, running_apps: dict[str, str] | None) -> CheckReport:
    """Prepare all new code and check the script; raise ReleaseError listing every problem."""
    script = evaluator.script
    shown = _show(evaluator)
    problems = static_problems(script.instructions, running_apps, evaluator)
    if not problems:
        try:
            evaluator.prepare()
        except StepFailed as failed:
            raise ReleaseError(
                f"release {evaluator.new.version} cannot be installed: {failed.step}"
            ) from None
    if problems:
        listed = "; ".join(problems[:5]) + ("; ..." if len(problems) > 5 else "")
        raise ReleaseError(f"{shown}: {len(problems)} problem(s), nothing was changed: {listed}")
    modules = sorted({m for i in script.instructions if isinstance(i, Suspend) for m in i.modules})
    processes = tuple((m, len(process.pids_using(m))) for m in modules)
    warnings = tuple(
        f"no process runs {m}; its suspend and code_change will do nothing"
        for m, count in processes
        if count == 0
    )
    return CheckReport(
        evaluator.old.version,
        evaluator.new.version,
        shown,
        len(script.instructions),
        tuple(sorted(evaluator.prepared)),
        processes,
        warnings,
    )


def _show(evaluator: Evaluator) -> str:
    try:
        return evaluator.script.path.relative_to(evaluator.root).as_posix()
    except ValueError:
        return str(evaluator.script.path)
