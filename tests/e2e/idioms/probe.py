"""Asks every idiom of idioms_app inside the running node; prints one JSON object.

tests/e2e/test_idioms.py sends this file's text to `bin/idiomnode eval`, so it runs in the node
against whatever code the node holds, and never changes state. Each answer is the idiom's
result, or "Type: message" if asking it raised.
"""

from __future__ import annotations

import importlib
import inspect
import json
from collections.abc import Callable
from types import ModuleType
from typing import Any


def _current(name: str) -> ModuleType:
    """The module the node imports now (release 2's after an upgrade)."""
    return importlib.import_module(f"idioms_app.{name}")


def _with(manager: Any) -> object:
    with manager as got:
        return got


def _questions() -> dict[str, Callable[[], object]]:
    kept, callbacks = _current("kept"), _current("callbacks")
    model, stored = _current("model"), _current("keeper").stored
    return {
        "from .helpers import greet, in an unchanged module": _current("greeter").answer,
        "package __init__ re-exports a function": lambda: _current("shapes").area(),
        "package __init__ re-exports a class": lambda: _current("shapes").Square().answer(),
        "functools.partial kept in a list": lambda: callbacks.CALLBACKS[0](),
        "bound method kept in a list": lambda: callbacks.CALLBACKS[1](),
        "closure made by a changed factory": lambda: _current("closures").KEPT(),
        "state: plain class instance, method": lambda: stored()["counter"].answer(),
        "state: plain class instance, isinstance": lambda: isinstance(
            stored()["counter"], model.Counter
        ),
        "state: dataclass instance, method": lambda: stored()["point"].answer(),
        "state: dataclass instance, isinstance": lambda: isinstance(stored()["point"], model.Point),
        "state: Enum member, method": lambda: stored()["colour"].answer(),
        "state: Enum member, isinstance": lambda: isinstance(stored()["colour"], model.Colour),
        "state: Enum member == the current module's member": lambda: (
            stored()["colour"] == model.Colour.RED
        ),
        "import pkg.mod as m; m.f()": _current("modref").answer,
        "registry filled at import time": lambda: _current("registry").HANDLERS["plugin"](),
        "decorator with functools.wraps": kept.traced_answer,
        "property": lambda: kept.GAUGE.answer,
        "classmethod": lambda: kept.Tool.build(),
        "staticmethod": lambda: kept.Tool.version(),
        "nested class": lambda: kept.INNER.answer(),
        "singledispatch, registered implementation": lambda: kept.describe(1),
        "singledispatch, default implementation": lambda: kept.describe("one"),
        "ABC virtual subclass, method": lambda: kept.CIRCLE.answer(),
        "ABC virtual subclass, isinstance of the current ABC": lambda: isinstance(
            kept.CIRCLE, _current("abcs").Shape
        ),
        "runtime_checkable Protocol, method": lambda: kept.IMPL.answer(),
        "runtime_checkable Protocol, isinstance": lambda: isinstance(
            kept.IMPL, _current("protocols").Answers
        ),
        "context manager class": lambda: _with(kept.SCOPE),
        "@contextlib.contextmanager function": lambda: _with(kept.scope()),
        "module-level functools.lru_cache, primed at boot": lambda: kept.lookup(1),
        "super() in a subclass method": lambda: kept.CHILD.answer(),
        # The state each release must keep as it is.
        "kept state: counter count": lambda: stored()["counter"].count,
        "kept state: dataclass fields": lambda: [stored()["point"].x, stored()["point"].y],
        "kept state: slotted value": lambda: stored()["cell"].value,
        "kept state: generator in progress": lambda: inspect.getgeneratorstate(
            stored()["generator"]
        ),
        "kept state: generator's position": lambda: stored()["generator"].gi_frame.f_locals["n"],
    }


def _ask(question: Callable[[], object]) -> object:
    try:
        return question()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"


print(json.dumps({idiom: _ask(question) for idiom, question in _questions().items()}))
