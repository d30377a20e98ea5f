"""The OS side of bin/<name>: start, stop, restart, foreground and console processes."""

from __future__ import annotations

import contextlib
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Protocol

from primes_runtime import safetext
from primes_runtime.cli import spawn
from primes_runtime.cli.errors import UsageError
from primes_runtime.cli.invocation import Invocation
from primes_runtime.control import nodelock, pidfile, ready, watch
from primes_runtime.control.errors import AuthError, ControlError, NotRunning
from primes_runtime.control.tree import Tree, connect
from primes_runtime.formats.node_toml import NodeConfig

START_TIMEOUT_VAR = "PRIMES_START_TIMEOUT"
DEFAULT_START_TIMEOUT = 60.0

NODE_BOOT = "import sys; sys.path[0] = sys.argv.pop(1); from primes_runtime.node import run; run()"
"""Run the node's program (primes_runtime.node.run, what `python -m primes_runtime.node`
runs) with the runtime dir (argv[1]) as the only extra path."""


def recover_idle(inv: Invocation) -> None:
    """The release recovery pass on a tree no node holds (a node recovers its own); each
    repair is one line on stderr."""
    from primes_runtime.release import recovery

    for repair in recovery.recover_idle(inv.tree.root, inv.tree.node_lock):
        print(f"{inv.name}: recovered: {safetext.escape(repair)}", file=sys.stderr)


def node_config(tree: Tree) -> NodeConfig:
    """The node.toml of the release the tree boots (its defaults where a key is not set)."""
    version, _ = tree.start_data()
    return tree.node_config(version)


def node_command(tree: Tree) -> list[str]:
    """The node's command line: this interpreter, isolated, with only the runtime dir added."""
    _, runtime_dir = tree.start_data()
    runtime = tree.root / runtime_dir
    if not (runtime / "primes_runtime").is_dir():
        raise ControlError(f"releases/start_data names {runtime_dir}, which holds no runtime")
    return [
        sys.executable,
        "-S",  # no site-packages: the runtime is stdlib only, a release ships its libraries
        "-s",
        "-E",
        "-u",
        "-c",
        NODE_BOOT,
        str(runtime),
        "--root",
        str(tree.root),
    ]


def refuse_if_running(inv: Invocation) -> None:
    """Fail if a node of this tree runs; clean a pid file and socket a crash left behind."""
    tree = inv.tree
    if nodelock.is_held(tree):
        holder = nodelock.recorded(tree)
        who = f" (pid {holder.pid})" if holder is not None else ""
        raise ControlError(f"the node is already running{who}; use stop or restart")
    record = pidfile.read(tree)
    if record is not None and pidfile.is_node(record, tree.root):
        raise ControlError(f"the node is already running (pid {record.pid}); use stop or restart")
    for lost in nodelock.lost_holders(tree):
        raise ControlError(
            f"the node is already running (pid {lost.pid}) on the files of this tree from before "
            "it was removed or extracted again; use stop or restart"
        )
    if tree.sock.exists():
        try:
            connect(tree.sock, timeout=2.0).close()
        except (NotRunning, OSError):
            tree.sock.unlink(missing_ok=True)
            print(f"{inv.name}: removed a stale {tree.sock}", file=sys.stderr)
        else:
            raise ControlError(f"a node already answers on {tree.sock}; use stop or restart")
    if tree.pid_file.exists():
        tree.pid_file.unlink(missing_ok=True)
        print(f"{inv.name}: removed a stale {tree.pid_file}", file=sys.stderr)


def start_timeout() -> float:
    """PRIMES_START_TIMEOUT in seconds (unset or empty: the default); a usage error otherwise."""
    raw = os.environ.get(START_TIMEOUT_VAR, "").strip()
    if not raw:
        return DEFAULT_START_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise UsageError(
            f"{START_TIMEOUT_VAR}={raw!r} is not a number of seconds; "
            f"set it to one (e.g. {DEFAULT_START_TIMEOUT:.0f}) or unset it"
        )
    return value


def open_console_log(tree: Tree) -> int:
    """log/console.log for appending (0600 in a 0700 log/), rotated first if it grew too big."""
    path = tree.console_log
    try:
        tree.log_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        limit = node_config(tree).log_max_bytes
        watch.rotate_console_log(tree, limit)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.fchmod(fd, 0o600)
    except OSError as exc:
        raise ControlError(
            f"cannot write {path}: {exc.strerror}; make {tree.log_dir} writable by this user"
        ) from None
    return fd


def cmd_start(inv: Invocation) -> int:
    tree = inv.tree
    limit = start_timeout()
    recover_idle(inv)
    command = node_command(tree)
    with pidfile.start_lock(tree):
        refuse_if_running(inv)
        log = open_console_log(tree)
        ready_r, ready_w = os.pipe()
        try:
            offset = os.lseek(log, 0, os.SEEK_END)
            proc: Launched
            if spawn.can_fork(tree.root):
                proc = spawn.fork_node(tree.root, log, ready_w)
            else:
                proc = subprocess.Popen(
                    [*command, "--ready-fd", str(ready_w)],
                    cwd=tree.root,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    pass_fds=(ready_w,),
                )
        except BaseException:
            os.close(ready_r)
            raise
        finally:
            os.close(log)
            os.close(ready_w)
        pidfile.write(tree, proc.pid)
    try:
        wait_until_up(inv, proc, offset, limit, ready_r)
    finally:
        os.close(ready_r)
    return 0


