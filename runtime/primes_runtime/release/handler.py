"""The release handler's API: unpack, check, install, permanent, versions, downgrade, uninstall.

Release states (RELEASES on disk holds unpacked / permanent / old; "current" is the running
node's own knowledge and is never written):

    unpack ──> unpacked ──install──> current ──make_permanent──> permanent
                  ^                     │                           │
                  └── node restarts ────┘            next permanent │
                      (boots permanent)                             v
    uninstall <── old <──────────────────────────────────────────────┘

Every operation holds the node's release lock, so two upgrades never interleave, and runs
as code of that node (so an `apply` or an app start reaches its processes).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import replace
from pathlib import Path

from primes_runtime.errors import PrimesError
from primes_runtime.formats import FormatError, relup
from primes_runtime.formats import version as versions
from primes_runtime.host.node import Node
from primes_runtime.loading import collector

from . import cores, diskfull, forward, recovery, route, store, tree
from . import target as targets
from .changing import lingering_code_changes
from .check import check_against, dry_run
from .errors import ReleaseError
from .evaluator import Evaluator, StepFailed
from .pauses import Pauses
from .probation import Trial
from .reports import (
    ALREADY_PERMANENT,
    CheckReport,
    FailedStep,
    InstallFailed,
    InstallReport,
    ReleaseStatus,
)

log = logging.getLogger("primes_runtime.release")

__all__ = [
    "CheckReport",
    "InstallFailed",
    "InstallReport",
    "ReleaseError",
    "ReleaseStatus",
    "check",
    "downgrade",
    "install",
    "make_permanent",
    "uninstall",
    "unpack",
    "upgrade",
    "which_releases",
]


@contextmanager
def _operation(node: Node, what: str) -> Iterator[None]:
    """Serialize release operations, each after a recovery pass; lower-layer errors leave as
    one ReleaseError line."""
    with node.release_lock, node.entered():
        try:
            for repair in recovery.recover(Path(node.root), keep={node.release}):
                log.warning("recovery before %s: %s", what, repair)
            yield
        except ReleaseError:
            raise
        except (OSError, PrimesError) as exc:
            if diskfull.is_full(exc):
                raise ReleaseError(diskfull.line(f"{what} failed", node.root)) from exc
            raise ReleaseError(f"{what} failed: {' '.join(str(exc).split())}") from exc


# -- unpack ---------------------------------------------------------------------------------


def unpack(node: Node, package: Path) -> str:
    """Verify a package and add its new directories to the tree; returns the version unpacked."""
    with _operation(node, f"unpack of {package}"), tree.staged(node, Path(package)) as pkg:
        return tree.add(node, pkg)[0]


# -- check and install -----------------------------------------------------------------------


def _script_for(node: Node, version: str) -> tuple[Path, str]:
    """The script that leads from the current release to `version`, and its direction."""
    root, current = Path(node.root), node.release
    if version == current:
        raise ReleaseError(f"release {version} is already current; nothing to install")
    up = targets.release_dir(root, version) / f"up_from_{current}.relup"
    down = targets.release_dir(root, current) / f"down_to_{version}.relup"
    if up.is_file():
        return up, "up"
    if down.is_file():
        return down, "down"
    raise ReleaseError(
        f"no script leads from release {current} to {version}: neither "
        f"releases/{version}/up_from_{current}.relup nor releases/{current}/down_to_{version}"
        f".relup exists; build {version} with {current} among its earlier releases"
    )


def _script_direction(node: Node, version: str) -> str | None:
    """Which way a script leads from the current release to `version` ("up", "down"), if any."""
    root, current = Path(node.root), node.release
    if (targets.release_dir(root, version) / f"up_from_{current}.relup").is_file():
        return "up"
    if (targets.release_dir(root, current) / f"down_to_{version}.relup").is_file():
        return "down"
    return None


def _evaluator(node: Node, version: str, direction: str | None = None) -> tuple[Evaluator, str]:
    root = Path(node.root)
    tree.known(node, version)
    path, found = _script_for(node, version)
    if direction is not None and found != direction:
        raise ReleaseError(
            f"release {version} is reached by an {found} script from {node.release}, "
            f"not a {direction}grade; use {'upgrade' if found == 'up' else 'downgrade'}"
        )
    try:
        script = relup.read(path)
    except FormatError as exc:
        raise ReleaseError(str(exc)) from None
    check_against(root, script, node.release if found == "up" else version)
    old = targets.load(root, node.release)
    new = targets.load(root, version)
    return Evaluator(node, script, old, new), found


def _running_apps(node: Node) -> dict[str, str]:
    """Running apps and their versions."""
    return {info.name: info.version for info in node.applications.running()}


def check(node: Node, version: str) -> CheckReport:
    """Everything up to the point of no return, as a dry run: nothing in the node changes."""
    with _operation(node, f"check of release {version}"):
        evaluator, _ = _evaluator(node, version)
        return dry_run(evaluator, _running_apps(node))


def check_target(
    node: Node, package_or_version: str, keep: bool = True
) -> tuple[CheckReport, bool, str | None, str]:
    """`check` of a package or a version: unpack it if needed, then the dry run.

    Returns the report, whether this call unpacked the release, why going to it is a
    hand-over (None: hot), and the way its script leads ("up" or "down"). What it unpacked
    stays unpacked, unless `keep` is false: then it is removed again (whatever the dry run
    found), so the tree is as it was.
    """
    with _operation(node, f"check of {package_or_version}"):
        root = Path(node.root)
        listed = store.releases_file(root)
        before = listed.read_text(encoding="utf-8")
        times = _times(listed, root / "releases", root / "lib") if not keep else {}
        try:
            version, added = tree.unpacked_version(node, package_or_version)
            try:
                why = handover_reason(node, version) if version != node.release else None
                if why is not None and _script_direction(node, version) is None:
                    report, found = _scriptless(node, version)
                else:
                    evaluator, found = _evaluator(node, version)
                    report = dry_run(evaluator, _running_apps(node))
                return report, bool(added), why, found
            finally:
                if added and not keep:
                    store.atomic_write(listed, before)  # RELEASES as it was, byte for byte
                    tree.discard(root, added)
        finally:
            for path, (atime, mtime) in times.items():
                with suppress(OSError):  # the times are cosmetic: a check never fails on them
                    os.utime(path, ns=(atime, mtime))


def _scriptless(node: Node, version: str) -> tuple[CheckReport, str]:
    """The check of a hand-over no script leads to (a hand-over runs none): which way PEP 440
    says it goes, "down" or "up"."""
    tree.known(node, version)
    found = "down" if versions.newer(node.release, version) else "up"
    return CheckReport(node.release, version, "no script, a hand-over", 0, (), (), ()), found


def _times(*paths: Path) -> dict[Path, tuple[int, int]]:
    """Access and modification times (ns) of the paths that exist: what a `check --no-keep`
    puts back, so that the tree looks untouched to tools that compare times (rsync, make)."""
    found = {}
    for path in paths:
        with suppress(OSError):
            info = path.stat()
            found[path] = (info.st_atime_ns, info.st_mtime_ns)
    return found


def install(node: Node, version: str, probation: float | None = None) -> InstallReport:
    """Apply the up or down script from the current release; not yet permanent.

    Returns once the processes it touched ran the new code `probation` seconds (default:
    the new release's node.toml `probation`) without a crash; a crash rolls it back.
    HandOverNeeded (not permanent) when `version` runs on another runtime or interpreter."""
    with _operation(node, f"install of release {version}"):
        _hand_over_if_needed(node, version, "install")
        return _install(node, version, None, probation)


def _install(
    node: Node, version: str, direction: str | None, probation: float | None = 0.0
) -> InstallReport:
    stuck = lingering_code_changes()
    if stuck:
        raise ReleaseError(
            f"refused: a code_change from an earlier install still runs ({stuck[0]}); Python "
            "cannot stop a thread, so restart the node (bin/<name> restart) before installing"
        )
    with cores.apart(_warm_pid(node)):  # the probation window below waits on all cores
        evaluator, found = _evaluator(node, version, direction)
        checked = dry_run(evaluator, _running_apps(node))
        seconds = evaluator.new.config.probation if probation is None else probation
        trial = Trial(evaluator, seconds)
        if seconds > 0:
            evaluator.holding.guard = trial.guard
        try:
            evaluator.run()
            evaluator.verify()  # every reference runs the new code, or it is all undone
        except StepFailed as failed:
            trial.close()
            problems = evaluator.rollback()
            collector.settle_later(node.release_lock)  # reclaims what the undone script made
            report = InstallReport(
                node.release, version, checked.script, found, evaluator.pauses,
                failed.step, tuple(problems),
            )  # fmt: skip
            raise InstallFailed(report) from None
    if not trial.passes():
        outcome, undone = trial.roll_back()
        collector.settle_later(node.release_lock)  # reclaims what the undone scripts made
        reason = outcome.crash.error if outcome.crash is not None else "a crash"
        report = InstallReport(
            node.release, version, checked.script, found, evaluator.pauses,
            FailedStep(checked.script, 0, "probation", reason), undone, probation=outcome,
        )  # fmt: skip
        raise InstallFailed(report) from None
    node.release = version
    _adopt(node, evaluator)
    evaluator.forget()  # nothing is undone any more: the old code and states may go
    collector.settle_later(node.release_lock)  # reclaims the replaced code, after this install
    return InstallReport(
        evaluator.old.version, version, checked.script, found, evaluator.pauses,
        probation=trial.report(),
    )  # fmt: skip


def _warm_pid(node: Node) -> int | None:
    """The warm child's process (it unpacks on the release operation's core), if any."""
    return node.warm.pid if node.warm is not None else None


def _adopt(node: Node, evaluator: Evaluator) -> None:
    """The node's own view (manifest, config) follows the release it now runs."""
    node.manifest = evaluator.new.manifest
    node.config = evaluator.new.config


