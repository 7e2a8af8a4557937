"""The io CLI commands: import, export, reconcile --kind K [--apply]."""

from __future__ import annotations

import json

import pandas as pd
from typer.testing import CliRunner

from bakekit.cli import app
from tests.test_io_import import small_file


def test_import_export_reconcile(tmp_path):
    runner = CliRunner()
    db = str(tmp_path / "b.db")
    (tmp_path / "bt.json").write_text(json.dumps(small_file()))
    result = runner.invoke(app, ["import", str(tmp_path / "bt.json"), "--url", db])
    assert result.exit_code == 0, result.output
    assert "inventory_items" in result.output
    pd.DataFrame([{"item": "flour", "counted": 3, "unit": "lb"}]).to_csv(
        tmp_path / "count.csv", index=False)
    result = runner.invoke(app, ["reconcile", str(tmp_path / "count.csv"), "--kind",
                                 "inventory_count", "--apply", "--url", db])
    assert result.exit_code == 0, result.output
    assert "changed" in result.output
    result = runner.invoke(app, ["export", str(tmp_path / "out.json"), "--url", db])
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "out.json").read_text())
    assert any(m["reason"] == "stock count" for m in doc["tables"]["movements"])
