"""`start` and `stop` wait on events, not sleeps: the readiness pipe, a pidfd, a quick exit."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from primes_runtime.control import pidfile, ready

from .conftest import Script
from .test_node_commands import node_pid

NEVER_ANNOUNCES = """

def announce(fd):  # as a node that does not know the pipe: it never writes, never closes it
    return True
"""


def test_announce_writes_ready_once_and_closes_its_end() -> None:
    read_end, write_end = os.pipe()
    try:
        assert ready.wait(read_end, 0) is None
        assert ready.announce(write_end)
        assert ready.wait(read_end, 5.0) is True
        assert os.read(read_end, 64) == b""  # the node's end is closed: end of file
    finally:
        os.close(read_end)


def test_a_pipe_closed_without_ready_reads_as_false() -> None:
    read_end, write_end = os.pipe()
    os.close(write_end)
    try:
        assert ready.wait(read_end, 5.0) is False
    finally:
        os.close(read_end)


def test_announce_to_a_start_that_gave_up_fails_quietly() -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)
    assert ready.announce(write_end) is False
    assert ready.announce(999_999) is False  # no such descriptor at all


def test_a_started_node_keeps_no_pipe_from_the_start_command(running: Script) -> None:
    pid = node_pid(running)
    fds = Path(f"/proc/{pid}/fd")
    targets = [os.readlink(fd) for fd in fds.iterdir()]
    assert not [t for t in targets if t.startswith("pipe:")], targets


def test_what_the_started_node_prints_reaches_console_log_at_once(running: Script) -> None:
    code = (
        "import threading; t = threading.Thread(target=print, args=('hello console',)); "
        "t.start(); t.join()"
    )
    running.ok("eval", code)  # printed by a thread of its own: not captured for the client
    console = (running.root / "log" / "console.log").read_text(encoding="utf-8")
    assert "hello console\n" in console


def test_a_start_whose_command_line_does_not_name_the_real_tree_boots_a_fresh_interpreter(
    script: Script, tmp_path: Path
) -> None:
    link = tmp_path / "via-link"
    link.symlink_to(script.root)
    runtime = script.root / "lib" / "primes_runtime-1"
    boot = "import sys; sys.path[0] = sys.argv.pop(1); from primes_runtime.cli import main; main()"
    command = [sys.executable, "-S", "-c", boot, str(runtime), "--root", str(link)]
    env = {k: v for k, v in os.environ.items() if k != "PRIMES_COOKIE"}
    started = subprocess.run(
        [*command, "--name", "primenode", "start"], env=env, capture_output=True, text=True
    )
    assert started.returncode == 0, started.stderr
    try:
        pid = node_pid(script)
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        assert b"primes_runtime.node" in b" ".join(args)  # the node's own program
        assert pidfile.is_node(pidfile.record_of(pid), script.root)  # proved by the real path
    finally:
        stopped = script.run("stop")
    assert stopped.returncode == 0, stopped.stderr
    assert not pidfile.alive(pid)


def test_start_still_finds_a_node_that_never_announces(script: Script) -> None:
    runtime = script.root / "lib" / "primes_runtime-1" / "primes_runtime"
    module = runtime / "control" / "ready.py"
    module.write_text(module.read_text(encoding="utf-8") + NEVER_ANNOUNCES, encoding="utf-8")
    started = script.run("start", timeout=60)
    try:
        assert started.returncode == 0, started.stderr
        assert script.ok("ping") == "pong\n"
    finally:
        script.run("stop")


def test_wait_gone_returns_once_the_process_exits() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.3)"])
    try:
        record = pidfile.record_of(proc.pid)
        assert pidfile.wait_gone(record, 30.0)
        assert proc.wait(5) == 0
    finally:
        proc.kill()
        proc.wait()


def test_wait_gone_gives_up_after_the_timeout_on_a_live_process() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        record = pidfile.record_of(proc.pid)
        assert not pidfile.wait_gone(record, 0.2)
        assert proc.poll() is None
    finally:
        proc.kill()
        proc.wait()


def test_wait_gone_counts_a_reused_pid_as_gone() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        record = pidfile.record_of(proc.pid)
        assert record.started is not None
        other = pidfile.Record(proc.pid, record.started + 1)  # another process's start time
        start = time.monotonic()
        assert pidfile.wait_gone(other, 30.0)
        assert time.monotonic() - start < 20.0  # at once, not after the timeout
    finally:
        proc.kill()
        proc.wait()


def test_a_primes_program_exits_after_its_threads_and_atexit_functions() -> None:
    code = textwrap.dedent(
        """
        import atexit, sys, threading, time
        from primes_runtime.program.exiting import exit_now

        def late():
            time.sleep(0.3)
            print("thread finished", flush=True)

        threading.Thread(target=late).start()
        atexit.register(lambda: print("atexit ran"))  # left in the buffer: exit_now flushes it
        exit_now(3)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 3, result.stderr
    assert result.stdout.splitlines() == ["thread finished", "atexit ran"]


def test_the_start_script_still_runs_a_runtime_without_cli_run(script: Script) -> None:
    package = script.root / "lib" / "primes_runtime-1" / "primes_runtime" / "cli" / "__init__.py"
    text = package.read_text(encoding="utf-8")
    older = text.replace("def run() -> NoReturn:", "def _not_run() -> NoReturn:")
    assert older != text
    package.write_text(older, encoding="utf-8")  # a runtime from before cli.run
    assert script.ok("versions") == "1 permanent\n"
    assert script.run("ping").returncode == 3
