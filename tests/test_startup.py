"""Start-up (issue 32): a command, `--help` and `bakekit.open()` load only what they use
(checked in fresh processes), a database at head is opened with one statement and no
Alembic, and what was made lazy still behaves as before."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event

import bakekit
from bakekit.cli._output import Out, Rows
from bakekit.db import engine as db_engine
from bakekit.db import migrations, tables
from bakekit.db.engine import alembic_config, head_revision
from bakekit.db.models import metadata
from bakekit.db.names import TABLE_NAMES

ROOT = Path(__file__).resolve().parents[1]

#: what no command needs before it runs, and what `bakekit info` and `bakekit.open()`
#: of a database at head do not use
HEAVY = ("pandas", "numpy", "pandera", "pint", "alembic", "sqlalchemy.orm",
         "bakekit.db.models", "bakekit.workspace", "bakekit.areas")


def _loaded_after(code: str, *argv: str) -> dict[str, object]:
    """Run `code` in a fresh interpreter (this checkout's bakekit); report which of HEAVY
    (and SQLAlchemy) it left loaded, and its stdout."""
    probe = (f"{code}\nimport json, sys\n"
             f"print(json.dumps(sorted(m for m in {HEAVY + ('sqlalchemy',)!r} "
             "if m in sys.modules)), file=sys.stderr)")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True,
                          text=True, env=env, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return {"modules": json.loads(done.stderr.strip().splitlines()[-1]),
            "stdout": done.stdout}


def _cli(*args: str) -> str:
    return ("import sys\nfrom bakekit.cli import app\n"
            f"try:\n    app({list(args)!r})\nexcept SystemExit as exc:\n"
            "    assert exc.code in (0, None), exc.code\n")


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("startup") / "demo.db"
    bakekit.demo(str(path)).dispose()
    return path


# -- what is loaded ------------------------------------------------------------------------
def test_help_and_version_load_neither_sqlalchemy_nor_anything_heavy():
    for args in (["--help"], ["--version"], ["info", "--help"]):
        loaded = _loaded_after(_cli(*args))
        assert loaded["modules"] == [], (args, loaded)
    assert "bakekit" in str(_loaded_after(_cli("--version"))["stdout"])


def test_info_loads_only_sqlalchemys_core(demo_db):
    loaded = _loaded_after(_cli("info", "--url", str(demo_db)))
    assert loaded["modules"] == ["sqlalchemy"]
    assert "Rows per table" in str(loaded["stdout"])


def test_open_of_a_database_at_head_loads_no_alembic_models_or_workspace(demo_db):
    loaded = _loaded_after("import sys, bakekit\nbakery = bakekit.open(sys.argv[1])\n"
                           "print(bakery.schema_revision, bakery.database_id)", str(demo_db))
    assert loaded["modules"] == ["sqlalchemy"]
    assert str(loaded["stdout"]).split()[0] == head_revision()


def test_a_session_still_loads_what_it_uses(demo_db):
    loaded = _loaded_after("import sys, bakekit\nwith bakekit.open(sys.argv[1]).session() "
                           "as ws:\n    print(len(ws.inventory.lots()))", str(demo_db))
    assert {"pandas", "bakekit.workspace", "bakekit.areas"} <= set(loaded["modules"])
    assert int(str(loaded["stdout"])) > 0


def test_a_data_command_loads_no_pandera_pint_or_alembic(demo_db):
    """`bakekit levels` reads through a workspace (pandas, the models) but validates its
    frame with pandas alone: pandera, pint and Alembic stay unloaded."""
    loaded = _loaded_after(_cli("levels", "--url", str(demo_db), "--format", "csv"))
    assert {"pandas", "bakekit.workspace", "bakekit.db.models"} <= set(loaded["modules"])
    assert not {"pandera", "pint", "alembic"} & set(loaded["modules"]), loaded["modules"]
    assert str(loaded["stdout"]).startswith("item,kind,on_hand,unit,value")


#: a probe run as the `bakekit` program (``sys.argv[0]`` is "bakekit" while bakekit
#: loads): after the command it prints the collector's state, and whether the command
#: left its databases open
_AS_PROGRAM = """import atexit, gc, json, sqlite3, sys
sys.argv[0] = "bakekit"
from bakekit.cli import app
def report():
    print(json.dumps({"thresholds": gc.get_threshold(), "frozen": gc.get_freeze_count()}),
          file=sys.stderr)
atexit.register(report)
app(sys.argv[1:])
"""


def _as_program(*args: str) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", _AS_PROGRAM, *args], capture_output=True,
                          text=True, env=env, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stderr.strip().splitlines()[-1])


def test_the_program_freezes_its_objects_and_closes_every_database_first(demo_db, tmp_path):
    """As the program, a command leaves every object frozen out of the collector (the exit
    does not walk them) and has closed its databases itself: no -wal or -shm file is left
    beside a SQLite file, and what it wrote is in the file proper."""
    from bakekit._early import PROGRAM_GC_THRESHOLDS

    copy = tmp_path / "copy.db"
    copy.write_bytes(demo_db.read_bytes())
    state = _as_program("levels", "--url", str(copy))
    assert state["thresholds"] == list(PROGRAM_GC_THRESHOLDS)
    assert int(str(state["frozen"])) > 100_000
    target = tmp_path / "imported.db"
    bakekit.open(target).dispose()
    source = ROOT / "tests" / "data" / "bake-tracker" / "sample_data_all_v4.2.json"
    _as_program("import", str(source), "--url", str(target))
    for path in (copy, target):
        assert sorted(p.name for p in tmp_path.glob(path.name + "-*")) == [], path
    raw = sqlite3.connect(f"file:{target}?mode=ro", uri=True)  # the file alone, no WAL
    assert raw.execute("SELECT count(*) FROM lots").fetchone()[0] > 100
    raw.close()


def test_a_library_process_keeps_pythons_collector(demo_db):
    """Not the program (a notebook, a script, these tests): thresholds as Python set them,
    nothing frozen."""
    import gc

    loaded = _loaded_after("import gc, sys, bakekit\nbakekit.open(sys.argv[1]).dispose()\n"
                           "print(gc.get_threshold(), gc.get_freeze_count())", str(demo_db))
    assert str(loaded["stdout"]).strip() == f"{gc.get_threshold()} 0"


def test_import_bakekit_units_builds_no_pint_registry():
    loaded = _loaded_after("import bakekit.units as u\nprint(u.factor('lb', 'oz'))")
    assert "pint" not in loaded["modules"] and str(loaded["stdout"]).strip() == "16"


# -- opening: one statement at head, Alembic otherwise -----------------------------------
def _statements_while(action: object) -> list[str]:
    seen: list[str] = []

    def before(conn: object, cursor: object, statement: str, *args: object) -> None:
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", before)
    try:
        action()  # type: ignore[operator]
    finally:
        event.remove(Engine, "before_cursor_execute", before)
    return [s for s in seen if not s.lstrip().upper().startswith(("BEGIN", "SELECT PG_"))]


def test_opening_a_database_at_head_is_one_statement(backend):
    bakekit.open(backend).dispose()  # (the PostgreSQL fixture empties bakery_identity)
    opened: list[bakekit.Bakery] = []
    for read_only in (False, True):
        statements = _statements_while(
            lambda ro=read_only: opened.append(bakekit.open(backend, read_only=ro)))
        assert len(statements) == 1, statements
        assert "alembic_version" in statements[0] and "bakery_identity" in statements[0]
    writer, reader = opened
    assert writer.schema_revision == reader.schema_revision == head_revision()
    assert writer.database_id == reader.database_id
    for bakery in opened:
        bakery.dispose()


def test_a_missing_identity_row_is_given_again_on_open(backend):
    first = bakekit.open(backend)
    before = first.database_id
    with first.engine.begin() as conn:
        conn.execute(tables.bakery_identity.delete())
    first.dispose()
    again = bakekit.open(backend)
    assert again.database_id != before and len(again.database_id) == 36
    again.dispose()


def test_an_older_schema_is_still_upgraded_on_open(tmp_path):
    """The one-statement read must not take an older revision for head."""
    path = tmp_path / "old.db"
    engine = create_engine(f"sqlite:///{path}")
    script = ScriptDirectory.from_config(alembic_config())
    previous = script.get_revision(head_revision()).down_revision
    assert isinstance(previous, str)
    with engine.connect() as conn:
        command.upgrade(alembic_config(conn), previous)
        conn.commit()
    engine.dispose()
    bakery = bakekit.open(path)
    assert bakery.schema_revision == head_revision()
    raw = sqlite3.connect(path)
    assert raw.execute("SELECT version_num FROM alembic_version").fetchall() == [
        (head_revision(),)]
    raw.close()
    bakery.dispose()


def test_a_database_with_two_version_rows_goes_to_alembic(tmp_path):
    path = tmp_path / "two.db"
    bakekit.open(path).dispose()
    raw = sqlite3.connect(path)
    raw.execute("INSERT INTO alembic_version VALUES ('0001')")
    raw.commit()
    raw.close()
    with pytest.raises(Exception, match="(?i)head|revision"):
        bakekit.open(path)


# -- what the fast paths rely on agrees with the real thing -------------------------------
def test_head_from_the_revision_files_is_alembics_head():
    script = ScriptDirectory.from_config(alembic_config())
    assert migrations.head() == script.get_current_head() == head_revision()


def test_head_of_revision_texts():
    one = "revision = '0001'\ndown_revision = None\n"
    two = "revision: str = \"0002\"\ndown_revision: str | None = '0001'\n"
    assert migrations.head_of([one, two]) == "0002"
    branch = "revision = '0002b'\ndown_revision = '0001'\n"
    assert migrations.head_of([one, two, branch]) is None  # two heads: Alembic decides
    merge = "revision = '0003'\ndown_revision = ('0002', '0002b')\n"
    assert migrations.head_of([one, two, branch, merge]) == "0003"
    assert migrations.head_of([one, "down_revision = '0001'\n"]) is None  # unreadable
    assert migrations.head_of([]) is None


def test_the_tables_read_by_name_are_the_models_tables():
    assert list(TABLE_NAMES) == sorted(metadata.tables), (
        "bakekit/db/names.py lists every table of the models, sorted: update it")
    identity = tables.bakery_identity
    assert db_engine._IDENTITY.name == identity.name
    assert set(db_engine._IDENTITY.c.keys()) <= set(identity.c.keys())


def test_the_pint_registry_is_built_once_with_bakekits_units():
    from bakekit.units import registry

    assert registry() is registry()
    assert registry().Quantity(1, "dozen_each").to("each").magnitude == 12


def test_version_is_the_package_version():
    import importlib.metadata

    assert bakekit.__version__ == importlib.metadata.version("bakekit")


# -- plain rows are shown exactly as the DataFrame of them --------------------------------
@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_rows_show_as_their_dataframe(fmt, tmp_path, capsys):
    columns = ("table", "rows")
    rows = [("applied_plans", 0), ("lots", 1234567), ("a, \"quoted\" name", 7)]
    shown = []
    for data in (Rows(columns, rows), pd.DataFrame(rows, columns=list(columns))):
        out = Out(None, tmp_path / f"out.{fmt}")
        out.frame(data, "Rows per table", database="x")
        out.close()
        shown.append((tmp_path / f"out.{fmt}").read_text())
        capsys.readouterr()
    assert shown[0] == shown[1]
    assert "1,234,567" in shown[0] if fmt == "table" else "1234567" in shown[0]


def test_empty_rows_show_as_an_empty_dataframe(tmp_path):
    shown = []
    for data in (Rows(("table", "rows"), []), pd.DataFrame([], columns=["table", "rows"])):
        out = Out(None, tmp_path / "out.txt")
        out.frame(data, "Rows per table")
        out.close()
        shown.append((tmp_path / "out.txt").read_text())
    assert shown[0] == shown[1] == "Rows per table\n  (none)\n\n"