FALLBACK_POLL = 0.1
"""Seconds between two pings while the readiness pipe says nothing (or said it closed)."""


class Launched(Protocol):
    """A node `start` launched: a subprocess.Popen, or a fork (cli/spawn.py)."""

    @property
    def pid(self) -> int: ...

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...


def wait_until_up(
    inv: Invocation, proc: Launched, log_offset: int, limit: float, ready_fd: int
) -> None:
    """Return once the new node answers a ping (within `limit` s); fail with the reason if not.

    The node announces on `ready_fd` (control/ready.py) when it serves, or closes it by exiting:
    this waits on that pipe, and pings then. A ping every FALLBACK_POLL s covers a node that
    never announces (the pipe stays open while a child it forked holds it).
    """
    deadline = time.monotonic() + limit
    listening = True  # the pipe may still tell something
    while True:
        left = deadline - time.monotonic()
        if listening:
            said = ready.wait(ready_fd, min(left, FALLBACK_POLL))
            if said is False:
                listening = False
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=min(max(left, 0.0), FALLBACK_POLL))  # exited? reap it
        elif left > 0:
            time.sleep(min(left, FALLBACK_POLL))
        status = proc.poll()
        if status is not None:
            pidfile.remove_if(inv.tree, proc.pid)
            reason = last_line(inv.tree.console_log, log_offset)
            raise ControlError(f"the node exited during start (status {status}): {reason}")
        try:
            with inv.client(timeout=5.0) as conn:
                conn.request("ping")
            return
        except AuthError as exc:
            raise ControlError(f"the node started (pid {proc.pid}) but {exc}") from None
        except ControlError:
            pass  # not listening yet, or its cookie file is not written yet
        if time.monotonic() >= deadline:
            raise ControlError(
                f"the node (pid {proc.pid}) did not answer within {limit:.0f} s; "
                f"see {inv.tree.console_log} and log/node.log"
            )


def last_line(path: Path, offset: int) -> str:
    """The last non-empty line written to `path` after `offset`."""
    try:
        with path.open("rb") as f:
            f.seek(offset)
            text = f.read().decode("utf-8", errors="replace")
    except OSError:
        return f"no output ({path} unreadable)"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else f"no output in {path}"


def cmd_stop(inv: Invocation) -> int:
    """Ask the node to stop; without its socket, signal it only if it is proved to be the node."""
    tree = inv.tree
    try:
        answer = inv.ask("stop", timeout=10.0)
    except NotRunning:
        record = signal_proved_node(inv)
    else:
        pid = answer.value
        if not isinstance(pid, int) or not 0 < pid <= pidfile.PID_MAX:
            return 0
        record = pidfile.record_of(pid)
    limit = node_config(tree).shutdown_timeout + 10.0
    if not pidfile.wait_gone(record, limit):
        raise ControlError(f"the node (pid {record.pid}) is still running after {limit:.0f} s")
    pidfile.remove_if(tree, record.pid)
    return 0


def signal_proved_node(inv: Invocation) -> pidfile.Record:
    """SIGTERM the node found through its lock or pid file; NotRunning if there is none."""
    tree = inv.tree
    held = nodelock.is_held(tree)
    for record in (nodelock.recorded(tree), pidfile.read(tree), *nodelock.lost_holders(tree)):
        if record is not None and pidfile.signal_node(record, tree.root):
            print(
                f"{inv.name}: {tree.sock} is gone; sent SIGTERM to pid {record.pid}",
                file=sys.stderr,
            )
            return record
    if held:
        raise ControlError(
            f"{tree.node_lock} is held, but by no process that can be proved to be this node; "
            "nothing was signalled"
        )
    tree.pid_file.unlink(missing_ok=True)  # left by a crash, if there at all
    tree.sock.unlink(missing_ok=True)
    raise NotRunning("the node is not running")


def cmd_restart(inv: Invocation) -> int:
    start_timeout()  # a bad setting stops the restart before the node is stopped
    with contextlib.suppress(NotRunning):
        cmd_stop(inv)
    return cmd_start(inv)


def cmd_foreground(inv: Invocation) -> int:
    tree = inv.tree
    recover_idle(inv)
    command = node_command(tree)
    with pidfile.start_lock(tree):
        refuse_if_running(inv)
        pidfile.write(tree, os.getpid())  # exec keeps the pid and its start time
    sys.stdout.flush()
    sys.stderr.flush()
    os.chdir(tree.root)
    os.execv(command[0], command)


def cmd_console(inv: Invocation) -> int:
    tree = inv.tree
    with pidfile.start_lock(tree):
        refuse_if_running(inv)
        held = nodelock.acquire(tree)
        pidfile.write(tree, os.getpid())
        from primes_runtime.release import recovery

        for repair in recovery.recover(tree.root):
            print(f"{inv.name}: recovered: {safetext.escape(repair)}", file=sys.stderr)
    try:
        os.chdir(tree.root)
        from primes_runtime.host.boot import boot
        from primes_runtime.service import server

        node = boot(tree.root)
        try:
            server.start(node)
            banner = (
                f"{inv.name}: node running in this process (release {node.release}). "
                "`node` is the node; Ctrl-D stops it."
            )
            import code

            code.interact(banner=banner, local={"node": node}, exitmsg="")
        finally:
            node.shutdown(node_config(tree).shutdown_timeout)
    finally:
        pidfile.remove_if(tree, os.getpid())
        held.release()
    return 0
