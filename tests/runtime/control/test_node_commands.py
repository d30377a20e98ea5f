"""Every node command through the real bin/primenode, against a real node process."""

from __future__ import annotations

import os
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

from primes_runtime.control import frames, pidfile
from primes_runtime.control.tree import connect

from .conftest import Script


def node_pid(script: Script) -> int:
    return int(script.ok("pid"))


def node_processes(root: Path) -> list[int]:
    """Pids of live node processes of this tree (from /proc): proved, and holding its lock."""
    found = []
    lock = str(root / ".node.lock")
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and pidfile.is_node(pidfile.record_of(int(entry.name)), root):
            try:
                held = [os.readlink(fd) for fd in (entry / "fd").iterdir()]
            except OSError:
                continue  # exited meanwhile
            if lock in held:
                found.append(int(entry.name))
    return found


def test_start_ping_pid_and_stop(script: Script) -> None:
    assert script.ok("start") == ""
    try:
        assert script.ok("ping") == "pong\n"
        pid = node_pid(script)
        assert (script.root / "run" / "node.pid").read_text().split()[0] == str(pid)
        assert (script.root / "log" / "console.log").exists()
    finally:
        stopped = script.run("stop")
    assert stopped.returncode == 0, stopped.stderr
    assert not pidfile.alive(pid)
    assert not (script.root / "run" / "node.sock").exists()
    assert not (script.root / "run" / "node.pid").exists()
    assert script.run("ping").returncode == 3


def test_a_second_start_is_refused_and_no_second_node_runs(running: Script) -> None:
    pid = node_pid(running)
    result = running.run("start")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"primenode: the node is already running (pid {pid}); use stop or restart"
    )
    assert node_processes(running.root) == [pid]
    result = running.run("foreground")
    assert result.returncode == 1
    assert "already running" in result.stderr


def test_status_shows_node_release_apps_and_processes(running: Script) -> None:
    out = running.ok("status")
    assert "node:     testnode" in out
    assert f"pid:      {node_pid(running)}" in out
    assert "release:  1" in out
    assert "demo_app 1" in out
    counter = next(line for line in out.splitlines() if " counter " in line)
    assert "demo_app.counter" in counter
    assert "server" in counter


def test_versions_of_a_running_node(running: Script) -> None:
    assert running.ok("versions").split("\n")[0].startswith("1 ")


def test_eval_runs_statements_and_prints_the_trailing_value(running: Script) -> None:
    out = running.ok("eval", "import demo_api\nprint('adding')\ndemo_api.add(2, 3)")
    assert out == "adding\n5\n"
    assert running.ok("eval", "x = 1") == ""


def test_eval_that_raises_shows_the_error_and_the_node_lives(running: Script) -> None:
    result = running.run("eval", "import demo_api; demo_api.boom()")
    assert result.returncode == 1
    assert result.stderr == "primenode: RuntimeError: kaboom\n"
    assert running.ok("ping") == "pong\n"


def test_rpc_calls_into_the_apps_code_with_literal_arguments(running: Script) -> None:
    assert running.ok("rpc", "demo_api", "add", "2", "40") == "42\n"
    assert running.ok("rpc", "demo_api", "greet", "'world'") == "hello world\n"
    assert running.ok("rpc", "demo_api", "add", "(1,)", "(2,)") == "(1, 2)\n"
    assert running.ok("rpc", "demo_api", "incr") == "1\n"
    assert running.ok("rpc", "demo_api", "incr") == "2\n"


def test_rpc_to_a_missing_module_or_function_fails_with_one_line(running: Script) -> None:
    missing_module = running.run("rpc", "no_such_module", "f")
    assert missing_module.returncode == 1
    assert missing_module.stderr == (
        "primenode: ModuleNotFoundError: No module named 'no_such_module'\n"
    )
    missing_function = running.run("rpc", "demo_api", "nope")
    assert missing_function.returncode == 1
    assert missing_function.stderr == (
        "primenode: AttributeError: module 'demo_api' has no function 'nope'\n"
    )
    assert running.ok("rpc", "demo_api", "add", "1", "1") == "2\n"


