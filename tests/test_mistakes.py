"""A clumsy user's mistakes (issue 33, points 8 and 9): each one clear line and the
documented exit code, nothing written, never a traceback. The library half runs on both
backends; the command line in real processes."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

import bakekit
from bakekit.cli import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_INVALID
from bakekit.db import tables
from bakekit.errors import ImportValidationError, InsufficientStockError, ValidationError
from tests.support.data import small_file

ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "bakekit.cli", *args], capture_output=True,
                          text=True, env=env, timeout=180, **kw)


def one_error_line(result: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("error")]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture
def db(demo_path) -> Path:
    return demo_path


def _rows(ws) -> int:
    return sum(ws.scalar(select(func.count()).select_from(t))
               for t in (tables.lots, tables.movements, tables.runs, tables.purchases))


# -- the library, both backends -------------------------------------------------------
def test_quantities_too_small_to_keep_are_refused_not_written_as_nothing(stocked):
    with stocked.session() as ws:
        before = _rows(ws)
        calls = [
            lambda: ws.inventory.purchase("flour-5lb", packages=1e-30, unit_cost=1,
                                          purchased_on="2025-04-01"),
            lambda: ws.inventory.consume("flour", 1e-30, "cup", reason="test"),
            lambda: ws.inventory.consume("flour", "1e-7", "cup", reason="test"),
        ]
        for call in calls:
            with pytest.raises(ValidationError, match="too small"):
                call()
        assert _rows(ws) == before


def test_batches_too_small_and_a_time_before_year_1_are_validation_errors(bakery):
    with bakery.session() as ws:
        ws.catalog.add_ingredient("flour", "Flour")
        ws.recipes.add("bread", "Bread", ingredients=[("flour", 1, "lb")],
                       finished_units=[("loaf", "Loaf", 1, "loaf")])
        with pytest.raises(ValidationError, match="batches: 1e-30 is too small"):
            ws.production.record("loaf", batches=1e-30)
        with pytest.raises(ValidationError, match="produced_at"):
            ws.production.record("loaf", batches=1, produced_at="0001-01-01T00:00+01:00")
        # a date argument takes the local day written in a timestamp (the book rules), so
        # on="0001-01-01T00:00+01:00" is 1 January of year 1: no overflow, a plain date
        with pytest.raises(InsufficientStockError):
            ws.inventory.consume("flour", 1, "lb", reason="x", on="0001-01-01T00:00+01:00")
        assert _rows(ws) == 0


@pytest.mark.parametrize(("text", "reason"), [("Cost\x00co", "NUL"),
                                              ("Cost\ud800co", "lone surrogate")])
def test_text_no_database_can_store_is_refused_by_the_api_and_imports(bakery, text, reason):
    with bakery.session() as ws:
        with pytest.raises(ValidationError, match=reason):
            ws.catalog.add_supplier(text)
        with pytest.raises(ValidationError, match=reason):
            ws.catalog.add_ingredient("flour", text)
        data = small_file()
        data["suppliers"][0]["name"] = text
        with pytest.raises(ImportValidationError) as info:
            ws.io.import_bake_tracker(data)
        assert reason in info.value.errors["reason"].iloc[0]
        assert ws.catalog.suppliers().empty


def test_an_import_refuses_a_name_longer_than_the_api_takes(bakery):
    data = small_file()
    data["ingredients"][0]["display_name"] = "x" * 1_000_000
    with bakery.session() as ws:
        with pytest.raises(ImportValidationError) as info:
            ws.io.import_bake_tracker(data)
        first = info.value.errors.iloc[0]
        assert first["field"] == "display_name" and "longer than 200" in first["reason"]
        assert ws.catalog.ingredients().empty


# -- the command line, real processes ----------------------------------------------------
def test_batches_too_small_on_the_command_line_exits_6(db):
    result = cli("what-if", "produce", "chocolate-chip-cookie", "--batches", "1e-30",
                 "--url", str(db))
    assert result.returncode == EXIT_INVALID
    assert "too small" in one_error_line(result)


@pytest.mark.parametrize("url", ["postgresql://me:s3cret@db:notaport/bakery",
                                 "postgresql://me:s3cret@[::1/bakery"])
def test_a_url_that_does_not_parse_is_one_line_exit_1(url):
    result = cli("levels", "--url", url)
    assert result.returncode == EXIT_ERROR
    line = one_error_line(result)
    assert "is not a database URL" in line and "s3cret" not in line


@pytest.mark.parametrize("args", [("import", "-"), ("load", "-"), ("apply", "-")])
def test_dash_with_stdin_closed_is_one_line_exit_1(db, tmp_path, args):
    result = subprocess.run(
        f"{sys.executable} -m bakekit.cli {' '.join(args)} --url {tmp_path / 'new.db'} <&-",
        shell=True, capture_output=True, text=True, timeout=180,
        env={**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"})
    assert result.returncode == EXIT_ERROR
    assert "standard input, which is closed" in one_error_line(result)
    assert not (tmp_path / "new.db").exists()


@pytest.mark.parametrize("delay", [0.15, 0.3, 0.45])  # `levels` takes ~0.6 s
def test_ctrl_c_while_the_command_loads_exits_130_without_a_traceback(db, delay):
    proc = subprocess.Popen([sys.executable, "-m", "bakekit.cli", "levels", "--url", str(db)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"})
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    err = proc.stderr.read().decode()
    proc.stderr.close()
    code = proc.wait(timeout=60)
    if code == 0:
        pytest.skip("the command finished before the interrupt")
    assert code == EXIT_INTERRUPTED, err
    assert "Traceback" not in err and "interrupted" in err


# -- plan files ------------------------------------------------------------------------
def _jq(value):
    """What ``jq .`` does to a number: a whole float is written as an integer."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _jq(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jq(v) for v in value]
    return value


