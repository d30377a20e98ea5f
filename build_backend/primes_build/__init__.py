"""The primes PEP 517 backend: primes.toml and the apps in, a release package out."""
