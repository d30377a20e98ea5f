"""Sample app gamma."""
