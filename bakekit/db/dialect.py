"""What differs between the backends, behind small helpers: row locks, driver values.

Areas and stock code ask these helpers instead of testing ``dialect.name`` themselves.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection, Table, bindparam, func, insert, select
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

    SQLite: the INSERT is compiled by SQLAlchemy once per table and set of columns, the
    left-out columns get their Python-side defaults, and the rows go to the driver as
    ``execute_many`` sends them. PostgreSQL: Core's executemany (psycopg's own batching).

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
    form = None if locks_rows(conn) or len(rows) == 1 else _insert_form(
        conn.dialect, table, tuple(rows[0]))
    if form is None:  # (also where a default is a SQL expression only SQLAlchemy works out)
        conn.execute(insert(table), list(rows))
        return
    conn.exec_driver_sql(form.sql, form.params(rows))


def execute_many(conn: Connection, statement: Any, rows: Sequence[Mapping[str, Any]]
                 ) -> None:
    """Run a prebuilt statement (an UPDATE or INSERT with bind parameters) once per row, in
    one executemany, each row bound as the driver takes it. Build the statement once (at
    module level): its compiled form is kept per statement object.

    The statement is compiled by SQLAlchemy once per kind of database; each value goes
    through its type's own bind processor, converted column by column; the driver gets the
    rows through ``Connection.exec_driver_sql``, so the statement events fire and driver
    errors are wrapped as for any execute. What that skips is SQLAlchemy building every
    row's parameters again on each call (a few microseconds a row).

    >>> from sqlalchemy import bindparam, update
    >>> from bakekit.db import tables
    >>> lots = tables.lots
    >>> stmt = update(lots).where(lots.c.id == bindparam("lot")).values(location=bindparam("at"))
    >>> execute_many(ws.connection, stmt, [{"lot": 1, "at": "shelf"}, {"lot": 2, "at": "bin"}])
    >>> ws.inventory.lots("flour-ap")["location"].tolist()[:1]
    ['shelf']
    """
    if not rows:
        return
    key = (type(conn.dialect), statement)
    form = _FORMS.get(key)
    if form is None:
        form = _FORMS[key] = _statement_form(conn.dialect, statement)
    conn.exec_driver_sql(form.sql, form.params(rows))  # type: ignore[arg-type]


@dataclass(frozen=True)
class _DriverForm:
    """A compiled statement and how a row becomes the driver's parameters."""

    sql: str
    #: the parameter names in the statement's order; None where the driver takes names
    names: tuple[str, ...] | None
    #: the bind processor of each parameter whose type has one
    processors: Mapping[str, Callable[[Any], Any]]
    #: columns the rows leave out that have a Python-side default: (name, value or
    #: callable, whether it is a callable)
    defaults: tuple[tuple[str, Any, bool], ...] = ()

    def params(self, rows: Sequence[Mapping[str, Any]]) -> list[Any]:
        """Each row's parameters: tuples (positional drivers) or dicts."""
        rows = _with_defaults(rows, self.defaults)
        processors = self.processors
        if self.names is None:
            return [{k: v if v is None or k not in processors else processors[k](v)
                     for k, v in row.items()} for row in rows]
        columns = [_converted([row[k] for row in rows], processors[k]) if k in processors
                   else [row[k] for row in rows] for k in self.names]
        return list(zip(*columns, strict=True)) if columns else [()] * len(rows)


def _left_out_defaults(table: Table, keys: tuple[str, ...]
                       ) -> tuple[tuple[str, Any, bool], ...] | None:
    """The Python-side defaults of the columns ``keys`` leaves out: (name, value or
    callable, whether it is a callable); None where one is a SQL expression."""
    out = []
    for c in table.c:
        if c.default is not None and c.key not in keys:
            if not (c.default.is_scalar or c.default.is_callable):
                return None
            out.append((c.key, c.default.arg, bool(c.default.is_callable)))  # type: ignore[attr-defined]
    return tuple(out)


def _with_defaults(rows: Sequence[Mapping[str, Any]], defaults: tuple[tuple[str, Any, bool], ...]
                   ) -> Sequence[Mapping[str, Any]]:
    """The rows with the given defaults filled in (a callable called once a row)."""
    if not defaults:
        return rows
    return [{**{n: (v(None) if call else v) for n, v, call in defaults}, **row}
            for row in rows]


def _converted(values: Sequence[Any], process: Callable[[Any], Any],
               alike: frozenset[type] = frozenset({bool, dt.date, dt.datetime})
               ) -> list[Any]:
    """``process`` applied to each value but None. A batch repeats its values, so each
    distinct value of a kind in ``alike`` (kinds whose equal values convert alike: the
    bind side's naive dates, timestamps and flags; the driver's numbers and text on the
    result side) is converted once, anything else one by one: Decimal("1.10") equals
    Decimal("1.1") but prints differently, a list is unhashable. A float zero (-0.0
    keeps its sign) and an aware timestamp (equal across zones) are converted each time.
    """
    done: dict[tuple[type, Any], Any] = {}
    out: list[Any] = []
    for v in values:
        kind = type(v)
        if v is None:
            out.append(None)
        elif kind not in alike or (kind is float and not v) or (
                kind is dt.datetime and v.tzinfo is not None):
            out.append(process(v))
        else:
            found = done.get((kind, v), _UNSEEN)
            if found is _UNSEEN:
                found = done[kind, v] = process(v)
            out.append(found)
    return out


