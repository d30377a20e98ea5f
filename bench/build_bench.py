"""Build: `python -m build` of release 2 with release 1's package present: cold on the default
isolated route, with release 1's wheel cache, with `--installer uv`, with `--no-isolation`, cold
isolated with two builds at once (PRIMES_BUILD_JOBS=2), and the `--no-isolation` rebuild after
one app's sources changed (its version and the release's bumped to 3; one round of each;
`make bench` runs this script 5 times). The rebuild's output says which projects were built
(`(wheel...)`) rather than taken from the wheel cache (`(reused)`): only the changed app should be.

Run: ``.venv/bin/python bench/build_bench.py [--quick]``. Prints JSON, then a table.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench_node import build, bump, copy_sources
from bench_report import emit, options

from tools.story import run

CACHE = ".primes-cache"
JOBS_VAR = "PRIMES_BUILD_JOBS"
CHANGED_APP = "prime_miner"


def timed_build(src: Path, outdir: Path, *extra: str) -> float:
    """Wall time of `python -m build [EXTRA] --outdir OUTDIR SRC`."""
    start = time.perf_counter()
    build(src, outdir, *extra)
    return time.perf_counter() - start


def timed_rebuild(src: Path, outdir: Path) -> tuple[float, list[str]]:
    """Wall time of `python -m build --no-isolation`, and the projects it built (not reused)."""
    argv = [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(outdir), str(src)]
    start = time.perf_counter()
    result = run(argv, cwd=src)
    elapsed = time.perf_counter() - start
    built = [
        line.split()[1]
        for line in result.stdout.splitlines()
        if line.startswith("==> ") and "(wheel" in line
    ]
    return elapsed, built


def fresh_outdir(scratch: Path, name: str, one: Path) -> Path:
    """An output directory holding only release 1's package (the relup's `from`)."""
    outdir = scratch / name
    outdir.mkdir()
    shutil.copy2(one, outdir / one.name)
    return outdir


def touch_app(src: Path, app: str) -> None:
    """Change one app's sources (a comment line in its first module), as an edit would."""
    module = sorted((src / "apps" / app).rglob("*.py"))[0]
    module.write_text(module.read_text() + f"# edited {time.time_ns()}\n")


def main() -> int:
    opts = options(__doc__.splitlines()[0] if __doc__ else "")
    uv = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
    with tempfile.TemporaryDirectory(prefix="primes-bench-") as tmp:
        scratch = Path(tmp)
        src = copy_sources(scratch / "src")
        first = scratch / "dist-1"
        release_one_s = timed_build(src, first)
        bump(src, "2")
        one = first / "primenode_1.tar.gz"
        cold_s = timed_build(src, fresh_outdir(scratch, "cold", one))
        reused = fresh_outdir(scratch, "reused", one)
        shutil.copytree(first / CACHE, reused / CACHE)
        reused_s = timed_build(src, reused)
        uv_s = float("nan")
        if Path(uv).is_file() and not opts.quick:
            env_path = f"{Path(uv).parent}:{os.environ.get('PATH', '')}"
            os.environ["PATH"] = env_path  # build looks uv up on PATH
            uv_s = timed_build(src, fresh_outdir(scratch, "uv", one), "--installer", "uv")
        jobs_s = float("nan")
        if not opts.quick:
            before = os.environ.get(JOBS_VAR)
            os.environ[JOBS_VAR] = "2"
            jobs_s = timed_build(src, fresh_outdir(scratch, "two-jobs", one))
            if before is None:
                del os.environ[JOBS_VAR]
            else:
                os.environ[JOBS_VAR] = before
        local = fresh_outdir(scratch, "no-isolation", one)
        no_isolation_s = timed_build(src, local, "--no-isolation")
        touch_app(src, CHANGED_APP)
        bump(src, "3", CHANGED_APP)  # changed code ships under a new app and release version
        rebuild_s, rebuilt = timed_rebuild(src, local)
    results: dict[str, object] = {
        "release_1_cold_s": round(release_one_s, 3),
        "release_2_cold_s": round(cold_s, 3),
        "release_2_reused_s": round(reused_s, 3),
        "release_2_cold_uv_s": round(uv_s, 3),
        "release_2_cold_no_isolation_s": round(no_isolation_s, 3),
        "release_2_cold_two_jobs_s": round(jobs_s, 3),
        "rebuild_one_app_no_isolation_s": round(rebuild_s, 3),
        "rebuild_built": rebuilt,
        "uv": uv if uv_s == uv_s else None,
    }
    rows = [
        ("python -m build, release 1 (cold)", f"{release_one_s:.2f} s"),
        ("release 2 with 1 present, cold, isolated", f"{cold_s:.2f} s"),
        ("release 2, release 1's wheel cache present", f"{reused_s:.2f} s"),
        ("release 2, cold, --installer uv", f"{uv_s:.2f} s"),
        ("release 2, cold, isolated, PRIMES_BUILD_JOBS=2", f"{jobs_s:.2f} s"),
        ("release 2, cold, --no-isolation", f"{no_isolation_s:.2f} s"),
        (f"rebuild after {CHANGED_APP} changed, --no-isolation", f"{rebuild_s:.2f} s"),
        ("projects that rebuild built (not reused)", ", ".join(rebuilt) or "none"),
    ]
    emit("build", results, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
