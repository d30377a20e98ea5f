"""The `primes` command: one verb per subcommand (`new`, `lock`; more are added to VERBS)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from primes_build.deps import lockcmd
from primes_build.errors import BuildError
from primes_build.scaffold import new as scaffold
from primes_build.version import primes_build_version

PROG = "primes"


class UsageError(Exception):
    """A command line argparse refused; str() is the one line to print."""


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line (and exit status 2)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message}; see '{self.prog} -h'")


@dataclass(frozen=True)
class Verb:
    """One subcommand: its name, one-line help, its arguments and what it does."""

    name: str
    help: str
    arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def _new_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "name", help="the release name (lower-case letters, digits, _), e.g. kvnode"
    )
    parser.add_argument(
        "--dir",
        type=Path,
        default=Path("."),
        help="create the project in this directory (default: the current one)",
    )


def _new(args: argparse.Namespace) -> int:
    target = scaffold.create(args.name, args.dir)
    app = scaffold.app_name(args.name)
    print(f"created {target}: release {args.name}, app {app} (apps/{app})")
    print(f"next: cd {target} && python -m build   (see its README.md)")
    return 0


VERBS: tuple[Verb, ...] = (
    Verb(
        name="new",
        help="create a release project that builds and boots as created",
        arguments=_new_arguments,
        run=_new,
    ),
    Verb(
        name="lock",
        help="write or refresh pylock.toml from the apps' dependencies (uv)",
        arguments=lockcmd.add_arguments,
        run=lockcmd.run,
    ),
)


def parser() -> argparse.ArgumentParser:
    """The argument parser, one subparser per verb."""
    top = OneLineParser(
        prog=PROG,
        description="primes: OTP-style releases of Python services, upgraded without downtime.",
    )
    top.add_argument("--version", action="version", version=f"primes {primes_build_version()}")
    verbs = top.add_subparsers(dest="verb", metavar="COMMAND", parser_class=OneLineParser)
    for verb in VERBS:
        sub = verbs.add_parser(verb.name, help=verb.help, description=verb.help)
        verb.arguments(sub)
        sub.set_defaults(run=verb.run)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Run one verb; 0 on success, 1 when it fails, 2 on a usage error (one line on stderr)."""
    try:
        args = parser().parse_args(argv)
        if args.verb is None:
            raise UsageError(f"no command given; see '{PROG} -h' for the commands")
        result: int = args.run(args)
        return result
    except UsageError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    except BuildError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
