"""Sample app delta."""
