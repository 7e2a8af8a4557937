"""Reconciliation of spreadsheets against the database: price lists, purchases, stock counts.

``reconcile`` reads and reviews (one row per input row, status new / changed / unchanged /
missing / conflict / invalid); ``apply`` writes the new and changed rows set-based.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import bindparam, insert, select, update

from bakekit import costing, stock
from bakekit.areas.inventory import Inventory
from bakekit.checks import as_date, today
from bakekit.db import tables
from bakekit.db.models.base import new_uuid, utcnow
from bakekit.errors import NotFoundError, ValidationError
from bakekit.io import bt_view_stock, bt_views, reconcile_prices
from bakekit.io._sync import Checker, Problems, Tally, num
from bakekit.io.tabular import (
    _bar,
    _given,
    _records,
    read_source,
    require_columns,
    review_frame,
)
from bakekit.results import ImportReport, Reconciliation
from bakekit.units import factor, money, normalize_unit, q

if TYPE_CHECKING:  # pragma: no cover
    from bakekit.operations import Workspace

KINDS = ("prices", "purchases", "inventory_count", "products")

#: the review frame's columns per kind (also when the input has no rows)
REVIEW_COLUMNS = {
    "prices": reconcile_prices.REVIEW_COLUMNS,
    "purchases": ("row", "status", "message", "product", "packages", "unit_cost",
                  "purchased_on", "supplier", "location", "notes", "purchase_id",
                  "old_unit_cost", "lot_ids", "external_id", "external_uuid"),
    "inventory_count": ("row", "status", "message", "item", "counted", "unit", "on_hand",
                        "variance", "variance_value", "lot_id", "external_id",
                        "external_uuid"),
    "products": bt_views.PRODUCT_COLUMNS,
}
#: required columns per kind (each with the names accepted for it)
REQUIRED_COLUMNS = {
    "purchases": {"product": ("product",), "purchased_on": ("purchased_on", "date")},
    "inventory_count": {"item": ("item", "product", "ingredient"),
                        "counted": ("counted", "quantity", "count"), "unit": ("unit",)},
}



def reconcile(ws: Workspace, area: Any, source: Any, kind: str | None = None
              ) -> Reconciliation:
    """Review ``source`` against the database (see IO.reconcile)."""
    if kind is not None and kind not in KINDS:
        raise ValidationError(f"kind: {kind!r} is not one of {', '.join(KINDS)}", field="kind",
                              value=kind)
    data = bt_views.read_json(source)
    if data is not None and bt_views.describe(data) is not None:
        said = bt_views.kind_of(data, kind, source)
        assert said is not None
        return _reconcile_bt_file(ws, area, data, said, source)
    if isinstance(data, dict) and any(k in data for k in ("ingredients", "products",
                                                           "purchases", "inventory_items")):
        raise ValidationError(f"source: {str(source)!r} is a bake-tracker export, not a "
                              "table to reconcile: import it with ws.io.import_bake_tracker "
                              "(`bakekit import FILE`)", field="source", value=str(source))
    kind = kind or "prices"
    if kind == "products":
        raise ValidationError(f"kind: 'products' reads a bake-tracker products view "
                              f"(view_type 'products'); {str(source)!r} is not one",
                              field="kind", value=kind)
    table_ = read_source(source)
    if kind == "purchases":
        return _review(kind, _purchases(ws, table_), area)
    frame = {"prices": reconcile_prices.review_prices,
             "inventory_count": _counts}[kind](ws, table_)
    return Reconciliation(kind=kind, frame=frame, _area=area)


#: the columns of each kind's review rows that the frame holds as floats
FLOAT_COLUMNS = ("packages", "unit_cost", "package_quantity", "counted")


def _review(kind: str, rows: list[dict[str, Any]], area: Any, **about: Any
            ) -> Reconciliation:
    """A reconciliation of review rows, its frame built from them when first read (by the
    analyst, or by ``apply``, which writes what the frame holds)."""
    return Reconciliation(kind=kind, frame=lambda: review_frame(
        rows, REVIEW_COLUMNS[kind], floats=FLOAT_COLUMNS), _area=area, **about)


def _reconcile_bt_file(ws: Workspace, area: Any, data: dict[str, Any], kind: str,
                       source: Any) -> Reconciliation:
    """Review a bake-tracker view or bt_mobile file (its kind read from the file)."""
    family, type_, rows, header, editable = bt_views.load_view(data, source)
    if kind == "products":
        out = bt_views.review_products(ws, rows, editable)
    elif kind == "purchases":
        out = bt_view_stock.review_purchases(ws, family, rows, header)
    else:
        out = bt_view_stock.review_inventory(ws, family, rows, editable)
    return _review(kind, out, area,
                   unknown_fields=tuple(bt_views.unused_fields(family, type_, rows)),
                   source_format=f"{family} {type_}")


# -- purchases -----------------------------------------------------------------------------------
def _purchases(ws: Workspace, data: pd.DataFrame) -> list[dict[str, Any]]:
    require_columns(data, "purchases", REQUIRED_COLUMNS["purchases"])
    p, s, pur = tables.products, tables.suppliers, tables.purchases
    products = {r.slug: r for r in ws.execute(select(p.c.id, p.c.slug, p.c.package_quantity,
                                                     p.c.package_unit, p.c.ingredient_id,
                                                     p.c.supplier_id))}
    suppliers = {r.name: int(r.id) for r in ws.execute(select(s.c.id, s.c.name))}
    have: dict[tuple, list[Any]] = defaultdict(list)
    for r in ws.execute(select(pur.c.id, pur.c.product_id, pur.c.purchased_on, pur.c.packages,
                               pur.c.unit_cost).order_by(pur.c.id)):  # oldest first, everywhere
        have[(int(r.product_id), as_date(r.purchased_on), num(r.packages))].append(r)
    problems = Problems()
    out = []
    for n, rec in enumerate(_bar(_records(data), "purchases")):
        c = Checker(problems, "purchases", n)
        slug = c.text(rec, "product", required=True)
        packages = c.number(rec, "packages", positive=True) or Decimal(1)
        cost = c.number(rec, "unit_cost", non_negative=True, alternatives=("price",))
        on = c.date(rec, "purchased_on", required=True, alternatives=("date",))
        supplier = c.text(rec, "supplier")
        row: dict[str, Any] = {"row": n, "product": slug, "packages": packages, "unit_cost": cost,
               "purchased_on": on, "supplier": supplier, "location": c.text(rec, "location"),
               "notes": c.text(rec, "notes")}
        if not c.ok:
            bad = [x for x in problems.rows if x["row"] == n]
            out.append({**row, "status": "invalid", "message": "; ".join(
                bt_views.problem_text(x) for x in bad)})
            continue
        if slug not in products:
            out.append({**row, "status": "missing", "message": f"unknown product {slug!r}"})
            continue
        if supplier is not None and supplier not in suppliers:
            out.append({**row, "status": "missing", "message": f"unknown supplier {supplier!r}"})
            continue
        same = have.get((int(products[slug].id), on, num(packages)), [])
        if not same:
            out.append({**row, "status": "new", "message": "new purchase"})
            continue
        match = next((x for x in same if x.unit_cost is not None and cost is not None
                      and Decimal(x.unit_cost) == cost), None)
        if match is not None or (cost is None and any(x.unit_cost is None for x in same)):
            out.append({**row, "status": "unchanged", "purchase_id": int(same[0].id),
                        "message": "equals an existing purchase"})
        elif cost is not None and any(x.unit_cost is None for x in same):
            target = next(x for x in same if x.unit_cost is None)
            out.append({**row, "status": "changed", "purchase_id": int(target.id),
                        "old_unit_cost": None,
                        "message": "the existing purchase had no price: price and lot cost"})
        else:
            out.append({**row, "status": "conflict", "purchase_id": int(same[0].id),
                        "old_unit_cost": float(same[0].unit_cost) if same[0].unit_cost
                        is not None else None,
                        "message": "a purchase of this product, day and count has another "
                                   "price"})
    return out


#: the columns of a purchases review that its apply reads
_PURCHASE_INPUT = ("status", "product", "packages", "unit_cost", "purchased_on", "supplier",
                   "location", "notes", "purchase_id", "lot_ids", "external_id",
                   "external_uuid")


def apply_purchases(ws: Workspace, frame: pd.DataFrame, tally: Tally) -> None:
    """Write a purchases review's frame as the analyst left it: price the purchases and
    lots its changed rows name, create its new ones, remember the matched rows' ids."""
    rows = _records(frame, _PURCHASE_INPUT)
    by_status: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for r in rows:
        by_status[r["status"]].append(r)
    changed, new = by_status["changed"], by_status["new"]
    tally.add("purchases", "read", len(rows))
    tally.add("purchases", "unchanged", len(by_status["unchanged"]))
    tally.add("purchases", "skipped", len(rows) - len(changed) - len(new)
              - len(by_status["unchanged"]))
    priced = {int(r["purchase_id"]): r["unit_cost"] for r in changed
              if _given(r.get("purchase_id")) is not None}
    filled = bt_view_stock.fill_view_lots(ws, changed)
    if filled:
        tally.add("purchases", "updated", len(changed) - len(priced))
        tally.reason("purchases", f"{filled} uncosted lot(s) priced")
    bt_view_stock.remember_rows(ws, rows, "purchases", "purchase_id")
    p, s, pur = tables.products, tables.suppliers, tables.purchases
    if priced:
        costing.price_purchases(ws, priced)
        tally.add("purchases", "updated", len(priced))
    if not new:
        return
    products = {r.slug: r for r in ws.execute(
        select(p.c.id, p.c.slug, p.c.package_quantity, p.c.package_unit, p.c.ingredient_id,
               p.c.supplier_id, p.c.price_on))}
    suppliers = {r.name: int(r.id) for r in ws.execute(select(s.c.id, s.c.name))}
    now = utcnow()
    purchase_rows, lot_rows, totals = [], [], []
    latest: dict[int, tuple[dt.date, Decimal]] = {}
    for r in _bar(new, "purchases: writing"):
        prod = products.get(r["product"])
        if prod is None:  # the product went away since the review (or a review from a file)
            raise NotFoundError("product", r["product"])
        supplier, location, notes = (_given(r.get(k)) for k in ("supplier", "location", "notes"))
        if supplier is not None and supplier not in suppliers:
            raise NotFoundError("supplier", supplier)
        packages = Decimal(str(r["packages"]))
        cost = None if _given(r.get("unit_cost")) is None else Decimal(str(r["unit_cost"]))
        on = r["purchased_on"] if isinstance(r["purchased_on"], dt.date) else \
            pd.Timestamp(r["purchased_on"]).date()
        if isinstance(on, dt.datetime):
            on = on.date()
        purchase_rows.append({
            "uuid": new_uuid(), "product_id": prod.id,
            "supplier_id": prod.supplier_id if supplier is None else suppliers[supplier],
            "purchased_on": on, "packages": packages, "unit_cost": cost,
            "location": location, "notes": notes, "created_at": now})
        pq = Decimal(prod.package_quantity)
        quantity = q(packages * pq)
        lot_rows.append({
            "uuid": new_uuid(), "kind": "ingredient", "ingredient_id": prod.ingredient_id,
            "finished_unit_id": None, "finished_good_id": None, "product_id": prod.id,
            "run_id": None, "acquired_on": on, "quantity": quantity, "remaining": quantity,
            "unit": normalize_unit(prod.package_unit),
            "unit_cost": None if cost is None else money(cost / pq), "location": location,
            "created_at": now})
        totals.append(None if cost is None else money(packages * cost))
        newer = prod.price_on is None or as_date(prod.price_on) <= on
        if cost is not None and newer and (prod.id not in latest or latest[prod.id][0] <= on):
            latest[prod.id] = (on, cost)
    pids = list(ws.execute(insert(pur).returning(pur.c.id, sort_by_parameter_order=True),
                           purchase_rows).scalars()) if purchase_rows else []
    for lot, pid in zip(lot_rows, pids, strict=True):
        lot["purchase_id"] = pid
    stock.create_lot_rows(ws, lot_rows, reason="purchase", costs=totals)
    if latest:
        ws.execute(update(p).where(p.c.id == bindparam("b_id"))
                   .values(price=bindparam("b_price"), price_on=bindparam("b_on")),
                   [{"b_id": k, "b_price": v[1], "b_on": v[0]} for k, v in latest.items()])
    tally.add("purchases", "created", len(new))


