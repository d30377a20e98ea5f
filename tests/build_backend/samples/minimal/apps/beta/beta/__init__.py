"""Sample app beta."""
