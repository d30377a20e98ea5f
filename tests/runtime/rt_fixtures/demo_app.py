"""An application for the controller and node tests: a supervisor with one worker."""

from __future__ import annotations

from typing import Any

from primes_runtime import app_env, self_pid, start_server
from primes_runtime.behaviours.server import Reply
from primes_runtime.behaviours.supervisor import ChildSpec, SupSpec
from primes_runtime.behaviours.supervisor import start as start_supervisor
from primes_runtime.kernel.pid import Pid
from primes_runtime.kernel.process import current_app

events: list[tuple[str, str | None]] = []


def start() -> Pid:
    app = current_app()
    events.append(("start", app))
    if app_env(app or "", "fail_start", False):
        raise RuntimeError("demo app told to fail")
    worker = ChildSpec("worker", ("rt_fixtures.demo_app", "start_worker", ()))
    return start_supervisor("rt_fixtures.sup", SupSpec(children=[worker]))


def stop() -> None:
    events.append(("stop", None))


def start_worker() -> Pid:
    return start_server("rt_fixtures.demo_app")


def init(args: object) -> dict[str, Any]:
    return {"app": current_app()}


def handle_call(request: Any, caller: Any, state: dict[str, Any]) -> object:
    if request == "app":
        return Reply(state["app"], state)
    if isinstance(request, tuple) and request[0] == "env":
        return Reply(app_env(state["app"], request[1], None), state)
    if request == "self":
        return Reply(self_pid(), state)
    return Reply(None, state)
