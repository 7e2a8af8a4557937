"""What differs between the backends, behind small helpers: row locks, driver values.

Areas and stock code ask these helpers instead of testing ``dialect.name`` themselves.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Connection, Table, func, select
from sqlalchemy.sql import Select

_S = TypeVar("_S", bound=Select[Any])


def locks_rows(conn: Connection) -> bool:
    """Whether the backend takes row locks (``SELECT ... FOR UPDATE``): PostgreSQL does;
    SQLite locks the whole database for the write transaction instead.

    >>> locks_rows(ws.connection)  # the doctests run on SQLite
    False
    """
    return conn.dialect.name == "postgresql"


def for_update(stmt: _S, conn: Connection, *, of: Any = None) -> _S:
    """``stmt`` with ``FOR UPDATE`` (of the given table) where the backend locks rows,
    else ``stmt`` unchanged.

    >>> from sqlalchemy import select
    >>> from bakekit.db import tables
    >>> "FOR UPDATE" in str(for_update(select(tables.lots), ws.connection))  # SQLite: no
    False
    """
    if not locks_rows(conn):
        return stmt
    return stmt.with_for_update(of=of) if of is not None else stmt.with_for_update()


def is_postgresql(conn: Connection) -> bool:
    """Whether ``conn`` talks to PostgreSQL (for paths only it has, e.g. COPY).

    >>> is_postgresql(ws.connection)
    False
    """
    return conn.dialect.name == "postgresql"


def next_ids(conn: Connection, table: Table, n: int) -> list[int] | None:
    """The ids the next ``n`` rows inserted into ``table`` get, where the backend makes them
    known up front: on SQLite, ``max(id) + 1`` on (what SQLite itself gives a table without
    AUTOINCREMENT; its write transaction holds the whole database, and a writer that got
    in first fails the insert rather than share an id), so many rows go in as one prepared
    executemany instead of multi-row INSERTs with RETURNING parsed batch by batch. None on
    PostgreSQL, whose sequences are asked through RETURNING.

    >>> from bakekit.db import tables
    >>> next_ids(ws.connection, tables.suppliers, 2)  # the doctests run on SQLite
    [4, 5]
    """
    if locks_rows(conn):
        return None
    start = int(conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one())
    return list(range(start + 1, start + 1 + n))
