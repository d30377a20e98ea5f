"""The bucket, version 2: each client's entry also records when it was last seen.

Version 2's state: ``{"clients": {client: {"count": n, "last": t}}, "total": n,
"window_start": t}``; ``code_change`` builds it from version 1's ``hits``.
"""

from __future__ import annotations

import time
from typing import Any

from primes_runtime import Caller, Pid, app_env, start_async_server
from primes_runtime.server import Reply

NAME = "limiter_bucket"
VSN = 2

State = dict[str, Any]


def start_link() -> Pid:
    return start_async_server(__name__, None, name=NAME)


async def init(args: object) -> State:
    return {"clients": {}, "total": 0, "window_start": time.monotonic()}


def _roll(state: State) -> State:
    window = float(str(app_env("limiter", "window", 60.0)))
    if time.monotonic() - state["window_start"] < window:
        return state
    return {**state, "clients": {}, "window_start": time.monotonic()}


def _limit() -> int:
    return int(str(app_env("limiter", "limit", 1000000)))


async def handle_call(request: object, caller: Caller, state: State) -> Reply:
    match request:
        case ("hit", str(client)):
            state = _roll(state)
            count = state["clients"].get(client, {"count": 0})["count"] + 1
            entry = {"count": count, "last": time.time()}
            new = {**state, "clients": {**state["clients"], client: entry}}
            new["total"] = state["total"] + 1
            return Reply({"client": client, "count": count, "allowed": count <= _limit()}, new)
        case ("quota", str(client)):
            used = state["clients"].get(client, {"count": 0})["count"]
            return Reply({"client": client, "used": used, "left": max(0, _limit() - used)}, state)
        case "stats":
            answer = {"vsn": VSN, "total": state["total"], "clients": len(state["clients"])}
            return Reply(answer, state)
    return Reply({"error": f"unknown request {request!r}"}, state)


def code_change(old_vsn: object, state: State, extra: object) -> State:
    """Version 1's ``hits`` become version 2's ``clients`` (a new state: the old is kept)."""
    if "clients" in state:
        return state
    now = time.time()
    clients = {client: {"count": n, "last": now} for client, n in state["hits"].items()}
    return {"clients": clients, "total": state["total"], "window_start": state["window_start"]}
