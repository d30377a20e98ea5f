"""Build with 20 locked dependencies: `python -m build` of a release whose app needs 20
libraries (pylock.toml, local wheels), cold (no .primes-cache/) and with a warm cache.

Run: ``.venv/bin/python bench/deps_bench.py [--quick]``. Prints JSON, then a table. The
wheels are made here (20 pure-Python distributions of 10 modules each) and locked by file
URL, so the run needs no network and measures the build, not a download.
"""

from __future__ import annotations

import base64
import hashlib
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from bench_node import build, copy_sources
from bench_report import emit, options

LIBRARIES = 20
MODULES = 10
ROUNDS = 2
QUICK_ROUNDS = 1
CACHE = ".primes-cache"


def _record(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def write_wheel(folder: Path, name: str, version: str, files: dict[str, bytes]) -> Path:
    """A pure-Python wheel written directly as a zip."""
    info = f"{name}-{version}.dist-info"
    members = dict(files)
    members[f"{info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
    )
    members[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    record = "".join(f"{p},{_record(d)},{len(d)}\n" for p, d in members.items())
    members[f"{info}/RECORD"] = f"{record}{info}/RECORD,,\n".encode()
    path = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, data in members.items():
            archive.writestr(zipfile.ZipInfo(member, (1980, 1, 1, 0, 0, 0)), data)
    return path


def locked_project(scratch: Path) -> Path:
    """The release sources with prime_miner needing LIBRARIES libraries, and their lock."""
    src = copy_sources(scratch / "src")
    house = scratch / "wheelhouse"
    house.mkdir()
    names = [f"benchlib{i:02d}" for i in range(LIBRARIES)]
    lock = 'lock-version = "1.0"\ncreated-by = "bench"\nrequires-python = ">=3.11"\n'
    for name in names:
        body = "".join(f"def f{j}(x: int) -> int:\n    return x + {j}\n\n\n" for j in range(40))
        files = {f"{name}/m{k}.py": body.encode() for k in range(MODULES - 1)}
        files[f"{name}/__init__.py"] = b'"""A benchmark library."""\n'
        wheel = write_wheel(house, name, "1.0", files)
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        lock += f'\n[[packages]]\nname = "{name}"\nversion = "1.0"\n'
        lock += f'wheels = [{{ url = "{wheel.as_uri()}", hashes = {{ sha256 = "{digest}" }} }}]\n'
    (src / "pylock.toml").write_text(lock)
    pyproject = src / "apps" / "prime_miner" / "pyproject.toml"
    listed = ", ".join(f'"{n}>=1"' for n in names)
    text = pyproject.read_text().replace('["primes-runtime"]', f'["primes-runtime", {listed}]')
    pyproject.write_text(text)
    return src


def main() -> int:
    opts = options(__doc__.splitlines()[0] if __doc__ else "")
    rounds = QUICK_ROUNDS if opts.quick else ROUNDS
    cold: list[float] = []
    warm: list[float] = []
    with tempfile.TemporaryDirectory(prefix="primes-bench-") as tmp:
        scratch = Path(tmp)
        src = locked_project(scratch)
        for index in range(rounds):
            outdir = scratch / f"dist-{index}"
            for samples in (cold, warm):  # the second build finds the first one's cache
                for package in outdir.glob("primenode*"):
                    package.unlink()
                start = time.perf_counter()
                built = build(src, outdir)
                samples.append(time.perf_counter() - start)
            assert (outdir / CACHE / "files").is_dir() and built.is_file()
    cold_s, warm_s = statistics.median(cold), statistics.median(warm)
    results: dict[str, object] = {
        "libraries": LIBRARIES,
        "modules_per_library": MODULES,
        "rounds": rounds,
        "cold_s": [round(s, 3) for s in cold],
        "warm_s": [round(s, 3) for s in warm],
        "cold_median_s": round(cold_s, 3),
        "warm_median_s": round(warm_s, 3),
    }
    rows = [
        (
            f"python -m build, {LIBRARIES} locked libraries, cold",
            f"{cold_s:.2f} s (median of {rounds})",
        ),
        (
            f"python -m build, {LIBRARIES} locked libraries, warm cache",
            f"{warm_s:.2f} s (median of {rounds})",
        ),
    ]
    emit("deps_build", results, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
