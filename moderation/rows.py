"""Writing rows of stored objects with Core statements, for the paths every comment takes.

The ORM's unit of work costs several times the statements it runs; these run the statements
alone and leave the session as a flush of the same objects would have left it.
"""
from __future__ import annotations

from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import attributes, make_transient_to_detached

from .extensions import db

T = TypeVar("T")

_ROW_ID = "row_id"
# Per model, built once (building a statement costs more than running it).
_UPDATES: dict[type, tuple[sa.Update, dict[str, str], list[str]]] = {}
_INSERTS: dict[type, tuple[sa.Insert, dict[str, str], dict[str, str]]] = {}


def _update_for(model: type) -> tuple[sa.Update, dict[str, str], list[str]]:
    """The model's UPDATE by primary key, its column names by attribute, and the attributes whose
    column has an onupdate."""
    found = _UPDATES.get(model)
    if found is None:
        mapper = sa.inspect(model)
        (key,) = mapper.primary_key
        statement = sa.update(mapper.local_table).where(key == sa.bindparam(_ROW_ID))
        names = {prop.key: prop.columns[0].key for prop in mapper.column_attrs}
        stamped = [prop.key for prop in mapper.column_attrs if prop.columns[0].onupdate is not None]
        found = _UPDATES[model] = (statement, names, stamped)
    return found


def _insert_for(model: type) -> tuple[sa.Insert, dict[str, str], dict[str, str]]:
    """The model's INSERT returning the whole row, its column names by attribute and the reverse."""
    found = _INSERTS.get(model)
    if found is None:
        mapper = sa.inspect(model)
        statement = sa.insert(mapper.local_table).returning(*mapper.local_table.c)
        names = {prop.key: prop.columns[0].key for prop in mapper.column_attrs}
        found = _INSERTS[model] = (statement, names, {column: key for key, column in names.items()})
    return found


def insert_row(model: type[T], values: dict[str, Any]) -> T:
    """Insert one row now, in the current transaction, and return the model's object for it as stored.

    The object holds the row as the database returned it (defaults included), like one just
    loaded: persistent in the session, nothing to flush. Its relationships load when used.
    """
    statement, names, keys = _insert_for(model)
    row = db.session.execute(statement, {names[key]: value for key, value in values.items()}).mappings().one()
    target = model(**{keys[column]: value for column, value in row.items()})
    make_transient_to_detached(target)
    identity = db.session.identity_key(instance=target)
    stale = db.session.identity_map.get(identity)
    if stale is not None:
        # An object left from a rolled-back transaction (SQLite gives a rolled-back id out again):
        # its row no longer exists, since the database has just given its key to this one.
        db.session.expunge(stale)
    db.session.add(target)
    return target


def update_columns(target: Any, values: dict[str, Any]) -> None:
    """Write the values (by attribute name) to the target's row now, in the current transaction,
    and set them on the target as what is stored.

    The database and the object end as an ORM flush of the same assignments leaves them. Changes
    the session holds are flushed first, as before any statement. The values are not changes to
    flush again; a rollback expires them as it does every loaded value. A column's onupdate
    (updated_at) runs in the statement, and the attribute is expired, to be read back if used.
    """
    statement, names, stamped = _update_for(type(target))
    identity = sa.inspect(target).identity
    if identity is None:
        raise ValueError(f"{target!r} is not stored yet: flush it before update_columns")
    db.session.execute(statement, {_ROW_ID: identity[0], **{names[key]: value for key, value in values.items()}})
    for key, value in values.items():
        attributes.set_committed_value(target, key, value)
    expire = [key for key in stamped if key not in values]
    if expire:
        db.session.expire(target, expire)
