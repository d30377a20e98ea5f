"""prime_miner's exception root: one line saying what is wrong and what to do."""


class MinerError(Exception):
    """The miner cannot do what its config or an upgrade asks; str() is the line to show."""
