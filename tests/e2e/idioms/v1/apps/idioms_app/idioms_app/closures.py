"""Keeps a closure made by factory.make (factory changes, the free variables do not)."""

from __future__ import annotations

from . import factory

KEPT = factory.make("v")
