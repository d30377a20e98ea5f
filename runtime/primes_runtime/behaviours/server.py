"""The server behaviour (gen_server): call with reply, cast, plain messages, stop.

Callback module::

    def init(args) -> state
    def handle_call(request, caller, state) -> Reply(value, state) | NoReply(state)
                                               | Stop(reason, state, reply=...)
    def handle_cast(msg, state) -> state | Stop(reason, state)
    def handle_info(msg, state) -> state | Stop(reason, state)
    def terminate(reason, state) -> None                 # optional
    def code_change(old_vsn, state, extra) -> state      # optional; default keeps state

Every callback runs on a scheduler worker, one message at a time, with ``self_pid()``
the server's pid. If one raises, the process crashes: the error is logged with its
traceback, terminate runs, queued callers get CallFailed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from ..errors import BadReturn
from ..kernel.caller import Caller
from ..kernel.pid import Pid
from ..kernel.process import CALL, CAST, Exit, Process, spawn
from ..loading.code_server import current

log = logging.getLogger("primes_runtime.server")


class _NoReplyValue:
    def __repr__(self) -> str:
        return "NO_REPLY"


NO_REPLY: Any = _NoReplyValue()


@dataclass(frozen=True, slots=True)
class Reply:
    """handle_call result: answer ``value``, continue with ``state``."""

    value: object
    state: object


@dataclass(frozen=True, slots=True)
class NoReply:
    """handle_call result: answer later with ``reply(caller, value)``."""

    state: object


@dataclass(frozen=True, slots=True)
class Stop:
    """Any handler's result: end the server with ``reason`` (answering ``reply`` first)."""

    reason: object
    state: object
    reply: object = NO_REPLY


class ServerProcess(Process):
    """A process running the server behaviour."""

    behaviour = "server"
    __slots__ = ("state",)

    def init(self, args: object) -> None:
        self.state = current(self.module).init(args)

    def dispatch(self, msg: tuple[Any, ...]) -> None:
        mod = current(self.module)
        tag = msg[0]
        if tag == CALL:
            caller = msg[2]
            try:
                self._call(mod, msg[1], caller)
            finally:
                if not caller.answered:
                    self.track_call(caller)  # answered later, or failed if the process dies
            return
        name = "handle_cast" if tag == CAST else "handle_info"
        handler = getattr(mod, name, None)
        if handler is None:
            log.warning("server %s (%s) has no %s; dropped %r", self.pid, self.module, name, msg[1])
            return
        self.took_state(name, handler(msg[1], self.state))

    def took_state(self, name: str, result: object) -> None:
        """Apply what handle_cast/handle_info (`name`) returned: a new state, or Stop."""
        kind = type(result)
        if kind is Stop:
            assert isinstance(result, Stop)
            self.state = result.state
            raise Exit(result.reason)
        if kind is Reply or kind is NoReply:
            raise BadReturn(f"{self.module}.{name} returned {result!r}; expected a state or Stop")
        self.state = result

    def _call(self, mod: ModuleType, request: object, caller: Caller) -> None:
        result = mod.handle_call(request, caller, self.state)
        if type(result) is Reply:
            self.state = result.state
            if caller.set_reply_quiet(result.value):
                self.waking = caller  # woken by run_slice once this message is done
            return
        self.took_call(result, caller)

    def took_call(self, result: Any, caller: Caller) -> None:
        """Apply what handle_call returned: Reply, NoReply or Stop (answering `caller`)."""
        kind = type(result)
        if kind is Reply:
            self.state = result.state
            caller.set_reply(result.value)
        elif kind is NoReply:
            self.state = result.state
        elif kind is Stop:
            self.state = result.state
            if result.reply is not NO_REPLY:
                caller.set_reply(result.reply)
            raise Exit(result.reason)
        else:
            raise BadReturn(
                f"{self.module}.handle_call returned {result!r}; "
                "expected Reply(value, state), NoReply(state) or Stop(reason, state)"
            )

    def terminate(self, reason: object) -> None:
        fn = getattr(current(self.module), "terminate", None)
        if fn is not None:
            fn(reason, self.state)

    def code_change(self, module: ModuleType, old_vsn: object, extra: object) -> None:
        fn = getattr(module, "code_change", None)
        if fn is not None:
            self.state = fn(old_vsn, self.state, extra)

    def snapshot_state(self) -> object:
        return self.state  # by reference: see system.ProcessSnapshot

    def restore_state(self, state: object) -> None:
        self.state = state


def start(module: str, args: object = None, *, name: str | None = None) -> Pid:
    """Start a server running callback module ``module``; returns once its init returned.

    Raises StartError (caused by the init's exception) if init raised.
    """
    return spawn(ServerProcess(module), args, name)
