"""Private: the behaviours (server, statem, supervisor, async); apps use their top modules."""
