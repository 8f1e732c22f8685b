"""Writing a stored object's columns with one Core UPDATE, for the paths every comment takes."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import attributes

from .extensions import db

_ROW_ID = "row_id"
_UPDATES: dict[type, tuple[sa.Update, dict[str, str], list[str]]] = {}


def _update_for(model: type) -> tuple[sa.Update, dict[str, str], list[str]]:
    """The model's UPDATE by primary key (built once: building costs more than running it), its column
    names by attribute, and the attributes whose column has an onupdate."""
    found = _UPDATES.get(model)
    if found is None:
        mapper = sa.inspect(model)
        (key,) = mapper.primary_key
        statement = sa.update(mapper.local_table).where(key == sa.bindparam(_ROW_ID))
        names = {prop.key: prop.columns[0].key for prop in mapper.column_attrs}
        stamped = [prop.key for prop in mapper.column_attrs if prop.columns[0].onupdate is not None]
        found = _UPDATES[model] = (statement, names, stamped)
    return found


def update_columns(target: Any, values: dict[str, Any]) -> None:
    """Write the values (by attribute name) to the target's row now, in the current transaction,
    and set them on the target as what is stored.

    The database and the object end as an ORM flush of the same assignments leaves them, for a
    fraction of the unit of work's cost. Changes the session holds are flushed first, as before
    any statement. The values are not changes to flush again; a rollback expires them as it does
    every loaded value. A column's onupdate (updated_at) runs in the statement, and the attribute
    is expired, to be read back if it is ever used.
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
