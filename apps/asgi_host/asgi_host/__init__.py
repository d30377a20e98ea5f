"""asgi_host: an ASGI server inside a primes node, hot-upgradable request by request."""
