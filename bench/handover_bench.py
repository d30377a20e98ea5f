"""A hand-over beside the restarts users do today: the same ASGI app (examples/ratelimiter's
limiter, Starlette) under the same loopback HTTP load, four ways, ROUNDS rounds each, in one run.

(a) primes hand-over: `bin/ratelimiter upgrade` to a release on primes-runtime 2 (the same
    apps; tools/handover_example), so the node hands over to a successor node;
(b) primes restart: `bin/ratelimiter restart` (stop, then start) of release 1;
(c) plain uvicorn (one process) restarted: SIGTERM, wait for it to exit, start it again;
(d) gunicorn with 2 uvicorn workers (`-k uvicorn.workers.UvicornWorker`), sent SIGHUP.

The load: CLIENTS threads, each GETting /hit/load in a loop on a new connection per request
(every request needs the listening socket), BASELINE s before the action, then until the app
answers again and AFTER s more. A failed request: refused, reset, timed out or not 200 (a
client waits RETRY s after one). The gap: the longest time in which no request got an answer.
State kept: a client hit BEFORE times before the load has a count above BEFORE afterwards.

Run: ``.venv/bin/python bench/handover_bench.py [--rounds 5]`` (``make bench-handover``).
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from asgi_bench import free_port, hit_count, plain_env, served, wait_ready
from bench_report import emit, spread

from tools.asgi_example import build, copy_example, ctl, deploy, fill_wheelhouse, get
from tools.handover_example import runtime_bumped

os.environ.setdefault("PRIMES_PYTHON", os.path.realpath(sys.executable))

ROUNDS = 5
CLIENTS = 4
BASELINE = 1.0
AFTER = 2.0
RETRY = 0.01
BEFORE = 20
WAYS = ("primes hand-over", "primes restart", "uvicorn kill + start", "gunicorn HUP")


@dataclass(frozen=True)
class Round:
    """What the load saw during one restart or hand-over."""

    requests: int
    failed: int
    gap_ms: float
    state_kept: bool


@dataclass(frozen=True)
class Packages:
    """ratelimiter 1 and 2 (2: the same apps on primes-runtime 2), both serving on `port`."""

    one: Path
    two: Path
    port: int


def packages(work: Path) -> Packages:
    """Build both releases with a fixed port, so that a restart serves where it served."""
    house = fill_wheelhouse(work / "wheelhouse")
    src = copy_example(work / "src" / "ratelimiter")
    port = free_port()
    _fix_port(src / "primes.toml", port)
    one = build(src, work / "dist1", house)
    runtime_bumped(src)
    return Packages(one, build(src, work / "dist2", house, previous=one), port)


def _fix_port(toml: Path, port: int) -> None:
    """`port = 0` -> `port = <port>` in the release's [node.env.asgi_host]."""
    text = toml.read_text(encoding="utf-8")
    if "\nport = 0\n" not in text:
        raise SystemExit(f"handover_bench: {toml} has no line port = 0")
    toml.write_text(text.replace("\nport = 0\n", f"\nport = {port}\n", 1), encoding="utf-8")


