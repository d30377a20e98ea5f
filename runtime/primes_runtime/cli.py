"""bin/primenode's commands: start and stop a node, and talk to it over its control channel."""

from __future__ import annotations

import code
import contextlib
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from primes_runtime.control import pidfile
from primes_runtime.control.client import Answer, Client, RemoteError
from primes_runtime.control.cookie import ENV_VAR, client_cookie
from primes_runtime.control.errors import AuthError, ControlError, NotRunning
from primes_runtime.control.evaluate import parse_args
from primes_runtime.control.tree import Tree, connect
from primes_runtime.release import signature

START_TIMEOUT_VAR = "PRIMES_START_TIMEOUT"
DEFAULT_START_TIMEOUT = 60.0

NODE_BOOT = (
    "import runpy, sys; sys.path[0] = sys.argv.pop(1); "
    "runpy.run_module('primes_runtime.node', run_name='__main__', alter_sys=True)"
)
"""Run `python -m primes_runtime.node` with the runtime dir (argv[1]) as the only extra path."""

USAGE = """\
usage: {name} [--cookie COOKIE] COMMAND [ARG...]

Node:
  start                    start the node in the background (output to log/console.log)
  foreground               run the node in this terminal until it is stopped
  console                  run the node here with an interactive Python prompt
  stop                     stop the node; returns once its process is gone
  restart                  stop the node if it runs, then start it
  ping                     print 'pong' if the node answers
  pid                      print the node's OS process id
  status                   node, release, uptime, applications and processes
Code:
  eval CODE                run Python statements in the node; print a trailing expression
  rpc MODULE FUNCTION [ARG...]
                           call MODULE.FUNCTION(ARG, ...) in the node (ARGs are Python literals)
  remote_console           an interactive Python prompt inside the running node
Releases:
  versions                 every release and its status
  unpack PKG               unpack a release package into this tree
  install VSN              hot-install an unpacked release (not permanent)
  permanent VSN            make a release the one the node boots
  upgrade PKG|VSN          unpack if needed, install and make permanent
  downgrade VSN            go back to an older release and make it permanent
  uninstall VSN            remove an old release
  help                     this text

The cookie is the node's own (run/cookie or node.toml) unless --cookie or {env} names another.
Set PRIMES_PYTHON to choose the Python interpreter.
"""


class UsageError(ControlError):
    """The command line is wrong (exit status 2)."""


@dataclass(frozen=True)
class Invocation:
    """A parsed command line."""

    tree: Tree
    name: str
    cookie: str | None
    command: str
    args: tuple[str, ...]


@dataclass(frozen=True)
class Command:
    """One command: how many arguments it takes and what runs it."""

    run: Callable[[Invocation], int]
    min_args: int = 0
    max_args: int | None = 0
    usage: str = ""


def parse(argv: list[str]) -> Invocation:
    """Global options (--root, --name, --cookie), then the command and its arguments."""
    root: str | None = None
    name = "primenode"
    cookie: str | None = None
    rest = list(argv)
    while rest and rest[0].startswith("--"):
        option = rest.pop(0)
        key, eq, value = option.partition("=")
        if key not in ("--root", "--name", "--cookie"):
            raise UsageError(f"unknown option {option}; see '{name} help'")
        if not eq:
            if not rest:
                raise UsageError(f"option {key} needs a value")
            value = rest.pop(0)
        if key == "--root":
            root = value
        elif key == "--name":
            name = value
        else:
            cookie = value
    if root is None:
        raise UsageError("--root is missing (run this through bin/primenode)")
    if not rest:
        raise UsageError(f"no command given; see '{name} help' for the commands")
    command = rest.pop(0)
    if command in ("-h", "--help"):
        command = "help"
    if command not in COMMANDS:
        raise UsageError(f"unknown command '{command}'; see '{name} help'")
    spec = COMMANDS[command]
    if rest[:1] == ["--cookie"] and len(rest) >= 2 and spec.max_args == 0:
        cookie = rest[1]
        rest = rest[2:]
    if len(rest) < spec.min_args or (spec.max_args is not None and len(rest) > spec.max_args):
        usage = f"{name} {command} {spec.usage}".rstrip()
        raise UsageError(f"usage: {usage}")
    return Invocation(Tree(Path(root).resolve()), name, cookie, command, tuple(rest))


