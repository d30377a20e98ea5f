"""The same ASGI app (examples/ratelimiter's limiter) restarted or upgraded under wrk load,
three ways, in one run: our hot upgrade (bin/ratelimiter upgrade, 1 -> 2), a uvicorn master
with 2 workers sent SIGHUP, and gunicorn with 2 uvicorn workers sent SIGHUP.

For each: failed requests (non-2xx answers and socket errors, as wrk counts them), the
worst latency, and whether the state survived (a client's count, from 20 hits made
before, is still there afterwards). Several runs; min/median/max.

Run: ``.venv/bin/python bench/asgi_bench.py [--runs 3] [--seconds 8]``. Needs wrk (the
Python client otherwise, said in the output). Not run by ``make test``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench_report import spread  # noqa: E402

from tools.asgi_example import (  # noqa: E402
    Load,
    build,
    copy_example,
    ctl,
    deploy,
    fill_wheelhouse,
    get,
    load,
    make_v2,
)

BEFORE = 20  # hits a client makes before the restart; the state survived if they are kept

PLAIN = '''"""limiter's web app outside a release: a node per OS process, its bucket in it."""
from primes_runtime.node import Node

import limiter.bucket

node = Node()
node.make_default()
with node.entered():
    limiter.bucket.start_link()

from limiter.web import app  # noqa: E402
'''


@dataclass(frozen=True)
class Outcome:
    """One run of one way."""

    way: str
    tool: str
    requests: int
    failed: int
    worst_ms: float
    state_survived: bool


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_ready(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if get(port, "/stats")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise SystemExit(f"asgi_bench: nothing answered on port {port} within {timeout:g} s")


def hit_count(port: int, client: str) -> int:
    status, body = get(port, f"/hit/{client}")
    assert status == 200, (status, body)
    count = json.loads(body)["count"]
    assert isinstance(count, int)
    return count


def under_load(
    way: str, port: int, seconds: float, restart_at: float, restart: Callable[[], None]
) -> Outcome:
    """Hit a client BEFORE times, load /hit/bench, restart mid-way; then check the client."""
    for _ in range(BEFORE):
        hit_count(port, "kept")
    results: list[Load] = []
    loader = threading.Thread(target=lambda: results.append(load(port, "/hit/bench", seconds)))
    loader.start()
    time.sleep(restart_at)
    restart()
    loader.join(seconds + 120)
    wait_ready(port)
    survived = hit_count(port, "kept") > BEFORE
    [seen] = results
    return Outcome(way, seen.tool, seen.requests, seen.failed, seen.worst_ms, survived)


def ours(work: Path, house: Path, seconds: float, restart_at: float) -> Outcome:
    """The release's hot upgrade (1 -> 2), through bin/ratelimiter."""
    dist = work / "dist"
    src = copy_example(work / "src")
    v1 = build(src, dist, house)
    make_v2(src)
    v2 = build(src, dist, house, previous=v1)
    script = deploy(v1, work / "srv")
    ctl(script, "start")
    try:
        port = int(ctl(script, "rpc", "asgi_host.app", "port").strip())
        wait_ready(port)

        def upgrade() -> None:
            ctl(script, "upgrade", str(v2))

        return under_load("primes hot upgrade", port, seconds, restart_at, upgrade)
    finally:
        ctl(script, "stop")


def served(argv: Sequence[str], cwd: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        list(argv), cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def plain_env(work: Path) -> dict[str, str]:
    """The limiter app and the runtime importable by the venv's Python (uvicorn, gunicorn)."""
    (work / "plain_limiter.py").write_text(PLAIN, encoding="utf-8")
    paths = [str(work), str(REPO / "examples/ratelimiter/apps/limiter"), str(REPO / "runtime")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


def hup(
    proc: subprocess.Popen[bytes], way: str, work: Path, seconds: float, at: float, port: int
) -> Outcome:
    try:
        wait_ready(port)
        return under_load(way, port, seconds, at, lambda: proc.send_signal(signal.SIGHUP))
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def uvicorn_hup(work: Path, seconds: float, at: float) -> Outcome:
    """A uvicorn master with 2 workers, sent SIGHUP (it restarts the workers)."""
    port = free_port()
    argv = [sys.executable, "-m", "uvicorn", "--workers", "2", "--port", str(port)]
    argv += ["--no-access-log", "plain_limiter:app"]
    proc = served(argv, work, plain_env(work))
    return hup(proc, "uvicorn --workers 2, SIGHUP", work, seconds, at, port)


def gunicorn_hup(work: Path, seconds: float, at: float) -> Outcome:
    """gunicorn with 2 uvicorn workers, sent SIGHUP (it replaces the workers gracefully)."""
    port = free_port()
    argv = [sys.executable, "-m", "gunicorn", "-k", "uvicorn.workers.UvicornWorker", "-w", "2"]
    argv += ["-b", f"127.0.0.1:{port}", "plain_limiter:app"]
    proc = served(argv, work, plain_env(work))
    return hup(proc, "gunicorn -k UvicornWorker -w 2, SIGHUP", work, seconds, at, port)


def summary(outcomes: list[Outcome]) -> dict[str, object]:
    return {
        "runs": len(outcomes),
        "tool": outcomes[0].tool,
        "requests": spread([float(o.requests) for o in outcomes]),
        "failed": spread([float(o.failed) for o in outcomes]),
        "worst_ms": spread([round(o.worst_ms, 1) for o in outcomes]),
        "state_survived": f"{sum(o.state_survived for o in outcomes)}/{len(outcomes)}",
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=8.0, help="load per run")
    parser.add_argument("--restart-at", type=float, default=2.5, help="seconds into the load")
    opts = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="asgi_bench_") as tmp:
        top = Path(tmp)
        house = fill_wheelhouse(top / "wheelhouse")
        results: dict[str, list[Outcome]] = {}
        for run in range(opts.runs):
            ways: list[tuple[str, Callable[[Path], Outcome]]] = [
                ("primes", lambda w: ours(w, house, opts.seconds, opts.restart_at)),
                ("uvicorn", lambda w: uvicorn_hup(w, opts.seconds, opts.restart_at)),
                ("gunicorn", lambda w: gunicorn_hup(w, opts.seconds, opts.restart_at)),
            ]
            for key, fn in ways:
                work = top / f"{key}-{run}"
                work.mkdir()
                outcome = fn(work)
                results.setdefault(outcome.way, []).append(outcome)
                print(json.dumps(asdict(outcome)), flush=True)
    table = {way: summary(outcomes) for way, outcomes in results.items()}
    print(json.dumps(table, indent=2))
    print("\n| way | requests min/med/max | failed min/med/max | worst ms min/med/max | state |")
    print("|---|---|---|---|---|")
    for way, row in table.items():
        cells = []
        for key in ("requests", "failed", "worst_ms"):
            spread = row[key]
            assert isinstance(spread, dict)
            cells.append(f"{spread['min']:.0f} / {spread['median']:.0f} / {spread['max']:.0f}")
        print(f"| {way} | {' | '.join(cells)} | {row['state_survived']} kept |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