_UNSEEN = object()


def _processors(compiled: Any, dialect: Dialect) -> dict[str, Callable[[Any], Any]]:
    out = {}
    for name, bind in compiled.binds.items():
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            out[name] = process
    return out


def _statement_form(dialect: Dialect, statement: Any) -> _DriverForm:
    compiled = statement.compile(dialect=dialect)
    # parameters the statement holds a value for itself (a literal in a WHERE, say)
    literals = tuple((name, bind.effective_value, False)
                     for name, bind in compiled.binds.items() if not bind.required)
    return _DriverForm(compiled.string,
                       tuple(compiled.positiontup) if compiled.positional else None,
                       _processors(compiled, dialect), literals)


def fetch(conn: Connection, statement: Any, params: Mapping[str, Any] | None = None
          ) -> list[tuple[Any, ...]]:
    """A prebuilt SELECT's rows as tuples, each value converted as SQLAlchemy converts it
    (the read counterpart of ``execute_many``). Build the statement once (at module
    level): its compiled form is kept per statement object.

    SQLite: the statement is compiled by SQLAlchemy once per kind of database and its
    expanding ``IN`` lists rendered once per list length (lists of up to
    ``FETCH_MOST_LISTED`` values; longer ones go through Core); the driver gets it through
    ``Connection.exec_driver_sql`` (statement events fire, driver errors are wrapped) and
    each column's values go through its type's result processor, each distinct value
    once. What that skips is SQLAlchemy's per-call cache key, parameter expansion and
    per-row processing. PostgreSQL: Core's execute.

    >>> from sqlalchemy import bindparam, select
    >>> from bakekit.db import tables
    >>> lots = tables.lots
    >>> stmt = select(lots.c.id, lots.c.remaining).where(
    ...     lots.c.id.in_(bindparam("ids", expanding=True))).order_by(lots.c.id)
    >>> fetch(ws.connection, stmt, {"ids": [1, 2]})[0][0]
    1
    """
    params = params or {}
    if locks_rows(conn):
        return [tuple(r) for r in conn.execute(statement, params).all()]
    key = (type(conn.dialect), statement, "read")
    form = _READS.get(key)
    if form is None:
        form = _READS[key] = _read_form(conn.dialect, statement)
    sizes = tuple(len(params[name]) for name in form.expanding)
    if any(n > FETCH_MOST_LISTED for n in sizes):
        return [tuple(r) for r in conn.execute(statement, params).all()]
    sql = form.sql.get(sizes)
    if sql is None:
        if len(form.sql) >= _FETCH_LENGTHS_KEPT:  # the oldest list length goes first
            del form.sql[next(iter(form.sql))]
        sql = form.sql[sizes] = form.compiled.construct_expanded_state(params).statement
    values: list[Any] = []
    for name in form.names:
        process = form.processors.get(name)
        given = params[name] if name in params else form.literals[name]
        if name in form.expanding:
            values.extend(given if process is None else map(process, given))
        else:
            values.append(given if process is None or given is None else process(given))
    rows = conn.exec_driver_sql(sql, tuple(values)).fetchall()
    if not rows or not any(form.results):
        return [tuple(r) for r in rows]
    columns = [column if process is None else _converted(column, process, _DRIVER_ALIKE)
               for column, process in zip(zip(*rows, strict=True), form.results,
                                          strict=True)]
    return list(zip(*columns, strict=True))


#: the longest expanding list ``fetch`` renders itself (a longer one goes through Core)
FETCH_MOST_LISTED = 2000
#: how many list lengths' SQL ``fetch`` keeps per statement
_FETCH_LENGTHS_KEPT = 64


@dataclass(frozen=True)
class _ReadForm:
    """A compiled SELECT: its parameters in order, which are expanding lists, the values
    it holds itself, the bind and result processors, and its SQL per list length."""

    compiled: Any
    names: tuple[str, ...]
    expanding: tuple[str, ...]
    literals: Mapping[str, Any]
    processors: Mapping[str, Callable[[Any], Any]]
    results: tuple[Callable[[Any], Any] | None, ...]
    sql: dict[tuple[int, ...], str]


