"""The bucket: an async process holding each client's request count in the current window.

Version 1's state: ``{"hits": {client: count}, "total": n, "window_start": t}``.
"""

from __future__ import annotations

import time
from typing import Any

from primes_runtime import Caller, Pid, app_env, start_async_server
from primes_runtime.server import Reply

NAME = "limiter_bucket"
VSN = 1

State = dict[str, Any]


def start_link() -> Pid:
    return start_async_server(__name__, None, name=NAME)


async def init(args: object) -> State:
    return {"hits": {}, "total": 0, "window_start": time.monotonic()}


def _roll(state: State) -> State:
    window = float(str(app_env("limiter", "window", 60.0)))
    if time.monotonic() - state["window_start"] < window:
        return state
    return {**state, "hits": {}, "window_start": time.monotonic()}


async def handle_call(request: object, caller: Caller, state: State) -> Reply:
    match request:
        case ("hit", str(client)):
            state = _roll(state)
            count = state["hits"].get(client, 0) + 1
            limit = int(str(app_env("limiter", "limit", 1000000)))
            new = {**state, "hits": {**state["hits"], client: count}, "total": state["total"] + 1}
            return Reply({"client": client, "count": count, "allowed": count <= limit}, new)
        case "stats":
            return Reply(
                {"vsn": VSN, "total": state["total"], "clients": len(state["hits"])}, state
            )
    return Reply({"error": f"unknown request {request!r}"}, state)
