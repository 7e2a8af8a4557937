"""The two backends under test: the PostgreSQL URL variable, emptying the test database."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

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


@contextmanager
def select_only_role(url: str) -> Iterator[str]:
    """A PostgreSQL login role that may only read (SELECT on every table), for the time of
    the block: yields its URL; the role is dropped after."""
    from sqlalchemy.engine import make_url

    role = f"analyst_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE ROLE {role} LOGIN PASSWORD 'secret'"))
        conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {role}"))
        conn.execute(text(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}"))
    try:
        yield make_url(url).set(username=role, password="secret").render_as_string(
            hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}"))
            conn.execute(text(f"REVOKE USAGE ON SCHEMA public FROM {role}"))
            conn.execute(text(f"DROP ROLE {role}"))
        admin.dispose()
