"""A state machine that ticks on a state timeout (like the miner) and records events."""

from __future__ import annotations

from typing import Any

from primes_runtime.behaviours.statem import EventTimeout, Keep, Next, Reply, StateTimeout, Stop


def init(args: Any) -> Next:
    interval = args if isinstance(args, float) else 0.05
    data = {"ticks": 0, "interval": interval, "events": []}
    return Next("ticking", data, [StateTimeout(interval, "tick")])


def handle_event(kind: str, content: Any, state: str, data: dict[str, Any]) -> object:
    if kind == "state_timeout":
        if state == "ticking":
            data["ticks"] += 1
            return Keep(data, [StateTimeout(data["interval"], "tick")])
        data["events"].append(("state_timeout", state))
        return Keep(data)
    if kind == "call":
        caller, request = content.caller, content.request
        match request:
            case "ticks":
                return Keep(data, [Reply(caller, data["ticks"])])
            case "state":
                return Keep(data, [Reply(caller, (state, data["interval"]))])
            case "events":
                return Keep(data, [Reply(caller, list(data["events"]))])
            case ("goto", new_state):
                return Next(new_state, data, [Reply(caller, "ok")])
            case ("idle_after", seconds):
                return Keep(data, [Reply(caller, "ok"), EventTimeout(seconds, "idle")])
            case "stop":
                return Stop("normal", data, [Reply(caller, "bye")])
            case "crash":
                raise RuntimeError("ticker asked to crash")
        return Keep(data, [Reply(caller, ("unknown", request))])
    data["events"].append((kind, content))
    return Keep(data)


def code_change(old_vsn: object, state: str, data: dict[str, Any], extra: Any) -> Next:
    interval = float(extra)
    return Next(state, {**data, "interval": interval}, [StateTimeout(interval, "tick")])
