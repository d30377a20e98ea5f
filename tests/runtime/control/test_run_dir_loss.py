"""Losing run/ or the socket loses nothing: the node puts them back, one node per tree
(issue 15 item 5), all through the real bin/primenode."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tarfile
import time
from pathlib import Path

from primes_runtime.cli.launcher import node_command
from primes_runtime.control import pidfile
from primes_runtime.control.tree import Tree

from .conftest import Script
from .test_node_commands import node_pid, node_processes


def wait_for_pong(script: Script, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while script.run("ping").stdout != "pong\n":
        assert time.monotonic() < deadline, "the node never answered again"
        time.sleep(0.2)


def test_a_deleted_socket_is_recreated_and_the_node_answers_again(running: Script) -> None:
    pid = node_pid(running)
    (running.root / "run" / "node.sock").unlink()
    wait_for_pong(running)
    assert node_pid(running) == pid


def test_a_deleted_run_dir_is_restored_with_its_pid_file_and_cookie(running: Script) -> None:
    pid = node_pid(running)
    cookie = (running.root / "run" / "cookie").read_text()
    shutil.rmtree(running.root / "run")
    wait_for_pong(running)
    assert (running.root / "run" / "cookie").read_text() == cookie
    deadline = time.monotonic() + 10
    while pidfile.read(Tree(running.root)) is None:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert pidfile.read(Tree(running.root)) == pidfile.record_of(pid)


def test_with_run_deleted_start_refuses_and_no_second_node_runs(running: Script) -> None:
    pid = node_pid(running)
    shutil.rmtree(running.root / "run")
    result = running.run("start")
    assert result.returncode == 1
    assert result.stderr == (
        f"primenode: the node is already running (pid {pid}); use stop or restart\n"
    )
    assert node_processes(running.root) == [pid]


def test_a_second_node_process_cannot_boot_on_a_locked_tree(running: Script) -> None:
    pid = node_pid(running)
    shutil.rmtree(running.root / "run")
    result = subprocess.run(
        node_command(Tree(running.root)), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert "another node of this tree is running (pid " + str(pid) in result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert node_processes(running.root) == [pid]


def test_stop_finds_the_node_through_its_lock_when_run_cannot_come_back(script: Script) -> None:
    script.ok("start")
    pid = node_pid(script)
    shutil.rmtree(script.root / "run")
    (script.root / "run").write_text("not a directory\n")  # the node cannot restore run/
    result = script.run("stop")
    assert result.returncode == 0, result.stderr
    assert result.stderr == (
        f"primenode: {script.root}/run/node.sock is gone; sent SIGTERM to pid {pid}\n"
    )
    assert not pidfile.alive(pid)
    (script.root / "run").unlink()
    assert script.run("ping").returncode == 3


def test_the_node_lock_lives_outside_run_and_names_the_node(running: Script) -> None:
    pid = node_pid(running)
    lock = running.root / ".node.lock"
    assert pidfile.load(lock) == pidfile.record_of(pid)
    assert lock.stat().st_mode & 0o077 == 0


def test_a_tree_removed_and_extracted_again_under_its_node_keeps_one_node(
    script: Script, tmp_path: Path
) -> None:
    package = tmp_path / "tree.tar.gz"
    with tarfile.open(package, "w:gz") as tar:
        tar.add(script.root, arcname=".")
    script.ok("start")
    pid = node_pid(script)
    # Held still, the node cannot lock the new tree first (it would within a second): the
    # second start must find it through the lock it holds on the removed tree.
    os.kill(pid, signal.SIGSTOP)
    try:
        while script.root.exists():  # the node may still be writing bytecode into lib/
            shutil.rmtree(script.root, ignore_errors=True)
        with tarfile.open(package) as tar:
            tar.extractall(script.root, filter="tar")
        result = script.run("start")
    finally:
        os.kill(pid, signal.SIGCONT)
    assert result.returncode == 1
    assert result.stderr == (
        f"primenode: the node is already running (pid {pid}) on the files of this tree from "
        "before it was removed or extracted again; use stop or restart\n"
    )
    wait_for_pong(script)
    assert node_pid(script) == pid
    assert node_processes(script.root) == [pid]  # it locked the new tree's .node.lock
    assert script.run("start").returncode == 1
    script.ok("stop")
    assert not pidfile.alive(pid)
    assert script.run("ping").returncode == 3