def test_remote_console_runs_input_inside_the_node(running: Script) -> None:
    out = running.ok("remote_console", stdin="import demo_api\nn = demo_api.incr()\nn * 10\n")
    assert "10\n" in out
    assert running.ok("rpc", "demo_api", "incr") == "2\n"


def test_a_wrong_cookie_is_refused_logged_and_the_node_is_unaffected(running: Script) -> None:
    result = running.run("--cookie", "not-it", "ping")
    assert result.returncode == 1
    assert "refused the cookie" in result.stderr
    assert running.ok("ping") == "pong\n"
    log = (running.root / "log" / "node.log").read_text()
    assert "wrong cookie" in log


def test_garbage_and_oversize_frames_close_only_their_connection(running: Script) -> None:
    sock_path = running.root / "run" / "node.sock"
    with connect(sock_path) as garbage:
        frames.recv(garbage)
        garbage.sendall(b"\x00\x00\x00\x03abc")
        assert garbage.recv(100) == b""
    with connect(sock_path) as oversize:
        frames.recv(oversize)
        oversize.sendall(struct.pack(">I", 1 << 30))
        assert oversize.recv(100) == b""
    with connect(sock_path) as rude:
        rude.sendall(os.urandom(64))
    assert running.ok("ping") == "pong\n"


def test_start_after_a_crash_cleans_the_stale_pid_and_socket(script: Script) -> None:
    script.ok("start")
    pid = node_pid(script)
    record = pidfile.record_of(pid)
    os.kill(pid, signal.SIGKILL)
    assert pidfile.wait_gone(record, 10)
    assert (script.root / "run" / "node.sock").exists()
    ping = script.run("ping")
    assert ping.returncode == 3
    assert "not running" in ping.stderr
    try:
        started = script.run("start")
        assert started.returncode == 0, started.stderr
        assert "removed a stale" in started.stderr
        assert node_pid(script) != pid
    finally:
        script.run("stop")


def test_a_node_that_fails_to_boot_makes_start_fail_with_the_reason(script: Script) -> None:
    app = script.root / "lib" / "demo_app-1" / "demo_app" / "app.py"
    app.write_text("def start():\n    raise RuntimeError('cannot start the demo app')\n")
    result = script.run("start")
    assert result.returncode == 1
    assert result.stderr.startswith("primenode: the node exited during start")
    assert len(result.stderr.splitlines()) == 1
    assert not (script.root / "run" / "node.pid").exists()


def test_restart_replaces_the_process_and_keeps_serving(running: Script) -> None:
    before = node_pid(running)
    running.ok("restart")
    assert running.ok("ping") == "pong\n"
    assert node_pid(running) != before
    assert not pidfile.alive(before)


def test_foreground_runs_the_node_in_the_callers_process(script: Script) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PRIMES_COOKIE"}
    env["PRIMES_PYTHON"] = sys.executable
    proc = subprocess.Popen(
        [str(script.path), "foreground"],
        cwd=script.root.parent,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while script.run("ping").returncode != 0:
            assert proc.poll() is None, "foreground node exited"
            assert time.monotonic() < deadline, "foreground node never answered"
            time.sleep(0.2)
        assert node_pid(script) == proc.pid
        script.ok("stop")
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_console_runs_the_node_here_with_a_prompt(script: Script) -> None:
    out = script.ok("console", stdin="import demo_api\nprint(demo_api.add(20, 22))\n")
    assert "42" in out
    assert script.run("ping").returncode == 3
    assert not (script.root / "run" / "node.pid").exists()


def test_commands_work_from_another_directory_through_a_symlink(
    running: Script, tmp_path: Path
) -> None:
    link = tmp_path / "pn"
    link.symlink_to(running.path)
    assert running.ok("ping", script=link, cwd=tmp_path) == "pong\n"


def test_the_socket_answers_only_the_owner(running: Script) -> None:
    run = running.root / "run"
    assert run.stat().st_mode & 0o777 == 0o700
    assert (run / "node.sock").stat().st_mode & 0o777 == 0o600
    assert (run / "cookie").stat().st_mode & 0o777 == 0o600
