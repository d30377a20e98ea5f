"""Starts alpha."""


def start() -> None:
    """Start nothing."""
