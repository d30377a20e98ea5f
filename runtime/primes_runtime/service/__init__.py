"""The node's control service: the socket server in the node, and what it does for each request."""
