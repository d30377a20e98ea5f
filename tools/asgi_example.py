"""The ratelimiter example's steps (examples/ratelimiter), each a real command: pip download
into a wheelhouse, python -m build, tar -xzf, bin/ratelimiter, and HTTP load from wrk
(or a Python client when wrk is not installed). Used by tests/e2e/test_asgi_upgrade.py,
bench/asgi_bench.py and bench/asgi_throughput.py."""

from __future__ import annotations

import http.client
import math
import re
import shutil
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "ratelimiter"
IGNORED = shutil.ignore_patterns(
    "__pycache__", "*.pyc", "*.egg-info", "build", "dist", ".venv", ".pytest_cache"
)


class ExampleError(Exception):
    """A step failed; str() says which command and what it printed."""


def run(argv: Sequence[str | Path], cwd: Path, timeout: float = 300) -> str:
    """Run one command; its stdout, or ExampleError with what it printed."""
    done = subprocess.run(
        [str(a) for a in argv], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        raise ExampleError(f"{argv} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout


def pins(example: Path = EXAMPLE) -> list[str]:
    """`name==version` of every package the example's pylock.toml locks."""
    lock = tomllib.loads((example / "pylock.toml").read_text(encoding="utf-8"))
    return [f"{p['name']}=={p['version']}" for p in lock.get("packages", [])]


def readme_download(example: Path = EXAMPLE) -> list[str]:
    """The example README's `pip download` command, as words after `python -m pip`."""
    text = (example / "README.md").read_text(encoding="utf-8").replace("\\\n", " ")
    found = re.search(r"^\S*python -m pip (download [^\n]*)$", text, flags=re.M)
    if found is None:
        raise ExampleError(f"{example / 'README.md'}: no `python -m pip download` line")
    return found.group(1).split()


def fill_wheelhouse(house: Path) -> Path:
    """The locked wheels, fetched once with the README's pip download (pip's cache serves
    repeats), into `house` instead of the README's `wheels`."""
    house.mkdir(parents=True, exist_ok=True)
    words = readme_download()
    words[words.index("-d") + 1] = str(house)
    run([sys.executable, "-m", "pip", "-q", *words], cwd=house)
    return house


def copy_example(dest: Path) -> Path:
    """The example's sources, with its symlinks (runtime, build_backend, asgi_host) copied."""
    shutil.copytree(EXAMPLE, dest, ignore=IGNORED, symlinks=False)
    return dest


def make_v2(src: Path) -> None:
    """Version 2 (examples/ratelimiter/v2/README.md): new bucket and web, versions bumped."""
    for name in ("bucket.py", "web.py"):
        shutil.copy2(src / "v2" / name, src / "apps" / "limiter" / "limiter" / name)
    for toml in (src / "primes.toml", src / "apps" / "limiter" / "pyproject.toml"):
        text = toml.read_text(encoding="utf-8")
        new, count = re.subn(r'^version = "1"$', 'version = "2"', text, count=1, flags=re.M)
        if count != 1:
            raise ExampleError(f'{toml}: no line version = "1" to bump')
        toml.write_text(new, encoding="utf-8")


def build(src: Path, outdir: Path, house: Path, previous: Path | None = None) -> Path:
    """python -m build, offline from the wheelhouse; the release package it wrote."""
    argv: list[str | Path] = [sys.executable, "-m", "build", "--no-isolation"]
    argv += [f"-Cwheelhouse={house}", "--outdir", outdir]
    if previous is not None:
        argv.append(f"-Cprevious={previous}")
    run([*argv, src], cwd=src)
    text = (src / "primes.toml").read_text(encoding="utf-8")
    version = re.search(r'^version = "([^"]+)"$', text, flags=re.M)
    assert version is not None
    return outdir / f"ratelimiter_{version.group(1)}.tar.gz"


def deploy(package: Path, root: Path) -> Path:
    """tar -xzf the package into a new directory; the start script."""
    root.mkdir(parents=True)
    run(["tar", "-xzf", package, "-C", root], cwd=root)
    return root / "bin" / "ratelimiter"


def ctl(script: Path, *args: str) -> str:
    """bin/ratelimiter ARGS; its stdout."""
    return run([script, *args], cwd=script.parent)


@dataclass(frozen=True)
class Load:
    """What one load run saw."""

    tool: str  # "wrk" or "python client"
    requests: int
    failed: int  # non-2xx answers and socket errors
    worst_ms: float
    per_second: float = math.nan  # wrk's Requests/sec
    p99_ms: float = math.nan  # wrk's 99% latency (--latency)


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(url: str, seconds: float, connections: int) -> Load:
    """Load ``url`` with wrk (2 threads); its counts, rate and p99, read from what it prints."""
    argv = ["wrk", "-t2", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", url]
    out = run(argv, cwd=Path("."), timeout=seconds + 60)
    done = re.search(r"(\d+) requests in", out)
    latency = re.search(r"Latency\s+\S+\s+\S+\s+(\S+)", out)
    if done is None or latency is None:
        raise ExampleError(f"cannot read wrk's output:\n{out}")
    failed = 0
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx is not None:
        failed += int(non2xx.group(1))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if errors is not None:
        failed += sum(int(n) for n in errors.groups())
    if failed:  # which socket errors: shown with a failing test's captured output
        sys.stderr.write(out)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p99 = re.search(r"^\s+99%\s+(\S+)$", out, flags=re.M)
    return Load(
        "wrk",
        int(done.group(1)),
        failed,
        _ms(latency.group(1)),
        float(rate.group(1)) if rate else math.nan,
        _ms(p99.group(1)) if p99 else math.nan,
    )


def python_load(host: str, port: int, path: str, seconds: float, connections: int) -> Load:
    """Load with keep-alive http.client connections, one thread each (when wrk is missing)."""
    stop = time.monotonic() + seconds
    counts = {"ok": 0, "failed": 0}
    worst = [0.0]
    lock = threading.Lock()

    def client() -> None:
        conn = http.client.HTTPConnection(host, port, timeout=10)
        ok = failed = 0
        slowest = 0.0
        while time.monotonic() < stop:
            began = time.monotonic()
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                if response.status == 200:
                    ok += 1
                else:
                    failed += 1
            except (OSError, http.client.HTTPException):
                failed += 1
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=10)
            slowest = max(slowest, time.monotonic() - began)
        conn.close()
        with lock:
            counts["ok"] += ok
            counts["failed"] += failed
            worst[0] = max(worst[0], slowest)

    threads = [threading.Thread(target=client) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return Load("python client", counts["ok"] + counts["failed"], counts["failed"], worst[0] * 1e3)


def load(port: int, path: str, seconds: float, connections: int = 16) -> Load:
    """HTTP load on 127.0.0.1:port: wrk when installed, else the Python client."""
    if shutil.which("wrk"):
        return wrk(f"http://127.0.0.1:{port}{path}", seconds, connections)
    return python_load("127.0.0.1", port, path, seconds, connections)


def get(port: int, path: str) -> tuple[int, bytes]:
    """One GET on a fresh connection: status and body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()
