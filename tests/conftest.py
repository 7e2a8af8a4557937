"""Test fixtures: every database test runs on SQLite and PostgreSQL (`backend`, `bakery`),
with the demo and small stocks as fixtures. The helpers (counting statements, injecting
faults, snapshots, shared data) live in tests/support/."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

import bakekit
from tests.support.atomic import _restore, snapshot
from tests.support.backends import IN_CI, PG_URL_VAR, _truncate_postgres
from tests.support.workflows import ON_EMPTY, _reset_sequences, seed

# The property tests draw new examples on every run where a developer runs them (and so
# keep finding what a fixed set would not); in CI the same examples every run, so a red
# build always means a change, never a draw (a failing example prints how to replay it).
settings.register_profile("ci", derandomize=True, print_blob=True)
if IN_CI:
    settings.load_profile("ci")


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


@pytest.fixture(scope="session")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo database as a SQLite file, built once (the command-line tests copy it)."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    bakekit.demo(str(path)).dispose()
    return path


@pytest.fixture
def demo_path(demo_file: Path, tmp_path: Path) -> Path:
    """A fresh copy of the demo database file for one test."""
    target = tmp_path / "demo.db"
    shutil.copy(demo_file, target)
    return target


# -- counting -------------------------------------------------------------------------------
# -- fault injection ------------------------------------------------------------------------
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


# -- the fault registry's seeded demo ---------------------------------------------------
#: the seeded state per backend (seeding through the API once, restoring it per test)
_SEEDED: dict[str, dict[str, list[tuple[Any, ...]]]] = {}


@pytest.fixture
def seeded(bakery: bakekit.Bakery, request: pytest.FixtureRequest) -> bakekit.Bakery:
    if request.node.callspec.params.get("name") in ON_EMPTY:
        return bakery
    dialect = bakery.engine.dialect.name
    if dialect not in _SEEDED:
        with bakery.session() as ws:
            seed(ws)
            ws.commit()
        _SEEDED[dialect] = snapshot(bakery)
    else:
        _restore(bakery, _SEEDED[dialect])
        if dialect == "postgresql":
            _reset_sequences(bakery)
    return bakery
