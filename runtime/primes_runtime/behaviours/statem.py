"""The state machine behaviour (gen_statem): named states, state and event timeouts.

Callback module::

    def init(args) -> Next(state, data, actions=())
    def handle_event(kind, content, state, data) -> Next | Keep | Stop
        # kind: "call" (content: Call(caller, request)), "cast", "info",
        #       "state_timeout", "timeout"
    def terminate(reason, state, data) -> None                 # optional
    def code_change(old_vsn, state, data, extra) -> Next       # optional; default keeps both

Actions: ``Reply(caller, value)``, ``StateTimeout(seconds, content)``,
``EventTimeout(seconds, content)``. A state timeout fires after ``seconds`` unless the
state changes or a new StateTimeout replaces it: unrelated events do not reset it. An
event timeout is cancelled by any event. Actions returned by code_change apply when the
process is resumed.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from ..errors import BadReturn
from ..kernel.caller import Caller
from ..kernel.pid import Pid
from ..kernel.process import CALL, CAST, TIMER, Exit, Process, spawn
from ..kernel.timers import TimerRef
from ..loading.code_server import current


@dataclass(frozen=True, slots=True)
class Call:
    """Content of a 'call' event: answer it with a Reply action."""

    caller: Caller
    request: object


@dataclass(frozen=True, slots=True)
class Reply:
    """Action: answer a call."""

    caller: Caller
    value: object


@dataclass(frozen=True, slots=True)
class StateTimeout:
    """Action: a 'state_timeout' event with ``content`` after ``seconds`` in this state."""

    seconds: float
    content: object = None


@dataclass(frozen=True, slots=True)
class EventTimeout:
    """Action: a 'timeout' event with ``content`` after ``seconds`` unless an event comes."""

    seconds: float
    content: object = None


Action = Reply | StateTimeout | EventTimeout


@dataclass(frozen=True, slots=True)
class Next:
    """Go to ``state`` with ``data``, then run ``actions``."""

    state: object
    data: object
    actions: Sequence[Action] = ()


@dataclass(frozen=True, slots=True)
class Keep:
    """Stay in the current state with ``data``, then run ``actions``."""

    data: object
    actions: Sequence[Action] = ()


@dataclass(frozen=True, slots=True)
class Stop:
    """End the state machine with ``reason`` (after running ``actions``, e.g. replies)."""

    reason: object
    data: object
    actions: Sequence[Action] = ()


@dataclass(frozen=True)
class _Armed:
    """A running timeout, as kept in snapshots."""

    deadline: float
    content: object


STATE_TIMEOUT = "state_timeout"
EVENT_TIMEOUT = "timeout"


class StatemProcess(Process):
    """A process running the state machine behaviour."""

    behaviour = "statem"
    __slots__ = ("_event", "_resume_actions", "_state_t", "data", "state")

    def __init__(self, module: str) -> None:
        super().__init__(module)
        self.state: object = None
        self.data: object = None
        # (timer, token, content) of the armed state / event timeout
        self._state_t: tuple[TimerRef, int, object] | None = None
        self._event: tuple[TimerRef, int, object] | None = None
        self._resume_actions: Sequence[Action] = ()

    # --- timeouts ------------------------------------------------------------------

    def _arm(self, kind: str, seconds: float, content: object) -> tuple[TimerRef, int, object]:
        token = self.node.processes.new_ref()

        def fire() -> None:
            self.deliver((TIMER, kind, content, token))

        return self.node.timers.start(seconds, fire), token, content

    def _cancel_state(self) -> None:
        if self._state_t is not None:
            self.node.timers.cancel(self._state_t[0])
            self._state_t = None

    def _cancel_event(self) -> None:
        if self._event is not None:
            self.node.timers.cancel(self._event[0])
            self._event = None

    def _apply(self, actions: Sequence[Action]) -> None:
        for action in actions:
            kind = type(action)
            if kind is Reply:
                action.caller.set_reply(action.value)  # type: ignore[union-attr]
            elif kind is StateTimeout:
                self._cancel_state()
                self._state_t = self._arm(STATE_TIMEOUT, action.seconds, action.content)  # type: ignore[union-attr]
            elif kind is EventTimeout:
                self._cancel_event()
                self._event = self._arm(EVENT_TIMEOUT, action.seconds, action.content)  # type: ignore[union-attr]
            else:
                raise BadReturn(f"{self.module}: unknown action {action!r}")

    # --- behaviour -----------------------------------------------------------------

    def _take(self, result: object, where: str) -> None:
        kind = type(result)
        if kind is Next:
            assert isinstance(result, Next)
            if result.state != self.state:
                self._cancel_state()
            self.state, self.data = result.state, result.data
            self._apply(result.actions)
        elif kind is Keep:
            assert isinstance(result, Keep)
            self.data = result.data
            self._apply(result.actions)
        elif kind is Stop:
            assert isinstance(result, Stop)
            self.data = result.data
            self._apply(result.actions)
            raise Exit(result.reason)
        else:
            raise BadReturn(
                f"{self.module}.{where} returned {result!r}; expected Next, Keep or Stop"
            )

    def init(self, args: object) -> None:
        result = current(self.module).init(args)
        if type(result) is not Next:
            raise BadReturn(f"{self.module}.init returned {result!r}; expected Next(state, data)")
        self._take(result, "init")

    def dispatch(self, msg: tuple[Any, ...]) -> None:
        tag = msg[0]
        if tag == TIMER:
            _, kind, content, token = msg
            armed = self._state_t if kind == STATE_TIMEOUT else self._event
            if armed is None or armed[1] != token:
                return  # cancelled or replaced after it fired
            if kind == STATE_TIMEOUT:
                self._state_t = None
            else:
                self._event = None
        elif tag == CALL:
            kind, content = "call", Call(msg[2], msg[1])
        else:
            kind, content = ("cast" if tag == CAST else "info"), msg[1]
        self._cancel_event()
        try:
            result = current(self.module).handle_event(kind, content, self.state, self.data)
            self._take(result, "handle_event")
        finally:
            if tag == CALL and not msg[2].answered:
                self.track_call(msg[2])  # answered later, or failed if the process dies

    def terminate(self, reason: object) -> None:
        fn = getattr(current(self.module), "terminate", None)
        if fn is not None:
            fn(reason, self.state, self.data)

    def on_exit(self) -> None:
        self._cancel_state()
        self._cancel_event()

    def code_change(self, module: ModuleType, old_vsn: object, extra: object) -> None:
        fn = getattr(module, "code_change", None)
        if fn is None:
            return
        result = fn(old_vsn, self.state, self.data, extra)
        if type(result) is not Next:
            raise BadReturn(f"{module.__name__}.code_change returned {result!r}; expected Next")
        self.state, self.data = result.state, result.data
        self._resume_actions = tuple(result.actions)

    def on_resume(self) -> None:
        actions, self._resume_actions = self._resume_actions, ()
        self._apply(actions)

    def snapshot_state(self) -> object:
        def armed(t: tuple[TimerRef, int, object] | None) -> _Armed | None:
            return _Armed(t[0].deadline, t[2]) if t is not None else None

        return (
            self.state,
            self.data,
            armed(self._state_t),
            armed(self._event),
            self._resume_actions,
        )

    def restore_state(self, state: object) -> None:
        assert isinstance(state, tuple)
        self.state, self.data, st, ev, self._resume_actions = state
        self._cancel_state()
        self._cancel_event()
        now = time.monotonic()
        if st is not None:
            self._state_t = self._arm(STATE_TIMEOUT, st.deadline - now, st.content)
        if ev is not None:
            self._event = self._arm(EVENT_TIMEOUT, ev.deadline - now, ev.content)


def start(module: str, args: object = None, *, name: str | None = None) -> Pid:
    """Start a state machine running ``module``; returns once its init returned.

    Raises StartError (caused by the init's exception) if init raised.
    """
    return spawn(StatemProcess(module), args, name)
