"""Build an sdist-only dependency into a wheel in an isolated env, and cache that wheel."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from primes_build.deps.lockfile import Locked
from primes_build.errors import BuildError
from primes_build.wheels.cache import CACHE_DIR
from primes_build.wheels.wheelbuild import QuietRunner


def built_slot(outdir: Path, locked: Locked) -> Path:
    """The cache folder of the wheel built from that sdist for this Python."""
    python = f"py{sys.version_info[0]}.{sys.version_info[1]}"
    return outdir / CACHE_DIR / "built" / f"{locked.sha256}-{python}"


def wheel_of_sdist(outdir: Path, locked: Locked, sdist: Path) -> tuple[Path, bool]:
    """The wheel built from `sdist` (built now in isolation if not cached); True if cached."""
    slot = built_slot(outdir, locked)
    cached = sorted(slot.glob("*.whl"))
    if len(cached) == 1:
        return cached[0], True
    from build import BuildBackendException, BuildException, ProjectBuilder
    from build.env import DefaultIsolatedEnv

    runner = QuietRunner()
    with tempfile.TemporaryDirectory(prefix="primes-sdist-") as temp:
        top = Path(temp)
        try:
            with tarfile.open(sdist) as archive:
                archive.extractall(top / "src", filter="data")
        except (OSError, tarfile.TarError) as exc:
            raise BuildError(f"cannot unpack {locked.filename}: {exc}") from None
        tops = [p for p in (top / "src").iterdir() if p.is_dir()]
        project = tops[0] if len(tops) == 1 else None
        if project is None or not any(
            (project / f).is_file() for f in ("pyproject.toml", "setup.py")
        ):
            raise BuildError(f"{locked.filename}: not an sdist (one top folder with a project)")
        try:
            with DefaultIsolatedEnv() as env:
                builder = ProjectBuilder.from_isolated_env(env, project, runner=runner)
                env.install(builder.build_system_requires)
                env.install(builder.get_requires_for_build("wheel"))
                built = Path(builder.build("wheel", top / "out"))
        except (BuildException, BuildBackendException, subprocess.CalledProcessError) as exc:
            if runner.output.strip():
                sys.stderr.write(runner.output.rstrip() + "\n")
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise BuildError(
                f"building a wheel from {locked.filename} failed ({reason}); see the output above"
            ) from None
        slot.mkdir(parents=True, exist_ok=True)
        target = slot / built.name
        target.write_bytes(built.read_bytes())
    return target, False
