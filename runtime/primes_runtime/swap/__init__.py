"""A whole swap: a distribution's new code behind every reference to its old code.

``shadow`` imports a distribution's new version beside the running one (nothing current
changes); ``patch`` puts the new code into the old functions and classes in place;
``distribution`` ties both to a release script's steps; ``stale`` finds what still runs code
from an old lib dir.
"""
