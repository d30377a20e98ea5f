"""Private: the process kernel (pids, processes, scheduler, names, messages, timers, sys)."""
