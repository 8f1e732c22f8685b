"""Integers from requests, bounded to what the database's id columns can hold.

Every id column is an `Integer`: a 32-bit INTEGER on PostgreSQL, which raises "integer out of
range" for a larger parameter, and a 64-bit INTEGER on SQLite, whose driver raises
OverflowError beyond that. A number outside the range cannot name a row, so it is refused
before it reaches the database (404 in a URL, 400 in a form or a page marker).
"""
from __future__ import annotations

import builtins

from werkzeug.routing import IntegerConverter, ValidationError

ID_MAX = 2**31 - 1  # PostgreSQL INTEGER, the narrowest of the two databases
_MAX_DIGITS = len(str(ID_MAX))


def parse_id(raw: object) -> int:
    """A row id from text: a whole number in 0..ID_MAX, else ValueError."""
    text = str(raw).strip()
    # The length check comes first: int() of thousands of digits is slow, then refused anyway.
    if not (text.isascii() and text.isdigit()) or len(text.lstrip("0")) > _MAX_DIGITS:
        raise ValueError(f"not a row id: {text[:40]!r}")
    value = int(text)
    if value > ID_MAX:
        raise ValueError(f"not a row id: {text[:40]!r}")
    return value


class BoundedIntConverter(IntegerConverter):
    """Flask's `<int:...>` with a maximum: a URL naming an id no column can hold is a 404."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = None,
                 signed: bool = False) -> None:
        bound = ID_MAX if max is None else builtins.min(max, ID_MAX)
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=bound, signed=signed)

    def to_python(self, value: str) -> int:
        if len(value.lstrip("-").lstrip("0")) > _MAX_DIGITS:
            raise ValidationError()
        return super().to_python(value)  # type: ignore[no-any-return]

