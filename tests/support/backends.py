"""The two backends under test: the PostgreSQL URL variable, emptying the test database."""

from __future__ import annotations

import os

from sqlalchemy import create_engine, inspect, text

import bakekit
from bakekit.db.models import metadata

PG_URL_VAR = "BAKEKIT_TEST_PG_URL"


IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _truncate_postgres(url: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            names = ", ".join(t.name for t in metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()


def table_names(bakery: bakekit.Bakery) -> set[str]:
    return set(inspect(bakery.engine).get_table_names())
