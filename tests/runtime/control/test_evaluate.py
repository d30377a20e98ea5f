"""Running client code in the node: eval, rpc, console, and per-thread output capture."""

from __future__ import annotations

import sys
import threading

from primes_runtime.service import evaluate
from primes_runtime.service.capture import captured


def test_eval_returns_the_repr_of_a_trailing_expression() -> None:
    outcome = evaluate.run_eval("a = 'x'\na * 2")
    assert outcome == evaluate.Outcome(out="", value="'xx'")


def test_eval_without_a_trailing_expression_or_with_none_prints_no_value() -> None:
    assert evaluate.run_eval("a = 1").value is None
    assert evaluate.run_eval("None").value is None


def test_eval_error_is_one_line_type_and_message() -> None:
    outcome = evaluate.run_eval("raise ValueError('bad\\n  thing')")
    assert outcome.error == "ValueError: bad thing"


def test_an_exception_without_a_message_is_its_type_name() -> None:
    assert evaluate.run_eval("raise KeyError").error == "KeyError"


def test_rpc_parses_literal_arguments() -> None:
    outcome = evaluate.run_rpc("builtins", "sorted", ["[3, 1, 2]"])
    assert outcome.value == "[1, 2, 3]"


def test_console_echoes_expression_values_like_the_interactive_prompt() -> None:
    session = evaluate.ConsoleSession()
    assert session.push("y = 2").out == ""
    assert session.push("y + 1").out == "3\n"


def test_console_shows_the_traceback_of_an_error() -> None:
    out = evaluate.ConsoleSession().push("1 / 0").out
    assert out.startswith("Traceback")
    assert out.endswith("ZeroDivisionError: division by zero\n")


def test_capture_takes_only_the_current_threads_output() -> None:
    other_printed = threading.Event()

    def other() -> None:
        with captured() as mine:
            print("from the other thread")
        assert mine.getvalue() == "from the other thread\n"
        other_printed.set()

    with captured() as buffer:
        print("from this thread")
        thread = threading.Thread(target=other)
        thread.start()
        thread.join(10)
        sys.stdout.write("more\n")
    assert other_printed.is_set()
    assert buffer.getvalue() == "from this thread\nmore\n"
