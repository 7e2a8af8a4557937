"""What differs between the backends, behind small helpers: row locks, and whether a
path only PostgreSQL has (COPY) is there.

Areas and stock code ask these helpers instead of testing ``dialect.name`` themselves.
Everything else goes through SQLAlchemy Core as it is: executemany as
``conn.execute(stmt, rows)``, new ids as ``insert(t).returning(t.c.id,
sort_by_parameter_order=True)`` (the uuid column is the insert sentinel), reads as
``ws.execute`` / ``ws.frame``. On SQLite a write transaction begins ``IMMEDIATE``
(bakekit.db.engine), so it holds the whole database; PostgreSQL locks rows
(``for_update``).
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Connection
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
