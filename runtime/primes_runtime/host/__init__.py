"""Private: the node as host of a release (Node, boot, applications, config, logging, sd)."""
