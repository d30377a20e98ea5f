"""A server that counts, records what it got and can be told to crash or sleep."""

from __future__ import annotations

import threading
import time
from typing import Any

from primes_runtime import reply, self_pid
from primes_runtime.behaviours.server import NoReply, Reply, Stop

VSN = 1
terminated: list[tuple[object, object]] = []


def init(args: Any) -> dict[str, Any]:
    if args == "fail":
        raise ValueError("init refused")
    start = args if isinstance(args, int) else 0
    return {"count": start, "seen": [], "held": None}


def handle_call(request: Any, caller: Any, state: dict[str, Any]) -> object:
    match request:
        case "get":
            return Reply(state["count"], state)
        case "seen":
            return Reply(list(state["seen"]), state)
        case "self":
            return Reply(self_pid(), state)
        case "vsn":
            return Reply(VSN, state)
        case ("incr", n):
            state["count"] += n
            return Reply(state["count"], state)
        case ("sleep", seconds):
            time.sleep(seconds)
            return Reply("slept", state)
        case ("wait", event):
            assert isinstance(event, threading.Event)
            event.wait(10)
            return Reply("waited", state)
        case "crash":
            raise RuntimeError("asked to crash")
        case "hold":
            state["held"] = caller
            return NoReply(state)
        case ("release", value):
            reply(state["held"], value)
            return Reply("released", state)
        case "stop":
            return Stop("normal", state, reply="bye")
        case ("monitor", pid):
            from primes_runtime import monitor

            return Reply(monitor(pid), state)
        case ("call", dest, inner):
            from primes_runtime import call

            return Reply(call(dest, inner), state)
    return Reply(("unknown", request), state)


def handle_cast(msg: Any, state: dict[str, Any]) -> object:
    if msg == "crash":
        raise RuntimeError("cast crash")
    if msg == "stop":
        return Stop("shutdown", state)
    state["seen"].append(msg)
    return state


def handle_info(msg: Any, state: dict[str, Any]) -> object:
    state["seen"].append(("info", msg))
    return state


def terminate(reason: object, state: dict[str, Any]) -> None:
    terminated.append((reason, state["count"]))


def code_change(old_vsn: object, state: dict[str, Any], extra: object) -> dict[str, Any]:
    return {**state, "changed": (old_vsn, extra)}
