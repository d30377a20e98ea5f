"""`primes new NAME`: a release project made from skeleton/ that builds and boots as created."""
