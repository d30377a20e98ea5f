"""Starts gamma."""


def start() -> None:
    """Start nothing."""
