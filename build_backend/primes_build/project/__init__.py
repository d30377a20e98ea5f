"""The project: primes.toml, apps' [tool.primes.app], node config, rel/ overlays, start order."""
