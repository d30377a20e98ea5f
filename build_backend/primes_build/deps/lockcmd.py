"""`primes lock`: write or refresh pylock.toml from the apps' dependencies with the pinned uv."""

from __future__ import annotations

import argparse
import importlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from primes_build.deps.lockfile import LOCK_FILE
from primes_build.deps.requirements import third_party
from primes_build.errors import BuildError
from primes_build.project import config as config_mod
from primes_build.project.appmeta import read_app

UV_VERSION = "0.13.8"
"""The uv this project pins (requirements-dev.txt, docs/build.md); its pylock.toml output."""


DESCRIPTION = (
    "Write or refresh pylock.toml (PEP 751) from every app's project.dependencies, "
    "resolved by uv for the release's Python."
)


def parser() -> argparse.ArgumentParser:
    """The `primes lock` command line."""
    p = argparse.ArgumentParser(prog="primes lock", description=DESCRIPTION)
    add_arguments(p)
    return p


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The arguments of `primes lock` (also used by the `primes` command's subparser)."""
    p.add_argument("--project", default=".", help="the release project (default: .)")
    p.add_argument(
        "--find-links", "-f", action="append", default=[], metavar="DIR", help="extra wheels"
    )
    p.add_argument("--no-index", action="store_true", help="only --find-links, no package index")
    p.add_argument("--upgrade", action="store_true", help="newest allowed versions, not the lock's")
    p.add_argument(
        "--python-version", help="resolve for this Python (default: lowest of requires-python)"
    )
    p.add_argument("--python-platform", help="resolve for this platform (default: this machine)")


def run(args: argparse.Namespace) -> int:
    """`primes lock` once parsed; a BuildError is the caller's to print."""
    print(f"wrote {lock(args)}", flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run `primes lock`; 0 on success, 1 with one ERROR line on stderr otherwise."""
    args = parser().parse_args(argv)
    try:
        path = lock(args)
    except BuildError as exc:
        print(f"ERROR {exc}", file=sys.stderr, flush=True)
        return 1
    print(f"wrote {path}", flush=True)
    return 0


def _reason(done: subprocess.CompletedProcess[str]) -> str:
    """uv's explanation on one line: its `cause:` paragraph if it gave one, else its output."""
    lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
    for index, line in enumerate(lines):
        if line.startswith("cause:") or line.startswith("╰─▶"):
            lines = [line.removeprefix("cause:").removeprefix("╰─▶").strip(), *lines[index + 1 :]]
            break
    text = " ".join(lines).removeprefix("error: ").removeprefix("Error: ")
    return text or f"uv exited {done.returncode}"


def requirement_lines(root: Path) -> list[str]:
    """Every app's third-party requirements as written, in primes.toml order, deduplicated."""
    config = config_mod.load(root)
    own = [a.name for a in config.apps]
    lines: list[str] = []
    for source in config.apps:
        meta = read_app(source)
        for requirement in third_party(meta.name, meta.doc, own):
            if requirement.text not in lines:
                lines.append(requirement.text)
    return lines


def lock(args: argparse.Namespace) -> Path:
    """Resolve with uv into <project>/pylock.toml; returns its path."""
    root = Path(args.project).absolute()
    config = config_mod.load(root)
    lines = requirement_lines(root)
    target = root / LOCK_FILE
    python = args.python_version or config.python or config.python_min
    with tempfile.TemporaryDirectory(prefix="primes-lock-") as temp:
        source = Path(temp) / "requirements.in"
        source.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
        command = [
            uv_binary(),
            "pip",
            "compile",
            str(source),
            "--format",
            "pylock.toml",
            "--output-file",
            str(target),
            "--no-header",
            "--quiet",
            "--python-version",
            python,
        ]
        for folder in args.find_links:
            command += ["--find-links", str(Path(folder).absolute())]
        if args.no_index:
            command.append("--no-index")
        if args.upgrade:
            command.append("--upgrade")
        if args.python_platform:
            command += ["--python-platform", args.python_platform]
        env = {k: v for k, v in os.environ.items() if not k.startswith("UV_")}
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise BuildError(f"uv could not lock the apps' dependencies: {_reason(done)}")
    return target


def uv_binary() -> str:
    """The uv executable: the `uv` package's, else uv on PATH."""
    try:
        module = importlib.import_module("uv")
        found = str(module.find_uv_bin())
    except (ImportError, FileNotFoundError, AttributeError):
        found = shutil.which("uv") or ""
    if not found:
        raise BuildError(f"uv not found; pip install 'primes-build[lock]' (uv=={UV_VERSION})")
    return checked_uv(found)


def checked_uv(found: str) -> str:
    """`found` if it is the pinned uv; else a BuildError saying what to install."""
    try:
        done = subprocess.run([found, "--version"], capture_output=True, text=True, check=False)
    except OSError as exc:
        raise BuildError(
            f"cannot run {found} ({exc.strerror}); pip install uv=={UV_VERSION}"
        ) from None
    words = done.stdout.split()
    version = words[1] if len(words) > 1 and words[0] == "uv" else done.stdout.strip()
    if version != UV_VERSION:
        raise BuildError(
            f"{found} is uv {version or '?'}, primes lock needs uv {UV_VERSION} "
            f"(the lock depends on the resolver's version); pip install uv=={UV_VERSION}"
        )
    return found