def main(argv: list[str] | None = None) -> int:
    """Run one command; exit status 0 on success, 1 on failure, 2 on a usage error."""
    args = sys.argv[1:] if argv is None else argv
    name = "primenode"
    try:
        invocation = parse(args)
        name = invocation.name
        return COMMANDS[invocation.command].run(invocation)
    except UsageError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return 2
    except RemoteError as exc:
        if exc.out:
            sys.stdout.write(exc.out)
            sys.stdout.flush()
        print(f"{name}: {exc}", file=sys.stderr)
        return 1
    except ControlError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


# -- talking to a running node -------------------------------------------------------------


def client(inv: Invocation, timeout: float | None = 30.0) -> Client:
    """An authenticated connection to the tree's node."""
    return Client.connect(inv.tree, lambda: client_cookie(inv.tree, inv.cookie), timeout=timeout)


def ask(inv: Invocation, op: str, timeout: float | None = 30.0, **args: object) -> Answer:
    """One request on a fresh connection; `timeout` bounds the reply (None: wait for it)."""
    with client(inv) as conn:
        conn.settimeout(timeout)
        return conn.request(op, **args)


def show(answer: Answer) -> int:
    """Print what the node printed, then the value (if any)."""
    if answer.out:
        sys.stdout.write(answer.out)
    if answer.value is not None:
        print(answer.value)
    return 0


def cmd_ping(inv: Invocation) -> int:
    return show(ask(inv, "ping", timeout=10.0))


def cmd_pid(inv: Invocation) -> int:
    return show(ask(inv, "pid"))


def cmd_status(inv: Invocation) -> int:
    value = ask(inv, "status").value
    if not isinstance(value, dict):
        raise ControlError("the node sent a malformed status")
    print(f"node:     {value.get('name') or inv.name}")
    print(f"pid:      {value.get('pid')}")
    print(f"release:  {value.get('release')}")
    print(f"uptime:   {format_uptime(float(value.get('uptime') or 0))}")
    print(f"packages: {packages_line(str(value.get('packages', 'unsigned')))}")
    workers = value.get("code_change_workers")
    for worker in workers if isinstance(workers, list) else []:
        print(f"leaked:   thread {worker} (restart the node to end it)")
    print("applications:")
    for row in rows(value.get("apps")):
        print("  " + " ".join(str(cell) for cell in row))
    print("processes:")
    header: list[object] = ["PID", "NAME", "BEHAVIOUR", "MODULE", "APP", "MAILBOX", "STATUS"]
    print(table([header, *rows(value.get("processes"))], indent="  "))
    return 0


def rows(value: object) -> list[list[object]]:
    if not isinstance(value, list):
        return []
    return [list(row) for row in value if isinstance(row, list)]


def table(lines: list[list[object]], indent: str = "") -> str:
    """Left-aligned columns."""
    cells = [[str(c) for c in line] for line in lines]
    widths = [max(len(line[i]) for line in cells if i < len(line)) for i in range(len(cells[0]))]
    return "\n".join(
        indent + "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=False)).rstrip()
        for line in cells
    )


