"""Comments as the service keeps them: payload (the contract's shape), harm, locks, revisions."""
from .payload import payload

__all__ = ["payload"]
