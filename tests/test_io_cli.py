"""The io CLI commands: import, export, reconcile --kind K [--apply]."""

from __future__ import annotations

import json

import pandas as pd
from typer.testing import CliRunner

from bakekit.cli import EXIT_INVALID, EXIT_USAGE, app
from tests.support.data import small_file


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


def test_import_prints_unused_fields_and_notes(tmp_path):
    from tests.support.data import exporter_form

    runner = CliRunner()
    db = str(tmp_path / "b.db")
    path = tmp_path / "export.json"
    path.write_text(json.dumps(exporter_form(priced=False)))
    result = runner.invoke(app, ["import", str(path), "--url", db])
    assert result.exit_code == 0, result.output
    assert "156 price(s) of 0 read as not known yet" in result.output
    assert "156 lot(s) without a price" in result.output
    assert "not used from products: is_hidden, package_type" in result.output
    assert "not used from inventory_items: notes" in result.output  # lots keep no notes


def test_reconcile_reads_the_kind_from_the_file_and_a_refusal_exits_non_zero(tmp_path):
    from tests.support.data import BAKE_TRACKER_DATA

    runner = CliRunner()
    db = str(tmp_path / "b.db")
    full = json.loads((BAKE_TRACKER_DATA / "sample_data_all_v4.2.json").read_text())
    (tmp_path / "ing.json").write_text(json.dumps({"version": "4.2",
                                                   "ingredients": full["ingredients"]}))
    assert runner.invoke(app, ["import", str(tmp_path / "ing.json"), "--url", db]).exit_code == 0
    view = str(BAKE_TRACKER_DATA / "old_view_products.json")
    result = runner.invoke(app, ["import", view, "--url", db])
    assert result.exit_code == EXIT_INVALID
    lines = [x for x in result.output.splitlines() if x.startswith("error")]
    assert len(lines) == 1 and "products view" in lines[0] and "reconcile" in lines[0]
    result = runner.invoke(app, ["reconcile", view, "--apply", "--url", db])
    assert result.exit_code == 0, result.output
    assert "Reconciliation (products from a view products file)" in result.output
    assert "not used from the records: date_added" in result.output
    result = runner.invoke(app, ["reconcile", view, "--url", db])
    assert "unchanged" in result.output and " new " not in result.output
    result = runner.invoke(app, ["reconcile", view, "--kind", "prices", "--url", db])
    assert result.exit_code == EXIT_INVALID and "kind: 'prices'" in result.output


def test_a_bad_duplicates_value_is_a_usage_error_naming_the_option(tmp_path):
    path = tmp_path / "small.json"
    path.write_text(json.dumps(small_file()))
    db = str(tmp_path / "b.db")
    result = CliRunner().invoke(app, ["import", str(path), "--url", db,
                                      "--duplicates", "newest"])
    assert result.exit_code == EXIT_USAGE, result.output
    assert "--duplicates newest: not one of refuse, first, last" in result.output
    assert not (tmp_path / "b.db").exists()  # nothing opened, nothing created
