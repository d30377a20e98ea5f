"""What a PEP 517 frontend gets besides the release package: the sdist and the pip wheel."""
