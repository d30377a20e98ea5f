"""Running a client's code inside the node: eval, rpc and remote console input."""

from __future__ import annotations

import ast
import builtins
import traceback
from dataclasses import dataclass

from primes_runtime.errors import CodeLoadError
from primes_runtime.formats import rpc_args
from primes_runtime.loading import code_server
from primes_runtime.service.capture import captured


@dataclass(frozen=True)
class Outcome:
    """What running a piece of client code gave."""

    out: str
    """Everything the code printed."""
    value: str | None = None
    """The result, formatted for printing (None: nothing to print)."""
    error: str | None = None
    """One line `Type: message` when the code raised (None: it did not)."""


def one_line(exc: BaseException) -> str:
    """`Type: message` on one line."""
    if isinstance(exc, SyntaxError):
        where = f" (line {exc.lineno})" if exc.lineno else ""
        return f"SyntaxError: {exc.msg}{where}"
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def run_eval(source: str) -> Outcome:
    """Run statements; a trailing expression's value comes back as its repr."""
    namespace: dict[str, object] = {"__name__": "__primes_eval__", "__builtins__": builtins}
    with captured() as out:
        try:
            tree = ast.parse(source, "<eval>", "exec")
            last: ast.Expression | None = None
            final = tree.body[-1] if tree.body else None
            if isinstance(final, ast.Expr):
                tree.body.pop()
                last = ast.Expression(final.value)
            exec(compile(tree, "<eval>", "exec"), namespace)
            value = eval(compile(last, "<eval>", "eval"), namespace) if last else None
        except (Exception, SystemExit) as exc:
            return Outcome(out.getvalue(), error=one_line(exc))
    return Outcome(out.getvalue(), None if value is None else repr(value))


def run_rpc(module: str, function: str, sources: list[str]) -> Outcome:
    """Call module.function(*literals); a str result prints as is, anything else as its repr."""
    with captured() as out:
        try:
            args = rpc_args.parse(sources)
            target = _module(module)
            func = getattr(target, function, None)
            if func is None:
                raise AttributeError(f"module {module!r} has no function {function!r}")
            if not callable(func):
                raise TypeError(f"{module}.{function} is not callable")
            result = func(*args)
        except (Exception, SystemExit) as exc:
            return Outcome(out.getvalue(), error=one_line(exc))
    return Outcome(out.getvalue(), result if isinstance(result, str) else repr(result))


def _module(name: str) -> object:
    """The node's current module `name`, through the code server (never a half-imported one);
    an import failure is reported as the import's own error."""
    try:
        return code_server.current(name)
    except CodeLoadError as exc:
        raise (exc.__cause__ or exc) from None


class ConsoleSession:
    """One remote console: a namespace that lives as long as the connection."""

    def __init__(self) -> None:
        self.namespace: dict[str, object] = {
            "__name__": "__primes_console__",
            "__builtins__": builtins,
        }

    def push(self, source: str) -> Outcome:
        """Run one complete interactive input (mode 'single': expression values are echoed)."""
        with captured() as out:
            try:
                code = compile(source, "<remote_console>", "single")
                exec(code, self.namespace)
            except SystemExit:
                return Outcome(out.getvalue(), error="SystemExit: the node does not exit from here")
            except Exception as exc:
                frames = exc.__traceback__.tb_next if exc.__traceback__ else None
                lines = traceback.format_exception(type(exc), exc, frames)
                return Outcome(out.getvalue() + "".join(lines))
        return Outcome(out.getvalue())
