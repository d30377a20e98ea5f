"""bin/<name>'s commands: start and stop a node, and talk to it over its control channel."""

from __future__ import annotations

from primes_runtime.cli.app import main

__all__ = ["main"]