def format_uptime(seconds: float) -> str:
    whole = int(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{days}d {text}" if days else text


def packages_line(mode: str) -> str:
    """What `status` and `versions` say about the packages a tree accepts."""
    if mode == "signed":
        return "signed only (releases/allowed_signers)"
    return "unsigned accepted (no releases/allowed_signers)"


def cmd_versions(inv: Invocation) -> int:
    print(f"{inv.name}: packages: {packages_line(signature.mode(inv.tree.root))}", file=sys.stderr)
    try:
        value = ask(inv, "versions").value
    except NotRunning:
        for version, status in inv.tree.releases_on_disk():
            print(version, status)
        return 0
    for row in rows(value):
        print(" ".join(str(cell) for cell in row))
    return 0


def cmd_eval(inv: Invocation) -> int:
    return show(ask(inv, "eval", timeout=None, code=" ".join(inv.args)))


def cmd_rpc(inv: Invocation) -> int:
    module, function, *arguments = inv.args
    try:
        parse_args(arguments)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return show(ask(inv, "rpc", timeout=None, module=module, function=function, args=arguments))


def looks_like_package(target: str) -> bool:
    """An upgrade target names a package file (not a version) if it looks like a path."""
    return "/" in target or target.endswith(".tar.gz") or Path(target).is_file()


def cmd_release(op: str, key: str, paths: str = "never") -> Callable[[Invocation], int]:
    """A release-handler command run in the node; a package path is made absolute here.

    `paths`: "always" (the argument is a package), "maybe" (a package or a version),
    "never" (a version).
    """

    def run(inv: Invocation) -> int:
        target = inv.args[0]
        if paths == "always" or (paths == "maybe" and looks_like_package(target)):
            path = Path(target)
            if path.is_dir():
                example = path / f"{inv.name}_<vsn>.tar.gz"
                raise ControlError(
                    f"{target} is a directory; give the package file, e.g. {example}"
                )
            if not path.is_file():
                raise ControlError(f"no such package: {target}")
            target = str(path.resolve())
        try:
            return show(ask(inv, op, timeout=None, **{key: target}))
        except RemoteError as exc:  # the failed step first, then the report's details
            print(f"{inv.name}: {exc}", file=sys.stderr, flush=True)
            sys.stdout.write(exc.out)
            sys.stdout.flush()
            return 1

    return run


class RemoteConsole(code.InteractiveConsole):
    """A Python prompt whose complete inputs run inside the node (one namespace per session)."""

    def __init__(self, conn: Client) -> None:
        super().__init__(filename="<remote_console>")
        self.conn = conn

    def runsource(self, source: str, filename: str = "<input>", symbol: str = "single") -> bool:
        try:
            if self.compile(source, filename, symbol) is None:
                return True  # incomplete: ask for more lines
        except (OverflowError, SyntaxError, ValueError):
            self.showsyntaxerror(filename)
            return False
        try:
            answer = self.conn.request("console", source=source)
        except RemoteError as exc:
            self.write(exc.out + f"{exc}\n")
        else:
            sys.stdout.write(answer.out)
            sys.stdout.flush()
        return False


def cmd_remote_console(inv: Invocation) -> int:
    with client(inv) as conn:
        conn.settimeout(None)
        conn.request("ping")
        banner = (
            f"{inv.name}: remote console on the running node ({inv.tree.root}).\n"
            "Code runs inside the node; Ctrl-D leaves the console, the node keeps running."
        )
        RemoteConsole(conn).interact(banner=banner, exitmsg="")
    return 0


# -- starting and stopping -------------------------------------------------------------------


def shutdown_timeout(tree: Tree) -> float:
    version, _ = tree.start_data()
    value = tree.node_table(version).get("shutdown_timeout", 10.0)
    return float(value) if isinstance(value, int | float) else 10.0


def node_command(tree: Tree) -> list[str]:
    """The node's command line: this interpreter, isolated, with only the runtime dir added."""
    _, runtime_dir = tree.start_data()
    runtime = tree.root / runtime_dir
    if not (runtime / "primes_runtime").is_dir():
        raise ControlError(f"releases/start_data names {runtime_dir}, which holds no runtime")
    return [
        sys.executable,
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
    pid = pidfile.read(tree)
    if pid is not None and pidfile.is_node(pid, tree.root):
        raise ControlError(f"the node is already running (pid {pid}); use stop or restart")
    if tree.sock.exists():
        try:
            connect(tree.sock, timeout=2.0).close()
        except (NotRunning, OSError):
            tree.sock.unlink(missing_ok=True)
            print(f"{inv.name}: removed a stale {tree.sock}", file=sys.stderr)
        else:
            raise ControlError(f"a node already answers on {tree.sock}; use stop or restart")
    if pid is not None:
        tree.pid_file.unlink(missing_ok=True)
        print(f"{inv.name}: removed a stale {tree.pid_file} (pid {pid})", file=sys.stderr)


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


def cmd_start(inv: Invocation) -> int:
    tree = inv.tree
    limit = start_timeout()
    command = node_command(tree)
    tree.log_dir.mkdir(parents=True, exist_ok=True)
    with pidfile.start_lock(tree):
        refuse_if_running(inv)
        with tree.console_log.open("ab") as log:
            offset = log.tell()
            proc = subprocess.Popen(
                command,
                cwd=tree.root,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        pidfile.write(tree, proc.pid)
    wait_until_up(inv, proc, offset, limit)
    return 0


def wait_until_up(
    inv: Invocation, proc: subprocess.Popen[bytes], log_offset: int, limit: float
) -> None:
    """Return once the new node answers a ping (within `limit` s); fail with the reason if not."""
    deadline = time.monotonic() + limit
    while True:
        code_ = proc.poll()
        if code_ is not None:
            pidfile.remove_if(inv.tree, proc.pid)
            reason = last_line(inv.tree.console_log, log_offset)
            raise ControlError(f"the node exited during start (status {code_}): {reason}")
        try:
            with client(inv, timeout=5.0) as conn:
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
        time.sleep(0.1)


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
    tree = inv.tree
    pid = pidfile.read(tree)
    try:
        answer = ask(inv, "stop", timeout=10.0)
        if isinstance(answer.value, int):
            pid = answer.value
    except NotRunning:
        if pid is None or not pidfile.is_node(pid, tree.root):
            tree.pid_file.unlink(missing_ok=True)  # left by a crash, if there at all
            tree.sock.unlink(missing_ok=True)
            raise NotRunning("the node is not running") from None
        os.kill(pid, signal.SIGTERM)  # alive but not answering yet (still booting)
    if pid is not None:
        limit = shutdown_timeout(tree) + 10.0
        if not pidfile.wait_gone(pid, limit):
            raise ControlError(f"the node (pid {pid}) is still running after {limit:.0f} s")
        pidfile.remove_if(tree, pid)
    return 0


def cmd_restart(inv: Invocation) -> int:
    start_timeout()  # a bad setting stops the restart before the node is stopped
    with contextlib.suppress(NotRunning):
        cmd_stop(inv)
    return cmd_start(inv)


def cmd_foreground(inv: Invocation) -> int:
    tree = inv.tree
    command = node_command(tree)
    with pidfile.start_lock(tree):
        refuse_if_running(inv)
        pidfile.write(tree, os.getpid())  # exec keeps the pid
    sys.stdout.flush()
    sys.stderr.flush()
    os.chdir(tree.root)
    os.execv(command[0], command)


def cmd_console(inv: Invocation) -> int:
    tree = inv.tree
    with pidfile.start_lock(tree):
        refuse_if_running(inv)
        pidfile.write(tree, os.getpid())
    try:
        os.chdir(tree.root)
        from primes_runtime import node as node_module
        from primes_runtime.control import server

        node = node_module.boot(tree.root)
        try:
            server.start(node)
            banner = (
                f"{inv.name}: node running in this process (release {node.release}). "
                "`node` is the node; Ctrl-D stops it."
            )
            code.interact(banner=banner, local={"node": node}, exitmsg="")
        finally:
            node.shutdown(shutdown_timeout(tree))
    finally:
        pidfile.remove_if(tree, os.getpid())
    return 0


def cmd_help(inv: Invocation) -> int:
    print(USAGE.format(name=inv.name, env=ENV_VAR), end="")
    return 0


COMMANDS: dict[str, Command] = {
    "start": Command(cmd_start),
    "foreground": Command(cmd_foreground),
    "console": Command(cmd_console),
    "stop": Command(cmd_stop),
    "restart": Command(cmd_restart),
    "ping": Command(cmd_ping),
    "pid": Command(cmd_pid),
    "status": Command(cmd_status),
    "versions": Command(cmd_versions),
    "eval": Command(cmd_eval, 1, None, "CODE"),
    "rpc": Command(cmd_rpc, 2, None, "MODULE FUNCTION [ARG...]"),
    "remote_console": Command(cmd_remote_console),
    "unpack": Command(cmd_release("unpack", "package", "always"), 1, 1, "PKG"),
    "install": Command(cmd_release("install", "version"), 1, 1, "VSN"),
    "permanent": Command(cmd_release("permanent", "version"), 1, 1, "VSN"),
    "upgrade": Command(cmd_release("upgrade", "target", "maybe"), 1, 1, "PKG|VSN"),
    "downgrade": Command(cmd_release("downgrade", "version"), 1, 1, "VSN"),
    "uninstall": Command(cmd_release("uninstall", "version"), 1, 1, "VSN"),
    "help": Command(cmd_help, 0, None),
}


if __name__ == "__main__":
    sys.exit(main())
