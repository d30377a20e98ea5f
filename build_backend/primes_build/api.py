"""What each PEP 517 hook does, and the boundary that turns a BuildError into one ERROR line.

Each hook imports what it needs when it runs: the get_requires hooks and the sdist need the
stdlib only (they run where nothing is installed yet) and start in a few milliseconds.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from primes_build.errors import BuildError

P = ParamSpec("P")
R = TypeVar("R")
ConfigSettings = Mapping[str, Any] | None

KNOWN_SETTINGS = ("previous", "sign-key", "wheelhouse")
"""The `-C KEY=VALUE` settings this backend reads; pypa/build and pip pass only the user's."""


def say(line: str) -> None:
    """One line of build output a person can follow."""
    print(line, flush=True)


def at_boundary(hook: Callable[P, R]) -> Callable[P, R]:
    """Print a BuildError as `ERROR <message>` on stderr and exit 1, with no traceback."""

    @functools.wraps(hook)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return hook(*args, **kwargs)
        except BuildError as exc:
            sys.stdout.flush()
            print(f"ERROR {exc}", file=sys.stderr, flush=True)
            raise SystemExit(1) from None

    return run


def check_settings(config_settings: ConfigSettings) -> None:
    """Refuse a `-C` setting this backend does not know (a typo would be ignored otherwise)."""
    for key in config_settings or {}:
        if key not in KNOWN_SETTINGS:
            from primes_build.project.schema import did_you_mean

            raise BuildError(
                f"unknown config setting `{key}`{did_you_mean(str(key), KNOWN_SETTINGS)}; "
                f"known: {', '.join(KNOWN_SETTINGS)}"
            )


@at_boundary
def get_requires(config_settings: ConfigSettings = None) -> list[str]:
    """The sdist's: nothing (after checking the settings: the first hook)."""
    check_settings(config_settings)
    return []


@at_boundary
def get_requires_for_wheel(config_settings: ConfigSettings = None) -> list[str]:
    """primes-build's own imports, and in a fresh env every project's build requirements."""
    from primes_build.wheels import buildreqs

    check_settings(config_settings)
    return buildreqs.frontend_requires(Path.cwd())


def previous_settings(config_settings: ConfigSettings) -> list[str]:
    """The `-C previous=PATH` values (one string or a list of them)."""
    value = (config_settings or {}).get("previous")
    if value is None:
        return []
    values = [value] if isinstance(value, str) else list(value)
    if not all(isinstance(v, str) and v for v in values):
        raise BuildError("-C previous=PATH: PATH must be a release package or a directory")
    return values


def typed_path(raw: str, exists: Callable[[Path], bool] = Path.exists) -> Path:
    """A path from a `-C` setting, relative to where the user typed the command.

    pypa/build and pip run each hook with the project (or the sdist unpacked into a temporary
    directory) as the working directory, but pass the environment on: `$PWD` is the shell's
    directory. A relative path is looked up there first, then in the hook's directory (a
    caller that set only the working directory); the first that exists wins.
    """
    path = Path(os.path.expanduser(raw))
    if path.is_absolute():
        return path
    typed = os.environ.get("PWD", "")
    bases = [Path(typed)] if os.path.isabs(typed) and os.path.isdir(typed) else []
    bases.append(Path.cwd())
    for base in bases:
        if exists(base / path):
            return base / path
    return bases[0] / path


def wheelhouse_setting(config_settings: ConfigSettings) -> Path | None:
    """The `-C wheelhouse=DIR` value: a folder holding every file pylock.toml locks."""
    value = (config_settings or {}).get("wheelhouse")
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise BuildError(f"-C wheelhouse={value}: not a directory; give a folder of wheels")
    path = typed_path(value, Path.is_dir)
    if not path.is_dir():
        where = "" if str(path) == value else f" ({path})"
        raise BuildError(f"-C wheelhouse={value}: not a directory{where}; give a folder of wheels")
    return path.absolute()


@at_boundary
def build_sdist(sdist_directory: str, config_settings: ConfigSettings = None) -> str:
    """Write the sdist; return its file name."""
    from primes_build.dists import sdist
    from primes_build.dists.metadata import distribution
    from primes_build.package import guard
    from primes_build.project import config as config_mod

    check_settings(config_settings)
    root = Path.cwd()
    outdir = Path(sdist_directory).absolute()
    guard.refuse_deployed(outdir)
    config = config_mod.load(root)
    outdir.mkdir(parents=True, exist_ok=True)
    path = sdist.write_sdist(config, distribution(root, config), outdir)
    say(f"==> sdist {config.name} {config.version}")
    say(f"    wrote {path}")
    return path.name


@at_boundary
def prepare_metadata(metadata_directory: str, config_settings: ConfigSettings = None) -> str:
    """Write the pip wheel's .dist-info directory; return its name."""
    from primes_build.dists import pipwheel
    from primes_build.dists.metadata import distribution
    from primes_build.project import config as config_mod

    check_settings(config_settings)
    root = Path.cwd()
    config = config_mod.load(root)
    return pipwheel.write_dist_info(
        distribution(root, config), config.name, Path(metadata_directory)
    )


@at_boundary
def build_wheel(wheel_directory: str, config_settings: ConfigSettings = None) -> str:
    """Build the release package into the wheel directory, then the pip wheel; return its name."""
    from primes_build.wheels import builds

    check_settings(config_settings)
    root = Path.cwd()
    outdir = Path(wheel_directory).absolute()
    with builds.early(root, outdir) as started:  # the apps build while the rest loads
        from primes_build.dists import pipwheel
        from primes_build.dists.metadata import distribution
        from primes_build.package import release, signing
        from primes_build.project import config as config_mod

        built = release.build_release(
            root,
            outdir,
            previous_settings(config_settings),
            say,
            wheelhouse=wheelhouse_setting(config_settings),
            builds=started,
        )
    key = (config_settings or {}).get("sign-key")
    if key is not None:
        if not isinstance(key, str) or not key:
            raise BuildError("-C sign-key=PATH: PATH must be an ssh private key file")
        say(f"    signed {signing.sign(built.path, typed_path(key).absolute())}")
    config = config_mod.load(root)
    name = pipwheel.write_pip_wheel(distribution(root, config), config.name, built, outdir)
    say(f"    wrote {outdir / name}")
    return name
