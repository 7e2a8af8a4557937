"""Counting statements, sessions and connections; injecting a fault at the k-th statement;
snapshotting and restoring every table."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import event, select, text

import bakekit
from bakekit.db.models import metadata


@dataclass
class Counts:
    statements: list[str] = field(default_factory=list)
    connects: int = 0
    checkouts: int = 0
    sessions: set[object] = field(default_factory=set)  # held, so no id is reused

    @property
    def n_statements(self) -> int:
        return len(self.statements)


@contextmanager
def counting(bakery: bakekit.Bakery) -> Iterator[Counts]:
    """Count SQL statements, new connections, pool checkouts and the distinct workspace
    connections that began a transaction (``sessions``: one per workspace opened)."""
    counts = Counts()
    engine = bakery.engine

    def on_execute(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        counts.statements.append(statement)

    def on_connect(*args: Any) -> None:
        counts.connects += 1

    def on_checkout(*args: Any) -> None:
        counts.checkouts += 1

    def on_begin(conn: Any) -> None:
        counts.sessions.add(conn)

    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine.pool, "connect", on_connect)
    event.listen(engine.pool, "checkout", on_checkout)
    event.listen(engine, "begin", on_begin)
    try:
        yield counts
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
        event.remove(engine.pool, "connect", on_connect)
        event.remove(engine.pool, "checkout", on_checkout)
        event.remove(engine, "begin", on_begin)


class InjectedFault(Exception):
    """Raised by the fault injector right after the k-th SQL statement."""


@contextmanager
def fault_after(bakery: bakekit.Bakery, k: int) -> Iterator[list[str]]:
    """Raise InjectedFault right after the k-th statement executed on the bakery's engine."""
    seen: list[str] = []

    def after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)
        if len(seen) == k:
            raise InjectedFault(f"injected after statement {k}: {statement[:80]}")

    event.listen(bakery.engine, "after_cursor_execute", after)
    try:
        yield seen
    finally:
        event.remove(bakery.engine, "after_cursor_execute", after)


def snapshot(bakery: bakekit.Bakery) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (bakekit's and alembic_version), in primary-key order."""
    engine = bakery.engine
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            pk = list(table.primary_key.columns)
            out[table.name] = [tuple(r) for r in conn.execute(select(table).order_by(*pk))]
        out["alembic_version"] = [tuple(r) for r in conn.execute(
            text("SELECT version_num FROM alembic_version"))]
        conn.rollback()
    return out


def changed_rows(before: dict[str, list[tuple[Any, ...]]],
                 after: dict[str, list[tuple[Any, ...]]]) -> dict[str, Any]:
    """Per table that differs, the rows only before and the rows only after (for a
    readable assertion message when a state must not have changed)."""
    out: dict[str, Any] = {}
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name, []), after.get(name, [])
        if old != new:
            out[name] = {"only before": [r for r in old if r not in new],
                         "only after": [r for r in new if r not in old]}
    return out


def assert_atomic(bakery: bakekit.Bakery, workflow: Callable[[bakekit.Workspace], Any],
                  *, minimum_statements: int = 1) -> int:
    """Fail the workflow (run in a session, then committed) after each of its statements in
    turn; every table must equal its state before. Returns how many points were injected.

    The workflow is first run once and rolled back to count its statements.
    """
    before = snapshot(bakery)
    with counting(bakery) as counts, bakery.session() as ws:
        workflow(ws)
        ws.commit()
    total = counts.n_statements
    after_success = snapshot(bakery)
    assert after_success != before, "the workflow changed nothing: nothing to prove"
    _restore(bakery, before)
    assert snapshot(bakery) == before
    assert total >= minimum_statements
    for k in range(1, total + 1):
        with fault_after(bakery, k), pytest.raises(InjectedFault), bakery.session() as ws:
            workflow(ws)
            ws.commit()
        now = snapshot(bakery)
        if now != before:
            diff = {t: (before[t], now[t]) for t in before if before[t] != now[t]}
            raise AssertionError(f"fault after statement {k}/{total} left changes: {diff}")
    return total


def _restore(bakery: bakekit.Bakery, state: dict[str, list[tuple[Any, ...]]]) -> None:
    """Put every table back to a snapshot (test helper; uses its own engine connection)."""
    with bakery.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA foreign_keys = OFF")
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())
        for table in metadata.sorted_tables:
            rows = state[table.name]
            if rows:
                conn.execute(table.insert(), [dict(zip(table.columns.keys(), r, strict=True))
                                              for r in rows])
        conn.commit()
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA foreign_keys = ON")
