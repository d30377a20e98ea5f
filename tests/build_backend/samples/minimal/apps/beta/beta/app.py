"""Starts beta."""


def start() -> None:
    """Start nothing."""
