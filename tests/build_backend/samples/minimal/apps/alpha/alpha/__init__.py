"""Sample app alpha."""
