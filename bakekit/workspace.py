"""Workspace: one unit of work (one Session on one connection, one transaction) and its areas."""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import pandas as pd
from sqlalchemy import Connection, Enum, Executable, Float, Integer, Result, String, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from bakekit.errors import (
    BakekitError,
    ConcurrencyError,
    DatabaseError,
    DryRunError,
    ReadOnlyError,
    WorkspaceClosedError,
)

if TYPE_CHECKING:  # pragma: no cover
    from bakekit.areas.assembly import Assembly
    from bakekit.areas.catalog import Catalog
    from bakekit.areas.events import Events
    from bakekit.areas.inventory import Inventory
    from bakekit.areas.production import Production
    from bakekit.areas.recipes import Recipes
    from bakekit.areas.reports import Reports
    from bakekit.bakery import Bakery
    from bakekit.io import IO
    from bakekit.plan import Plan

F = TypeVar("F", bound=Callable[..., Any])

#: every public write method of every area, filled by @write_operation
WRITE_METHODS: dict[str, Callable[..., Any]] = {}

_READ_ONLY_SQLSTATES = {"25006", "42501"}  # read_only_sql_transaction, insufficient_privilege
#: serialization_failure, deadlock_detected, lock_not_available
_CONTENTION_SQLSTATES = {"40001", "40P01", "55P03"}
#: a write operation that meets lock contention is retried this often, with backoff
RETRY_ATTEMPTS = 6
RETRY_BASE_SECONDS = 0.05


class _Contention(Exception):
    """Internal: a write met a lock timeout, deadlock or serialization failure."""

    def __init__(self, original: DBAPIError):
        self.original = original
        super().__init__(str(original))


def _is_contention(exc: DBAPIError) -> bool:
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate in _CONTENTION_SQLSTATES:
        return True
    message = str(exc.orig).lower()
    return "database is locked" in message or "database table is locked" in message


def _translate(operation: str, exc: DBAPIError) -> BakekitError:
    """A bakekit error for a driver error: ReadOnlyError where the database refused a write."""
    original = exc.orig
    sqlstate = getattr(original, "sqlstate", None)
    message = str(original).lower()
    if sqlstate in _READ_ONLY_SQLSTATES or "readonly database" in message or (
        "read-only" in message
    ):
        return ReadOnlyError(
            f"{operation}: the database refused the write (read-only bakery or role): "
            f"{original}"
        )
    return DatabaseError(operation, original if original is not None else exc)


@dataclass
class _Operation:
    area: str
    method: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    movement_ids: list[int] = field(default_factory=list)
    created_lot_ids: list[int] = field(default_factory=list)


def write_operation(fn: F) -> F:
    """Mark an area method as a write: refuse it when closed or read-only, run it inside a
    SAVEPOINT (a failure leaves nothing half-written, even if the caller goes on), wrap
    driver errors, and record it for what-if plans."""

    @functools.wraps(fn)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        ws: Workspace = self._ws
        ws._check_open()
        name = f"{self.area_name}.{fn.__name__}"
        if ws.bakery.read_only:
            raise ReadOnlyError(
                f"{name}: this bakery was opened read_only=True; open it with "
                f"bakekit.open(url) to write"
            )
        if ws._current_operation is not None:  # a write inside a write: part of the outer one
            return fn(self, *args, **kwargs)
        for attempt in range(1, RETRY_ATTEMPTS + 1):
            op = _Operation(self.area_name, fn.__name__, args, dict(kwargs))
            ws._current_operation = op
            try:
                with ws._savepoint(name):
                    result = fn(self, *args, **kwargs)
                break
            except _Contention as contention:
                if attempt == RETRY_ATTEMPTS:
                    raise ConcurrencyError(
                        f"{name} (gave up after {attempt} attempts)", contention.original
                    ) from contention.original
                time.sleep(RETRY_BASE_SECONDS * 2 ** (attempt - 1) * (1 + random.random()))
            finally:
                ws._current_operation = None
        ws._movement_ids.extend(op.movement_ids)
        ws._operations.append(op)
        return result

    wrapper.__bakekit_write__ = True  # type: ignore[attr-defined]
    WRITE_METHODS[f"{fn.__module__.rsplit('.', 1)[-1]}.{fn.__qualname__}"] = wrapper
    return wrapper  # type: ignore[return-value]


def read_operation(fn: F) -> F:
    """Mark an area method as a read: refuse it when closed, wrap driver errors."""

    @functools.wraps(fn)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        ws: Workspace = self._ws
        ws._check_open()
        try:
            return fn(self, *args, **kwargs)
        except DBAPIError as exc:
            raise _translate(f"{self.area_name}.{fn.__name__}", exc) from exc

    return wrapper  # type: ignore[return-value]