# -- inventory counts ---------------------------------------------------------------------------
def _lots_by_item(ws: Workspace) -> tuple[dict, dict, dict]:
    lots, p, i = tables.lots, tables.products, tables.ingredients
    rows = ws.execute(select(lots.c.id, lots.c.ingredient_id, lots.c.product_id,
                             lots.c.remaining, lots.c.unit, lots.c.unit_cost, lots.c.acquired_on)
                      .where(lots.c.kind == "ingredient", lots.c.remaining > 0)
                      .order_by(lots.c.acquired_on, lots.c.id)).all()
    by_ing: dict[int, list] = defaultdict(list)
    by_prod: dict[int, list] = defaultdict(list)
    for r in rows:
        by_ing[int(r.ingredient_id)].append(r)
        if r.product_id is not None:
            by_prod[int(r.product_id)].append(r)
    ingredients = {r.slug: r for r in ws.execute(select(i.c.id, i.c.slug, i.c.g_per_ml))}
    products = {r.slug: r for r in ws.execute(select(p.c.id, p.c.slug, p.c.ingredient_id))}
    return by_ing, by_prod, {"ingredients": ingredients, "products": products}


def plan_count(lots: list, counted: Decimal, unit: str, g_per_ml: Decimal | None,
               slug: str) -> tuple[Decimal, list[tuple[int, Decimal, str]], Decimal | None]:
    """On hand (in ``unit``), the lot adjustments a count means (lot id, new remaining in
    the lot's unit, lot unit) and the value of the variance (None where lots are uncosted).

    A shortfall comes off the oldest lots first (as FIFO would have used them); a surplus
    goes on the newest lot.
    """
    f = {r.id: factor(r.unit, unit, g_per_ml=g_per_ml, item=slug) for r in lots}
    on_hand = q(sum((Decimal(r.remaining) * f[r.id] for r in lots), Decimal(0)))
    variance = counted - on_hand
    changes: list[tuple[int, Decimal, str]] = []
    value: Decimal | None = Decimal(0)
    if variance < 0:
        need = -variance
        for r in lots:
            if need <= 0:
                break
            have = Decimal(r.remaining) * f[r.id]
            take = min(have, need)
            left = q((have - take) / f[r.id])
            changes.append((int(r.id), left, r.unit))
            taken_lot_units = Decimal(r.remaining) - left
            if r.unit_cost is None:
                value = None
            elif value is not None:
                value -= money(taken_lot_units * Decimal(r.unit_cost))
            need -= take
    elif variance > 0 and lots:
        r = lots[-1]
        extra = q(variance / f[r.id])
        changes.append((int(r.id), Decimal(r.remaining) + extra, r.unit))
        value = None if r.unit_cost is None else money(extra * Decimal(r.unit_cost))
    return on_hand, changes, value


