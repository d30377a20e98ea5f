"""limiter: a rate limiter whose state lives in a process (the ratelimiter example)."""
