"""The unit of work: commit, rollback, what-if, scenario, read-only, closed workspaces."""

from __future__ import annotations

import ast
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import event, text
from sqlalchemy.orm import Session

import bakekit
from bakekit.areas.io import IO
from bakekit.db.engine import head_revision
from bakekit.errors import (
    BakekitError,
    DryRunError,
    ReadOnlyError,
    SchemaVersionError,
    WorkspaceClosedError,
)
from bakekit.workspace import Workspace, area
from tests.support.atomic import counting, snapshot
from tests.support.backends import table_names


def _count_ingredients(bakery: bakekit.Bakery) -> int:
    with bakery.session() as ws:
        return len(ws.catalog.ingredients())


def test_commit_persists(bakery):
    with bakery.session() as ws:
        ws.catalog.add_ingredient("flour", "Flour")
        ws.commit()
    assert _count_ingredients(bakery) == 1
    again = bakekit.open(bakery.url)
    assert _count_ingredients(again) == 1
    again.dispose()


def test_workspace_stays_usable_after_commit(bakery):
    with bakery.session() as ws:
        ws.catalog.add_ingredient("flour", "Flour")
        ws.commit()
        ws.catalog.add_ingredient("sugar", "Sugar")
    assert _count_ingredients(bakery) == 1  # the second was never committed


def test_exit_without_commit_rolls_back(bakery):
    with bakery.session() as ws:
        ws.catalog.add_ingredient("flour", "Flour")
        assert len(ws.catalog.ingredients()) == 1  # reads see own writes
    assert _count_ingredients(bakery) == 0


def test_exception_rolls_back_and_reraises(bakery):
    with pytest.raises(ZeroDivisionError), bakery.session() as ws:
        ws.catalog.add_ingredient("flour", "Flour")
        1 / 0  # noqa: B018
    assert _count_ingredients(bakery) == 0


def test_explicit_rollback_discards(bakery):
    with bakery.session() as ws:
        ws.catalog.add_ingredient("flour", "Flour")
        ws.rollback()
        ws.catalog.add_ingredient("sugar", "Sugar")
        ws.commit()
    with bakery.session() as ws:
        assert list(ws.catalog.ingredients()["item"]) == ["sugar"]


def test_what_if_never_persists(stocked):
    before = snapshot(stocked)
    with stocked.what_if() as ws:
        ws.catalog.add_ingredient("salt", "Salt")
        ws.inventory.consume("flour", 3, "cup", reason="what if")
        assert len(ws.changes()) == 1
        with pytest.raises(DryRunError):
            ws.commit()
    assert snapshot(stocked) == before


def test_what_if_on_sqlite_file_leaves_nothing(tmp_path):
    """The pysqlite trap: without the recipe, a savepoint/outer rollback leaks writes."""
    path = tmp_path / "file.db"
    bakery = bakekit.open(path)
    with bakery.what_if() as ws:
        ws.catalog.add_ingredient("flour", "Flour")
        with ws.scenario():
            ws.catalog.add_ingredient("sugar", "Sugar")
    bakery.dispose()
    raw = sqlite3.connect(path)
    assert raw.execute("SELECT count(*) FROM ingredients").fetchone() == (0,)
    assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    raw.close()


def test_scenario_rolls_back_and_outer_work_survives(bakery):
    with bakery.session() as ws:
        ws.catalog.add_ingredient("flour", "Flour")
        with ws.scenario():
            ws.catalog.add_ingredient("sugar", "Sugar")
            assert len(ws.catalog.ingredients()) == 2
        assert list(ws.catalog.ingredients()["item"]) == ["flour"]
        ws.commit()
    assert _count_ingredients(bakery) == 1


def test_scenario_rolls_back_on_error_too(bakery):
    with bakery.session() as ws:
        ws.catalog.add_ingredient("flour", "Flour")
        with pytest.raises(RuntimeError), ws.scenario():
            ws.catalog.add_ingredient("sugar", "Sugar")
            raise RuntimeError("abandon")
        ws.commit()
    assert _count_ingredients(bakery) == 1


def test_commit_inside_scenario_refused(bakery):
    with bakery.session() as ws, ws.scenario(), pytest.raises(BakekitError, match="scenario"):
        ws.commit()


def test_failed_write_leaves_nothing_half_written_in_the_workspace(stocked):
    """A write that fails part-way is rolled back to its savepoint; the caller may go on."""
    with stocked.session() as ws:
        with pytest.raises(bakekit.InsufficientStockError):
            ws.inventory.consume("flour", 1000, "cup", reason="too much")
        ws.catalog.add_ingredient("salt", "Salt")
        ws.commit()
        assert ws.inventory.audit().empty
    with stocked.session() as ws:
        assert "salt" in set(ws.catalog.ingredients()["item"])
        assert len(ws.inventory.movements()) == 6


def test_closed_workspace_refuses_every_call(bakery):
    with bakery.session() as ws:
        pass
    for call in (lambda: ws.catalog.ingredients(), ws.commit, ws.rollback, ws.changes,
                 lambda: ws.inventory, lambda: ws.catalog.add_ingredient("x", "X")):
        with pytest.raises(WorkspaceClosedError):
            call()


def test_read_only_blocks_writes_at_the_database(stocked):
    ro = bakekit.open(stocked.url, read_only=True)
    with ro.session() as ws:
        assert len(ws.inventory.lots()) == 6
        with pytest.raises(ReadOnlyError, match="read_only"):
            ws.catalog.add_ingredient("salt", "Salt")
        # below the library's own check, the database itself refuses
        with pytest.raises(Exception) as info:
            ws.execute(text("INSERT INTO suppliers (name) VALUES ('x')"))
        message = str(info.value).lower()
        assert "read" in message and ("only" in message or "readonly" in message)
    ro.dispose()


