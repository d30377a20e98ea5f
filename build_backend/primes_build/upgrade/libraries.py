"""Derive the upgrade steps of the release's libraries, the way an app's are derived.

A library whose version changes: its changed pure-Python modules are `load_module`, new ones
`add_module`, gone ones `delete_module`, its code dir switched on sys.path; the steps come
before every app's, so a library loads before the apps that use it. An added library's dir
goes on sys.path; a removed one's modules are dropped and its dir taken off. A changed
compiled extension cannot be replaced in a running interpreter: refused unless every app
using it declares restart_application for this pass (then the extension module is dropped
and the restarted apps import it anew).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from primes_runtime.formats.relup import Mode

from primes_build.errors import BuildError
from primes_build.upgrade import instructions as hl
from primes_build.upgrade.derive import derive
from primes_build.upgrade.index import app_extensions, app_modules, libraries
from primes_build.upgrade.release_view import ReleaseView
from primes_build.upgrade.steps import AppStep


def replaced_extensions(src: ReleaseView, dst: ReleaseView) -> set[str]:
    """Compiled extension modules of a library in both releases that differ (dropped, then
    imported anew by the apps that restart)."""
    before, after = libraries(src), libraries(dst)
    return {
        m
        for name in set(before) & set(after)
        for m in _changed_extensions(before[name], after[name])
    }


def library_steps(
    src: ReleaseView,
    dst: ReleaseView,
    mode: Mode,
    restarting: Collection[str],
    say: Callable[[str], None],
) -> tuple[list[AppStep], list[AppStep]]:
    """The steps for every library that is added, removed or changes version, src -> dst:
    those that go before the apps' steps (added, changed: in dependency order) and after
    them (removed, once no app uses them: the dependents first)."""
    before, after = libraries(src), libraries(dst)
    steps: list[AppStep] = []
    last: list[AppStep] = []
    for name in [*after, *(n for n in reversed(before) if n not in after)]:
        old, new = before.get(name), after.get(name)
        if old is not None and new is not None and old["version"] == new["version"]:
            continue
        if old is None:
            assert new is not None
            say(f"    library {name} {new['version']}: added (its dir on sys.path)")
            steps.append(_step(name, None, new, (), "library added"))
            continue
        if new is None:
            modules = tuple(sorted(app_modules(old), reverse=True))
            say(f"    library {name} {old['version']}: removed ({len(modules)} modules dropped)")
            dropped = tuple(hl.DeleteModule(m) for m in modules)
            last.append(_step(name, old, None, dropped, "library removed"))
            continue
        extensions = _changed_extensions(old, new)
        users = sorted({*map(str, old.get("used_by", [])), *map(str, new.get("used_by", []))})
        if extensions and not set(users) <= set(restarting):
            sv, dv = old["version"], new["version"]
            raise BuildError(
                f"cannot upgrade library {name} {sv} -> {dv} in place: its compiled extension "
                f"{', '.join(extensions)} changed and a running interpreter cannot replace it; "
                f"declare restart_application for {', '.join(users)} (the apps using it) in "
                f"this {'upgrade' if mode == 'up' else 'downgrade'}, or restart the node"
            )
        instrs = derive(app_modules(old), app_modules(new), frozenset())
        instrs += tuple(hl.DeleteModule(m) for m in extensions)
        say(hl.listed(f"    library {name} {old['version']} -> {new['version']}: derived ", instrs))
        steps.append(_step(name, old, new, instrs, "library, derived from module changes"))
    return steps, last


def _changed_extensions(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    a, b = app_extensions(old), app_extensions(new)
    return sorted(m for m in set(a) | set(b) if a.get(m) != b.get(m))


def _step(
    name: str,
    old: Mapping[str, Any] | None,
    new: Mapping[str, Any] | None,
    instrs: tuple[hl.HighLevel, ...],
    how: str,
) -> AppStep:
    before = app_modules(old) if old is not None else {}
    after = app_modules(new) if new is not None else {}
    return AppStep(
        app=name,
        from_vsn=str(old["version"]) if old is not None else "",
        to_vsn=str(new["version"]) if new is not None else "",
        from_path=str(old["path"]) if old is not None else "",
        to_path=str(new["path"]) if new is not None else "",
        instructions=instrs,
        changed=tuple(sorted(m for m in after if before.get(m) != after[m])),
        gone=tuple(sorted(set(before) - set(after))),
        how=how,
    )
