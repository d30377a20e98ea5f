"""Build one project's wheel through its own PEP 517 backend (build.ProjectBuilder), quietly."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from build import BuildBackendException, BuildException, ProjectBuilder, check_dependency
from build.env import DefaultIsolatedEnv, Installer

from primes_build.errors import BuildError
from primes_build.sourcetree import copy_sources

# Set by an outer PEP 517 frontend for our own backend; a nested hook call must not inherit them.
_HOOK_ENV_PREFIXES = ("_PYPROJECT_HOOKS_", "PEP517_")


class QuietRunner:
    """A pyproject_hooks subprocess runner that keeps the backend's output for error reports."""

    def __init__(self) -> None:
        self.output = ""

    def __call__(
        self,
        cmd: Sequence[str],
        cwd: str | None = None,
        extra_environ: Mapping[str, str] | None = None,
    ) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(_HOOK_ENV_PREFIXES)}
        env.update(extra_environ or {})
        done = subprocess.run(
            list(cmd),
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            check=False,
        )
        self.output += done.stdout.decode("utf-8", errors="replace")
        if done.returncode != 0:
            raise subprocess.CalledProcessError(done.returncode, list(cmd), done.stdout)


INSTALLER_VAR = "PRIMES_BUILD_INSTALLER"


def installer() -> Installer:
    """The installer for an app's isolated build env: what made this build's own env.

    `python -m build --installer uv` makes the env primes-build runs in with uv (its
    pyvenv.cfg then has a `uv` key): the apps' envs are made with uv too, a fraction of pip's
    time. Otherwise pip, so that pip's configuration (index, find-links) applies as the user
    set it up. PRIMES_BUILD_INSTALLER=uv|pip overrides the choice.
    """
    chosen = os.environ.get(INSTALLER_VAR, "").strip().lower()
    if chosen in ("uv", "pip"):
        return "uv" if chosen == "uv" else "pip"
    try:
        text = (Path(sys.prefix) / "pyvenv.cfg").read_text(encoding="utf-8")
    except OSError:
        return "pip"
    keys = {line.partition("=")[0].strip() for line in text.splitlines()}
    return "uv" if "uv" in keys and _uv_available() else "pip"


def _uv_available() -> bool:
    try:
        import uv

        return Path(uv.find_uv_bin()).is_file()
    except (ImportError, FileNotFoundError):
        return shutil.which(os.environ.get("UV") or "uv") is not None


def needs_isolation(builder: ProjectBuilder) -> bool:
    """Whether this environment lacks the project's build requirements.

    [build-system] requires is checked first: asking the backend for its extra requirements
    runs the backend, which fails here when the backend itself is not installed.
    """
    unmet = {u for r in builder.build_system_requires for u in check_dependency(r)}
    if unmet:
        return True
    return bool(builder.check_dependencies("wheel"))


def build_wheel(project: Path, outdir: Path, shown: str) -> tuple[Path, bool]:
    """Build `project`'s wheel into `outdir`; returns the wheel and whether it needed isolation.

    The build runs on a copy of the project's sources (so stale build/ output never leaks in
    and the source tree is not written to). When the current environment satisfies the
    project's build requirements the build runs here; otherwise in an isolated env.
    """
    runner = QuietRunner()
    with tempfile.TemporaryDirectory(prefix="primes-app-") as temp:
        source = Path(temp) / "src"
        copy_sources(project, source)
        try:
            builder = ProjectBuilder(source, python_executable=sys.executable, runner=runner)
            if not needs_isolation(builder):
                return Path(builder.build("wheel", outdir)), False
            with DefaultIsolatedEnv(installer=installer()) as env:
                isolated = ProjectBuilder.from_isolated_env(env, source, runner=runner)
                env.install(isolated.build_system_requires)
                env.install(isolated.get_requires_for_build("wheel"))
                return Path(isolated.build("wheel", outdir)), True
        except (BuildException, BuildBackendException, subprocess.CalledProcessError) as exc:
            if runner.output.strip():
                sys.stderr.write(runner.output.rstrip() + "\n")
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise BuildError(
                f"building the wheel of {shown} failed ({reason}); see its backend's output above"
            ) from None