def _counts(ws: Workspace, data: pd.DataFrame) -> pd.DataFrame:
    require_columns(data, "inventory_count", REQUIRED_COLUMNS["inventory_count"])
    by_ing, by_prod, keys = _lots_by_item(ws)
    problems = Problems()
    out = []
    for n, rec in enumerate(_bar(_records(data), "inventory_count")):
        c = Checker(problems, "inventory_count", n)
        item = c.text(rec, "item", required=True, alternatives=("product", "ingredient"))
        counted = c.number(rec, "counted", required=True, non_negative=True,
                           alternatives=("quantity", "count"))
        unit = c.unit(rec, "unit")
        row: dict[str, Any] = {"row": n, "item": item, "counted": counted, "unit": unit}
        if not c.ok:
            bad = [x for x in problems.rows if x["row"] == n]
            out.append({**row, "status": "invalid", "message": "; ".join(
                bt_views.problem_text(x) for x in bad)})
            continue
        # the checker fails a row whose required value is missing, so these are present
        assert counted is not None and unit is not None
        if item in keys["products"]:
            prod = keys["products"][item]
            lots = by_prod.get(int(prod.id), [])
            ing = next(x for x in keys["ingredients"].values() if x.id == prod.ingredient_id)
        elif item in keys["ingredients"]:
            ing = keys["ingredients"][item]
            lots = by_ing.get(int(ing.id), [])
        else:
            out.append({**row, "status": "missing", "message": f"unknown product or "
                                                               f"ingredient {item!r}"})
            continue
        density = None if ing.g_per_ml is None else Decimal(ing.g_per_ml)
        try:
            on_hand, changes, value = plan_count(lots, counted, unit, density, ing.slug)
        except Exception as exc:  # noqa: BLE001  (a unit that cannot meet the lots')
            out.append({**row, "status": "invalid", "message": str(exc)})
            continue
        variance = counted - on_hand
        row.update(on_hand=float(on_hand), variance=float(variance),
                   variance_value=None if value is None else float(value))
        if variance == 0:
            out.append({**row, "status": "unchanged", "message": "count equals stock"})
        elif not lots:
            out.append({**row, "status": "conflict",
                        "message": "no stock on record to adjust: record a purchase"})
        else:
            out.append({**row, "status": "changed",
                        "message": f"adjust {len(changes)} lot(s) by {num(variance)} {unit}"})
    return review_frame(out, REVIEW_COLUMNS["inventory_count"], floats=("counted",))


