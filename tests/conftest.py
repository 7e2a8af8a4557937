"""Test harness: every database test runs on SQLite and PostgreSQL, with helpers to count
statements, sessions and connections, inject a fault at the k-th statement, and snapshot
every table."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event, inspect, select, text

import bakekit
from bakekit.db.models import metadata

# real files from bake-tracker (MIT; see tests/data/bake-tracker/README.md)
BAKE_TRACKER_DATA = Path(__file__).resolve().parent / "data" / "bake-tracker"
PG_URL_VAR = "BAKEKIT_TEST_PG_URL"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


# -- backends -------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, empty SQLite file that each test copies (migrating once, not per test)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    bakery = bakekit.open(path)
    bakery.dispose()
    return path


@pytest.fixture(scope="session")
def pg_url() -> str:
    url = os.environ.get(PG_URL_VAR)
    if not url:
        if IN_CI:
            pytest.fail(f"{PG_URL_VAR} is not set in CI: the PostgreSQL half must run")
        pytest.skip(f"no PostgreSQL server: {PG_URL_VAR} is not set (make test starts one)")
    bakery = bakekit.open(url)  # migrate once for the session
    bakery.dispose()
    return url


def _truncate_postgres(url: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            names = ", ".join(t.name for t in metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty, migrated database: a SQLite file, or the test PostgreSQL."""
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "bakery.db"
        shutil.copy(template, path)
        return str(path)
    url = request.getfixturevalue("pg_url")
    _truncate_postgres(url)
    return url


@pytest.fixture
def bakery(backend: str) -> Iterator[bakekit.Bakery]:
    b = bakekit.open(backend)
    yield b
    b.dispose()


@pytest.fixture
def demo_bakery(bakery: bakekit.Bakery) -> bakekit.Bakery:
    """The demo data (no production yet), loaded into the backend under test."""
    from bakekit.sample import load_sample, sample_data

    data = sample_data()
    data["production"] = []
    with bakery.session() as ws:
        load_sample(ws, data)
        ws.commit()
    return bakery


# -- counting -------------------------------------------------------------------------------
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


# -- fault injection ------------------------------------------------------------------------
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


def table_names(bakery: bakekit.Bakery) -> set[str]:
    return set(inspect(bakery.engine).get_table_names())


def small_catalog(ws: bakekit.Workspace, *, packaging: bool = True) -> None:
    """Flour, sugar and butter (with densities), optionally gift boxes, and one product of
    each: the catalog the stress tests (crash, concurrency, state machine) share."""
    c = ws.catalog
    c.add_ingredient("flour", "Flour", density="1 cup = 4.25 oz")
    c.add_ingredient("sugar", "Sugar", density="1 cup = 7.05 oz")
    c.add_ingredient("butter", "Butter", density="1 cup = 8 oz")
    c.add_product("flour-2lb", "flour", name="Flour 2 lb", package_quantity=2,
                  package_unit="lb")
    c.add_product("sugar-1lb", "sugar", name="Sugar 1 lb", package_quantity=1,
                  package_unit="lb")
    c.add_product("butter-1lb", "butter", name="Butter 1 lb", package_quantity=1,
                  package_unit="lb")
    if packaging:
        c.add_ingredient("box", "Gift box", is_packaging=True)
        c.add_product("box-10", "box", name="Boxes (10)", package_quantity=10,
                      package_unit="each")


# -- sample data ----------------------------------------------------------------------------
@pytest.fixture
def stocked(bakery: bakekit.Bakery) -> bakekit.Bakery:
    """Flour (with density), sugar and butter, three dated flour lots at different prices."""
    with bakery.session() as ws:
        c = ws.catalog
        c.add_supplier("Costco")
        c.add_ingredient("flour", "All-purpose flour", density="1 cup = 4.25 oz")
        c.add_ingredient("sugar", "Granulated sugar", density="1 cup = 7.05 oz")
        c.add_ingredient("butter", "Unsalted butter", density="1 cup = 8 oz")
        c.add_ingredient("cocoa", "Cocoa powder")  # no density
        c.add_product("flour-5lb", "flour", brand="KA", name="AP flour 5 lb",
                      package_quantity=5, package_unit="lb", supplier="Costco")
        c.add_product("sugar-4lb", "sugar", brand="C&H", name="Sugar 4 lb",
                      package_quantity=4, package_unit="lb")
        c.add_product("butter-1lb", "butter", brand="Kerrygold", name="Butter 1 lb",
                      package_quantity=1, package_unit="lb")
        c.add_product("cocoa-8oz", "cocoa", brand="Hershey", name="Cocoa 8 oz",
                      package_quantity=8, package_unit="oz")
        inv = ws.inventory
        inv.purchase("flour-5lb", packages=1, unit_cost=18.00, purchased_on="2025-01-05")
        inv.purchase("flour-5lb", packages=1, unit_cost=20.00, purchased_on="2025-02-05")
        inv.purchase("flour-5lb", packages=2, unit_cost=22.50, purchased_on="2025-03-05")
        inv.purchase("sugar-4lb", packages=2, unit_cost=4.00, purchased_on="2025-01-10")
        inv.purchase("butter-1lb", packages=4, unit_cost=5.75, purchased_on="2025-01-12")
        inv.purchase("cocoa-8oz", packages=1, unit_cost=6.00, purchased_on="2025-01-12")
        ws.commit()
    return bakery
