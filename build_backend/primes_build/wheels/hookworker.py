"""A PEP 517 hook server: one interpreter runs one backend's hooks for many projects.

Run as a script (stdlib only; `python -P hookworker.py BACKEND [BACKEND_PATH...]`): it reads one
JSON request per line on stdin (`{"hook", "cwd", "args", "log"}`), runs the hook with the
project directory as the working directory and the backend's output in the request's log file,
and writes one JSON reply per line on stdout (`{"ok": true, "value": ...}` or `{"ok": false,
"kind", "error"}`). The backend is imported once, at the first request, so every project after
the first costs only its own hook call.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import os
import sys
import traceback
from collections.abc import Callable
from typing import Any, TextIO

HOOKS = ("get_requires_for_build_wheel", "build_wheel")


def load_backend(spec: str, backend_path: list[str]) -> Any:
    """The backend object named by `module:object` (PEP 517), its backend-path first on sys.path."""
    sys.path[:0] = backend_path
    module_name, _, attribute = spec.partition(":")
    backend: Any = importlib.import_module(module_name)
    for name in filter(None, attribute.split(".")):
        backend = getattr(backend, name)
    return backend


def memoize_entry_points() -> Callable[[], None]:
    """Make importlib.metadata.entry_points() scan the environment once per hook call.

    Each call scans every installed distribution's metadata, and setuptools calls it about a
    dozen times per build: half of a small app's build time in a venv of a hundred
    distributions. Nothing is installed while a hook runs, so within one call the scan's
    result cannot change; the returned function forgets it (called before each request).
    """
    real = importlib.metadata.entry_points
    memo: list[Any] = []

    def entry_points(**params: Any) -> Any:
        if not memo:
            memo.append(real())
        return memo[0].select(**params) if params else memo[0]

    importlib.metadata.entry_points = entry_points  # type: ignore[assignment]
    return memo.clear


def redirect(log: str) -> tuple[int, int]:
    """Send fds 1 and 2 to `log` (the backend's output); returns the saved originals."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = (os.dup(1), os.dup(2))
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    return saved


def restore(saved: tuple[int, int]) -> None:
    """Put fds 1 and 2 back."""
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(saved[0], 1)
    os.dup2(saved[1], 2)
    os.close(saved[0])
    os.close(saved[1])


def serve(spec: str, backend_path: list[str], requests: TextIO, replies: TextIO) -> None:
    """Answer requests until stdin closes.

    The backend is imported before the first request arrives (the worker is started while the
    build does other work); if that fails, the import is retried at the first request, so
    that its traceback lands in that request's log.
    """
    forget = memoize_entry_points()
    backend: Any = None
    try:
        backend = load_backend(spec, backend_path)
    except Exception:
        backend = None
    for line in requests:
        forget()
        request = json.loads(line)
        saved = redirect(str(request["log"]))
        try:
            if backend is None:
                try:
                    backend = load_backend(spec, backend_path)
                except Exception as exc:
                    traceback.print_exc()
                    reply = {
                        "ok": False,
                        "kind": "backend",
                        "error": f"{type(exc).__name__}: {exc}",
                    }
                    continue
            reply = call(backend, request)
        finally:
            restore(saved)
            replies.write(json.dumps(reply) + "\n")
            replies.flush()


def call(backend: Any, request: dict[str, Any]) -> dict[str, Any]:
    """Run one hook in the request's directory; a missing optional hook is reported as such."""
    hook = str(request["hook"])
    function = getattr(backend, hook, None) if hook in HOOKS else None
    if function is None:
        return {"ok": False, "kind": "missing", "error": f"the backend has no hook {hook}"}
    os.chdir(str(request["cwd"]))
    try:
        return {"ok": True, "value": function(*request["args"])}
    except BaseException as exc:
        traceback.print_exc()
        return {"ok": False, "kind": "hook", "error": f"{type(exc).__name__}: {exc}"}


def main() -> int:
    """Serve the backend named on the command line; protocol replies go to the original stdout."""
    # The protocol moves to private (non-inheritable) fds: a backend printing between
    # requests cannot corrupt the replies, nor a process it starts read the requests.
    requests = os.fdopen(os.dup(0), "r", encoding="utf-8")
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    serve(sys.argv[1], sys.argv[2:], requests, replies)
    return 0


if __name__ == "__main__":
    code = main()
    # Every reply is flushed and every log closed: skip the interpreter's teardown of the
    # backend's modules (tens of ms the build would wait for).
    os._exit(code)
