"""The command line as a user drives it: exit codes, what is printed (CSV and JSON parse
back), and which files are written or not (Typer's CliRunner and real subprocesses)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import bakekit
from bakekit.cli import (
    EXIT_ALREADY_APPLIED,
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_INVALID,
    EXIT_USAGE,
    app,
)
from bakekit.db.engine import resolve_url

ROOT = Path(__file__).resolve().parents[1]
PRICES = ROOT / "data" / "price-list.csv"


@pytest.fixture
def db(demo_path) -> str:
    """A fresh copy of the demo database for one test."""
    return str(demo_path)


def run(*args: str, input: str | None = None, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, list(args), input=input, env=env)


def errors(result) -> list[str]:
    return [line for line in result.output.splitlines() if line.startswith(("error", "refused"))]


# -- exit codes and one-line errors ---------------------------------------------------------
def test_a_usage_error_exits_2_and_help_is_h():
    assert run("levels", "--no-such-option").exit_code == EXIT_USAGE
    result = run("reconcile", "-h")
    assert result.exit_code == 0 and "--apply" in result.output
    assert "<bool>" not in result.output  # flags are shown as flags


def test_read_commands_create_no_database(tmp_path):
    missing = tmp_path / "typo.db"
    for command in (["levels"], ["info"], ["export", str(tmp_path / "out.json")],
                    ["reconcile", str(PRICES)], ["what-if", "produce", "x"]):
        result = run(*command, "--url", str(missing))
        assert result.exit_code == EXIT_ERROR, result.output
        assert len(errors(result)) == 1 and "no database at" in errors(result)[0]
        assert "nothing was created" in errors(result)[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_demo_refuses_a_plan_path_in_a_missing_folder_before_building(tmp_path):
    result = run("demo", "--path", str(tmp_path / "d.db"), "--save-plan",
                 str(tmp_path / "nope" / "p.json"))
    assert result.exit_code == EXIT_ERROR
    assert errors(result) == [line for line in result.output.splitlines() if line.strip()]
    assert "does not exist" in result.output and not (tmp_path / "d.db").exists()


def test_a_missing_plan_file_is_one_line(db, tmp_path):
    for command in (["apply", str(tmp_path / "nosuch.json"), "--url", db],
                    ["plan", "show", str(tmp_path / "nosuch.json"), "--url", db]):
        result = run(*command)
        assert result.exit_code == EXIT_ERROR
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert lines == [f"error: plan file {str(tmp_path / 'nosuch.json')!r} does not exist"]


def test_a_csv_given_to_import_points_at_reconcile_and_creates_nothing(tmp_path):
    result = run("import", str(PRICES), "--url", str(tmp_path / "new.db"))
    assert result.exit_code == EXIT_INVALID
    assert len(errors(result)) == 1 and "bakekit reconcile" in errors(result)[0]
    assert not (tmp_path / "new.db").exists()


def test_a_failed_import_removes_the_database_it_created(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"version": "4.2", "ingredients": [{"slug": 1}]}')
    result = run("import", str(bad), "--url", str(tmp_path / "new.db"))
    assert result.exit_code in (EXIT_ERROR, EXIT_INVALID), result.output
    assert "creating a new database at" in result.output
    assert "Traceback" not in result.output
    for word in (".errors", ".diff", "row None", "<NA>"):
        assert word not in result.output
    assert list(tmp_path.glob("new.db*")) == []


def test_ctrl_c_says_nothing_was_written_and_exits_130(tmp_path, monkeypatch):
    from bakekit.areas.io import IO

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(IO, "load", interrupted)
    export = tmp_path / "x.json"
    export.write_text("{}")
    result = run("load", str(export), "--url", str(tmp_path / "new.db"))
    assert result.exit_code == EXIT_INTERRUPTED
    assert "interrupted: nothing was written" in result.output
    assert "Traceback" not in result.output and list(tmp_path.glob("new.db*")) == []


# -- output formats ------------------------------------------------------------------------
def test_levels_in_table_csv_and_json(db, tmp_path):
    table = run("levels", "--url", db)
    assert table.exit_code == 0, table.output
    assert f"database: {resolve_url(db)}" in table.output
    for word in ("e+0", "<NA>", "None", "nan"):
        assert word not in table.stdout
    as_csv = run("levels", "--url", db, "--format", "csv")
    frame = pd.read_csv(io.StringIO(as_csv.stdout))
    assert "item" in frame.columns and len(frame) > 5
    as_json = run("levels", "--url", db, "-f", "json")
    assert [r["item"] for r in json.loads(as_json.stdout)] == frame["item"].tolist()
    written = run("levels", "--url", db, "-o", str(tmp_path / "levels.csv"))
    assert written.exit_code == 0 and "item," not in written.stdout
    assert pd.read_csv(tmp_path / "levels.csv")["item"].tolist() == frame["item"].tolist()
    nowhere = run("levels", "--url", db, "-o", str(tmp_path / "nope" / "l.csv"))
    assert nowhere.exit_code == EXIT_ERROR and "does not exist" in nowhere.output


def test_reconcile_numbers_rows_as_the_file_and_says_what_apply_would_do(db):
    review = run("reconcile", str(PRICES), "--url", db)
    assert review.exit_code == 0, review.output
    assert "9 row(s): 4 changed, 3 unchanged, 1 missing, 1 invalid" in review.output
    assert "run again with --apply to write 4 new or changed prices" in review.output
    as_csv = run("reconcile", str(PRICES), "--url", db, "--format", "csv")
    frame = pd.read_csv(io.StringIO(as_csv.stdout))
    lines = PRICES.read_text().splitlines()
    first_changed = frame[frame["status"] == "changed"].iloc[0]
    assert first_changed["line"] == 2
    assert lines[first_changed["line"] - 1].startswith(first_changed["product_name"])
    invalid = frame[frame["status"] == "invalid"].iloc[0]
    assert lines[invalid["line"] - 1].startswith(invalid["product_name"])
    applied = run("reconcile", str(PRICES), "--url", db, "--apply")
    assert applied.exit_code == 0, applied.output
    assert "0 created, 4 updated, 3 unchanged, 2 skipped" in applied.output
    assert f"line {invalid['line']}: invalid: price: is missing" in applied.output
    again = run("reconcile", str(PRICES), "--url", db, "-f", "json")
    assert {r["status"] for r in json.loads(again.stdout)} == {"unchanged", "missing",
                                                                "invalid"}


def test_info_names_the_database_and_counts_rows(db):
    result = run("info", "--url", db)
    assert result.exit_code == 0, result.output
    assert f"database: {resolve_url(db)}" in result.output and "schema revision" in result.output
    document = json.loads(run("info", "--url", db, "--format", "json").stdout)
    counts = {r["table"]: r["rows"] for r in document["rows"]}
    assert counts["ingredients"] > 0 and document["schema_revision"]


def test_export_to_stdout_loads_from_stdin(db, tmp_path):
    exported = run("export", "-", "--url", db)
    assert exported.exit_code == 0, exported.output
    document = json.loads(exported.stdout)
    assert document["tables"]["ingredients"]
    copy = tmp_path / "copy.db"
    loaded = run("load", "-", "--url", str(copy), input=exported.stdout)
    assert loaded.exit_code == 0, loaded.output
    assert f"creating a new database at {copy}" in loaded.output
    with bakekit.open(str(copy), read_only=True).session() as ws:
        assert len(ws.catalog.ingredients()) == len(document["tables"]["ingredients"])
    refused = run("load", "-", "--url", str(copy), input=exported.stdout)
    assert refused.exit_code != 0 and "not empty" in refused.output and copy.exists()


def test_export_onto_a_folder_is_one_line(db, tmp_path):
    result = run("export", str(tmp_path), "--url", db)
    assert result.exit_code == EXIT_ERROR and len(errors(result)) == 1


# -- plans from the command line ---------------------------------------------------------------
def test_what_if_produce_saves_a_plan_that_applies_once(db, tmp_path):
    before = run("levels", "--url", db, "-f", "csv").stdout
    plan = tmp_path / "p.json"
    made = run("what-if", "produce", "chocolate-chip-cookie", "--batches", "1",
               "--save-plan", str(plan), "--url", db)
    assert made.exit_code == 0, made.output
    assert "nothing was written" in made.output and plan.exists()
    assert run("levels", "--url", db, "-f", "csv").stdout == before
    shown = run("plan", "show", str(plan), "--url", db, "--format", "json")
    document = json.loads(shown.stdout)
    assert document["applied"].startswith("no") and document["rows"]
    assert run("apply", str(plan), "--url", db).exit_code == 0
    assert run("levels", "--url", db, "-f", "csv").stdout != before
    assert run("apply", str(plan), "--url", db).exit_code == EXIT_ALREADY_APPLIED


# -- URLs ---------------------------------------------------------------------------------------
def test_postgres_urls_are_accepted_and_passwords_never_printed():
    assert resolve_url("postgres://me:pw@db.example/bakery") == \
        "postgresql+psycopg://me:pw@db.example/bakery"
    result = run("levels", "--url", "mysql://u:s3cret@localhost/db")
    assert result.exit_code == EXIT_ERROR and "s3cret" not in result.output
    assert "***" in result.output


def test_no_color(db):
    result = CliRunner().invoke(app, ["levels", "--url", db], env={"NO_COLOR": "1"},
                                color=True)
    assert "\x1b[" not in result.output


# -- real processes ------------------------------------------------------------------------------
def _python(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True,
                          env=environment, timeout=120)


def test_help_loads_no_heavy_module_and_is_quick():
    probe = _python("-c", "import sys, bakekit.cli; print(sorted(m for m in "
                    "('pandas', 'sqlalchemy', 'pint', 'pandera', 'numpy') if m in sys.modules))")
    assert probe.stdout.strip() == "[]", probe.stderr
    start = time.perf_counter()
    result = _python("-m", "bakekit.cli", "--help")
    elapsed = time.perf_counter() - start
    assert result.returncode == 0 and "Usage" in result.stdout
    assert elapsed < 3, elapsed  # ~0.25 s unloaded; generous for a shared, busy machine


def test_a_real_process_exits_with_the_documented_codes(tmp_path):
    usage = _python("-m", "bakekit.cli", "levels", "--bogus")
    assert usage.returncode == EXIT_USAGE
    missing = _python("-m", "bakekit.cli", "levels", "--url", str(tmp_path / "x.db"))
    assert missing.returncode == EXIT_ERROR and "Traceback" not in missing.stderr
    assert missing.stdout == "" and not (tmp_path / "x.db").exists()
    plan = _python("-m", "bakekit.cli", "apply", str(tmp_path / "nosuch.json"), "--url",
                   str(tmp_path / "x.db"))
    assert plan.returncode == EXIT_ERROR and len(plan.stderr.strip().splitlines()) == 1


def test_reconcile_save_plan_writes_nothing_and_the_plan_applies_once(db, tmp_path):
    plan = tmp_path / "prices.json"
    saved = run("reconcile", str(PRICES), "--url", db, "--save-plan", str(plan))
    assert saved.exit_code == 0, saved.output
    assert "4 changed" in run("reconcile", str(PRICES), "--url", db).output  # nothing written
    assert run("apply", str(plan), "--url", db).exit_code == 0
    assert "4 changed" not in run("reconcile", str(PRICES), "--url", db).output
    assert run("apply", str(plan), "--url", db).exit_code == EXIT_ALREADY_APPLIED
    both = run("reconcile", str(PRICES), "--url", db, "--apply", "--save-plan", str(plan))
    assert both.exit_code == EXIT_USAGE


def test_a_table_fits_a_narrow_terminal(db):
    result = run("reconcile", str(PRICES), "--url", db, env={"COLUMNS": "60"})
    assert result.exit_code == 0, result.output
    table = result.stdout.split("9 row(s):")[0]  # the summary lines after it are prose
    assert max(len(line.rstrip()) for line in table.splitlines()
               if not line.startswith("database: ")) <= 60
    assert "more column(s) not shown" in result.stdout


def test_numbers_are_for_people_and_completion_offers_the_kinds():
    from bakekit.cli import complete_kind, number

    assert number(11340.0) == "11,340" and number(1335.9710504) == "1,335.97"
    assert number(0.960317) == "0.9603" and number(4.6977) == "4.698"
    assert number(float("nan")) == "" and number(None) == ""
    assert complete_kind("inv") == ["inventory_count"] and len(complete_kind("")) == 4


def test_the_first_time_message_names_the_default_location(tmp_path, monkeypatch):
    import platformdirs

    monkeypatch.delenv("BAKEKIT_URL", raising=False)
    monkeypatch.setattr(platformdirs, "user_data_dir", lambda *a, **k: str(tmp_path / "data"))
    result = run("levels")
    assert result.exit_code == EXIT_ERROR
    assert f"no database yet at the default location {tmp_path / 'data' / 'bakery.db'}" \
        in result.output and "First time?" in result.output
    assert not (tmp_path / "data").exists()
