"""The commands the running node answers: ping, pid, status, versions, eval, rpc, releases."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from primes_runtime import safetext
from primes_runtime.cli import output
from primes_runtime.cli.errors import UsageError
from primes_runtime.cli.invocation import Invocation
from primes_runtime.control.errors import ControlError, NotRunning
from primes_runtime.control.operations import BY_NAME, PAUSE_BATCHES, Operation
from primes_runtime.release.argument import is_package_path
from primes_runtime.release.cores import keep_to_last_core

if TYPE_CHECKING:
    from primes_runtime.control.operations import Extra


def show(inv: Invocation, op: str, **args: object) -> int:
    """Print what the node's code printed, then the value (if any)."""
    answer = inv.ask(op, timeout=None, **args)
    return output.shown(answer.out, answer.value)


def cmd_ping(inv: Invocation) -> int:
    answer = inv.ask("ping", timeout=10.0)
    print(answer.value)
    return 0


def cmd_pid(inv: Invocation) -> int:
    return show(inv, "pid")


def cmd_status(inv: Invocation) -> int:
    value = inv.ask("status").value
    if not isinstance(value, dict):
        raise ControlError("the node sent a malformed status")
    if inv.json:
        output.emit_json(inv.command, output.status_data(value, inv.name))
    else:
        print(output.status_text(value, inv.name))
    return 0


def cmd_check_code(inv: Invocation) -> int:
    """List what still runs code of an old lib dir; exit 1 if anything does."""
    return output.check_code(inv.command, inv.json, inv.ask("check-code", timeout=None).value)


def cmd_versions(inv: Invocation) -> int:
    try:
        pairs = output.version_pairs(inv.ask("versions").value)
        running = True
    except NotRunning:
        from primes_runtime.cli import launcher

        launcher.recover_idle(inv)
        pairs = inv.tree.releases_on_disk()
        running = False
    from primes_runtime.release import signature

    return output.versions(
        inv.command, inv.json, pairs, running, signature.mode(inv.tree.root) if inv.json else ""
    )


def cmd_eval(inv: Invocation) -> int:
    return show(inv, "eval", code=" ".join(inv.args))


def cmd_rpc(inv: Invocation) -> int:
    from primes_runtime.formats import rpc_args

    module, function, *arguments = inv.args
    try:
        rpc_args.parse(arguments)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return show(inv, "rpc", module=module, function=function, args=arguments)


def package_argument(inv: Invocation, target: str, always: bool) -> str:
    """A package path made absolute (the node has another cwd), or the version as given."""
    if not (always or is_package_path(target)):
        return target
    path = Path(target)
    if path.is_dir():
        example = path / f"{inv.name}_<vsn>.tar.gz"
        raise ControlError(f"{target} is a directory; give the package file, e.g. {example}")
    if not path.is_file():
        raise ControlError(f"no such package: {target}")
    return str(path.resolve())


Renderer = Callable[[object, str, dict[str, object]], str]
"""How a release reply prints: (the reply's value, the target, the request's args) -> text."""


def _changed(value: object, target: str, args: dict[str, object]) -> str:
    """An install, upgrade or downgrade: its install report, or the hand-over's."""
    if isinstance(value, dict) and value.get("handover") is True:
        return output.handover_report(value).summary()
    return output.install_report(value).summary()


def _checked(value: object, target: str, args: dict[str, object]) -> str:
    """The dry run's report, what it unpacked, and whether the upgrade is hot."""
    check = output.check_report(value)
    unpacked = isinstance(value, dict) and value.get("unpacked") is True
    kept = "it stays unpacked" if args["keep"] else "removed it again (--no-keep)"
    return (
        check.summary()
        + (
            f"\n  unpacked release {safetext.escape(check.to_version)} for this check; {kept}"
            if unpacked
            else ""
        )
        + output.upgrade_kind_line(value)
    )


def _unpacked(value: object, target: str, args: dict[str, object]) -> str:
    return safetext.escape(str(value.get("version") if isinstance(value, dict) else value))


def _made_permanent(value: object, target: str, args: dict[str, object]) -> str:
    return safetext.escape(f"release {target} is permanent")


def _uninstalled(value: object, target: str, args: dict[str, object]) -> str:
    return safetext.escape(f"release {target} uninstalled")


def reply_kind(operation: Operation) -> str:
    """How an operation's reply prints: "change" for one that changes the release (an install
    or hand-over report), else the operation's own name."""
    return "change" if operation.changes_release else operation.name


RENDERERS: dict[str, Renderer] = {
    "change": _changed,
    "check": _checked,
    "unpack": _unpacked,
    "permanent": _made_permanent,
    "uninstall": _uninstalled,
}
"""Each kind of release reply's printer (reply_kind); no other text is printed."""

EXTRAS: dict[Extra, Callable[[Invocation], object]] = {
    "keep": lambda inv: "--no-keep" not in inv.flags,
    "probation": lambda inv: inv.probation,
}
"""Each optional argument's value from the command line; None: not sent."""


def release_command(name: str) -> Callable[[Invocation], int]:
    """The release operation `name` run in the node; it prints the report the node sends."""
    operation = BY_NAME[name]

    def run(inv: Invocation) -> int:
        given = inv.args[0]
        paths = operation.paths
        target = given if paths == "never" else package_argument(inv, given, paths == "always")
        args: dict[str, object] = {operation.target: target}
        for extra in operation.extras:
            value = EXTRAS[extra](inv)
            if value is not None:
                args[extra] = value
        if operation.changes_release:
            args[PAUSE_BATCHES] = True
            keep_to_last_core()
        value = inv.ask(name, timeout=None, **args).value
        return show_release(inv, operation, given, args, value)

    return run


def show_release(
    inv: Invocation, operation: Operation, given: str, args: dict[str, object], value: object
) -> int:
    """Print the node's answer `value` to `operation`, sent with `args` for the target the
    command line gave (`given`)."""
    text = RENDERERS[reply_kind(operation)](value, str(args[operation.target]), args)
    if inv.json:
        if isinstance(value, dict) and operation.changes_release:
            from primes_runtime.release.pauses import per_process

            value = per_process(value)
        output.emit_json(inv.command, value if isinstance(value, dict) else {"value": value})
        return 0
    print(text)
    paths = operation.paths
    if paths == "always" or (paths == "maybe" and is_package_path(given)):
        from primes_runtime.release import signature

        packages = output.packages_line(signature.mode(inv.tree.root))
        print(f"{inv.name}: packages: {packages}", file=sys.stderr)
    return 0