def _read_form(dialect: Dialect, statement: Any) -> _ReadForm:
    compiled = statement.compile(dialect=dialect)
    names = tuple(compiled.positiontup or ())
    expanding = tuple(n for n in names if compiled.binds[n].expanding)
    literals = {name: bind.effective_value for name, bind in compiled.binds.items()
                if not bind.required}
    results = tuple(c.type.dialect_impl(dialect).result_processor(dialect, None)
                    for c in statement.selected_columns)
    return _ReadForm(compiled, names, expanding, literals, _processors(compiled, dialect),
                     results, {})


#: the driver's kinds of value whose equal values a result processor converts alike
_DRIVER_ALIKE = frozenset({int, float, str})


#: compiled reads by (kind of dialect, statement, "read")
_READS: dict[tuple[Any, ...], _ReadForm] = {}


def insert_returning(conn: Connection, statement: Any, rows: Sequence[Mapping[str, Any]],
                     *, most: int = 200) -> list[Any]:
    """Insert rows of one shape with a prebuilt ``INSERT ... RETURNING``; what it returns,
    as tuples converted as SQLAlchemy converts them, in no defined order (match the rows
    by a returned key).

    SQLite, 2 to ``most`` rows: ONE multi-row VALUES statement compiled by SQLAlchemy
    once per row count and columns, its parameters converted column by column as
    ``execute_many`` converts them (a RETURNING statement cannot be a driver
    executemany). Otherwise Core's execute (which batches the rows itself).

    >>> from sqlalchemy import insert
    >>> from bakekit.db import tables
    >>> s = tables.suppliers
    >>> sorted(name for _, name in insert_returning(ws.connection,
    ...     insert(s).returning(s.c.id, s.c.name), [{"name": "E"}, {"name": "F"}]))
    ['E', 'F']
    """
    if not rows:
        return []
    if len(rows) == 1 or len(rows) > most or locks_rows(conn):
        return [tuple(r) for r in conn.execute(statement, list(rows) if len(rows) > 1
                                               else rows[0]).all()]
    table = statement.table
    defaults = _left_out_defaults(table, tuple(rows[0]))
    if defaults is None:  # a SQL expression default: Core works it out
        return [tuple(r) for r in conn.execute(statement, list(rows)).all()]
    rows = _with_defaults(rows, defaults)
    keys = tuple(rows[0])
    cache_key = (type(conn.dialect), statement, keys, len(rows))
    form = _FORMS.get(cache_key)
    if form is None:
        many = statement.values([{k: bindparam(f"{k}__{i}", type_=table.c[k].type)
                                  for k in keys} for i in range(len(rows))])
        form = _FORMS[cache_key] = _statement_form(conn.dialect, many)
    assert form.names is not None  # SQLite: positional
    processors = form.processors
    # each column converted once for all rows, then laid out row after row
    by_name = {}
    for k in keys:
        values = [row[k] for row in rows]
        process = processors.get(f"{k}__0")
        if process is not None:
            values = _converted(values, process)
        by_name.update({f"{k}__{i}": v for i, v in enumerate(values)})
    for name, value, _ in form.defaults:  # values the statement holds itself
        process = processors.get(name)
        by_name[name] = value if process is None or value is None else process(value)
    fetched = conn.exec_driver_sql(form.sql, tuple(map(by_name.__getitem__, form.names)))
    convert = _returned(conn.dialect, statement)
    if not any(convert):
        return [tuple(r) for r in fetched.all()]
    return [tuple(v if f is None or v is None else f(v) for v, f in zip(r, convert, strict=True))
            for r in fetched.all()]


def _returned(dialect: Dialect, statement: Any) -> tuple[Callable[[Any], Any] | None, ...]:
    """The result processor of each RETURNING column (None where the driver's value is
    the value), as SQLAlchemy's result would apply them."""
    key = (type(dialect), statement, "returned")
    found = _RETURNED.get(key)
    if found is None:
        found = _RETURNED[key] = tuple(
            d["type"].dialect_impl(dialect).result_processor(dialect, None)
            for d in statement.returning_column_descriptions)
    return found


_RETURNED: dict[tuple[Any, ...], tuple[Callable[[Any], Any] | None, ...]] = {}


def _insert_form(dialect: Dialect, table: Table, keys: tuple[str, ...]) -> _DriverForm | None:
    """The compiled positional INSERT of ``keys`` into ``table`` for this kind of dialect
    (cached); None where a left-out column's default is a SQL expression."""
    cache_key = (type(dialect), table, keys)
    if cache_key in _FORMS:
        return _FORMS[cache_key]
    defaults = _left_out_defaults(table, keys)
    if defaults is None:
        _FORMS[cache_key] = None
        return None
    compiled = insert(table).compile(dialect=dialect, column_keys=list(keys))
    names = tuple(compiled.positiontup or ())
    form = _FORMS[cache_key] = _DriverForm(compiled.string, names,
                                           _processors(compiled, dialect), defaults)
    return form


#: compiled forms by (kind of dialect, statement) and (kind of dialect, table, columns)
_FORMS: dict[tuple[Any, ...], _DriverForm | None] = {}
