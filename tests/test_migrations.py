"""Schema changes go through Alembic: the models and the migrations never drift apart."""

from __future__ import annotations

import sqlite3

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

import bakekit
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
