"""primes: the release's top-level app; it only needs prime_miner and frontman to run first."""
