"""Third-party dependencies: read pylock.toml, fetch and install the locked wheels."""

from primes_build.deps.libraries import Library, ship_libraries

__all__ = ["Library", "ship_libraries"]
