"""prime_miner: a registered state machine that mines primes (the seed's joke, kept costly)."""
