"""Build one project's wheel through its own PEP 517 backend, quietly.

Where this environment has the project's build requirements, its hooks run in a shared hook
worker (primes_build.wheels.hookpool): one interpreter per backend serves every app, instead of a
fresh interpreter per hook per app. Otherwise the project gets an isolated env of its own
(build.env.DefaultIsolatedEnv, imported only then).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from primes_build.errors import BuildError
from primes_build.wheels import buildreqs
from primes_build.wheels.hookpool import BackendKey, HookFailed, WorkerPool
from primes_build.wheels.sourcetree import copy_sources

LEGACY_BACKEND = "setuptools.build_meta:__legacy__"
"""PEP 517's fallback when a project names no build-backend."""
INSTALLER_VAR = "PRIMES_BUILD_INSTALLER"
# Set by an outer PEP 517 frontend for our own backend; a nested hook call must not inherit them.
_HOOK_ENV_PREFIXES = ("_PYPROJECT_HOOKS_", "PEP517_")


class WheelBuildFailed(BuildError):
    """A project's backend failed; `output` is what it printed (shown before the ERROR line)."""

    def __init__(self, message: str, output: str) -> None:
        self.output = output
        super().__init__(message)

    def show(self) -> None:
        """The backend's output on stderr."""
        if self.output.strip():
            sys.stderr.write(self.output.rstrip() + "\n")
            sys.stderr.flush()


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


def installer() -> str:
    """The installer for an app's isolated build env: what made this build's own env.

    `python -m build --installer uv` makes the env primes-build runs in with uv (its
    pyvenv.cfg then has a `uv` key): the apps' envs are made with uv too, a fraction of pip's
    time. Otherwise pip, so that pip's configuration (index, find-links) applies as the user
    set it up. PRIMES_BUILD_INSTALLER=uv|pip overrides the choice.
    """
    chosen = os.environ.get(INSTALLER_VAR, "").strip().lower()
    if chosen in ("uv", "pip"):
        return chosen
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


def backend_key(source: Path) -> BackendKey:
    """The project's backend and its backend-path (absolute, inside the project)."""
    table = buildreqs.build_system(source / "pyproject.toml")
    backend = table.get("build-backend", LEGACY_BACKEND)
    paths = table.get("backend-path", [])
    if not isinstance(backend, str) or not isinstance(paths, list):
        return (LEGACY_BACKEND, ())
    return (backend, tuple(str((source / p).resolve()) for p in paths if isinstance(p, str)))


def needs_isolation(project: Path) -> bool:
    """Whether this environment lacks the project's [build-system] requires."""
    return bool(buildreqs.unmet(buildreqs.declared(project / "pyproject.toml")))


def build_wheel(project: Path, outdir: Path, shown: str, pool: WorkerPool) -> tuple[Path, bool]:
    """Build `project`'s wheel into `outdir`; returns the wheel and whether it needed isolation.

    The build runs on a copy of the project's sources (so stale build/ output never leaks in
    and the source tree is not written to). When the current environment satisfies the
    project's build requirements (static and the backend's own) the hooks run in a shared
    worker of `pool`; otherwise in an isolated env.
    """
    with tempfile.TemporaryDirectory(prefix="primes-app-") as temp:
        source = Path(temp) / "src"
        copy_sources(project, source)
        log = Path(temp) / "backend.log"
        outdir.mkdir(parents=True, exist_ok=True)
        if not needs_isolation(source):
            built = _in_worker(source, outdir, shown, pool, log)
            if built is not None:
                return built, False
        return _isolated(source, outdir, shown), True


def _in_worker(source: Path, outdir: Path, shown: str, pool: WorkerPool, log: Path) -> Path | None:
    """The wheel built by a shared worker; None when the backend asks for what is not here."""
    worker = pool.acquire(backend_key(source))
    try:
        try:
            extra: Any = worker.call("get_requires_for_build_wheel", source, [{}], log)
        except HookFailed as exc:
            if exc.kind != "missing":
                raise
            extra = []
        if buildreqs.unmet([str(r) for r in extra]):
            return None
        name = worker.call("build_wheel", source, [str(outdir), {}, None], log)
        return outdir / str(name)
    except HookFailed as exc:
        raise WheelBuildFailed(
            f"building the wheel of {shown} failed ({exc.message}); see its backend's output above",
            log.read_text(encoding="utf-8", errors="replace") if log.is_file() else "",
        ) from None
    finally:
        pool.release(worker)


def _isolated(source: Path, outdir: Path, shown: str) -> Path:
    """The wheel built in an isolated env of its own (needs `build`)."""
    try:
        from build import BuildBackendException, BuildException, ProjectBuilder
        from build.env import DefaultIsolatedEnv
    except ImportError:
        missing = ", ".join(buildreqs.unmet(buildreqs.declared(source / "pyproject.toml")))
        raise BuildError(
            f"{shown}: its build needs {missing or 'what its backend asks for'}, which this "
            "environment lacks; install it, or install `build` so that primes-build can make "
            "an isolated env for it"
        ) from None
    runner = QuietRunner()
    try:
        with DefaultIsolatedEnv(installer=installer()) as env:  # type: ignore[arg-type]
            isolated = ProjectBuilder.from_isolated_env(env, source, runner=runner)
            env.install(isolated.build_system_requires)
            env.install(isolated.get_requires_for_build("wheel"))
            return Path(isolated.build("wheel", outdir))
    except (BuildException, BuildBackendException, subprocess.CalledProcessError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise WheelBuildFailed(
            f"building the wheel of {shown} failed ({reason}); see its backend's output above",
            runner.output,
        ) from None