def test_schema_comes_from_the_alembic_migration(bakery):
    assert {"alembic_version", "lots", "movements", "runs"} <= table_names(bakery)
    with bakery.engine.connect() as conn:
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert version == head_revision()


def test_one_session_and_one_connection_per_workspace(stocked):
    with counting(stocked) as counts, stocked.session() as ws:
        ws.inventory.consume("flour", 2, "cup", reason="count")
        ws.inventory.levels()
        ws.commit()
        ws.inventory.lots()
    assert counts.checkouts == 1
    assert len(counts.sessions) == 1


def test_a_what_if_and_its_apply_are_two_workspaces_and_no_orm_session(stocked):
    """One connection per workspace (the what-if, then the apply's fresh one), and no ORM
    Session anywhere: the workspace holds a Core Connection."""
    began: list[object] = []

    def on_begin(session: Session, *args: object) -> None:
        began.append(session)

    event.listen(Session, "after_begin", on_begin)
    try:
        with counting(stocked) as counts:
            with stocked.what_if() as ws:
                ws.inventory.consume("flour", 1, "cup", reason="plan")
                ws.inventory.levels()
            ws.plan.apply()
    finally:
        event.remove(Session, "after_begin", on_begin)
    assert began == []
    assert counts.checkouts == len(counts.sessions) == 2


def test_areas_attach_by_one_descriptor(bakery):
    assert isinstance(Workspace.__dict__["inventory"], area)
    with bakery.session() as ws:
        assert ws.inventory is ws.inventory  # one per workspace
        assert isinstance(ws.io, IO)
    with pytest.raises(WorkspaceClosedError):
        _ = ws.inventory


def test_operation_log_rewinds_a_scenario_and_keeps_failed_writes_out(stocked):
    with stocked.session() as ws:
        ws.inventory.consume("flour", 1, "cup", reason="kept")
        mark = ws.recording.mark()
        with ws.scenario():
            ws.inventory.consume("flour", 1, "cup", reason="tried")
            assert len(ws.recording.operations) == 2
        assert ws.recording.mark() == mark
        with pytest.raises(BakekitError):
            ws.inventory.consume("flour", 10_000, "kg", reason="too much")
        assert [op.kwargs["reason"] for op in ws.recording.operations] == ["kept"]
        assert ws.recording.current is None
        assert len(ws.changes()) == len(ws.recording.movement_ids) > 0
        ws.rollback()
        assert ws.recording.operations == [] and ws.changes().empty


def test_no_bakekit_module_but_the_bakery_imports_the_workspace():
    """The workspace imports the areas; nothing it imports may import it back (imports
    inside functions and under TYPE_CHECKING count too)."""
    root = Path(bakekit.__file__).parent
    allowed = {"bakery.py", "sample.py", "cli.py", "__init__.py", "workspace.py"}
    reaching = []
    for path in sorted(root.rglob("*.py")):
        if (path.parent == root and path.name in allowed) or path.parent.name == "cli":
            continue  # the command line sits above the bakery (tests/test_import_layers.py)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module in ("bakekit.workspace",
                                                                    "bakekit.bakery"):
                reaching.append(f"{path.relative_to(root)}:{node.lineno} {node.module}")
    assert reaching == []


def test_unknown_url_scheme_is_a_clear_error():
    with pytest.raises(BakekitError, match="unsupported database 'mysql'"):
        bakekit.open("mysql://user@localhost/db")


def test_unreadable_sqlite_path_is_a_clear_error(tmp_path):
    with pytest.raises(BakekitError, match="does not exist"):
        bakekit.open(tmp_path / "no" / "such" / "folder" / "bakery.db")
    with pytest.raises(BakekitError, match="folder"):
        bakekit.open(tmp_path)


@pytest.mark.parametrize("read_only", [False, True])
def test_newer_schema_than_the_code_is_refused(tmp_path, read_only):
    """Refused for writing and for reading alike (a read-only open of a database at head
    reads its revision with one statement, never Alembic: tests/test_startup.py)."""
    path = tmp_path / "newer.db"
    bakekit.open(path).dispose()
    raw = sqlite3.connect(path)
    raw.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    raw.commit()
    raw.close()
    with pytest.raises(SchemaVersionError, match="newer than this bakekit"):
        bakekit.open(path, read_only=read_only)


def test_memory_url_is_reachable_again_in_process():
    bakery = bakekit.open(":memory:")
    with bakery.session() as ws:
        ws.catalog.add_ingredient("flour", "Flour")
        ws.commit()
    other = bakekit.open(bakery.url)
    assert _count_ingredients(other) == 1


def test_default_url_uses_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("BAKEKIT_URL", str(tmp_path / "env.db"))
    bakery = bakekit.open()
    assert bakery.url.endswith("env.db")
    assert (tmp_path / "env.db").exists()
    bakery.dispose()


def test_read_only_open_of_an_empty_database_says_what_to_do(tmp_path):
    with pytest.raises(SchemaVersionError, match="no bakekit schema yet.*open it once"):
        bakekit.open(tmp_path / "empty.db", read_only=True)


def test_every_error_class_is_exported_from_bakekit():
    import inspect

    import bakekit
    from bakekit import errors

    classes = {name for name, obj in vars(errors).items()
               if inspect.isclass(obj) and issubclass(obj, errors.BakekitError)}
    missing = sorted(name for name in classes if getattr(bakekit, name, None) is None)
    assert not missing, f"errors not exported from bakekit: {missing}"
    assert bakekit.ConcurrencyError is errors.ConcurrencyError
    assert "ConcurrencyError" in bakekit.__all__
