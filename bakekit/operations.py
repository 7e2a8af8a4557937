"""Operations: the ``Area`` base, the ``@write_operation`` / ``@read_operation`` decorators
(SAVEPOINT per write, contention retry, driver-error translation, recording for plans),
the registry of write methods, and the ``Workspace`` protocol areas are typed against.

Areas, io, fifo and plans import this module, never bakekit.workspace: the workspace
imports the areas, so the dependency runs one way.
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol, TypeVar

import pandas as pd
from sqlalchemy import Connection, Engine, Executable, Result
from sqlalchemy.exc import DBAPIError

from bakekit.errors import BakekitError, ConcurrencyError, DatabaseError, ReadOnlyError
from bakekit.recording import OperationLog

F = TypeVar("F", bound=Callable[..., Any])
#: what ``ws.execute`` returns: a Result whose rows are tuples of any length
Rows = Result[*tuple[Any, ...]]

#: every public write method of every area, filled by @write_operation
WRITE_METHODS: dict[str, Callable[..., Any]] = {}

_READ_ONLY_SQLSTATES = {"25006", "42501"}  # read_only_sql_transaction, insufficient_privilege
#: serialization_failure, deadlock_detected, lock_not_available
_CONTENTION_SQLSTATES = {"40001", "40P01", "55P03"}
#: a write operation that meets lock contention is retried this often, with backoff
RETRY_ATTEMPTS = 6
RETRY_BASE_SECONDS = 0.05


class BakeryLike(Protocol):
    """What areas, io and plans use of a Bakery (bakekit.Bakery is one)."""

    url: str
    read_only: bool
    engine: Engine

    @property
    def database_id(self) -> str: ...

    @property
    def database_label(self) -> str: ...

    def session(self) -> Workspace: ...

    def what_if(self) -> Workspace: ...


class Workspace(Protocol):
    """What areas, io, fifo and plans use of a workspace (bakekit.Workspace is one).

    A protocol, so that those modules need not import bakekit.workspace (which imports
    them). Areas are reached by name (``getattr(ws, "inventory")``) or by building the
    area on the workspace (``Inventory(ws)``).
    """

    what_if: bool

    @property
    def bakery(self) -> BakeryLike: ...

    @property
    def recording(self) -> OperationLog: ...

    @property
    def connection(self) -> Connection: ...

    def __enter__(self) -> Workspace: ...

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None: ...

    def check_open(self) -> None: ...

    def scenario(self) -> AbstractContextManager[Workspace]: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def execute(self, statement: Executable, params: Any = None) -> Rows: ...

    def scalar(self, statement: Executable, params: Any = None) -> Any: ...

    def frame(self, statement: Executable, params: Any = None, *,
              bulk: bool = False) -> pd.DataFrame: ...

    def changes(self) -> pd.DataFrame: ...

    @property
    def plan(self) -> Any:
        """The bakekit.plan.Plan a what-if leaves (typed loosely: bakekit.plan imports
        this module)."""


class Contention(Exception):
    """A write met a lock timeout, deadlock or serialization failure (it is retried)."""

    def __init__(self, original: DBAPIError):
        self.original = original
        super().__init__(str(original))


def is_contention(exc: DBAPIError) -> bool:
    """Whether a driver error is lock contention (retry) rather than a real failure."""
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate in _CONTENTION_SQLSTATES:
        return True
    message = str(exc.orig).lower()
    return "database is locked" in message or "database table is locked" in message


def translate(operation: str, exc: DBAPIError) -> BakekitError:
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
    if is_contention(exc):  # a read that waited for a writer's lock too long
        return ConcurrencyError(f"{operation} (the database stayed locked by another writer)",
                                original if original is not None else exc)
    return DatabaseError(operation, original if original is not None else exc)


class Area:
    """Base of the workspace's areas: a thin object bound to its workspace."""

    area_name = "area"

    def __init__(self, ws: Workspace):
        self._ws = ws


def write_operation(fn: F) -> F:
    """Mark an area method as a write: refuse it when closed or read-only, run it inside a
    SAVEPOINT (a failure leaves nothing half-written, even if the caller goes on; a write
    that begins its transaction is rolled back with it instead), wrap driver errors, and
    record it for what-if plans."""

    @functools.wraps(fn)
    def wrapper(self: Area, *args: Any, **kwargs: Any) -> Any:
        ws = self._ws
        ws.check_open()
        name = f"{self.area_name}.{fn.__name__}"
        if ws.bakery.read_only:
            raise ReadOnlyError(
                f"{name}: this bakery was opened read_only=True; open it with "
                f"bakekit.open(url) to write"
            )
        log = ws.recording
        if log.current is not None:  # a write inside a write: part of the outer one
            return fn(self, *args, **kwargs)
        for attempt in range(1, RETRY_ATTEMPTS + 1):
            op = log.begin(self.area_name, fn.__name__, args, kwargs)
            try:
                with savepoint(ws.connection, name):
                    result = fn(self, *args, **kwargs)
                break
            except Contention as contention:
                if attempt == RETRY_ATTEMPTS:
                    raise ConcurrencyError(
                        f"{name} (gave up after {attempt} attempts)", contention.original
                    ) from contention.original
                time.sleep(RETRY_BASE_SECONDS * 2 ** (attempt - 1) * (1 + random.random()))
            finally:
                log.abandon()
        log.finish(op)
        return result

    wrapper.__bakekit_write__ = True  # type: ignore[attr-defined]
    WRITE_METHODS[f"{fn.__module__.rsplit('.', 1)[-1]}.{fn.__qualname__}"] = wrapper
    return wrapper  # type: ignore[return-value]


def read_operation(fn: F) -> F:
    """Mark an area method as a read: refuse it when closed, wrap driver errors."""

    @functools.wraps(fn)
    def wrapper(self: Area, *args: Any, **kwargs: Any) -> Any:
        self._ws.check_open()
        try:
            return fn(self, *args, **kwargs)
        except DBAPIError as exc:
            raise translate(f"{self.area_name}.{fn.__name__}", exc) from exc

    return wrapper  # type: ignore[return-value]


@contextmanager
def savepoint(conn: Connection, operation: str) -> Iterator[None]:
    """One SAVEPOINT around a write operation: lock contention is raised as Contention
    (for a retry), other driver errors as bakekit errors.

    A write that is its transaction's first work (nothing read or written in it yet) needs
    no SAVEPOINT: on failure the whole transaction is rolled back, which undoes exactly
    what rolling back to a savepoint would (the write, and nothing else), and the
    SAVEPOINT and RELEASE statements are saved.
    """
    try:
        if conn.in_transaction():
            with conn.begin_nested():
                yield
        else:
            try:
                yield
            except BaseException:
                conn.rollback()
                raise
    except DBAPIError as exc:
        if is_contention(exc):
            if not conn.in_nested_transaction() and (exc.statement or "").startswith(
                    "BEGIN"):
                conn.rollback()  # the transaction never began: start clean
            raise Contention(exc) from exc
        raise translate(operation, exc) from exc