def _plan_text(stocked) -> str:
    with stocked.what_if() as ws:
        ws.inventory.consume("flour", 2.0, "cup", reason="test")
    return ws.plan.to_json()


def test_a_plan_re_indented_by_jq_still_applies(stocked):
    import json

    text = _plan_text(stocked)
    document = json.loads(text)
    assert "2.0" in text  # there is a whole float for jq to rewrite
    rewritten = json.dumps(_jq(document), indent=2)
    assert rewritten != json.dumps(document, indent=2)
    plan = bakekit.Plan.from_json(rewritten, stocked)
    assert len(plan.apply()) >= 1


@pytest.mark.parametrize("forged", ["Infinity", "-Infinity", "NaN", "1e400"])
def test_a_plan_with_a_number_that_is_not_finite_is_refused(stocked, forged):
    import json

    from bakekit.errors import InvalidPlanError

    document = json.loads(_plan_text(stocked))
    document["summary"][0]["before"] = "FORGED"
    text = json.dumps(document).replace('"FORGED"', forged)
    with pytest.raises(InvalidPlanError, match="not valid JSON"):
        bakekit.Plan.from_json(text, stocked)


def test_a_select_only_role_applying_a_plan_gets_read_only_error(stocked):
    from bakekit.errors import ReadOnlyError
    from tests.support.backends import select_only_role

    if stocked.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL roles: the SQLite half is covered by read_only=True")
    plan_text = _plan_text(stocked)
    with select_only_role(stocked.url) as url:
        analyst = bakekit.open(url)
        try:
            with pytest.raises(ReadOnlyError, match="refused the write") as info:
                bakekit.Plan.from_json(plan_text, analyst).apply()
            assert "INSERT" not in str(info.value) and "[SQL" not in str(info.value)
        finally:
            analyst.dispose()


def test_a_wal_database_on_a_read_only_file_system_is_read_and_a_write_says_why(demo_file,
                                                                                tmp_path):
    """Reads work (the database opened immutable: a read-only file system cannot hold the
    -shm file WAL needs); a write is one line naming the read-only file system."""
    mount = tmp_path / "ro"
    mount.mkdir()
    if os.geteuid() != 0 or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=20m", "tmpfs", str(mount)],
            capture_output=True).returncode != 0:
        pytest.skip("mounting a read-only file system needs root and mount rights")
    try:
        shutil.copy(demo_file, mount / "demo.db")
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        levels = cli("levels", "--url", str(mount / "demo.db"), "-f", "csv")
        assert levels.returncode == 0, levels.stderr
        assert "flour-ap" in levels.stdout
        write = cli("reconcile", str(ROOT / "data" / "price-list.csv"), "--apply", "--url",
                    str(mount / "demo.db"))
        assert write.returncode == EXIT_ERROR
        assert "read-only file system" in one_error_line(write)
    finally:
        subprocess.run(["umount", str(mount)], capture_output=True)
