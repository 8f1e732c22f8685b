"""A throwaway database for a benchmark: a fresh SQLite file, or a PostgreSQL schema of its own, dropped after."""
from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa


@contextmanager
def scratch_database(url: str) -> Iterator[str]:
    """The URL to build the app on; a PostgreSQL run works in a schema it drops at the end."""
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///"):]).unlink(missing_ok=True)
    if not url.startswith("postgres"):
        yield url
        return
    schema = "bench_" + secrets.token_hex(4)
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield url + ("&" if "?" in url else "?") + f"options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()
