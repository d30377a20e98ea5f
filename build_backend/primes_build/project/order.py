"""The apps' start order from their `needs`: missing apps and cycles are errors."""

from __future__ import annotations

from collections.abc import Sequence

from primes_build.errors import BuildError
from primes_build.project import schema
from primes_build.project.appmeta import AppMeta


def start_order(apps: Sequence[AppMeta]) -> list[AppMeta]:
    """`apps` so that each comes after the apps it needs; ties keep primes.toml order."""
    by_name = {a.name: a for a in apps}
    for app in apps:
        for need in app.needs:
            if need == app.name:
                raise app.doc.error("tool.primes.app.needs", f"app `{app.name}` needs itself")
            if need not in by_name:
                hint = schema.did_you_mean(need, by_name)
                raise app.doc.error(
                    "tool.primes.app.needs",
                    f"app `{app.name}` needs `{need}`, which primes.toml does not list{hint}; "
                    f"add [apps.{need}] to primes.toml",
                )
    ordered: list[AppMeta] = []
    state: dict[str, str] = {}

    def visit(app: AppMeta, trail: list[str]) -> None:
        if state.get(app.name) == "done":
            return
        if state.get(app.name) == "visiting":
            cycle = [*trail[trail.index(app.name) :], app.name]
            raise BuildError(
                f"dependency cycle between apps: {' -> '.join(cycle)}; "
                "remove one of these `tool.primes.app.needs` entries",
                file=app.doc.shown,
                key="tool.primes.app.needs",
                line=app.doc.line_of("tool.primes.app.needs"),
            )
        state[app.name] = "visiting"
        for need in app.needs:
            visit(by_name[need], [*trail, app.name])
        state[app.name] = "done"
        ordered.append(app)

    for app in apps:
        visit(app, [])
    return ordered