def apply_counts(ws: Workspace, frame: pd.DataFrame, tally: Tally, reason: str) -> None:
    tally.add("inventory_count", "read", len(frame))
    tally.add("inventory_count", "unchanged", int((frame["status"] == "unchanged").sum()))
    tally.add("inventory_count", "skipped", int((~frame["status"].isin(
        ["changed", "unchanged"])).sum()))
    bt_view_stock.remember_rows(ws, _records(frame), "lots", "lot_id")
    todo = frame[frame["status"] == "changed"]
    if "lot_id" in todo:
        for r in todo[todo["lot_id"].notna()].itertuples():
            Inventory(ws).adjust(int(r.lot_id), str(Decimal(str(r.counted))), r.unit,
                                 reason=reason)
            tally.add("inventory_count", "updated")
        todo = todo[todo["lot_id"].isna()]
    if todo.empty:
        return
    by_ing, by_prod, keys = _lots_by_item(ws)  # today's lots, not the review's
    for r in _bar(list(todo.itertuples()), "inventory_count: writing"):
        if r.item in keys["products"]:
            prod = keys["products"][r.item]
            lots = by_prod.get(int(prod.id), [])
            ing = next(x for x in keys["ingredients"].values() if x.id == prod.ingredient_id)
        elif r.item in keys["ingredients"]:
            ing = keys["ingredients"][r.item]
            lots = by_ing.get(int(ing.id), [])
        else:  # gone since the review (or a review from a file)
            raise NotFoundError("ingredient or product", r.item)
        density = None if ing.g_per_ml is None else Decimal(ing.g_per_ml)
        _, changes, _ = plan_count(lots, Decimal(str(r.counted)), r.unit, density, ing.slug)
        for lot_id, left, lot_unit in changes:
            Inventory(ws).adjust(lot_id, str(left), lot_unit, reason=reason)  # exact decimal
        tally.add("inventory_count", "updated")


