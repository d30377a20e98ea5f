"""Compile code dirs into __pycache__ in a child process at low priority, off the node's GIL.

compile() holds the GIL for the whole module: a node that imports code it has no bytecode for
(a tree fresh from `tar -xzf`, the release handler's modules at the first upgrade) stops
serving for each one. The unpacker compiles what it unpacks; `in_background` does the same
for a booted tree's code path, once the node serves. A dir whose walk ended is marked for the
interpreter that compiled it (`__pycache__/primes-compiled.<cache tag>`, ignored as the rest
of __pycache__ is): a boot of a tree whose code dirs are all marked starts no child (lib dirs
never change; a file that did change is compiled on import, as Python always does).
"""

from __future__ import annotations

import contextlib
import os
import py_compile
import sys
from collections.abc import Callable, Iterable
from importlib.util import cache_from_source
from pathlib import Path
from typing import TYPE_CHECKING

from . import child

if TYPE_CHECKING:
    import threading

NICENESS = 10
"""How much a compiling child lowers its CPU priority (nice(2) increment)."""


def compile_dirs(dirs: Iterable[Path], wanted: Callable[[], bool] = lambda: True) -> int:
    """Write the bytecode of every .py file below `dirs` that has none (or a stale one), then
    mark each dir compiled unless something in it could not be read or written; the number
    compiled. A file that does not compile, or a dir not writable, is skipped. Once
    `wanted()` is false (asked before each file) it stops, marking nothing more."""
    compiled = 0
    for top in dirs:
        failed: list[OSError] = []  # a dir or a bytecode file that could not be read or written
        for dirpath, dirnames, filenames in os.walk(top, onerror=failed.append):
            dirnames[:] = [d for d in dirnames if d != "__pycache__"]
            for filename in filenames:
                if not wanted():
                    return compiled
                if filename.endswith(".py") and _stale(os.path.join(dirpath, filename)):
                    try:
                        py_compile.compile(os.path.join(dirpath, filename), doraise=True)
                        compiled += 1
                    except (py_compile.PyCompileError, ValueError):
                        pass  # source that does not compile: the same at every boot
                    except OSError as exc:
                        failed.append(exc)
        if not failed:
            _mark(Path(top))
    return compiled


def marker(top: Path) -> Path | None:
    """The file that says `top` was compiled by this interpreter (None: it writes no
    bytecode)."""
    tag = sys.implementation.cache_tag
    return None if tag is None else top / "__pycache__" / f"primes-compiled.{tag}"


def all_marked(dirs: Iterable[str]) -> bool:
    """Whether every dir of `dirs` was compiled by this interpreter already."""
    for top in dirs:
        mark = marker(Path(top))
        if mark is None or not mark.is_file():
            return False
    return True


def _mark(top: Path) -> None:
    mark = marker(top)
    if mark is None or not top.is_dir():
        return
    with contextlib.suppress(OSError):
        mark.parent.mkdir(exist_ok=True)
        mark.touch()


def _stale(source: str) -> bool:
    """Whether `source` lacks bytecode at least as new as itself."""
    try:
        return os.stat(cache_from_source(source)).st_mtime < os.stat(source).st_mtime
    except OSError:
        return True


def in_background(
    dirs: Iterable[str], then: Callable[[], object] | None = None
) -> threading.Thread | None:
    """Start a niced child that compiles `dirs`; a daemon thread reaps it, then calls `then`
    (code that wants the bytecode, e.g. imports). Where every dir is marked compiled already,
    no child starts: the thread only calls `then`. None if the child cannot start (the node
    then compiles as it imports, as Python always does)."""
    import subprocess  # here: the unpack child imports this module and needs neither
    import threading

    from ..kernel import threadstart

    dirs = list(dirs)
    compiler: subprocess.Popen[bytes] | None = None
    if not all_marked(dirs):
        argv = child.command(__name__, *dirs)
        try:
            compiler = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        except OSError:
            return None

    def reap() -> None:
        if compiler is not None:
            compiler.wait()
        if then is not None:
            then()

    reaper = threading.Thread(target=reap, name="primes-bytecode", daemon=True)
    if not threadstart.started(reaper, "the node reaps the compiler once it exits"):
        return None
    return reaper


def main(argv: list[str]) -> int:
    """Child entry point: lower the priority, compile the dirs given while the node that
    started it lives (once it exited, its tree is no longer written: `stop` has returned, and
    an operator may be removing or replacing the tree)."""
    with contextlib.suppress(OSError):
        os.nice(NICENESS)
    node = os.getppid()
    compile_dirs((Path(arg) for arg in argv), lambda: os.getppid() == node)
    return 0
