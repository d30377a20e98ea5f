"""bin/<name>'s command line: the parser, the dispatch and the one error printer."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from primes_runtime.cli.errors import OK, UsageError, exit_code
from primes_runtime.cli.invocation import Invocation
from primes_runtime.control import operations
from primes_runtime.control.client import RemoteError
from primes_runtime.control.cookie import ENV_VAR
from primes_runtime.control.errors import ControlError
from primes_runtime.control.tree import Tree
from primes_runtime.errors import PrimesError

if TYPE_CHECKING:
    from primes_runtime.control.operations import Extra, Target


@dataclass(frozen=True)
class Command:
    """One command: what runs it, its one-line help, its arguments, whether it has --json."""

    run: Callable[[Invocation], int]
    help: str
    group: str
    arguments: tuple[tuple[str, str, str], ...] = ()
    """(name, nargs, help) of each positional argument."""
    json: bool = False
    probation: bool = False
    """It takes --probation SECONDS (install and upgrade)."""
    flags: tuple[tuple[str, str], ...] = ()
    """(option, help) of each on/off option, e.g. ("--no-keep", "...")."""


def lazy(module: str, attr: str, *factory_args: str) -> Callable[[Invocation], int]:
    """A command function that imports its module (cli.<module>) only when the command runs.

    With `factory_args`, `attr` makes the function: `attr(*factory_args)`.
    """

    def run(inv: Invocation) -> int:
        target = getattr(importlib.import_module(f"primes_runtime.cli.{module}"), attr)
        command: Callable[[Invocation], int] = target(*factory_args) if factory_args else target
        return command(inv)

    return run


VERSION = (("VSN", "1", "a release version, e.g. 2"),)
TARGET = (("PKG|VSN", "1", "a package path (has a '/' or ends in .tar.gz) or a version"),)
TARGET_ARGUMENTS: dict[Target, tuple[tuple[str, str, str], ...]] = {
    "version": VERSION,
    "target": TARGET,
    "package": (("PKG", "1", "the package file"),),
}
"""A release command's positional argument, by the argument naming its operation's target."""
EXTRA_FLAGS: dict[Extra, tuple[tuple[str, str], ...]] = {
    "keep": (("--no-keep", "remove again what this check unpacked: the tree is as it was"),),
    "probation": (),  # --probation SECONDS (Command.probation)
}
"""The on/off options of a release command, by its operation's optional arguments."""


def release(name: str, help: str, json: bool = True) -> Command:
    """The command of the release operation `name`: its argument and options from the table
    both ends use (primes_runtime.control.operations)."""
    operation = operations.BY_NAME[name]
    return Command(
        lazy("remote", "release_command", name),
        help,
        "Releases",
        TARGET_ARGUMENTS[operation.target],
        json=json,
        probation="probation" in operation.extras,
        flags=tuple(flag for extra in operation.extras for flag in EXTRA_FLAGS[extra]),
    )


COMMANDS: dict[str, Command] = {
    "start": Command(
        lazy("launcher", "cmd_start"),
        "start the node in the background (output to log/console.log)",
        "Node",
    ),
    "foreground": Command(
        lazy("launcher", "cmd_foreground"),
        "run the node in this terminal until it is stopped",
        "Node",
    ),
    "console": Command(
        lazy("launcher", "cmd_console"),
        "run the node here with an interactive Python prompt",
        "Node",
    ),
    "stop": Command(
        lazy("launcher", "cmd_stop"), "stop the node; returns once its process is gone", "Node"
    ),
    "restart": Command(
        lazy("launcher", "cmd_restart"), "stop the node if it runs, then start it", "Node"
    ),
    "ping": Command(lazy("remote", "cmd_ping"), "print 'pong' if the node answers", "Node"),
    "pid": Command(lazy("remote", "cmd_pid"), "print the node's OS process id", "Node"),
    "status": Command(
        lazy("remote", "cmd_status"),
        "node, release, uptime, applications and processes",
        "Node",
        json=True,
    ),
    "eval": Command(
        lazy("remote", "cmd_eval"),
        "run Python statements in the node; print a trailing expression",
        "Code",
        (("CODE", "+", "Python source"),),
    ),
    "rpc": Command(
        lazy("remote", "cmd_rpc"),
        "call MODULE.FUNCTION(ARG, ...) in the node (ARGs are Python literals)",
        "Code",
        (
            ("MODULE", "1", "a module the node can import"),
            ("FUNCTION", "1", "a function in it"),
            ("ARG", "*", "Python literals"),
        ),
    ),
    "check-code": Command(
        lazy("remote", "cmd_check_code"),
        "list what still runs code from an old lib dir, with who holds it (exit 1 if any)",
        "Code",
        json=True,
    ),
    "remote_console": Command(
        lazy("console", "cmd_remote_console"),
        "an interactive Python prompt inside the running node",
        "Code",
    ),
    "versions": Command(
        lazy("remote", "cmd_versions"), "every release and its status", "Releases", json=True
    ),
    "check": release(
        "check", "unpack if needed, then a dry run of the install: nothing changes in the node"
    ),
    "unpack": release("unpack", "unpack a release package into this tree"),
    "install": release("install", "hot-install an unpacked release (not permanent)"),
    "permanent": release("permanent", "make a release the one the node boots", json=False),
    "upgrade": release("upgrade", "unpack if needed, install and make permanent"),
    "downgrade": release("downgrade", "go back to an older release and make it permanent"),
    "uninstall": release("uninstall", "remove an old release", json=False),
}


