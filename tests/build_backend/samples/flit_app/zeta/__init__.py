"""Sample app zeta."""
