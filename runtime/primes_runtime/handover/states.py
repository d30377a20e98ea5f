"""Process states in a portable form: which process is which, export, check, import."""

from __future__ import annotations

import base64
import inspect
import io
import pickle
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from primes_runtime.behaviours.supervisor import SupervisorProcess
from primes_runtime.errors import PrimesError
from primes_runtime.kernel import system
from primes_runtime.kernel.process import Process
from primes_runtime.loading import code_server

if TYPE_CHECKING:
    from primes_runtime.host.node import Node

PLAIN = (type(None), bool, int, float, str, bytes, tuple, list, dict, set, frozenset)
"""Types the default export takes: pickled without a class, read back without one."""

HOW = "define export_state and import_state in {module} (docs/upgrades.md, 'Hand-over')"


class Unportable(PrimesError):
    """A process whose state cannot be handed over; str() names it and the way out."""


@dataclass(frozen=True)
class Exported:
    """One process's state as the successor gets it."""

    key: str
    module: str
    app_vsn: str
    data: str
    """The pickled plain data, base64."""


def keys(node: Node) -> dict[str, Process]:
    """Every live process that is not a supervisor, by a key both nodes compute alike: its
    registered name, else its supervisor's key and its child id."""
    parent: dict[object, tuple[Process, str]] = {}
    procs = [p for p in node.processes.all() if p.alive]
    for proc in procs:
        if isinstance(proc, SupervisorProcess):
            for child in proc.children:
                if child.pid is not None:
                    parent[child.pid] = (proc, child.spec.id)
    found: dict[str, Process] = {}
    for proc in procs:
        if isinstance(proc, SupervisorProcess):
            continue
        key = _key(node, proc, parent)
        if key is None:
            raise Unportable(
                f"process {proc.pid} ({proc.module}) has no registered name and no supervisor "
                "child id, so its successor cannot be told which it is; register it or start "
                "it under a supervisor"
            )
        found[key] = proc
    return found


def _key(node: Node, proc: Process, parent: dict[object, tuple[Process, str]]) -> str | None:
    name = node.processes.name_of(proc.pid)
    if name is not None:
        return f"name {name}"
    if proc.pid not in parent:
        return None
    path: list[str] = []
    at: Process = proc
    while at.pid in parent:
        sup, child_id = parent[at.pid]
        path.append(child_id)
        at = sup
        sup_name = node.processes.name_of(at.pid)
        if sup_name is not None:
            return f"under {sup_name}/" + "/".join(reversed(path))
    return f"app {at.app or '-'}/" + "/".join(reversed(path))


def problem(value: object) -> str | None:
    """The first type in `value` the default export cannot take, or None if it is plain."""
    stack: list[object] = [value]
    seen = 0
    while stack:
        item = stack.pop()
        seen += 1
        if type(item) not in PLAIN:
            return f"{type(item).__module__}.{type(item).__qualname__}"
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, tuple | list | set | frozenset):
            stack.extend(item)
    return None


def who(key: str, proc: Process) -> str:
    return f"process {proc.pid} {key} ({proc.module})"


def export(key: str, proc: Process) -> Exported | None:
    """The suspended `proc`'s state through its module's export_state (default: the state
    itself, if plain data); None when it has nothing to hand over."""
    module = code_server.current(proc.module)
    state = system.snapshot(proc).state
    fn = getattr(module, "export_state", None)
    try:
        data = _run(proc, fn(state)) if fn is not None else state
    except Exception as exc:
        raise Unportable(f"{who(key, proc)}: export_state raised {exc!r}") from None
    if fn is not None and data is None:
        return None
    bad = problem(data)
    if bad is not None:
        via = "what export_state returned" if fn is not None else "its state"
        raise Unportable(
            f"the state of {who(key, proc)} cannot be handed over: {via} holds a {bad}; "
            + HOW.format(module=proc.module)
        )
    try:
        blob = pickle.dumps(data, protocol=4)
    except (pickle.PicklingError, RecursionError, TypeError) as exc:
        raise Unportable(f"the state of {who(key, proc)} cannot be handed over: {exc}") from None
    vsn = proc.node.applications.version_of(proc.app) if proc.app else None
    return Exported(key, proc.module, vsn or "", base64.b64encode(blob).decode("ascii"))


def _run(proc: Process, result: object) -> object:
    """`result`, awaited on the node's loop when the callback was a coroutine function."""
    if inspect.iscoroutine(result):
        return proc.node.aio.run(result, proc, 30.0)
    return result


class _Plain(pickle.Unpickler):
    """Reads plain data only: any class or function named in the stream is refused."""

    def find_class(self, module: str, name: str) -> object:
        raise pickle.UnpicklingError(f"a handed-over state names {module}.{name}: not plain data")


def load(exported: Exported) -> object:
    """The plain data of an export."""
    return _Plain(io.BytesIO(base64.b64decode(exported.data))).load()


def import_into(proc: Process, exported: Exported) -> None:
    """Give the suspended `proc` the state: its module's import_state(data), else the data."""
    module = code_server.current(proc.module)
    data = load(exported)
    fn = getattr(module, "import_state", None)
    try:
        state = _run(proc, fn(data)) if fn is not None else data
    except Exception as exc:
        raise Unportable(f"{who(exported.key, proc)}: import_state raised {exc!r}") from None
    proc.restore_state(_fitted(proc, state))


def _fitted(proc: Process, state: object) -> object:
    """A statem's snapshot is (state, data, timers...): the import gives its state and data."""
    current = proc.snapshot_state()
    if isinstance(current, tuple) and proc.behaviour == "statem" and isinstance(state, tuple):
        return (*state[:2], *current[2:])
    return state


def each(node: Node) -> Iterator[tuple[str, Process]]:
    """The keyed processes, in the reverse of their start order (listeners first)."""
    yield from sorted(keys(node).items(), key=lambda kv: -kv[1].pid.id)
