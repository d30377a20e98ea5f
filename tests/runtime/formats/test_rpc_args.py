"""rpc's arguments: Python literals, and the shell word a refused text should have been."""

from __future__ import annotations

import ast
import subprocess

import pytest
from primes_runtime.formats import rpc_args


def test_a_non_literal_argument_is_refused_with_a_hint() -> None:
    with pytest.raises(ValueError, match=r"""argument 'os\.system' is not a Python literal"""):
        rpc_args.parse(["os.system"])


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
        rpc_args.parse([text])
    message = str(caught.value)
    assert message.startswith(f"argument {text!r} is not a Python literal; ")
    _head, sep, word = message.partition("; to pass it as a string, write ")
    assert sep, message
    shell = subprocess.run(
        ["/bin/sh", "-c", f"printf '%s' {word}"], capture_output=True, text=True, check=True
    )
    assert rpc_args.parse([shell.stdout]) == [text]
    assert ast.literal_eval(shell.stdout) == text
