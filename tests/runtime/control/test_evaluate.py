"""Running client code in the node: eval, rpc, console, and per-thread output capture."""

from __future__ import annotations

import ast
import subprocess
import sys
import threading

import pytest
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


def test_a_non_literal_argument_is_refused_with_a_hint() -> None:
    with pytest.raises(ValueError, match=r"""argument 'os\.system' is not a Python literal"""):
        evaluate.parse_args(["os.system"])


@pytest.mark.parametrize(
    "text",
    [
        "world",
        "it's",
        'say "hi"',
        "both ' and \"",
        "back\\slash",
        "$HOME `id`",
        "wow!",
        "tab\there",
    ],
)
def test_the_hint_for_a_non_literal_is_a_shell_word_that_gives_the_text_as_a_string(
    text: str,
) -> None:
    with pytest.raises(ValueError) as caught:
        evaluate.parse_args([text])
    message = str(caught.value)
    assert message.startswith(f"argument {text!r} is not a Python literal; ")
    _head, sep, word = message.partition("; to pass it as a string, write ")
    assert sep, message
    shell = subprocess.run(
        ["/bin/sh", "-c", f"printf '%s' {word}"], capture_output=True, text=True, check=True
    )
    assert evaluate.parse_args([shell.stdout]) == [text]
    assert ast.literal_eval(shell.stdout) == text


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