class Hammer:
    """CLIENTS threads loading 127.0.0.1:port until stopped; the answer times they saw."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.stop = threading.Event()
        self.answered: list[float] = []
        self.failed = 0
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._client) for _ in range(CLIENTS)]

    def _client(self) -> None:
        answered: list[float] = []
        failed = 0
        while not self.stop.is_set():
            try:
                ok = get(self.port, "/hit/load")[0] == 200
            except (OSError, http.client.HTTPException):
                ok = False
            if ok:
                answered.append(time.monotonic())
            else:
                failed += 1
                time.sleep(RETRY)
        with self.lock:
            self.answered += answered
            self.failed += failed

    def gap_ms(self) -> float:
        times = sorted(self.answered)
        return max((b - a for a, b in itertools.pairwise(times)), default=0.0) * 1e3


@contextmanager
def loaded(port: int) -> Iterator[Hammer]:
    hammer = Hammer(port)
    for thread in hammer.threads:
        thread.start()
    try:
        yield hammer
    finally:
        hammer.stop.set()
        for thread in hammer.threads:
            thread.join(30)


def measure(port: int, action: Callable[[], None]) -> Round:
    """Hit `kept` BEFORE times, load, run `action` after BASELINE s, load AFTER s more."""
    for _ in range(BEFORE):
        hit_count(port, "kept")
    with loaded(port) as hammer:
        time.sleep(BASELINE)
        action()
        wait_ready(port)
        time.sleep(AFTER)
    kept = hit_count(port, "kept") > BEFORE
    requests = len(hammer.answered) + hammer.failed
    return Round(requests, hammer.failed, round(hammer.gap_ms(), 1), kept)


def primes_round(work: Path, pkgs: Packages, hand_over: bool) -> Round:
    """A fresh tree of release 1, started; hand it over to release 2, or restart it."""
    script = deploy(pkgs.one, work / "srv")
    ctl(script, "start")

    def act() -> None:
        out = ctl(script, "upgrade", str(pkgs.two)) if hand_over else ctl(script, "restart")
        if hand_over and "handed over" not in out:
            raise SystemExit(f"handover_bench: the upgrade was no hand-over:\n{out}")

    try:
        wait_ready(pkgs.port)
        return measure(pkgs.port, act)
    finally:
        ctl(script, "stop")


def uvicorn_round(work: Path) -> Round:
    """One uvicorn process; SIGTERM (it finishes what is in flight), then a new one."""
    port = free_port()
    argv = [sys.executable, "-m", "uvicorn", "--port", str(port), "--no-access-log"]
    argv.append("plain_limiter:app")
    env = plain_env(work)
    procs = [served(argv, work, env)]

    def restart() -> None:
        procs[-1].send_signal(signal.SIGTERM)
        procs[-1].wait(30)
        procs.append(served(argv, work, env))

    try:
        wait_ready(port)
        return measure(port, restart)
    finally:
        _end(procs[-1])


def gunicorn_round(work: Path) -> Round:
    """gunicorn with 2 uvicorn workers; SIGHUP (new workers, then the old ones go)."""
    port = free_port()
    argv = [sys.executable, "-m", "gunicorn", "-k", "uvicorn.workers.UvicornWorker", "-w", "2"]
    argv += ["-b", f"127.0.0.1:{port}", "plain_limiter:app"]
    proc = served(argv, work, plain_env(work))
    try:
        wait_ready(port)
        return measure(port, lambda: proc.send_signal(signal.SIGHUP))
    finally:
        _end(proc)


def _end(proc: subprocess.Popen[bytes]) -> None:
    """Stop a server this script started (its own child, by its pid)."""
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def summary(rounds: list[Round]) -> dict[str, object]:
    return {
        "rounds": len(rounds),
        "requests": spread([float(r.requests) for r in rounds]),
        "failed": spread([float(r.failed) for r in rounds]),
        "gap_ms": spread([r.gap_ms for r in rounds]),
        "state_kept": f"{sum(r.state_kept for r in rounds)}/{len(rounds)}",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    opts = parser.parse_args()
    began = time.monotonic()
    results: dict[str, list[Round]] = {way: [] for way in WAYS}
    with tempfile.TemporaryDirectory(prefix="handover_bench_") as tmp:
        top = Path(tmp)
        pkgs = packages(top / "build")
        for index in range(opts.rounds):
            ways: dict[str, Callable[[Path], Round]] = {
                WAYS[0]: lambda w: primes_round(w, pkgs, hand_over=True),
                WAYS[1]: lambda w: primes_round(w, pkgs, hand_over=False),
                WAYS[2]: uvicorn_round,
                WAYS[3]: gunicorn_round,
            }
            for number, (way, fn) in enumerate(ways.items()):
                work = top / f"{index}-{number}"
                work.mkdir()
                results[way].append(fn(work))
    table = {way: summary(rounds) for way, rounds in results.items()}
    rows = [("way", "failed min/med/max | longest gap ms min/med/max | state kept")]
    for way, row in table.items():
        failed, gap = row["failed"], row["gap_ms"]
        assert isinstance(failed, dict) and isinstance(gap, dict)
        rows.append(
            (
                way,
                f"{failed['min']:.0f} / {failed['median']:.0f} / {failed['max']:.0f} | "
                f"{gap['min']:.1f} / {gap['median']:.1f} / {gap['max']:.1f} | {row['state_kept']}",
            )
        )
    figures: dict[str, object] = {
        "clients": CLIENTS,
        "load": "GET /hit/load, a new connection per request",
        "ways": table,
        "wall_s": round(time.monotonic() - began, 1),
    }
    emit("handover_bench", figures, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
