"""The merge rules (DESIGN.md section 5, docs/api.md "Merge rules"): real bake-tracker
files merged one after another lose nothing and link everything, and what a review or an
apply reports is what the database shows afterwards (issue 29, one test per point)."""

from __future__ import annotations

from decimal import Decimal

from tests.support.bt_files import (
    inventory_file,
    priced_purchases_view,
    priced_value,
    real,
    scalar,
    stock_state,
    write,
)


def _full_export_then_views(ws, tmp_path):
    """A full export, its products view, then the inventory file naming products and
    purchases by bake-tracker id (the items match the lots the export made)."""
    ws.io.import_bake_tracker(real("sample_data_all_v4.2.json"))
    ws.io.reconcile(real("old_view_products.json")).apply()
    return ws.io.import_bake_tracker(write(tmp_path, inventory_file(), "inventory.json"))


def test_an_inventory_item_naming_its_purchase_links_the_lot_it_matched(bakery, tmp_path):
    with bakery.session() as ws:
        report = _full_export_then_views(ws, tmp_path)
        state = stock_state(ws)
        assert report.counts("inventory_items")["created"] == 0  # every item matched a lot
        assert state["lots"] == 156 and state["unlinked_lots"] == 0
        view = write(tmp_path, priced_purchases_view(), "purchases_view.json")
        review = ws.io.reconcile(view)
        assert (review.frame["status"] == "changed").sum() == 156
        review.apply()
        after = stock_state(ws)
        assert after["priced_purchases"] == 156
        assert after["uncosted_lots"] == 0  # told "costed": costed
        assert abs(after["value"] - priced_value()) <= Decimal("0.01") * 156
        again = ws.io.reconcile(view)
        assert set(again.frame["status"]) == {"unchanged"}
        ws.commit()


def test_a_placeholder_price_never_erases_a_merged_price(bakery, tmp_path):
    inventory = write(tmp_path, inventory_file(), "inventory.json")
    with bakery.session() as ws:
        _full_export_then_views(ws, tmp_path)
        ws.io.reconcile(write(tmp_path, priced_purchases_view(), "view.json")).apply()
        before = stock_state(ws)
        costs = scalar(ws, "SELECT SUM(unit_cost) FROM purchases")
        report = ws.io.import_bake_tracker(inventory)  # "0.0000": not known, not zero
        assert report.counts("purchases")["updated"] == 0
        assert report.counts("purchases")["unchanged"] == 156
        assert stock_state(ws) == before
        assert scalar(ws, "SELECT SUM(unit_cost) FROM purchases") == costs
        ws.commit()
