"""Starts delta."""


def start() -> None:
    """Start nothing."""
