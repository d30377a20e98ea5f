"""A connection with a request in flight when the host pauses ends announced."""

from __future__ import annotations

from dataclasses import dataclass, field

from asgi_host.accepting import CLOSE, closing


@dataclass
class Cycle:
    response_started: bool
    scope: dict[str, list[tuple[bytes, bytes]]] = field(
        default_factory=lambda: {"headers": [(b"host", b"x")]}
    )


@dataclass
class Connection:
    cycle: Cycle
    shut: bool = False

    def shutdown(self) -> None:
        self.shut = True


def test_an_answer_not_yet_begun_will_say_connection_close() -> None:
    connection = Connection(Cycle(response_started=False))
    closing(connection)
    assert connection.cycle.scope["headers"] == [(b"host", b"x"), CLOSE]
    assert connection.shut


def test_an_answer_already_begun_is_left_as_it_is_and_the_connection_still_ends() -> None:
    connection = Connection(Cycle(response_started=True))
    closing(connection)
    assert connection.cycle.scope["headers"] == [(b"host", b"x")]
    assert connection.shut