class Area:
    """Base of the workspace's areas: a thin object bound to its workspace."""

    area_name = "area"

    def __init__(self, ws: Workspace):
        self._ws = ws


class Workspace:
    """One unit of work on a Bakery: one Session, one connection, one transaction at a time.

    Use it as a context manager; leaving the block rolls back whatever was not committed.

    >>> import bakekit
    >>> bakery = bakekit.open(":memory:")
    >>> with bakery.session() as ws:
    ...     _ = ws.catalog.add_ingredient("flour", "Flour")
    ...     ws.commit()
    """

    def __init__(self, bakery: Bakery, *, what_if: bool = False):
        self.bakery = bakery
        self.what_if = what_if
        self._session: Session | None = None
        self._connection: Connection | None = None
        self._closed = False
        self._entered = False
        self._scenario_depth = 0
        self._current_operation: _Operation | None = None
        self._operations: list[_Operation] = []
        self._movement_ids: list[int] = []
        self._areas: dict[str, Any] = {}
        self._plan: Plan | None = None
        self._before: pd.DataFrame | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> Workspace:
        self._check_open()
        self._entered = True
        self._open()
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            if self.what_if and exc_type is None and self._plan is None:
                from bakekit.plan import Plan

                self._plan = Plan.from_workspace(self)
        finally:
            self.close()

    def _open(self) -> Session:
        if self._session is None:
            conn = self.bakery.engine.connect()
            if self.bakery.read_only:
                conn = conn.execution_options(bakekit_read=True)
            self._connection = conn
            self._session = Session(bind=conn, autoflush=False, expire_on_commit=False)
        return self._session

    def close(self) -> None:
        """Roll back whatever was not committed and release the connection."""
        if self._closed:
            return
        self._closed = True
        try:
            if self._session is not None:
                self._session.rollback()
                self._session.close()
        finally:
            if self._connection is not None:
                self._connection.close()
            self._session = None
            self._connection = None

    @property
    def closed(self) -> bool:
        return self._closed

    def _check_open(self) -> None:
        if self._closed:
            raise WorkspaceClosedError(
                "this workspace is closed (its block has ended); open a new one with "
                "bakery.session() or bakery.what_if()"
            )

    # -- transactions -----------------------------------------------------------------------
    def commit(self) -> None:
        """Commit everything written so far; the workspace stays usable."""
        self._check_open()
        if self.what_if:
            raise DryRunError(
                "a what-if workspace is always rolled back; apply its plan (ws.plan.apply()) "
                "after the block to make it real"
            )
        if self._scenario_depth:
            raise BakekitError("commit() inside ws.scenario() is not allowed: leave it first")
        try:
            self._open().commit()
        except DBAPIError as exc:
            raise _translate("commit", exc) from exc

    def rollback(self) -> None:
        """Discard everything written since the last commit."""
        self._check_open()
        if self._scenario_depth:
            raise BakekitError("rollback() inside ws.scenario() is not allowed: leave it first")
        self._open().rollback()
        self._movement_ids.clear()
        self._operations.clear()

    @contextmanager
    def scenario(self) -> Iterator[Workspace]:
        """A SAVEPOINT, always rolled back at exit: try an alternative, then do the real one.

        >>> with bakery.session() as ws:
        ...     with ws.scenario():
        ...         made = ws.production.record("sugar-cookie", batches=3)
        ...     ws.production.stock()["item"].tolist()  # the scenario left nothing behind
        ['chocolate-chip-cookie']
        """
        self._check_open()
        session = self._open()
        nested = session.begin_nested()
        marks = len(self._movement_ids), len(self._operations)
        self._scenario_depth += 1
        try:
            yield self
        finally:
            self._scenario_depth -= 1
            if nested.is_active:
                nested.rollback()
            del self._movement_ids[marks[0]:]
            del self._operations[marks[1]:]

    @contextmanager
    def _savepoint(self, operation: str) -> Iterator[None]:
        """Run one write operation in a SAVEPOINT; contention is raised for a retry."""
        session = self._open()
        try:
            with session.begin_nested():
                yield
        except DBAPIError as exc:
            if _is_contention(exc):
                if not session.in_nested_transaction() and (exc.statement or "").startswith(
                        "BEGIN"):
                    session.rollback()  # the transaction never began: start clean
                raise _Contention(exc) from exc
            raise _translate(operation, exc) from exc

    # -- execution (the only road to the database) -----------------------------------------
    @property
    def connection(self) -> Connection:
        """The workspace's connection, inside its current transaction."""
        self._check_open()
        return self._open().connection()

    def execute(self, statement: Executable, params: Any = None) -> Result:  # type: ignore[type-arg]
        """Execute a statement on the workspace's connection (internal use by the areas)."""
        return self.connection.execute(statement, params)

    def scalar(self, statement: Executable, params: Any = None) -> Any:
        return self.connection.execute(statement, params).scalar()

    def frame(self, statement: Executable, params: Any = None, *,
              bulk: bool = False) -> pd.DataFrame:
        """Run a SELECT and return its rows as a DataFrame (columns as labelled).

        The rows come straight from the driver's cursor in chunks (no Row objects, and
        peak memory stays near the frame's own size); columns whose SQL type needs a
        conversion (a Date on SQLite, say) get the type's own converter, column by column.
        Cast in SQL to avoid even that for large reads.

        ``bulk=True`` (for large reads whose columns are all integer, float or text): on
        PostgreSQL the rows travel as ``COPY (SELECT ...) TO STDOUT`` CSV on this same
        connection and transaction, parsed by pyarrow; integers come back as Int64.
        Elsewhere, or for other column types, it is the same as ``bulk=False``.

        >>> from sqlalchemy import select
        >>> from bakekit.db.models import Lot
        >>> ws.frame(select(Lot.id.label("lot_id")).order_by(Lot.id).limit(2))
           lot_id
        0       1
        1       2
        """
        conn = self.connection
        if bulk and conn.dialect.name == "postgresql":
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

    def _note_movements(self, ids: Sequence[int]) -> None:
        if self._current_operation is not None:
            self._current_operation.movement_ids.extend(ids)
        else:
            self._movement_ids.extend(ids)

    def _note_created_lot(self, lot_id: int) -> None:
        if self._current_operation is not None:
            self._current_operation.created_lot_ids.append(lot_id)

    # -- areas ------------------------------------------------------------------------------
    def _area(self, name: str, factory: Callable[[Workspace], Any]) -> Any:
        self._check_open()
        if name not in self._areas:
            self._areas[name] = factory(self)
        return self._areas[name]

    @property
    def catalog(self) -> Catalog:
        from bakekit.areas.catalog import Catalog

        return self._area("catalog", Catalog)  # type: ignore[no-any-return]

    @property
    def inventory(self) -> Inventory:
        from bakekit.areas.inventory import Inventory

        return self._area("inventory", Inventory)  # type: ignore[no-any-return]

    @property
    def recipes(self) -> Recipes:
        from bakekit.areas.recipes import Recipes

        return self._area("recipes", Recipes)  # type: ignore[no-any-return]

    @property
    def production(self) -> Production:
        from bakekit.areas.production import Production

        return self._area("production", Production)  # type: ignore[no-any-return]

    @property
    def assembly(self) -> Assembly:
        from bakekit.areas.assembly import Assembly

        return self._area("assembly", Assembly)  # type: ignore[no-any-return]

    @property
    def events(self) -> Events:
        from bakekit.areas.events import Events

        return self._area("events", Events)  # type: ignore[no-any-return]

    @property
    def reports(self) -> Reports:
        from bakekit.areas.reports import Reports

        return self._area("reports", Reports)  # type: ignore[no-any-return]

    @property
    def io(self) -> IO:
        from bakekit.io import IO

        return self._area("io", IO)  # type: ignore[no-any-return]

    # -- what was written -------------------------------------------------------------------
    def changes(self) -> pd.DataFrame:
        """The ledger rows this workspace has written so far (a movements frame).

        >>> with bakery.what_if() as ws:
        ...     _ = ws.inventory.consume("flour-ap", 2, "cup", reason="test")
        ...     ws.changes()[["item", "reason", "quantity", "unit"]]
               item reason  quantity unit
        0  flour-ap   test  -0.53125   lb
        """
        self._check_open()
        from bakekit.areas.inventory import movements_frame

        return movements_frame(self, ids=list(self._movement_ids))

    @property
    def plan(self) -> Plan:
        """The Plan a what-if workspace leaves behind (available after its block)."""
        if not self.what_if:
            raise BakekitError("only a what-if workspace (bakery.what_if()) has a plan")
        if self._plan is None:
            if not self._closed:
                raise BakekitError("the plan is ready when the what-if block has ended")
            raise BakekitError("this what-if block ended with an error, so it left no plan")
        return self._plan

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        kind = "what-if" if self.what_if else "session"
        return f"<Workspace {kind} {state} on {self.bakery.url}>"


#: rows fetched from the cursor per chunk by Workspace.frame
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


def select_ids(table: Any, ids: Sequence[int]) -> Any:
    """A SELECT of a table's rows with the given ids (helper for reads by id)."""
    return select(table).where(table.c.id.in_(list(ids)))
