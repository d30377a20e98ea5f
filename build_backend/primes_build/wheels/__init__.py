"""The wheels of the own apps and runtime: PEP 517 builds, hook workers, caches, install."""
