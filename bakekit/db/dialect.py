"""What differs between the backends, behind small helpers: row locks, driver values.

Areas and stock code ask these helpers instead of testing ``dialect.name`` themselves.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import Connection, Table, func, insert, select
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



def insert_ids(conn: Connection, table: Table, rows: Sequence[dict[str, Any]],
               match: Sequence[str] = ("uuid",)) -> list[int]:
    """Insert rows; their new ids, in the rows' order (the one way bakekit inserts rows
    whose ids it needs).

    One row: ``INSERT ... RETURNING id``. Many rows on SQLite: their ids are known up
    front (``max(id) + 1`` on, what SQLite itself gives a table without AUTOINCREMENT; its
    write transaction holds the whole database, and a writer that got in first fails the
    insert rather than share an id), so they go in as one prepared executemany. Many rows
    on PostgreSQL: batched multi-row ``INSERT ... RETURNING id, <match>``, the ids matched
    back by the ``match`` columns (unique among the rows: a uuid, a slug, a natural key).

    >>> from bakekit.db import tables
    >>> insert_ids(ws.connection, tables.suppliers, [{"name": "A"}, {"name": "B"}],
    ...            match=["name"])  # the doctests run on SQLite
    [4, 5]
    """
    if not rows:
        return []
    if len(rows) == 1:
        return [int(conn.execute(_statement(table, ("id",)), rows[0]).scalar_one())]
    if not locks_rows(conn) and "id" not in rows[0]:
        start = int(conn.execute(_statement(table, None)).scalar_one())
        ids = list(range(start + 1, start + 1 + len(rows)))
        conn.execute(_statement(table, ()),
                     [{**row, "id": i} for row, i in zip(rows, ids, strict=True)])
        return ids
    result = conn.execute(_statement(table, ("id", *match)), list(rows)).all()
    by_key = {tuple(r[1:]): int(r[0]) for r in result}
    return [by_key[tuple(row[c] for c in match)] for row in rows]


@functools.cache
def _statement(table: Table, returning: tuple[str, ...] | None) -> Any:
    """Built once per table (a prebuilt statement keeps its SQLAlchemy cache key):
    ``INSERT ... RETURNING <returning>``, a plain INSERT for ``()``, and for None the
    table's largest id (0 when empty)."""
    if returning is None:
        return select(func.coalesce(func.max(table.c.id), 0))
    stmt = insert(table)
    return stmt.returning(*(table.c[c] for c in returning)) if returning else stmt