# -- permanence and listing ------------------------------------------------------------------


def make_permanent(node: Node, version: str) -> None:
    """Make the current release the one a start boots."""
    with _operation(node, f"making release {version} permanent"):
        tree.mark_permanent(node, version)


def _permanent_again(node: Node, version: str) -> InstallReport | None:
    """An upgrade or downgrade retried after its install succeeded but the permanence did not:
    make the current release permanent (None when `version` is not current). One already
    permanent is reported as such: nothing to do."""
    if version != node.release:
        return None
    releases = store.read_releases(Path(node.root))
    status = tree.status_of(node, releases, version)
    if status == "permanent":
        return InstallReport(version, version, ALREADY_PERMANENT, "up", Pauses(), permanent=True)
    if status != "current":
        return None
    tree.mark_permanent(node, version)
    return InstallReport(version, version, "(already installed)", "up", Pauses(), permanent=True)


def which_releases(node: Node) -> list[ReleaseStatus]:
    """Every release the node knows, with its status (unpacked, current, permanent, old)."""
    with _operation(node, "listing the releases"):
        releases = store.read_releases(Path(node.root))
        result = [
            ReleaseStatus(r.version, tree.status_of(node, releases, r.version)) for r in releases
        ]
        if not any(r.version == node.release for r in releases):
            result.append(ReleaseStatus(node.release, "current"))
        return result


