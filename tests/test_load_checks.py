"""`ws.io.load` / `bakekit load` check what they read as an import does: numbers finite, in
range and not negative where a quantity or price cannot be, known units, valid text, nothing
required missing, every lot with its ledger rows and equal to them. A file with any problem
is refused whole, its first problems named; nothing is written; a file that loads leaves a
database that passes ``audit()``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

import bakekit
from bakekit.cli import EXIT_INVALID
from bakekit.db import tables
from bakekit.errors import ImportValidationError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def export_text(tmp_path_factory) -> str:
    """The demo database with some production and a consumption, exported."""
    path = tmp_path_factory.mktemp("export") / "demo.json"
    bakery = bakekit.demo()
    try:
        with bakery.session() as ws:
            ws.production.record("chocolate-chip-cookie", batches=1)
            ws.inventory.consume("flour-ap", 1, "cup", reason="test")
            ws.commit()
            ws.io.export(path)
    finally:
        bakery.dispose()
    return path.read_text(encoding="utf-8")


def _lot_with_moves(doc: dict[str, Any], at_least: int) -> tuple[dict[str, Any], list[dict]]:
    lots = doc["tables"]["lots"]
    for lot in lots:
        moves = [m for m in doc["tables"]["movements"] if m["lot_id"] == lot["uuid"]]
        if len(moves) >= at_least and lot["kind"] == "ingredient":
            return lot, moves
    raise AssertionError("no such lot")


def _remaining_off(doc):
    lot, _ = _lot_with_moves(doc, 2)
    lot["remaining"] = float(lot["remaining"]) + 0.5


def _no_movements(doc):
    doc["tables"]["movements"] = []


def _cut_short(doc):
    _, moves = _lot_with_moves(doc, 2)
    doc["tables"]["movements"].remove(moves[-1])


def _set(table: str, field: str, value: Any) -> Callable[[dict], None]:
    def change(doc):
        doc["tables"][table][0][field] = value
    return change


def _drop(table: str, field: str) -> Callable[[dict], None]:
    def change(doc):
        del doc["tables"][table][0][field]
    return change


CORRUPTIONS: dict[str, tuple[Callable[[dict], None], str, str]] = {
    # name: (change, field named first, words of its reason)
    "remaining differs from the ledger": (_remaining_off, "remaining", "differs from its ledger"),
    "no movements": (_no_movements, "uuid", "no ledger rows"),
    "movements cut short": (_cut_short, "remaining", "differs from its ledger"),
    "a negative cost": (_set("lots", "unit_cost", -1.5), "unit_cost", "negative"),
    "a negative quantity": (_set("products", "package_quantity", -5), "package_quantity",
                            "negative"),
    "Infinity": (_set("lots", "quantity", float("inf")), "quantity", "not a finite number"),
    "NaN": (_set("lots", "remaining", float("nan")), "remaining", "not a finite number"),
    "sNaN": (_set("lots", "unit_cost", "sNaN"), "unit_cost", "not a finite number"),
    "1e400": (_set("purchases", "unit_cost", "1e400"), "unit_cost", "not a finite number"),
    "1e30": (_set("purchases", "unit_cost", 1e30), "unit_cost", "out of range"),
    "an unknown unit": (_set("products", "package_unit", "furlong"), "package_unit",
                        "unknown unit"),
    "a lone surrogate": (_set("suppliers", "name", "Cost\ud800co"), "name", "lone surrogate"),
    "a name too long": (_set("ingredients", "name", "x" * 1_000_000), "name", "longer than"),
    "a required field missing": (_drop("lots", "quantity"), "quantity", "missing"),
    "a quantity that is text": (_set("lots", "quantity", "lots"), "quantity", "not a number"),
}


def _corrupt(text: str, name: str) -> str:
    doc = json.loads(text)
    CORRUPTIONS[name][0](doc)
    out = json.dumps(doc)
    return out.replace('"1e400"', "1e400")  # a number too large for a float, as written


@pytest.mark.parametrize("name", list(CORRUPTIONS))
def test_load_refuses_a_corrupt_file_whole(bakery, export_text, tmp_path, name):
    path = tmp_path / "corrupt.json"
    path.write_text(_corrupt(export_text, name), encoding="utf-8")
    _, field, reason = CORRUPTIONS[name]
    with bakery.session() as ws:
        with pytest.raises(ImportValidationError) as info:
            ws.io.load(path)
        first = info.value.errors.iloc[0]
        assert first["field"] == field, info.value.errors
        assert reason in first["reason"], info.value.errors
        assert first["row"] is not None
        # nothing was written
        assert ws.scalar(select(func.count()).select_from(tables.lots)) == 0
        assert ws.scalar(select(func.count()).select_from(tables.ingredients)) == 0


def test_a_good_export_loads_and_passes_the_audit(bakery, export_text, tmp_path):
    path = tmp_path / "good.json"
    path.write_text(export_text, encoding="utf-8")
    with bakery.session() as ws:
        report = ws.io.load(path)
        assert report.counts("lots")["created"] > 0
        assert ws.inventory.audit().empty
        ws.inventory.levels()


@pytest.mark.parametrize("name", ["Infinity", "a lone surrogate", "movements cut short"])
def test_bakekit_load_of_a_corrupt_file_exits_6_and_creates_nothing(export_text, tmp_path,
                                                                     name):
    path = tmp_path / "corrupt.json"
    path.write_text(_corrupt(export_text, name), encoding="utf-8")
    target = tmp_path / "new.db"
    result = subprocess.run(
        [sys.executable, "-m", "bakekit.cli", "load", str(path), "--url", str(target)],
        capture_output=True, text=True, timeout=180,
        env={**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"})
    assert result.returncode == EXIT_INVALID, result.stderr
    assert "Traceback" not in result.stderr
    assert any(line.startswith("error: load of") for line in result.stderr.splitlines())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corrupt.json"]
