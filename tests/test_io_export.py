"""ws.io.export / ws.io.load: the whole database round-trips through bakekit JSON."""

from __future__ import annotations

import json

import pytest

import bakekit
from bakekit.errors import ImportValidationError, ValidationError
from tests.support.data import BAKE_TRACKER_DATA, small_file


def _strip(path):
    doc = json.loads(path.read_text())
    doc.pop("exported_at")
    return doc


def test_export_load_export_is_identical(bakery, tmp_path):
    with bakery.session() as ws:
        ws.io.import_bake_tracker(small_file())
        ws.inventory.consume("flour", 1, "cup", reason="test bake")
        ws.io.import_bake_tracker(BAKE_TRACKER_DATA / "sample_data_v3.4.json")
        ws.commit()
        counts = ws.io.export(tmp_path / "a.json")
    assert counts["movements"] >= 3
    other = bakekit.open(tmp_path / "other.db")
    with other.session() as ws:
        report = ws.io.load(tmp_path / "a.json")
        assert report.counts("lots")["created"] == counts["lots"]
        assert ws.inventory.audit().empty
        ws.commit()
        ws.io.export(tmp_path / "b.json")
    other.dispose()
    a, b = _strip(tmp_path / "a.json"), _strip(tmp_path / "b.json")
    assert a == b
    assert a["format"] == "bakekit" and a["version"] == 1
    assert "id" not in a["tables"]["lots"][0]


def test_load_refuses_a_non_empty_database_and_bad_files(bakery, tmp_path):
    with bakery.session() as ws:
        ws.io.import_bake_tracker(small_file())
        ws.io.export(tmp_path / "a.json")
        with pytest.raises(ValidationError, match="not empty"):
            ws.io.load(tmp_path / "a.json")
    (tmp_path / "bad.json").write_text('{"format": "bakekit", "version": 99}')
    with bakery.session() as ws, pytest.raises(ImportValidationError):
        ws.io.load(tmp_path / "bad.json")
    (tmp_path / "twice.json").write_text('{"format": "bakekit", "version": 1, '
                                         '"tables": {}, "version": 2}')
    with bakery.session() as ws, pytest.raises(ImportValidationError) as info:
        ws.io.load(tmp_path / "twice.json")
    assert list(info.value.errors["field"]) == ["version"]
    assert info.value.errors["value"].iloc[0] == "1, 2"