def apply(ws: Workspace, recon: Reconciliation, *, on: dt.date | None = None,
          reason: str = "stock count") -> ImportReport:
    """Write a reconciliation's new and changed rows (called inside a write operation).

    Every kind writes from one input: ``recon.frame`` as the analyst left it (built now if
    nobody read it), so a row whose ``status`` was set to ``unchanged`` or ``skipped``, or
    whose match was chosen again (``bakekit.nb.review``), is written as the frame says."""
    tally = Tally()
    frame = recon.frame
    check_statuses(frame)
    if recon.kind == "purchases":
        apply_purchases(ws, frame, tally)
    elif recon.kind == "prices":
        reconcile_prices.apply_prices(ws, frame, on or today(), tally)
    elif recon.kind == "products":
        bt_views.apply_products(ws, frame, tally)
    else:
        apply_counts(ws, frame, tally, reason)
    return tally.report(unknown={}, source=f"reconcile {recon.kind}", version=None)


#: the statuses a review frame's rows may have: the review's own, and an analyst's
#: ``skipped`` and ``undecided`` (bakekit.nb.review); only new and changed rows are written
STATUSES = ("new", "changed", "unchanged", "missing", "conflict", "invalid", "skipped",
            "undecided")
_STATUSES = frozenset(STATUSES)


def check_statuses(frame: pd.DataFrame) -> None:
    """Refuse a review frame whose ``status`` column is missing or holds a value that is
    not a status (an edit's typo would otherwise silently hold a row back)."""
    if "status" not in frame.columns:
        raise ValidationError("status: the reconciliation's frame has no status column",
                              field="status", value=None)
    statuses = frame["status"].tolist()
    if not set(statuses) <= _STATUSES:
        first = frame.iloc[next(n for n, s in enumerate(statuses) if s not in _STATUSES)]
        row = int(first["row"]) if _given(first.get("row")) is not None else None
        raise ValidationError(f"row {row}: status {first['status']!r} is not one of "
                              f"{', '.join(STATUSES)}", field="status",
                              value=first["status"], row=row)