# -- the composite commands ------------------------------------------------------------------


def upgrade(node: Node, package_or_version: str, probation: float | None = None) -> InstallReport:
    """Unpack (given a package path, or a version whose package sits in releases/), install,
    make permanent once the probation window (see `install`) passed. Only forward: a release
    not newer than the permanent one is refused (going back is `downgrade`). If the install is
    refused or its script rolled back, what this call unpacked is removed again, so the
    tree is as it was; after a probation rollback the release stays unpacked."""
    with _operation(node, f"upgrade to {package_or_version}"):
        with cores.apart(_warm_pid(node)):
            version, added = tree.unpacked_version(node, package_or_version)
        again = _permanent_again(node, version)
        if again is not None:
            return again
        try:
            forward.refuse_unless_newer(version, tree.permanent(node))
            why = handover_reason(node, version)
            if why is not None:
                raise HandOverNeeded(version, why, added)
            report = _install(node, version, None, probation)
        except ReleaseError as exc:
            report_ = getattr(exc, "report", None)
            kept = report_ is not None and (report_.rollback_problems or report_.probation)
            if added and not kept:
                try:
                    tree.forget(node, version, added)
                except (OSError, ReleaseError) as gone:  # the refusal is what the caller needs
                    log.warning("release %s stays unpacked: %s", version, gone)
            raise
        _permanent_or_say(node, version, report.from_version, "upgrade")
        return replace(report, permanent=True)


