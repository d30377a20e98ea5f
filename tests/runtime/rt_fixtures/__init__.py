"""Callback modules the runtime tests start processes with."""
