"""Errors the scorer raises; their text is shown to operators as is."""


class ScorerUnavailable(Exception):
    """The model cannot be loaded now; ``str(e)`` says why (e.g. "no checkpoint at /x")."""


class ScoringFailed(Exception):
    """The model is loaded but inference raised for a batch."""
