"""An async server that counts, records what it got, awaits, calls others and can crash."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from primes_runtime import (
    CallTimeout,
    async_call,
    blocking,
    cast,
    monitor,
    reply,
    self_pid,
    start_async_server,
)
from primes_runtime.behaviours.server import NoReply, Reply, Stop

VSN = 1
terminated: list[tuple[object, object]] = []


async def init(args: Any) -> dict[str, Any]:
    await asyncio.sleep(0)
    if args == "fail":
        raise ValueError("init refused")
    start = args if isinstance(args, int) else 0
    return {"count": start, "seen": [], "held": None, "init_pid": self_pid()}


async def handle_call(request: Any, caller: Any, state: dict[str, Any]) -> object:
    match request:
        case "get":
            return Reply(state["count"], state)
        case "seen":
            return Reply(list(state["seen"]), state)
        case "self":
            return Reply(self_pid(), state)
        case "init_pid":
            return Reply(state["init_pid"], state)
        case "vsn":
            return Reply(VSN, state)
        case ("incr", n):
            state["count"] += n
            return Reply(state["count"], state)
        case ("nap", seconds):
            await asyncio.sleep(seconds)
            return Reply(self_pid(), state)
        case ("block", seconds):
            time.sleep(seconds)  # holds the loop: what the watchdog reports
            return Reply("blocked", state)
        case ("call", dest, inner):
            return Reply(await async_call(dest, inner), state)
        case ("call_timeout", dest, inner, timeout):
            try:
                return Reply(await async_call(dest, inner, timeout), state)
            except CallTimeout as exc:
                return Reply(("timeout", str(exc)), state)
        case ("start", args):
            return Reply(await blocking(start_async_server, __name__, args), state)
        case ("monitor", pid):
            return Reply(monitor(pid), state)
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
    return Reply(("unknown", request), state)


async def handle_cast(msg: Any, state: dict[str, Any]) -> object:
    match msg:
        case ("step", n, seconds):
            state["seen"].append(("start", n))
            await asyncio.sleep(seconds)
            state["seen"].append(("end", n))
            return state
        case ("forward", dest, inner):
            cast(dest, inner)  # a cast never waits: fine on the loop
            return state
        case "crash":
            raise RuntimeError("cast crash")
        case "stop":
            return Stop("shutdown", state)
    state["seen"].append(msg)
    return state


async def handle_info(msg: Any, state: dict[str, Any]) -> object:
    state["seen"].append(("info", msg))
    return state


async def terminate(reason: object, state: dict[str, Any]) -> None:
    await asyncio.sleep(0)
    terminated.append((reason, state["count"]))


async def code_change(old_vsn: object, state: dict[str, Any], extra: object) -> dict[str, Any]:
    await asyncio.sleep(0)
    if extra == "refuse":
        raise ValueError("code_change refused")
    return {**state, "changed": (old_vsn, extra)}


def start_link(args: Any = None) -> Any:
    """A supervisor child spec's start function."""
    return start_async_server(__name__, args)
