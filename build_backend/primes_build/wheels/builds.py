"""The projects' wheel builds in the background, build_jobs() at a time, through shared workers.

The wheel hook starts the builds of the projects whose wheel is not cached before it imports
the rest of the backend (`early`: primes.toml read raw, stdlib only), so they run while the
backend loads, validates and reads earlier releases; release.py then takes the ones it needs.
A build is taken only for the same project directory and the same source key, so a guess
made before validation can cost time, never correctness.
"""

from __future__ import annotations

import contextlib
import importlib.metadata  # noqa: F401  # before any build thread: see below
import os
import sys
import tempfile
import tomllib
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path, PurePosixPath
from types import TracebackType

from primes_build.wheels.cache import WheelCache, source_key
from primes_build.wheels.hookpool import WorkerPool
from primes_build.wheels.wheelbuild import backend_key, build_wheel

JOBS_VAR = "PRIMES_BUILD_JOBS"
MAX_JOBS = 4


def build_jobs() -> int:
    """Projects built at once: PRIMES_BUILD_JOBS, else one per core but one.

    Each build drives one hook worker and is CPU-bound, and the backend itself keeps a core
    busy (loading, reading earlier releases) while they run: on 2 cores a second worker's
    own import of the backend is extra work that paid off in one of three measured windows
    (docs/benchmarks.md).
    """
    chosen = os.environ.get(JOBS_VAR, "").strip()
    if chosen.isdigit() and int(chosen) > 0:
        return int(chosen)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(MAX_JOBS, (cores or 1) - 1))


RUNTIME = "primes_runtime"
# importlib.metadata is imported above, by the thread that starts the builds: a build thread
# needs it (buildreqs), and on Python 3.11 a thread importing it while another imports
# importlib.resources can fail with a _DeadlockError (importlib.abc and importlib.resources
# import each other); seen once in a corpus build.

Built = Future[tuple[Path, bool]]
"""A build's wheel and whether it needed an isolated env."""


class Builds:
    """Wheel builds started, by project name: the directory and key each was started for."""

    def __init__(self) -> None:
        self._stack = contextlib.ExitStack()
        self._temp = Path(self._stack.enter_context(tempfile.TemporaryDirectory("-wheels")))
        self.pool = self._stack.enter_context(WorkerPool())
        self._executor = ThreadPoolExecutor(max_workers=build_jobs())
        self._started: dict[str, tuple[Path, str, Built]] = {}
        self._keys: dict[Path, str] = {}

    def source_key(self, directory: Path) -> str:
        """The cache key of a project's sources, computed once per build."""
        where = directory.resolve()
        if where not in self._keys:
            self._keys[where] = source_key(directory)
        return self._keys[where]

    def start(self, name: str, directory: Path, key: str, shown: str) -> Built:
        """Build `directory`'s wheel in the background (into a folder of its own)."""
        outdir = self._temp / f"{len(self._started)}-{name}"
        future = self._executor.submit(build_wheel, directory, outdir, shown, self.pool)
        self._started[name] = (directory.resolve(), key, future)
        return future

    def take(self, name: str, directory: Path, key: str) -> Built | None:
        """The build started for this project, directory and key; None if there is none."""
        started = self._started.pop(name, None)
        if started is None or started[:2] != (directory.resolve(), key):
            return None
        return started[2]

    def __enter__(self) -> Builds:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
        self._stack.close()


def listed(root: Path) -> list[tuple[str, Path, str]]:
    """(name, directory, path as written) of the runtime and apps primes.toml lists, unchecked.

    Only relative paths inside `root` to a directory with a pyproject.toml;
    primes_build.project.config validates them properly later.
    """
    try:
        with open(root / "primes.toml", "rb") as f:
            data = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError):
        return []
    tables: list[tuple[str, object]] = []
    if isinstance(data.get("runtime"), dict):
        tables.append((RUNTIME, data["runtime"].get("path", "runtime")))
    apps = data.get("apps")
    if isinstance(apps, dict):
        tables += [(n, t.get("path")) for n, t in apps.items() if isinstance(t, dict)]
    found = []
    for name, path in tables:
        if not isinstance(path, str) or not path:
            continue
        pure = PurePosixPath(path)
        if pure.is_absolute() or ".." in pure.parts or "\\" in path:
            continue
        if (root / path / "pyproject.toml").is_file():
            found.append((name, root / path, path))
    return found


def early(root: Path, outdir: Path) -> Builds:
    """Builds started for every listed project whose wheel the cache lacks."""
    builds = Builds()
    try:
        projects = listed(root)
        if projects:  # one worker starts before the sources are hashed: a rebuild needs one
            builds.pool.prestart(backend_key(projects[0][1]))
        cache = WheelCache(outdir)
        misses = []
        for name, directory, shown in projects:
            key = builds.source_key(directory)
            if cache.lookup(name, key) is None:
                misses.append((name, directory, key, shown))
        for name, directory, key, shown in misses:
            builds.start(name, directory, key, shown)
    except Exception:  # a guess only: whatever went wrong, the real build finds it and says so
        builds.__exit__(*sys.exc_info())
        return Builds()
    return builds
