"""A server with a tag that logs its starts and stops (to check order) and can crash."""

from __future__ import annotations

import threading
from typing import Any

from primes_runtime import start_server
from primes_runtime.behaviours.server import Reply, Stop
from primes_runtime.behaviours.supervisor import start as start_supervisor
from primes_runtime.kernel.pid import Pid

events: list[tuple[str, object]] = []


def start(tag: object, *extra: object) -> Pid:
    """A child start function: ``("rt_fixtures.tagged", "start", (tag,))``."""
    return start_server(__name__, (tag, *extra))


def start_failing(tag: object) -> Pid:
    raise RuntimeError(f"child {tag} refuses to start")


def start_sup(spec: object) -> Pid:
    return start_supervisor("rt_fixtures.sup", spec)


def init(args: tuple[object, ...]) -> dict[str, Any]:
    events.append(("start", args[0]))
    return {"tag": args[0], "args": args}


def handle_call(request: Any, caller: Any, state: dict[str, Any]) -> object:
    if request == "tag":
        return Reply(state["args"], state)
    if isinstance(request, tuple) and request[0] == "wait":
        event = request[1]
        assert isinstance(event, threading.Event)
        event.wait(10)
        return Reply("waited", state)
    if request == "exit_normally":
        return Stop("normal", state, reply="ok")
    return Reply(None, state)


def handle_cast(msg: Any, state: dict[str, Any]) -> object:
    if msg == "crash":
        raise RuntimeError(f"child {state['tag']} crashed on purpose")
    return state


def terminate(reason: object, state: dict[str, Any]) -> None:
    events.append(("stop", state["tag"]))
