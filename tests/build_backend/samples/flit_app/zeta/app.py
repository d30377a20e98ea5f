"""Starts zeta."""


def start() -> None:
    """Start nothing."""
