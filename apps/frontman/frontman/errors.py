"""frontman's exception root: one line saying what is wrong and what to do."""


class FrontmanError(Exception):
    """frontman cannot do what its config asks; str() is the line to show."""