class Parser(argparse.ArgumentParser):
    """An argparse parser whose errors are one line (a UsageError), not a usage dump."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands: dict[str, Parser] = {}

    def error(self, message: str) -> NoReturn:
        command = self.prog.partition(" ")[2]
        where = f"{command}: " if command else ""
        raise UsageError(f"{where}{message}; see '{self.prog} --help'")


def overview(name: str) -> str:
    """The command list `help` and `--help` print."""
    lines = []
    for group in ("Node", "Code", "Releases"):
        lines.append(f"{group}:")
        for command, spec in COMMANDS.items():
            if spec.group == group:
                words = " ".join(
                    f"[{a[0]}...]" if a[1] == "*" else a[0] + "..." * (a[1] == "+")
                    for a in spec.arguments
                )
                left = f"{command} {words}".strip()
                sep = "\n" + " " * 27 if len(left) > 24 else " " * (25 - len(left))
                lines.append(f"  {left}{sep}{spec.help}")
    lines.append(f"  help{' ' * 21}this text ('{name} COMMAND --help' for one command)")
    lines += [
        "",
        "--json after status, versions, check-code, check, unpack, install, upgrade or downgrade",
        "prints one JSON object instead of text (docs/operations.md lists its fields).",
        f"The cookie is the node's own (run/cookie or node.toml) unless --cookie or {ENV_VAR}",
        "names another. Set PRIMES_PYTHON to choose the Python interpreter.",
        "Exit status: 0 done, 1 refused or failed (node unchanged), 2 usage error,",
        "3 node not running, 4 failed and the rollback reported problems.",
    ]
    return "\n".join(lines)


def build_parser(name: str, only: str | None = None) -> Parser:
    """The parser: global options, then one sub-parser per command, or only the one for
    `only` (a known command: the line names it, so the others would never be used; the 22
    sub-parsers, each with its gettext look-ups, cost a command line about 2.5 ms)."""
    top = Parser(
        prog=name,
        usage=f"{name} [--cookie COOKIE] COMMAND [ARG...]",
        description=overview(name),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    top.add_argument("--root", help=argparse.SUPPRESS)
    top.add_argument("--name", help=argparse.SUPPRESS)
    top.add_argument("--cookie", help="the cookie to present to the node")
    subs = top.add_subparsers(dest="command", help=argparse.SUPPRESS, parser_class=Parser)
    for command, spec in COMMANDS.items():
        if only is not None and command != only:
            continue
        sub = subs.add_parser(command, prog=f"{name} {command}", description=spec.help)
        top.commands[command] = sub
        sub.add_argument("--cookie", default=argparse.SUPPRESS, help="the cookie to present")
        values: list[str] = []
        if spec.json:
            sub.add_argument(
                "--json", action="store_true", help="print one JSON object (docs/operations.md)"
            )
        if spec.probation:
            sub.add_argument(
                "--probation",
                type=seconds,
                metavar="SECONDS",
                help="how long the touched processes must run the new code without a crash "
                "before it counts (0 = no probation; default: node.toml's probation)",
            )
        for flag, text in spec.flags:
            sub.add_argument(flag, action="store_true", help=text)
        for arg, nargs, text in spec.arguments:
            dest = f"arg{len(values)}"
            if nargs == "*":
                sub.add_argument(dest, metavar=arg, nargs="*", default=[], help=text)
            else:
                sub.add_argument(
                    dest, metavar=arg, nargs=None if nargs == "1" else nargs, help=text
                )
            values.append(arg)
    helper = subs.add_parser("help", prog=f"{name} help", description="the command list")
    helper.add_argument("topic", nargs="?", help="a command")
    return top


def seconds(text: str) -> float:
    """A --probation value: a number of seconds, 0 or more."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < operations.PROBATION_LIMIT:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds (0 or more)")
    return value


def pre_parse(argv: list[str]) -> tuple[str | None, str]:
    """--root and --name, which the start script puts first."""
    early = argparse.ArgumentParser(add_help=False)
    early.add_argument("--root")
    early.add_argument("--name")
    known, _ = early.parse_known_args(argv[:4])
    name = known.name or (Path(known.root).name if known.root else "primes_runtime.cli")
    return known.root, name


