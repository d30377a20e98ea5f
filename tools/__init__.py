"""Developer tools: the seed story as a demo and as a test helper."""
