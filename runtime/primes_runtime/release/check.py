"""The runtime's semantic checks of a script: it fits this node and its releases (dry run)."""

from __future__ import annotations

from pathlib import Path

from primes_runtime.formats import relup as fmt
from primes_runtime.formats.hashing import sha256_hex
from primes_runtime.formats.relup import (
    LoadObjectCode,
    Relup,
    StartApp,
    StopApp,
    Suspend,
    SwitchAppPath,
)

from .errors import ReleaseError
from .evaluator import Evaluator, StepFailed
from .reports import CheckReport


def static_problems(
    script: Relup, running_apps: dict[str, str] | None, evaluator: Evaluator
) -> list[str]:
    """What is wrong with a script: its structure (the format layer's check), then against the
    running node and the target release, one entry per problem."""
    new = evaluator.new
    apps = running_apps if running_apps is not None else {}
    known = running_apps is not None
    problems = fmt.problems(script.instructions)
    apps = dict(apps)  # as the script goes: stop_app, then start_app (restart_application)
    stopped: dict[str, str] = {}
    # Third-party libraries: a library's dir is switched and its modules prepared like an app's
    new_libs = {lib.name: lib.version for lib in new.manifest.libraries}
    old_libs = {lib.name: lib.version for lib in evaluator.old.manifest.libraries}
    for ins in script.instructions:
        where = f"line {ins.line}"
        match ins:
            case LoadObjectCode(app=app):
                if app not in new.apps and app not in new_libs:
                    problems.append(f"{where}: app {app} is not in release {new.version}")
            case SwitchAppPath(app=app, from_vsn=from_vsn, to_vsn=to_vsn) if (
                app in new_libs or app in old_libs
            ):
                if (from_vsn or None) != old_libs.get(app):
                    problems.append(f"{where}: library {app} {from_vsn} is not in the running one")
                if (to_vsn or None) != new_libs.get(app):
                    problems.append(f"{where}: release {new.version} has no library {app} {to_vsn}")
            case SwitchAppPath(app=app, from_vsn=from_vsn, to_vsn=to_vsn):
                if known and apps.get(app, stopped.get(app)) != from_vsn:
                    have = apps.get(app, stopped.get(app, "not running"))
                    problems.append(f"{where}: app {app} should run {from_vsn}, it runs {have}")
                if app not in new.apps or new.apps[app].version != to_vsn:
                    problems.append(f"{where}: release {new.version} has no {app} {to_vsn}")
            case StartApp(app=app):
                if app not in new.apps:
                    problems.append(f"{where}: start_app {app}: not in release {new.version}")
                elif app in apps:
                    problems.append(f"{where}: start_app {app}: it is already running")
                apps[app] = new.apps[app].version if app in new.apps else ""
            case StopApp(app=app):
                if known and app not in apps:
                    problems.append(f"{where}: stop_app {app}: it is not running")
                if app in apps:
                    stopped[app] = apps.pop(app)
            case _:
                pass
    return problems


def check_against(root: Path, script: Relup, expected: str) -> None:
    """Refuse a format 2 script built against another release `expected` than this node's.

    The header names the version and release.json sha256 of the release the script was built
    against (the one it upgrades from, or goes back to); the node's own copy must hash-equal it.
    """
    against = script.against
    if against is None:
        return
    shown = _relative(root, script.path)
    if against.version != expected:
        raise ReleaseError(
            f"{shown}: built against release {against.version}, not {expected}; "
            "use the script for this node's release"
        )
    manifest = root / "releases" / expected / "release.json"
    try:
        digest = sha256_hex(manifest.read_bytes())
    except OSError as exc:
        raise ReleaseError(f"{manifest}: unreadable ({exc.strerror}); restore it") from None
    if digest != against.sha256:
        raise ReleaseError(
            f"{shown}: built against a different release {expected} than this node's "
            f"(release.json sha256 {against.sha256[:12]}..., this node has {digest[:12]}...); "
            f"rebuild it with this node's release {expected} as the earlier release"
        )


def dry_run(evaluator: Evaluator, running_apps: dict[str, str] | None) -> CheckReport:
    """Prepare all new code and check the script; raise ReleaseError listing every problem."""
    script = evaluator.script
    shown = _show(evaluator)
    problems = static_problems(script, running_apps, evaluator)
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
    processes = tuple((m, len(evaluator.running(m))) for m in modules)
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
        tuple(evaluator.preparation.modules),
        processes,
        warnings,
    )


def _show(evaluator: Evaluator) -> str:
    return _relative(evaluator.root, evaluator.script.path)


def _relative(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)
