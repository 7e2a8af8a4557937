"""Schema changes go through Alembic: the models and the migrations never drift apart."""

from __future__ import annotations

import sqlite3

import pandas as pd
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, select, text

import bakekit
from bakekit.db import tables
from bakekit.db.engine import alembic_config, head_revision
from bakekit.db.models import metadata


def test_models_match_the_migrations(backend):
    """Autogenerate against a migrated database finds nothing to do."""
    bakery = bakekit.open(backend)
    with bakery.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, metadata)
    bakery.dispose()
    assert diff == []


def test_revisions_form_one_line_from_the_first_to_head():
    script = ScriptDirectory.from_config(alembic_config())
    revisions = list(script.walk_revisions())
    assert len(script.get_heads()) == 1
    assert revisions[-1].down_revision is None
    assert revisions[0].revision == head_revision()


def test_upgrade_from_the_first_revision_keeps_every_row(tmp_path):
    """A database created at the first revision, holding data, upgrades to head intact."""
    path = tmp_path / "old.db"
    engine = create_engine(f"sqlite:///{path}")
    script = ScriptDirectory.from_config(alembic_config())
    first = list(script.walk_revisions())[-1].revision
    with engine.connect() as conn:
        command.upgrade(alembic_config(conn), first)
        conn.execute(text("INSERT INTO suppliers (name) VALUES ('Costco')"))
        conn.execute(text("INSERT INTO ingredients (slug, name, is_packaging) "
                          "VALUES ('flour', 'Flour', 0)"))
        conn.commit()
    engine.dispose()
    bakery = bakekit.open(path)  # migrates to head
    with bakery.session() as ws:
        assert ws.catalog.suppliers()["item"].tolist() == ["Costco"]
        assert ws.catalog.ingredients()["item"].tolist() == ["flour"]
    bakery.dispose()
    raw = sqlite3.connect(path)
    assert raw.execute("SELECT version_num FROM alembic_version").fetchone() == (head_revision(),)
    raw.close()


def test_upgrade_to_posted_on_keeps_every_row_and_dates_it(backend):
    """A database at revision 0001 holding purchases, a consumption, a production run and
    its reversal upgrades with every ledger row kept, each dated by what the database
    holds: a lot's first row its purchase date, a run's rows its run date, a reversal's
    rows the day it was reversed, anything else the day it was typed in."""

    bakery = bakekit.open(backend)
    with bakery.session() as ws:
        c = ws.catalog
        c.add_ingredient("flour", "Flour")
        c.add_ingredient("butter", "Butter")
        c.add_product("flour-5lb", "flour", name="Flour 5 lb", package_quantity=5,
                      package_unit="lb")
        c.add_product("butter-1lb", "butter", name="Butter 1 lb", package_quantity=1,
                      package_unit="lb")
        ws.recipes.add("dough", "Dough", ingredients=[("flour", 1, "lb"), ("butter", 1, "lb")],
                       finished_units=[("roll", "Roll", 4, "each")])
        ws.inventory.purchase("flour-5lb", packages=2, unit_cost=6, purchased_on="2025-01-10")
        ws.inventory.purchase("butter-1lb", packages=3, unit_cost=4, purchased_on="2025-01-12")
        ws.inventory.consume("flour", 1, "lb", reason="bake", on="2025-01-20")
        run = ws.production.record("roll", batches=1, produced_at="2025-02-01T07:30:00")
        ws.production.reverse(run.run_id, on="2025-02-03")
        ws.commit()
        before = ws.inventory.movements()
    bakery.dispose()
    engine = create_engine(bakery.url)
    with engine.connect() as conn:
        command.downgrade(alembic_config(conn), "0001")
        conn.commit()
        columns = [c["name"] for c in inspect(conn).get_columns("movements")]
        assert "posted_on" not in columns
    engine.dispose()
    bakery = bakekit.open(backend)  # migrates to head
    with bakery.session() as ws:
        after = ws.inventory.movements()
        assert ws.inventory.audit().empty
    bakery.dispose()
    keep = ["movement_id", "lot_id", "item", "reason", "quantity", "cost", "run_id"]
    pd.testing.assert_frame_equal(before[keep], after[keep])
    typed = after["created_at"].iloc[0].date()  # the day the rows were typed in (UTC)
    dates = {(r.item, r.reason, r.quantity): r.posted_on.date().isoformat()
             for r in after.itertuples()}
    assert dates == {
        ("flour", "purchase", 10.0): "2025-01-10",
        ("butter", "purchase", 3.0): "2025-01-12",
        ("flour", "bake", -1.0): typed.isoformat(),       # no date held: when typed in
        ("flour", "production", -1.0): "2025-02-01",
        ("butter", "production", -1.0): "2025-02-01",
        ("roll", "production", 4.0): "2025-02-01",
        ("flour", "reversal", 1.0): typed.isoformat(),    # reversed_at: when reversed
        ("butter", "reversal", 1.0): typed.isoformat(),
        ("roll", "reversal", -4.0): typed.isoformat(),
    }


def test_a_downgrade_below_0005_never_rounds_a_quantity(backend):
    """Quantities have 9 places since revision 0005, 6 before: PostgreSQL would round them
    on the way down (issue 33), so there the downgrade is refused naming the value; SQLite
    keeps what it stores, and its downgrade keeps the value."""
    import pytest

    from bakekit.errors import SchemaVersionError

    bakery = bakekit.open(backend)
    with bakery.session() as ws:
        ws.catalog.add_ingredient("flour", "Flour")
        ws.catalog.add_product("flour-5lb", "flour", name="Flour 5 lb", package_quantity=5,
                               package_unit="lb")
        ws.inventory.purchase("flour-5lb", packages=1, unit_cost=6, purchased_on="2025-01-10")
        ws.inventory.consume("flour", 1, "g", reason="taste", on="2025-01-11")
        ws.commit()
    bakery.dispose()
    engine = create_engine(bakery.url)
    query = text("SELECT remaining FROM lots")
    with engine.connect() as conn:
        # read through the column's type (on SQLite at head it stores a scaled integer)
        before = conn.execute(select(tables.lots.c.remaining)).scalar_one()
        assert round(float(before), 6) != float(before)  # 9 places: 4.997795377
        if engine.dialect.name == "sqlite":
            command.downgrade(alembic_config(conn), "0004")
            conn.commit()
        else:
            with pytest.raises(SchemaVersionError, match=r"lots\.remaining holds 1 value"):
                command.downgrade(alembic_config(conn), "0001")
            conn.rollback()
            version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            assert version == head_revision()
        assert float(conn.execute(query).scalar_one()) == float(before)
    engine.dispose()