def first_command(argv: list[str]) -> str | None:
    """The first word after the global options (which take a value unless written --opt=v)."""
    words = iter(argv)
    for word in words:
        if word in ("--root", "--name", "--cookie"):
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def joined_values(argv: list[str]) -> list[str]:
    """`--cookie VALUE` (and --root, --name) before the command as `--cookie=VALUE`, so a
    value that starts with `-` (a generated cookie may) is not taken for an option."""
    out: list[str] = []
    rest = list(argv)
    while rest and rest[0].startswith("--"):
        word = rest.pop(0)
        if word in ("--root", "--name", "--cookie") and rest:
            word = f"{word}={rest.pop(0)}"
        out.append(word)
    return out + rest


def parse(argv: list[str], parser: Parser, name: str, root: str | None) -> Invocation:
    """The command line as an Invocation; UsageError when it is wrong."""
    if root is None:
        raise UsageError("--root is missing (run this through bin/<name>)")
    command = first_command(argv)
    if command is not None and command not in COMMANDS and command != "help":
        raise UsageError(f"unknown command '{command}'; see '{name} help'")
    ns, extra = parser.parse_known_args(joined_values(argv))
    if extra:
        parser.commands.get(ns.command, parser).error(f"unrecognized arguments: {' '.join(extra)}")
    if ns.command is None:
        raise UsageError(f"no command given; see '{name} help' for the commands")
    values: list[str] = []
    spec = COMMANDS.get(ns.command)
    for index in range(len(spec.arguments) if spec else 0):
        value = getattr(ns, f"arg{index}")
        values += value if isinstance(value, list) else [value]
    if ns.command == "help" and ns.topic is not None:
        values = [ns.topic]
    flags = frozenset(
        flag for flag, _ in (spec.flags if spec else ()) if getattr(ns, _dest(flag), False)
    )
    return Invocation(
        Tree(Path(root).resolve()),
        name,
        ns.cookie,
        ns.command,
        tuple(values),
        bool(getattr(ns, "json", False)),
        getattr(ns, "probation", None),
        flags,
    )


def _dest(flag: str) -> str:
    """argparse's attribute for an option: --no-keep is no_keep."""
    return flag.lstrip("-").replace("-", "_")


def main(argv: list[str] | None = None) -> int:
    """Run one command; the exit status is one of primes_runtime.cli.errors' codes."""
    args = sys.argv[1:] if argv is None else argv
    os.umask(os.umask(0o077) | 0o077)  # logs, run files and cookie are private, whatever umask
    root, name = pre_parse(args)
    command = first_command(args) or ""
    spec = COMMANDS.get(command)
    parser = build_parser(name, command if spec is not None else None)
    as_json = "--json" in args and spec is not None and spec.json
    try:
        invocation = parse(args, parser, name, root)
        if invocation.command == "help":
            return show_help(parser, invocation)
        return COMMANDS[invocation.command].run(invocation)
    except SystemExit as exc:  # --help printed its text
        return exc.code if isinstance(exc.code, int) else OK
    except (ControlError, PrimesError, OSError) as exc:
        return failed(name, command, as_json, exc)
    except KeyboardInterrupt:
        return 130


def failed(
    name: str, command: str, as_json: bool, exc: ControlError | PrimesError | OSError
) -> int:
    """A command's error reported (`report`); its exit status."""
    if isinstance(exc, PrimesError) and not isinstance(exc, ControlError):
        exc = ControlError(str(exc))
    elif isinstance(exc, OSError):
        where = f": {exc.filename}" if exc.filename else ""
        exc = ControlError(f"{exc.strerror or exc}{where}; check the tree's owner and modes")
    return report(name, command, as_json, exc)


def show_help(parser: Parser, inv: Invocation) -> int:
    if inv.args:
        topic = inv.args[0]
        if topic not in COMMANDS:
            raise UsageError(f"unknown command '{topic}'; see '{inv.name} help'")
        parser.parse_args([topic, "--help"])
    parser.print_help()
    return OK


def report(name: str, command: str, as_json: bool, exc: ControlError) -> int:
    """The one error printer: one line on stderr; with --json also one JSON object on stdout.

    Without --json, what the node's code printed comes first on stdout, and an install
    report's details (pauses, rollback problems) follow the line.
    """
    from primes_runtime import safetext
    from primes_runtime.cli import output

    code = exit_code(exc)
    remote = exc if isinstance(exc, RemoteError) else None
    if remote is not None and remote.out and not as_json:
        output.write_out(remote.out)
    print(f"{name}: {safetext.escape(str(exc))}", file=sys.stderr, flush=True)
    if as_json:
        output.emit_failure_json(command, exc, code)
    elif remote is not None and remote.report is not None:
        details = output.install_report(remote.report).summary().splitlines()[1:]
        output.write_out("".join(f"{line}\n" for line in details))
    return code
