"""The node's control channel: a cookie-authenticated Unix socket and what it serves."""
