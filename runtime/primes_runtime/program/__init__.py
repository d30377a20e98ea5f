"""Private: the node's OS program (argv, signals, lock, recovery, hand-over, control, exit)."""