class HandOverNeeded(Exception):
    """`command` found a release it cannot install in place: the node hands over (handover/),
    making it permanent unless the command is `install`."""

    def __init__(self, version: str, why: str, added: list[str], command: str = "upgrade") -> None:
        super().__init__(f"release {version} needs a hand-over: {why}")
        self.version, self.why, self.added, self.command = version, why, added, command
        self.permanent = command != "install"


def _hand_over_if_needed(node: Node, version: str, command: str) -> None:
    """Raise HandOverNeeded when `command` (install, downgrade) would take the node to a
    release on another runtime or interpreter: nothing runs it in place. A downgrade must
    go back (else refused, naming upgrade)."""
    if version == node.release:
        return
    tree.known(node, version)
    why = handover_reason(node, version)
    if why is None:
        return
    if command == "downgrade":
        forward.refuse_unless_older(version, node.release, _script_direction(node, version))
    raise HandOverNeeded(version, why, [], command)


def handover_reason(node: Node, version: str) -> str | None:
    """Why going to `version` needs a hand-over (runtime or interpreter); None if it is hot."""
    root = Path(node.root)
    old, new = targets.load(root, node.release), targets.load(root, version)
    unnamed = route.unnamed_python(root, old, new)
    return route.reason(old, new, unnamed[1] if unnamed is not None else None)


def forget_unpacked(node: Node, version: str, added: list[str]) -> None:
    """Undo what an upgrade unpacked (after a failed hand-over), so the tree is as it was."""
    if added:
        with _operation(node, f"removing release {version} again"):
            tree.forget(node, version, added)


def _permanent_or_say(node: Node, version: str, old: str, command: str) -> None:
    """Make the just-installed `version` permanent; a failure says what runs and what boots."""
    try:
        tree.mark_permanent(node, version)
    except (OSError, ReleaseError) as exc:
        raise ReleaseError(
            f"release {version} is installed and runs, but making it permanent failed "
            f"({' '.join(str(exc).split())}); a restart boots {old}: run {command} {version} "
            "again"
        ) from exc


def downgrade(node: Node, version: str) -> InstallReport:
    """Go back to an older release through the current one's down script; make it permanent.
    HandOverNeeded when `version` runs on another runtime or interpreter."""
    with _operation(node, f"downgrade to {version}"):
        again = _permanent_again(node, version)
        if again is not None:
            return replace(again, direction="down")
        _hand_over_if_needed(node, version, "downgrade")
        report = _install(node, version, "down")
        _permanent_or_say(node, version, report.from_version, "downgrade")
        return replace(report, permanent=True)


def uninstall(node: Node, version: str) -> None:
    """Remove an unpacked or old release and the lib/ dirs no other release uses."""
    with _operation(node, f"uninstall of release {version}"):
        root = Path(node.root)
        releases = store.read_releases(root)
        status = tree.status_of(node, releases, version)
        if status == "unknown":
            raise ReleaseError(f"release {version} is not known to this node; nothing to remove")
        if status in ("current", "permanent") or version == node.release:
            raise ReleaseError(
                f"release {version} is {status}; make another release permanent and current "
                "before uninstalling it"
            )
        doomed = targets.load(root, version).paths()
        rest = tuple(r for r in releases if r.version != version)
        for other in rest:
            doomed -= targets.load(root, other.version).paths()
        store.commit(root, releases, rest)
        tree.discard(root, [f"releases/{version}", *sorted(doomed)])
