"""Analyst reads over history: posted_on, levels/valuation as of a date, ws.reports.

Every expectation below is worked out by hand from the small history of ``history``:

    2025-01-10  buy flour-5lb  x1 at  6.00   lot A: 5 lb   at 1.20/lb
    2025-01-10  buy butter-1lb x2 at  4.00   lot B: 2 lb   at 4.00/lb
    2025-01-20  consume 2 lb flour "bake"    A: 5 -> 3   (cost 2.40)
    2025-02-15  buy flour-25lb x1 at 20.00   lot C: 25 lb  at 0.80/lb
    2025-02-20  produce 2 batches shortbread (1 lb flour + 0.5 lb butter a batch)
                A: 3 -> 1 (2.40), B: 2 -> 1 (4.00); lot D: 20 cookies at 0.32
    2025-03-01  buy flour-32oz x1 at  3.00   lot E: 32 oz  at 0.09375/oz (2 lb)
    2025-03-10  reverse the run              A: 1 -> 3, B: 1 -> 2, D: 20 -> 0
    2025-03-15  count lot C at 24 lb         C: 25 -> 24 (-0.80) "count"
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import insert, select

import bakekit
from bakekit.db import tables
from bakekit.errors import NotFoundError, ValidationError
from tests.support.atomic import counting


def _catalog(ws: bakekit.Workspace) -> None:
    c = ws.catalog
    c.add_supplier("Costco")
    c.add_ingredient("flour", "Flour", density="1 cup = 4.25 oz")
    c.add_ingredient("butter", "Butter", density="1 cup = 8 oz")
    c.add_ingredient("box", "Tin", is_packaging=True)
    c.add_product("flour-5lb", "flour", brand="KA", name="Flour 5 lb", package_quantity=5,
                  package_unit="lb")
    c.add_product("flour-25lb", "flour", brand="Kirkland", name="Flour 25 lb",
                  package_quantity=25, package_unit="lb", supplier="Costco")
    c.add_product("flour-32oz", "flour", brand="Gold", name="Flour 32 oz",
                  package_quantity=32, package_unit="oz")
    c.add_product("butter-1lb", "butter", brand="KG", name="Butter 1 lb", package_quantity=1,
                  package_unit="lb")
    c.add_product("box-10", "box", brand="Acme", name="Tins (10)", package_quantity=10,
                  package_unit="each")
    ws.recipes.add("shortbread", "Shortbread",
                   ingredients=[("flour", 1, "lb"), ("butter", 0.5, "lb")],
                   finished_units=[("shortbread-cookie", "Shortbread cookie", 10, "each")])


@pytest.fixture
def history(bakery: bakekit.Bakery) -> bakekit.Bakery:
    with bakery.session() as ws:
        _catalog(ws)
        inv = ws.inventory
        inv.purchase("flour-5lb", packages=1, unit_cost=6.00, purchased_on="2025-01-10")
        inv.purchase("butter-1lb", packages=2, unit_cost=4.00, purchased_on="2025-01-10")
        inv.consume("flour", 2, "lb", reason="bake", on="2025-01-20")
        lot_c = inv.purchase("flour-25lb", packages=1, unit_cost=20.00,
                             purchased_on="2025-02-15").lot_id
        run = ws.production.record("shortbread-cookie", batches=2,
                                   produced_at="2025-02-20T09:00:00")
        inv.purchase("flour-32oz", packages=1, unit_cost=3.00, purchased_on="2025-03-01")
        ws.production.reverse(run.run_id, on="2025-03-10")
        inv.adjust(lot_c, 24, "lb", reason="count", on="2025-03-15")
        ws.commit()
    return bakery


def _level(ws: bakekit.Workspace, item: str, as_of: str) -> tuple[float, str, float] | None:
    levels = ws.inventory.levels(as_of=as_of).set_index("item")
    if item not in levels.index:
        return None
    row = levels.loc[item]
    return round(float(row["on_hand"]), 6), str(row["unit"]), round(float(row["value"]), 6)


# -- posted_on ------------------------------------------------------------------------------
def test_every_ledger_row_carries_its_business_date(history):
    with history.session() as ws:
        moves = ws.inventory.movements()
        got = [(r.item, r.reason, round(r.quantity, 6), r.posted_on.date().isoformat())
               for r in moves.itertuples()]
    assert sorted(got, key=lambda r: (r[3], r[0], r[1])) == [
        ("butter", "purchase", 2.0, "2025-01-10"),
        ("flour", "purchase", 5.0, "2025-01-10"),
        ("flour", "bake", -2.0, "2025-01-20"),
        ("flour", "purchase", 25.0, "2025-02-15"),
        ("butter", "production", -1.0, "2025-02-20"),
        ("flour", "production", -2.0, "2025-02-20"),
        ("shortbread-cookie", "production", 20.0, "2025-02-20"),
        ("flour", "purchase", 32.0, "2025-03-01"),
        ("butter", "reversal", 1.0, "2025-03-10"),
        ("flour", "reversal", 2.0, "2025-03-10"),
        ("shortbread-cookie", "reversal", -20.0, "2025-03-10"),
        ("flour", "count", -1.0, "2025-03-15"),
    ]


def test_consume_and_adjust_default_to_today(bakery):
    with bakery.session() as ws:
        _catalog(ws)
        lot = ws.inventory.purchase("flour-5lb", unit_cost=6, purchased_on="2025-01-10").lot_id
        ws.inventory.consume("flour", 1, "lb", reason="bake")
        ws.inventory.adjust(lot, 3, "lb", reason="count")
        moves = ws.inventory.movements()
    today = dt.datetime.now(dt.UTC).date()
    assert [d.date() for d in moves["posted_on"]] == [dt.date(2025, 1, 10), today, today]


def test_a_date_before_the_stock_it_takes_is_refused(bakery):
    with bakery.session() as ws:
        _catalog(ws)
        lot = ws.inventory.purchase("flour-5lb", unit_cost=6, purchased_on="2025-01-10").lot_id
        run_date = "2025-02-01T08:00:00"
        with pytest.raises(ValidationError, match="on: 2025-01-09 is before lot") as info:
            ws.inventory.consume("flour", 1, "lb", reason="bake", on="2025-01-09")
        assert info.value.field == "on"
        with pytest.raises(ValidationError, match="on: 2025-01-01"):
            ws.inventory.adjust(lot, 3, "lb", reason="count", on="2025-01-01")
        ws.inventory.purchase("butter-1lb", packages=2, unit_cost=4, purchased_on="2025-01-10")
        run = ws.production.record("shortbread-cookie", batches=1, produced_at=run_date)
        with pytest.raises(ValidationError, match="before run"):
            ws.production.reverse(run.run_id, on="2025-01-31")
        with pytest.raises(ValidationError, match="produced_at: 2025-01-05 is before lot"):
            ws.production.record("shortbread-cookie", batches=1, produced_at="2025-01-05")
        ws.assembly.add_finished_good("tin", "Tin", components=[("shortbread-cookie", 10)])
        with pytest.raises(ValidationError, match="produced_at: 2025-01-31 is before lot"):
            ws.assembly.record("tin", quantity=1, produced_at="2025-01-31")
        with pytest.raises(ValidationError, match="not a date"):
            ws.inventory.consume("flour", 1, "lb", reason="bake", on="last tuesday")
        assert len(ws.inventory.movements()) == 5  # nothing written by the refusals


# -- levels and valuation as of a date --------------------------------------------------------
@pytest.mark.parametrize(("as_of", "flour", "butter", "cookies"), [
    ("2025-01-09", None, None, None),
    ("2025-01-10", (5.0, "lb", 6.0), (2.0, "lb", 8.0), None),                 # purchases
    ("2025-01-20", (3.0, "lb", 3.6), (2.0, "lb", 8.0), None),                 # consumption
    ("2025-02-15", (28.0, "lb", 23.6), (2.0, "lb", 8.0), None),
    ("2025-02-20", (26.0, "lb", 21.2), (1.0, "lb", 4.0), (20.0, "each", 6.4)),  # production
    ("2025-03-01", (28.0, "lb", 24.2), (1.0, "lb", 4.0), (20.0, "each", 6.4)),  # 32 oz bag
    ("2025-03-10", (30.0, "lb", 26.6), (2.0, "lb", 8.0), None),               # reversal
    ("2025-03-15", (29.0, "lb", 25.8), (2.0, "lb", 8.0), None),               # count
])
def test_levels_as_of_the_end_of_a_day(history, as_of, flour, butter, cookies):
    with history.session() as ws:
        assert _level(ws, "flour", as_of) == flour
        assert _level(ws, "butter", as_of) == butter
        assert _level(ws, "shortbread-cookie", as_of) == cookies


def test_levels_as_of_today_equal_the_lots(history):
    with history.session() as ws:
        now = ws.inventory.levels()
        later = ws.inventory.levels(as_of=dt.date(2099, 1, 1))
        pd.testing.assert_frame_equal(now, later)
        assert ws.inventory.audit().empty


def test_valuation_as_of_a_date(history):
    with history.session() as ws:
        before = ws.inventory.valuation(as_of="2025-02-20").set_index("item")
        assert round(float(before.loc["TOTAL", "value"]), 6) == 31.6  # 21.20 + 4.00 + 6.40
        assert list(before.index) == ["flour", "shortbread-cookie", "butter", "TOTAL"]
        empty = ws.inventory.valuation(as_of="2024-12-31")
        assert empty["item"].tolist() == ["TOTAL"] and empty.loc[0, "value"] == 0.0
        with pytest.raises(ValidationError, match="as_of: 'soon' is not a date"):
            ws.inventory.valuation(as_of="soon")


# -- price history ------------------------------------------------------------------------
def test_price_history_per_unit_across_package_sizes(history):
    with history.session() as ws:
        prices = ws.reports.price_history("flour")
        with pytest.raises(NotFoundError):
            ws.reports.price_history("nutmeg")
    got = [(r.product, None if pd.isna(r.supplier) else r.supplier,
            r.purchased_on.date().isoformat(), r.package_price, r.package_quantity,
            r.package_unit, round(r.price_per_unit, 6), r.unit)
           for r in prices.itertuples()]
    assert got == [
        ("flour-5lb", None, "2025-01-10", 6.0, 5.0, "lb", 1.2, "lb"),
        ("flour-25lb", "Costco", "2025-02-15", 20.0, 25.0, "lb", 0.8, "lb"),
        ("flour-32oz", None, "2025-03-01", 3.0, 32.0, "oz", 1.5, "lb"),  # 3.00 / 2 lb
    ]


def test_price_history_uses_the_display_unit_and_skips_unknown_prices(bakery):
    with bakery.session() as ws:
        _catalog(ws)
        ws.catalog.update_ingredient("flour", display_unit="kg")
        ws.inventory.purchase("flour-5lb", unit_cost=6.00, purchased_on="2025-01-10")
        ws.inventory.purchase("flour-5lb", unit_cost=None, purchased_on="2025-01-11")
        prices = ws.reports.price_history()
    assert prices["unit"].tolist() == ["kg"]
    assert round(prices.loc[0, "price_per_unit"], 4) == round(6.0 / (5 * 0.45359237), 4)


# -- usage ------------------------------------------------------------------------------------
def test_usage_per_month_with_fifo_cost(history):
    with history.session() as ws:
        used = ws.reports.usage()
    got = [(r.period.date().isoformat(), r.item, r.reason, round(r.quantity, 6), r.unit,
            round(r.cost, 6)) for r in used.itertuples()]
    assert got == [
        ("2025-01-01", "flour", "bake", 2.0, "lb", 2.4),
        ("2025-02-01", "butter", "production", 1.0, "lb", 4.0),
        ("2025-02-01", "flour", "production", 2.0, "lb", 2.4),
        ("2025-03-01", "butter", "production", -1.0, "lb", -4.0),   # the run reversed
        ("2025-03-01", "flour", "count", 1.0, "lb", 0.8),
        ("2025-03-01", "flour", "production", -2.0, "lb", -2.4),
    ]


def test_usage_between_dates_and_by_quarter(history):
    with history.session() as ws:
        feb = ws.reports.usage("2025-02-01", "2025-02-28")
        assert feb["reason"].tolist() == ["production", "production"]
        quarter = ws.reports.usage(freq="QS")
        flour = quarter[quarter["item"] == "flour"].groupby("reason")["quantity"].sum()
        assert flour.to_dict() == {"bake": 2.0, "count": 1.0}  # production nets to zero
        assert ws.reports.usage("2026-01-01").empty
        with pytest.raises(ValidationError, match="freq: 'monthly' is not a pandas offset"
                                                  ".*MS") as info:
            ws.reports.usage(freq="monthly")
        assert info.value.field == "freq"
        with pytest.raises(ValidationError, match="start"):
            ws.reports.usage("2025-03-01", "2025-01-01")
        with pytest.raises(ValidationError, match="end: 'May' is not a date"):
            ws.reports.usage(end="May")


# -- ageing -----------------------------------------------------------------------------------
def test_aging_buckets_and_values(history):
    with history.session() as ws:
        aged = ws.reports.aging(as_of="2025-03-31")
    got = [(r.item, r.purchased_on.date().isoformat(), r.age_days, r.bucket,
            round(r.remaining, 6), r.unit, round(r.value, 6)) for r in aged.itertuples()]
    assert got == [
        ("flour", "2025-01-10", 80, "31-90", 3.0, "lb", 3.6),
        ("butter", "2025-01-10", 80, "31-90", 2.0, "lb", 8.0),
        ("flour", "2025-02-15", 44, "31-90", 24.0, "lb", 19.2),
        ("flour", "2025-03-01", 30, "0-30", 32.0, "oz", 3.0),
    ]


@pytest.mark.parametrize(("as_of", "buckets"), [
    ("2025-04-01", ["31-90", "31-90", "31-90", "31-90"]),    # the 32 oz bag turns 31
    ("2025-07-09", ["91-180", "91-180", "91-180", "91-180"]),  # the oldest lots are 180
    ("2025-07-10", ["181+", "181+", "91-180", "91-180"]),
    ("2025-02-20", ["31-90", "31-90", "0-30", "0-30"]),       # lot A, B, C, the cookies
])
def test_aging_bucket_edges(history, as_of, buckets):
    with history.session() as ws:
        assert ws.reports.aging(as_of=as_of)["bucket"].tolist() == buckets


def test_aging_today_agrees_with_the_lots(history):
    with history.session() as ws:
        aged = ws.reports.aging()
        lots = ws.inventory.lots()
        assert sorted(aged["lot_id"]) == sorted(lots["lot_id"])
        assert round(aged["value"].sum(), 6) == round(lots["value"].sum(), 6)
        assert (aged["age_days"] == (pd.Timestamp(dt.datetime.now(dt.UTC).date())
                                     - aged["purchased_on"]).dt.days).all()


# -- event cost -------------------------------------------------------------------------------
def test_event_cost_from_stock_and_to_buy(bakery):
    """5 tins of 10 cookies: 5 batches (5 lb flour, 2.5 lb butter) and 5 tins.
    Stock: flour 5 lb at 1.20 (6.00), butter 1 lb at 4.00, tins 2 at 0.50 (1.00) -> 11.00.
    To buy: butter 1.5 lb -> 2 x 4.00, tins 3 -> 1 x 5.00 -> 13.00. The "single" package
    (3 given) takes 3/5 of everything, "double" (1 given, 2 tins) 2/5."""
    with bakery.session() as ws:
        _catalog(ws)
        ws.assembly.add_finished_good("tin", "Tin of shortbread",
                                      components=[("shortbread-cookie", 10), ("box", 1)])
        ws.events.add_package("single", "One tin", contents=[("tin", 1)])
        ws.events.add_package("double", "Two tins", contents=[("tin", 2)])
        ws.events.create("Party", "2025-12-20")
        for name in ("Ann", "Bob", "Cy"):
            ws.events.add_recipient(name)
        ws.events.assign("Party", "Ann", "single", 1)
        ws.events.assign("Party", "Bob", "double", 1)
        ws.events.assign("Party", "Cy", "single", 2)
        ws.inventory.purchase("flour-5lb", unit_cost=6.00, purchased_on="2025-11-01")
        ws.inventory.purchase("butter-1lb", unit_cost=4.00, purchased_on="2025-11-01")
        ws.inventory.purchase("box-10", unit_cost=5.00, purchased_on="2025-11-01")
        ws.inventory.consume("box", 8, "each", reason="other use", on="2025-11-02")
        cost = ws.reports.event_cost("Party")
        with pytest.raises(NotFoundError):
            ws.reports.event_cost("Nope")
    got = [(r.package, r.recipients, r.quantity, round(r.cost_from_stock, 6),
            round(r.cost_to_buy, 6), round(r.total_cost, 6)) for r in cost.itertuples()]
    assert got == [
        ("double", 1, 1.0, 4.4, 5.2, 9.6),
        ("single", 2, 3.0, 6.6, 7.8, 14.4),
        ("TOTAL", 3, 4.0, 11.0, 13.0, 24.0),
    ]


def test_event_cost_of_an_event_without_assignments(bakery):
    with bakery.session() as ws:
        ws.events.create("Quiet", "2025-12-20")
        cost = ws.reports.event_cost("Quiet")
    assert cost["package"].tolist() == ["TOTAL"] and cost.loc[0, "total_cost"] == 0.0


# -- statement counts do not grow with history ------------------------------------------------
def _bulk_history(ws: bakekit.Workspace, n: int) -> None:
    """``n`` purchases of flour, each a lot with its purchase row and one consumption,
    spread over two years (set-based inserts: the size of the history is the point)."""
    from bakekit.db.models.base import new_uuid, utcnow

    product = ws.scalar(select(tables.products.c.id).where(
        tables.products.c.slug == "flour-5lb"))
    flour = ws.scalar(select(tables.ingredients.c.id).where(
        tables.ingredients.c.slug == "flour"))
    now = utcnow()
    days = [dt.date(2024, 1, 1) + dt.timedelta(days=i % 700) for i in range(n)]
    purchases = tables.purchases
    ws.execute(insert(purchases), [
        {"uuid": new_uuid(), "product_id": product, "supplier_id": None, "purchased_on": d,
         "packages": 1, "unit_cost": 5 + i % 7, "created_at": now}
        for i, d in enumerate(days)])
    ids = ws.execute(select(purchases.c.id).order_by(purchases.c.id)).scalars().all()
    lots = tables.lots
    ws.execute(insert(lots), [
        {"uuid": new_uuid(), "kind": "ingredient", "ingredient_id": flour,
         "product_id": product, "purchase_id": pid, "acquired_on": d, "quantity": 5,
         "remaining": 4, "unit": "lb", "unit_cost": 1, "created_at": now}
        for pid, d in zip(ids[-n:], days, strict=True)])
    lot_ids = ws.execute(select(lots.c.id).where(lots.c.purchase_id.isnot(None))
                         .order_by(lots.c.id)).scalars().all()[-n:]
    movements = tables.movements
    ws.execute(insert(movements), [
        {"uuid": new_uuid(), "lot_id": lot, "reason": reason, "quantity": qty, "cost": qty,
         "posted_on": d + dt.timedelta(days=shift), "created_at": now}
        for lot, d in zip(lot_ids, days, strict=True)
        for reason, qty, shift in (("purchase", 5, 0), ("bake", -1, 3))])


READS = {
    "levels": lambda ws: ws.inventory.levels(as_of="2025-06-30"),
    "valuation": lambda ws: ws.inventory.valuation(as_of="2025-06-30"),
    "price_history": lambda ws: ws.reports.price_history("flour"),
    "usage": lambda ws: ws.reports.usage("2024-01-01", "2026-12-31", freq="MS"),
    "aging": lambda ws: ws.reports.aging(as_of="2025-06-30"),
    "event_cost": lambda ws: ws.reports.event_cost("Party"),
}


@pytest.mark.parametrize("read", sorted(READS))
def test_statement_count_does_not_grow_with_history(bakery, read):
    counts = []
    with bakery.session() as ws:
        _catalog(ws)
        ws.events.create("Party", "2025-12-20")
        ws.assembly.add_finished_good("tin", "Tin", components=[("shortbread-cookie", 10)])
        ws.events.add_package("single", "One tin", contents=[("tin", 1)])
        ws.events.add_recipient("Ann")
        ws.events.assign("Party", "Ann", "single", 3)
        for size in (5, 5000):  # 10 and 10,000 more ledger rows
            _bulk_history(ws, size)
            READS[read](ws)  # warm caches (compiled statements)
            with counting(bakery) as c:
                result = READS[read](ws)
            counts.append(c.n_statements)
            assert not result.empty
    assert counts[0] == counts[1], counts


# -- plots ------------------------------------------------------------------------------------
def test_plots_draw_the_reads(history):
    from bakekit.nb import plot_aging, plot_price_history, plot_usage, plot_value_over_time

    with history.session() as ws:
        aging = plot_aging(ws.reports.aging(as_of="2025-07-10"))
        # bucket totals: 181+ holds lots A and B (3.60 + 8.00), 91-180 lots C and E
        heights: dict[str, float] = {}
        for patch, label in zip(aging.axes[0].patches,
                                ["0-30", "31-90", "91-180", "181+"] * 2, strict=True):
            heights[label] = heights.get(label, 0.0) + patch.get_height()
        assert {k: round(v, 6) for k, v in heights.items()} == {
            "0-30": 0.0, "31-90": 0.0, "91-180": 22.2, "181+": 11.6}
        usage = plot_usage(ws.reports.usage())
        assert len(usage.axes[0].patches) == 3 * 2  # 3 months x 2 items
        prices = plot_price_history(ws.reports.price_history())
        assert [ax.get_title() for ax in prices.axes] == ["Butter (per lb)", "Flour (per lb)"]
        value = plot_value_over_time(ws.inventory.valuation, ["2025-01-31", "2025-02-20"])
        assert value.axes[0].lines[0].get_ydata().round(6).tolist() == [11.6, 31.6]
        empty = plot_usage(ws.reports.usage("2030-01-01"))
        assert empty.axes[0].texts[0].get_text() == "nothing left stock in this range"


# -- files and the command line ---------------------------------------------------------------
def test_export_keeps_posted_on_and_an_old_file_gets_the_upgrade_rule(history, tmp_path):
    import json

    with history.session() as ws:
        ws.io.export(tmp_path / "new.json")
        moves = ws.inventory.movements()
    document = json.loads((tmp_path / "new.json").read_text())
    assert all("posted_on" in row for row in document["tables"]["movements"])
    for row in document["tables"]["movements"]:
        del row["posted_on"]  # a file written before the column existed
    (tmp_path / "old.json").write_text(json.dumps(document))
    for name in ("new.json", "old.json"):
        fresh = bakekit.open(str(tmp_path / f"{name}.db"))
        with fresh.session() as ws:
            ws.io.load(tmp_path / name)
            loaded = ws.inventory.movements()
            assert ws.inventory.audit().empty
        fresh.dispose()
        got = dict(zip(loaded["movement_id"], loaded["posted_on"], strict=True))
        typed = moves["created_at"].iloc[0].normalize()
        for r in moves.itertuples():
            row_id = loaded.loc[(loaded["item"] == r.item)
                                & (loaded["quantity"] == r.quantity)
                                & (loaded["reason"] == r.reason), "movement_id"].iloc[0]
            if name == "new.json":
                expected = r.posted_on
            elif r.reason == "reversal" or r.reason in ("bake", "count"):
                expected = typed  # reversed_at / no date held: the day it was typed in
            else:  # purchases: the lot's date; production: the run's date
                expected = r.posted_on
            assert got[row_id] == expected, (name, r)


def test_cli_levels_as_of(history):
    from typer.testing import CliRunner

    from bakekit.cli import app

    result = CliRunner().invoke(app, ["levels", "--url", history.url, "--as-of", "2025-01-20"])
    assert result.exit_code == 0, result.output
    assert "Stock levels at the end of 2025-01-20" in result.output
    assert "flour" in result.output and "shortbread" not in result.output
