"""Reading rows into DataFrames: the cursor-to-DataFrame reader (``frame``), the PostgreSQL
COPY path for bulk reads, and the database identity row."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Enum, Executable, Float, Integer, String
from sqlalchemy.exc import DBAPIError

from bakekit.db.dialect import is_postgresql
from bakekit.db.engine import read_identity  # noqa: F401 (read here by plans)


def frame(conn: Connection, statement: Executable, params: Any = None, *,
          bulk: bool = False) -> pd.DataFrame:
    """Run a SELECT on a connection and return its rows as a DataFrame (columns as labelled).

    The rows come straight from the driver's cursor in chunks (no Row objects, and
    peak memory stays near the frame's own size); columns whose SQL type needs a
    conversion (a Date on SQLite, say) get the type's own converter, column by column.
    Cast in SQL to avoid even that for large reads.

    ``bulk=True`` (for large reads whose columns are all integer, float or text): on
    PostgreSQL the rows travel as ``COPY (SELECT ...) TO STDOUT`` CSV on this same
    connection and transaction, parsed by pyarrow; integers come back as Int64.
    Elsewhere, or for other column types, it is the same as ``bulk=False``.

    >>> from sqlalchemy import select
    >>> from bakekit.db.reading import frame
    >>> from bakekit.db.models import Lot
    >>> frame(ws.connection, select(Lot.id.label("lot_id")).order_by(Lot.id).limit(2))
       lot_id
    0       1
    1       2
    """
    if bulk and is_postgresql(conn):
        copied = _copy_frame(conn, statement, params)
        if copied is not None:
            return copied
    result = conn.execute(statement, params)
    columns = list(result.keys())
    cursor = getattr(result, "cursor", None)
    converters = _converters(statement, conn, getattr(cursor, "description", None))
    if cursor is None or converters is None:
        return pd.DataFrame(result.fetchall(), columns=columns)
    try:
        chunks = []
        while rows := cursor.fetchmany(FRAME_CHUNK_ROWS):
            chunk = pd.DataFrame.from_records(rows, columns=columns, coerce_float=False)
            del rows
            for position, convert in converters.items():
                chunk.isetitem(position, pd.Series(
                    [None if _is_missing(v) else convert(v)
                     for v in chunk.iloc[:, position]],
                    dtype=object, index=chunk.index))
            chunks.append(chunk)
    finally:
        result.close()
    if not chunks:
        return pd.DataFrame(columns=columns)
    if len(chunks) == 1:
        return chunks[0]
    return pd.concat(chunks, ignore_index=True)


#: rows fetched from the cursor per chunk by frame()
FRAME_CHUNK_ROWS = 65_536


def _is_missing(value: Any) -> bool:
    """True for every missing marker a column can hold: None, NaN, pd.NA and NaT.

    pandas 3 with pyarrow stores a text column's missing values as NaN, not None, so a
    converter must never see one.

    >>> [_is_missing(v) for v in (None, float("nan"), pd.NA, pd.NaT, "", 0)]
    [True, True, True, True, False, False]
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and value != value


def _converters(statement: Executable, conn: Connection,
                description: Any) -> dict[int, Callable[[Any], Any]] | None:
    """Per-column result converters of a SELECT on this dialect (only those that convert),
    or None when the statement's columns are not known (then Row objects are used)."""
    selected = getattr(statement, "selected_columns", None)
    if selected is None or description is None or len(selected) != len(description):
        return None
    dialect = conn.dialect
    converters: dict[int, Callable[[Any], Any]] = {}
    for position, column in enumerate(selected):
        processor = column.type.dialect_impl(dialect).result_processor(
            dialect, description[position][1])
        if processor is not None:
            converters[position] = processor
    return converters


def _copy_frame(conn: Connection, statement: Executable, params: Any) -> pd.DataFrame | None:
    """A PostgreSQL SELECT read through COPY ... TO STDOUT (CSV) on the workspace's own
    connection, parsed by pyarrow; None when a column type or pyarrow is not available."""
    try:
        import pyarrow as pa
        import pyarrow.csv as pacsv
    except ImportError:  # pragma: no cover - pyarrow is optional
        return None
    selected = getattr(statement, "selected_columns", None)
    if selected is None or isinstance(params, list):
        return None
    types = []
    dialect = conn.dialect
    for column in selected:
        kind = column.type
        if isinstance(kind, Enum):
            return None  # its values may need a conversion in Python
        if isinstance(kind, Integer):
            types.append(pa.int64())
        elif isinstance(kind, Float) and not kind.asdecimal:
            types.append(pa.float64())
        elif isinstance(kind, String):
            types.append(pa.string())
        else:
            return None
    names = list(selected.keys())
    compiled = statement.compile(dialect=conn.dialect,  # type: ignore[attr-defined]
                                 compile_kwargs={"render_postcompile": True})
    bound = {**compiled.params, **(params or {})}
    sql = f"COPY ({compiled.string}) TO STDOUT (FORMAT csv)"
    buffer = bytearray()
    if not conn.in_transaction():  # as an execute would: the COPY is part of the transaction
        conn.begin()
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    driver_error = dialect.loaded_dbapi.Error
    with dbapi.cursor() as cursor:  # type: ignore[attr-defined]
        conn.dispatch.before_cursor_execute(conn, cursor, sql, bound, None, False)
        try:
            with cursor.copy(sql, bound) as copy:
                for block in copy:
                    buffer += block
        except driver_error as exc:
            raise DBAPIError.instance(sql, bound, exc, driver_error) from exc
        conn.dispatch.after_cursor_execute(conn, cursor, sql, bound, None, False)
    schema = pa.schema(list(zip(names, types, strict=True)))
    if buffer:
        table = pacsv.read_csv(
            pa.py_buffer(buffer),
            read_options=pacsv.ReadOptions(column_names=names),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types=schema, null_values=[""], strings_can_be_null=True,
                quoted_strings_can_be_null=False))  # NULL is unquoted, '' is quoted
    else:
        table = schema.empty_table()
    del buffer
    return table.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)
