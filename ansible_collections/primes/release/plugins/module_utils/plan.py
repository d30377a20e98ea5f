"""The module's state machine: from a node's releases and the wanted state, the steps to take."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

STATES = ("unpacked", "installed", "permanent")


class PlanError(Exception):
    """The wanted state cannot be reached from here; str() says why and what to do."""


@dataclass(frozen=True)
class Step:
    """One bin/<name> release command: `upgrade PKG`, `install VSN`, ..."""

    command: str
    argument: str


def running(releases: Mapping[str, str]) -> str | None:
    """The release the node runs: the `current` one, else the `permanent` one."""
    for wanted in ("current", "permanent"):
        for version, status in releases.items():
            if status == wanted:
                return version
    return None


def at_target(releases: Mapping[str, str], target: str, state: str) -> bool:
    """True if the node already is where `state` (or "downgraded") wants `target` to be."""
    status = releases.get(target)
    if state == "unpacked":
        return status is not None
    if state == "installed":
        return running(releases) == target
    return status == "permanent" and running(releases) == target


def plan(
    releases: Mapping[str, str], target: str, state: str, package: str | None
) -> tuple[Step, ...]:
    """The commands that take the node to `state` for release `target` (none if it is there).

    `state` is one of STATES or "downgraded" (through the running release's down script);
    `package` is the release package on the host, needed when the node lacks the release.
    """
    if state not in (*STATES, "downgraded"):
        raise PlanError(f"unknown state {state!r}; use one of {', '.join(STATES)}")
    if at_target(releases, target, state):
        return ()
    known = target in releases
    if state == "downgraded":
        if not known:
            raise PlanError(
                f"release {target} is not on this node; a downgrade goes back to a release "
                "the node had (see bin/<name> versions)"
            )
        if releases[target] == "current":
            return (Step("permanent", target),)
        return (Step("downgrade", target),)
    if not known and package is None:
        raise PlanError(f"release {target} is not on this node and no package was given")
    source = target if known else str(package)
    if state == "unpacked":
        return (Step("unpack", source),)
    if state == "installed":
        if known:
            return (Step("install", target),)
        return (Step("unpack", source), Step("install", target))
    if releases.get(target) == "current":
        return (Step("permanent", target),)
    return (Step("upgrade", source),)


def predict(releases: Mapping[str, str], target: str, state: str) -> dict[str, str]:
    """The releases and statuses the node will show once the plan has run (for check/diff)."""
    after = dict(releases)
    if at_target(releases, target, state):
        return after
    if state == "unpacked":
        after[target] = "unpacked"
        return after
    if state == "installed":
        after[target] = "current"
        return after
    for version, status in releases.items():
        if status in ("permanent", "current") and version != target:
            after[version] = "old"
    after[target] = "permanent"
    return after


def show(releases: Mapping[str, str]) -> str:
    """Releases as bin/<name> versions prints them: one `<vsn> <status>` line each."""
    return "".join(f"{version} {status}\n" for version, status in releases.items())
