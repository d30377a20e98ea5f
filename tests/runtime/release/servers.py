"""Tiny callback modules, as source text, for the hand-made releases of these tests."""

from __future__ import annotations

COUNTER = """
from primes_runtime.server import Reply

VSN = {vsn}


def init(args):
    return {{"seen": [], "tag": args}}


def handle_call(request, caller, state):
    if request == "vsn":
        return Reply(VSN, state)
    if request == "state":
        return Reply(state, state)
    return Reply(None, state)


def handle_cast(msg, state):
    if isinstance(msg, tuple) and msg[0] == "busy":  # ("busy", started, go): hold the process
        msg[1].set()
        msg[2].wait(10)
        msg = "busy"
    state["seen"].append(msg)
    return state


def handle_info(msg, state):
    return state
{code_change}
"""

CODE_CHANGE_V2 = """

def code_change(old_vsn, state, extra):
    if state["tag"] == "explode":
        raise ValueError("cannot migrate this one")
    if state["tag"] == "hang":
        import time
        time.sleep(1.5)
    if extra == "slow":  # a migration that takes a while: senders keep sending meanwhile
        import time
        time.sleep(0.2)
    return {**state, "migrated": [old_vsn, extra]}
"""


def counter(vsn: int, *, code_change: str = "") -> str:
    """A counting server whose `vsn` call answers `vsn`."""
    return COUNTER.format(vsn=vsn, code_change=code_change)


def up_script(
    mod: str,
    *,
    extra: str = "from1to2",
    timeout: float = 5.0,
    suspend_timeout: float = 5.0,
    tail: str = "",
) -> str:
    """A 1 -> 2 script updating `mod` (no app switch: these tests run without apps)."""
    return f"""\
        # test: {mod} 1 -> 2
        load_object_code {{"app": "counter", "from_vsn": "1", "to_vsn": "2", "path": "lib/counter-2", "modules": ["{mod}"]}}
        point_of_no_return
        suspend {{"modules": ["{mod}"], "timeout": {suspend_timeout}}}
        load {{"module": "{mod}"}}
        code_change {{"modules": ["{mod}"], "mode": "up", "old_vsn": "1", "extra": "{extra}", "timeout": {timeout}}}
        resume {{"modules": ["{mod}"]}}
        {tail}
        """  # noqa: E501
