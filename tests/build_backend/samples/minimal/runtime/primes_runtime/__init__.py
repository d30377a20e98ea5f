"""A stand-in runtime."""
