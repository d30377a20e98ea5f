"""The control channel as both ends see it: the socket, its frames, the client, the node's tree."""
