"""A server whose state holds instances of other modules' classes and a generator in progress.

Unchanged by every later version, and without a code_change: it is never suspended for its
own sake, yet the objects it keeps come from modules that change.
"""

from __future__ import annotations

from typing import Any

from primes_runtime import Caller, Pid, call, start_server
from primes_runtime.server import Reply

from . import gens, model, slotted

NAME = "idioms_keeper"


def start_link(args: object = None) -> Pid:
    return start_server(__name__, args, name=NAME)


def fill() -> object:
    """Make the objects the state keeps (`bin/idiomnode rpc idioms_app.keeper fill`)."""
    return call(NAME, "fill")


def stored() -> object:
    """The state itself (the node's own callers get the objects, not copies)."""
    return call(NAME, "stored")


def init(args: object) -> dict[str, Any]:
    return {}


def handle_call(request: object, caller: Caller, state: dict[str, Any]) -> Reply:
    match request:
        case "fill":
            counter = model.Counter()
            for _ in range(3):
                counter.bump()
            generator = gens.counting()
            next(generator)
            filled = {
                "counter": counter,
                "point": model.Point(1, 2),
                "colour": model.Colour.RED,
                "cell": slotted.Cell(42),
                "generator": generator,
            }
            return Reply("filled", filled)
        case "stored":
            return Reply(state, state)
        case _:
            return Reply(("error", "unknown_request"), state)


def handle_cast(msg: object, state: dict[str, Any]) -> dict[str, Any]:
    return state


def handle_info(msg: object, state: dict[str, Any]) -> dict[str, Any]:
    return state
