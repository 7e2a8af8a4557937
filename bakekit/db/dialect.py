"""What differs between the backends, behind small helpers: row locks, driver values.

Areas and stock code ask these helpers instead of testing ``dialect.name`` themselves.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection, Table, func, insert, select
from sqlalchemy.engine import Dialect
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
        insert_many(conn, table, [{**row, "id": i} for row, i in zip(rows, ids, strict=True)])
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


def insert_many(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert rows of one shape (every row the first row's columns) in one executemany.

    SQLite: the INSERT is compiled by SQLAlchemy once per table and set of columns, each
    value goes through its column's own bind processor and missing columns get their
    Python-side defaults, exactly as Core's executemany does, and the driver gets the
    tuples (``Connection.exec_driver_sql``: the statement events still fire). What that
    skips is SQLAlchemy's per-row parameter building (a few microseconds a row: most of a
    large import's cost outside SQLite). PostgreSQL: Core's executemany.

    >>> from bakekit.db import tables
    >>> insert_many(ws.connection, tables.suppliers, [{"name": "C"}, {"name": "D"}])
    >>> ws.execute(select(func.count()).select_from(tables.suppliers)).scalar_one()
    5
    """
    if not rows:
        return
    unknown = [k for k in rows[0] if k not in table.c]
    if unknown:  # Core's executemany would drop them without a word
        raise ValueError(f"insert into {table.name}: no column {', '.join(unknown)}")
    if locks_rows(conn) or len(rows) == 1:
        conn.execute(insert(table), list(rows))
        return
    prepared = _prepared(conn.dialect, table, tuple(rows[0]))
    if prepared is None:  # a default only SQLAlchemy can work out (a SQL expression)
        conn.execute(insert(table), list(rows))
        return
    conn.exec_driver_sql(prepared.sql, prepared.values(rows))


@dataclass(frozen=True)
class _Prepared:
    """A compiled positional INSERT and how a row becomes its parameters."""

    sql: str
    #: the row's value for each parameter, in the statement's order
    get: Callable[[Mapping[str, Any]], tuple[Any, ...]]
    #: (position, bind processor) of the parameters whose type has one
    processors: tuple[tuple[int, Callable[[Any], Any]], ...]
    #: columns the rows leave out that have a Python-side default: (name, scalar or callable)
    defaults: tuple[tuple[str, Any, bool], ...]

    def values(self, rows: Sequence[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
        """Each row's parameters, converted column by column."""
        if self.defaults:
            fill = self.defaults
            rows = [{**{n: (v(None) if call else v) for n, v, call in fill}, **row}
                    for row in rows]
        if not self.processors:
            return list(map(self.get, rows))
        columns = list(zip(*map(self.get, rows), strict=True))
        for i, process in self.processors:
            columns[i] = _converted(columns[i], process)
        return list(zip(*columns, strict=True))


def _converted(values: tuple[Any, ...], process: Callable[[Any], Any]) -> tuple[Any, ...]:
    """``process`` applied to each value but None; a batch repeats its dates, timestamps
    and flags, so where equal values convert alike (naive dates and times, bools) each
    distinct one is converted once."""
    done: dict[Any, Any] = {None: None}
    for v in values:
        if v not in done:
            kind = type(v)
            if kind is bool or kind is dt.date or (kind is dt.datetime and v.tzinfo is None):
                done[v] = process(v)
            else:  # e.g. Decimal("1.10") and Decimal("1.1") are equal, their text is not
                return tuple(None if v is None else process(v) for v in values)
    return tuple(map(done.__getitem__, values))


_PREPARED: dict[tuple[type, Table, tuple[str, ...]], _Prepared | None] = {}


def _prepared(dialect: Dialect, table: Table, keys: tuple[str, ...]) -> _Prepared | None:
    """The compiled INSERT of ``keys`` into ``table`` for this kind of dialect (cached);
    None where a left-out column's default is a SQL expression."""
    cache_key = (type(dialect), table, keys)
    if cache_key in _PREPARED:
        return _PREPARED[cache_key]
    compiled = insert(table).compile(dialect=dialect, column_keys=list(keys))
    names = tuple(compiled.positiontup or ())
    defaults = []
    for name in names:
        if name not in keys:
            default = table.c[name].default
            if default is None or not (default.is_scalar or default.is_callable):
                _PREPARED[cache_key] = None
                return None
            defaults.append((name, default.arg, bool(default.is_callable)))  # type: ignore[attr-defined]
    processors = []
    for i, name in enumerate(names):
        process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            processors.append((i, process))
    get = operator.itemgetter(*names)
    found = _Prepared(compiled.string, get if len(names) > 1 else (lambda r: (get(r),)),
                      tuple(processors), tuple(defaults))
    _PREPARED[cache_key] = found
    return found
