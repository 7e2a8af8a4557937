"""What differs between the backends, behind small helpers: row locks, driver values.

Areas and stock code ask these helpers instead of testing ``dialect.name`` themselves.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

from sqlalchemy import Connection
from sqlalchemy.sql import Select

_S = TypeVar("_S", bound=Select[Any])


def locks_rows(conn: Connection) -> bool:
    """Whether the backend takes row locks (``SELECT ... FOR UPDATE``): PostgreSQL does;
    SQLite locks the whole database for the write transaction instead.

    >>> locks_rows(ws.connection)  # doctest: +SKIP
    False
    """
    return conn.dialect.name == "postgresql"


def for_update(stmt: _S, conn: Connection, *, of: Any = None) -> _S:
    """``stmt`` with ``FOR UPDATE`` (of the given table) where the backend locks rows,
    else ``stmt`` unchanged.

    >>> for_update(select(tables.lots), ws.connection)  # doctest: +SKIP
    """
    if not locks_rows(conn):
        return stmt
    return stmt.with_for_update(of=of) if of is not None else stmt.with_for_update()


def is_postgresql(conn: Connection) -> bool:
    """Whether ``conn`` talks to PostgreSQL (for paths only it has, e.g. COPY).

    >>> is_postgresql(ws.connection)  # doctest: +SKIP
    False
    """
    return conn.dialect.name == "postgresql"


def to_date(value: object) -> dt.date:
    """A date from what a driver returns for a date or timestamp (a ``date``, a
    ``datetime``: its date, or ISO text as SQLite may give it).

    >>> to_date("2025-11-01"), to_date(dt.datetime(2025, 11, 1, 9, 30))
    (datetime.date(2025, 11, 1), datetime.date(2025, 11, 1))
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))
