"""Workspace: one unit of work (one Core Connection, one transaction) and its areas."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Generic, TypeVar, cast, overload

import pandas as pd
from sqlalchemy import Connection, Executable
from sqlalchemy.exc import DBAPIError

from bakekit.areas.assembly import Assembly
from bakekit.areas.catalog import Catalog
from bakekit.areas.events import Events
from bakekit.areas.inventory import Inventory
from bakekit.areas.io import IO
from bakekit.areas.production import Production
from bakekit.areas.recipes import Recipes
from bakekit.areas.reports import Reports
from bakekit.db import reading
from bakekit.errors import BakekitError, DryRunError, WorkspaceClosedError
from bakekit.operations import WRITE_METHODS, Area, BakeryLike, Rows, translate
from bakekit.plan import Plan, capture
from bakekit.recording import OperationLog
from bakekit.stock.queries import movements_frame

__all__ = ["WRITE_METHODS", "Area", "Workspace", "area"]

A = TypeVar("A", bound=Area)


class area(Generic[A]):  # noqa: N801 - used like a field declaration: `inventory = area(...)`
    """Attaches an area to the workspace: built on first use, one per workspace, refused
    once the workspace is closed.

    >>> with bakery.session() as ws:
    ...     ws.inventory is ws.inventory
    True
    """

    def __init__(self, factory: Callable[[Workspace], A]):
        self._factory = factory
        self._name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, ws: None, owner: type) -> area[A]: ...

    @overload
    def __get__(self, ws: Workspace, owner: type) -> A: ...

    def __get__(self, ws: Workspace | None, owner: type) -> area[A] | A:
        if ws is None:
            return self
        ws.check_open()
        found = ws._areas.get(self._name)
        if found is None:
            found = ws._areas[self._name] = self._factory(ws)
        return cast(A, found)


class Workspace:
    """One unit of work on a Bakery: one Core Connection, one transaction at a time.

    Use it as a context manager; leaving the block rolls back whatever was not committed.

    >>> import bakekit
    >>> bakery = bakekit.open(":memory:")
    >>> with bakery.session() as ws:
    ...     _ = ws.catalog.add_ingredient("flour", "Flour")
    ...     ws.commit()
    """

    catalog = area(Catalog)
    inventory = area(Inventory)
    recipes = area(Recipes)
    production = area(Production)
    assembly = area(Assembly)
    events = area(Events)
    reports = area(Reports)
    io = area(IO)

    def __init__(self, bakery: BakeryLike, *, what_if: bool = False):
        self.bakery = bakery
        self.what_if = what_if
        self._connection: Connection | None = None
        self._closed = False
        self._scenario_depth = 0
        self._recording = OperationLog()
        if what_if:  # the ledger rows are recorded as written: the plan reads none back
            self._recording.capture = capture.insert_ledger
        self._areas: dict[str, Area] = {}
        self._plan: Plan | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> Workspace:
        self.check_open()
        self._open()
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            if self.what_if and exc_type is None and self._plan is None:
                self._plan = Plan.from_workspace(self)
        finally:
            self.close()

    def _open(self) -> Connection:
        if self._connection is None:
            conn = self.bakery.engine.connect()
            if self.bakery.read_only:
                conn = conn.execution_options(bakekit_read=True)
            self._connection = conn
        return self._connection

    def close(self) -> None:
        """Roll back whatever was not committed and release the connection."""
        if self._closed:
            return
        self._closed = True
        conn, self._connection = self._connection, None
        if conn is not None:
            try:
                conn.rollback()
            finally:
                conn.close()

    @property
    def closed(self) -> bool:
        return self._closed

    def check_open(self) -> None:
        """Raise WorkspaceClosedError once the workspace's block has ended."""
        if self._closed:
            raise WorkspaceClosedError(
                "this workspace is closed (its block has ended); open a new one with "
                "bakery.session() or bakery.what_if()"
            )

    @property
    def recording(self) -> OperationLog:
        """The write operations and ledger rows of this workspace (plans read it)."""
        return self._recording

    # -- transactions -----------------------------------------------------------------------
    def commit(self) -> None:
        """Commit everything written so far; the workspace stays usable."""
        self.check_open()
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
            raise translate("commit", exc) from exc

    def rollback(self) -> None:
        """Discard everything written since the last commit."""
        self.check_open()
        if self._scenario_depth:
            raise BakekitError("rollback() inside ws.scenario() is not allowed: leave it first")
        self._open().rollback()
        self._recording.clear()

    @contextmanager
    def scenario(self) -> Iterator[Workspace]:
        """A SAVEPOINT, always rolled back at exit: try an alternative, then do the real one.

        >>> with bakery.session() as ws:
        ...     with ws.scenario():
        ...         made = ws.production.record("sugar-cookie", batches=3)
        ...     ws.production.stock()["item"].tolist()  # the scenario left nothing behind
        ['chocolate-chip-cookie']
        """
        self.check_open()
        nested = self._open().begin_nested()
        mark = self._recording.mark()
        self._scenario_depth += 1
        try:
            yield self
        finally:
            self._scenario_depth -= 1
            if nested.is_active:
                nested.rollback()
            self._recording.rewind(mark)

    # -- execution (the only road to the database) -----------------------------------------
    @property
    def connection(self) -> Connection:
        """The workspace's connection, inside its current transaction."""
        self.check_open()
        return self._open()

    def execute(self, statement: Executable, params: Any = None) -> Rows:
        """Execute a statement on the workspace's connection (internal use by the areas)."""
        return self.connection.execute(statement, params)

    def scalar(self, statement: Executable, params: Any = None) -> Any:
        return self.connection.execute(statement, params).scalar()

    def frame(self, statement: Executable, params: Any = None, *,
              bulk: bool = False) -> pd.DataFrame:
        """Run a SELECT and return its rows as a DataFrame (see bakekit.db.reading.frame).

        >>> from sqlalchemy import select
        >>> from bakekit.db.models import Lot
        >>> ws.frame(select(Lot.id.label("lot_id")).order_by(Lot.id).limit(2))
           lot_id
        0       1
        1       2
        """
        return reading.frame(self.connection, statement, params, bulk=bulk)

    # -- what was written -------------------------------------------------------------------
    def changes(self) -> pd.DataFrame:
        """The ledger rows this workspace has written so far (a movements frame).

        >>> with bakery.what_if() as ws:
        ...     _ = ws.inventory.consume("flour-ap", 2, "cup", reason="test")
        ...     ws.changes()[["item", "reason", "quantity", "unit"]]
               item reason  quantity unit
        0  flour-ap   test  -0.53125   lb
        """
        self.check_open()
        return movements_frame(self, ids=list(self._recording.movement_ids))

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
        return f"<Workspace {kind} {state} on {self.bakery.database_label}>"
