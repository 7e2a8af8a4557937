"""Reconciliation of a price list: rows matched to products by fuzzy name, brand and
size (rapidfuzz, the score shown), then the products' prices and their uncosted lots."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process
from sqlalchemy import Float, bindparam, cast, func, select, update

from bakekit.db import tables
from bakekit.errors import ValidationError
from bakekit.io import bt_views
from bakekit.io._sync import Checker, Problems, Tally, fill_lot_costs, num
from bakekit.io.tabular import _bar, _column, _records, review_frame
from bakekit.units import factor, money

if TYPE_CHECKING:  # pragma: no cover
    from bakekit.operations import Workspace

#: a fuzzy match below this score (0-100) is not a match
MATCH_THRESHOLD = 70.0
#: two candidates closer than this are a conflict (the user must choose)
CONFLICT_MARGIN = 1.0
#: score taken off a candidate whose package size differs from the row's
SIZE_PENALTY = 10.0

#: the review frame's columns of a price list (also when it has no rows)
REVIEW_COLUMNS = ("row", "status", "message", "product_name", "brand", "price", "package_qty",
                  "package_unit", "match", "score", "product_id", "old_price", "uncosted_lots")
_PRICE_COLUMNS = {"product_name": ("product_name", "product", "name"),
                  "brand": ("brand",), "package_qty": ("package_qty", "package_quantity"),
                  "package_unit": ("package_unit", "unit"),
                  "ingredient_name": ("ingredient_name", "ingredient"),
                  "price": ("unit_price", "price"), "supplier": ("supplier_name", "supplier")}


# -- prices ---------------------------------------------------------------------------------------
def _products(ws: Workspace) -> pd.DataFrame:
    p, i = tables.products, tables.ingredients
    return ws.frame(select(p.c.id, p.c.slug, p.c.brand, p.c.name, i.c.name.label("ingredient"),
                           cast(p.c.package_quantity, Float).label("package_quantity"),
                           p.c.package_unit, cast(p.c.price, Float).label("price"))
                    .join(i, i.c.id == p.c.ingredient_id).order_by(p.c.id))


def _uncosted_by_product(ws: Workspace) -> dict[int, int]:
    lots = tables.lots
    rows = ws.execute(select(lots.c.product_id, func.count())
                      .where(lots.c.unit_cost.is_(None), lots.c.product_id.isnot(None))
                      .group_by(lots.c.product_id)).all()
    return {int(r[0]): int(r[1]) for r in rows}


def review_prices(ws: Workspace, data: pd.DataFrame) -> pd.DataFrame:
    """Review a price list: each row checked, scored against every product (fuzzy name,
    brand and ingredient; a differing size costs ``SIZE_PENALTY``), then judged."""
    cols = {k: _column(data, v) for k, v in _PRICE_COLUMNS.items()}
    problems = Problems()
    if cols["price"] is None or (cols["product_name"] is None and cols["brand"] is None):
        raise ValidationError("prices: the source needs a price column (unit_price or price) "
                              "and product_name or brand", field="columns",
                              value=list(data.columns))
    products = _products(ws)
    uncosted = _uncosted_by_product(ws)
    records = [{k: rec.get(c) if c else None for k, c in cols.items()}
               for rec in _records(data)]
    all_scores = _scores(records, products)
    rows = []
    for n, rec in enumerate(_bar(records, "prices")):
        c = Checker(problems, "prices", n)
        price = c.number(rec, "price", required=True, non_negative=True)
        size = c.number(rec, "package_qty", positive=True)
        unit = c.unit(rec, "package_unit", required=False)
        row: dict[str, Any] = {"row": n, "product_name": rec["product_name"],
                               "brand": rec["brand"], "price": price,
                               "package_qty": size, "package_unit": unit}
        if not c.ok:
            bad = [p for p in problems.rows if p["row"] == n]
            rows.append({**row, "status": "invalid", "price": None, "message": "; ".join(
                bt_views.problem_text(p) for p in bad)})
            continue
        scores = all_scores[n] if len(products) else np.array([])
        rows.append(_judge_price(row, scores, products, uncosted))
    _same_product_twice(rows)
    return review_frame(rows, REVIEW_COLUMNS, floats=("price", "package_qty"))


def _scores(records: list[dict[str, Any]], products: pd.DataFrame) -> np.ndarray:
    """Every row's score against every product: brand, name and ingredient weighted."""
    if not len(products) or not records:
        return np.zeros((len(records), len(products)))
    names_in = [str(r["product_name"] or r["brand"] or "") for r in records]
    brands_in = [str(r["brand"] or "") for r in records]
    ingredients_in = [str(r["ingredient_name"] or "") for r in records]

    def scores_of(queries: list[str], choices: list[str]) -> np.ndarray:
        return process.cdist(queries, choices, scorer=fuzz.token_set_ratio,
                             processor=str.lower, workers=1)

    return (0.5 * scores_of(names_in, products["name"].fillna("").tolist())
            + 0.3 * scores_of(brands_in, products["brand"].fillna("").tolist())
            + 0.2 * scores_of(ingredients_in, products["ingredient"].tolist()))


def _judge_price(row: dict[str, Any], scores: np.ndarray, products: pd.DataFrame,
                 uncosted: dict[int, int]) -> dict[str, Any]:
    """A checked price row against its scores: missing (nothing scores enough), conflict
    (two products alike, or the best one's size differs), else new, changed or unchanged
    (a price equal to the product's is still a change where it costs uncosted lots)."""
    price, size, unit = row["price"], row["package_qty"], row["package_unit"]
    fits = np.ones(len(scores), dtype=bool)
    if len(products) and size is not None and unit is not None:
        fits = np.array([_same_size(size, unit, pq, pu) for pq, pu in
                         zip(products["package_quantity"], products["package_unit"],
                             strict=True)])
        scores = np.where(fits, scores, scores - SIZE_PENALTY)
    if not len(scores) or scores.max() < MATCH_THRESHOLD:
        best = int(scores.argmax()) if len(scores) else None
        closest = "" if best is None else (
            f" (closest: {products['slug'][best]!r} at score "
            f"{float(scores[best]):.0f}, below {MATCH_THRESHOLD:.0f}: not a match)")
        return {**row, "status": "missing", "match": None, "score": None,
                "message": "no product matches by brand, name and size" + closest}
    order = np.argsort(-scores)
    best = int(order[0])
    product = products.iloc[best]
    row = {**row, "match": product["slug"], "score": round(float(scores[best]), 1),
           "product_id": int(product["id"]), "old_price": product["price"],
           "uncosted_lots": uncosted.get(int(product["id"]), 0)}
    if len(order) > 1 and scores[best] - scores[int(order[1])] < CONFLICT_MARGIN:
        other = products["slug"][int(order[1])]
        return {**row, "status": "conflict", "message":
                f"matches {product['slug']!r} and {other!r} equally well"}
    if not fits[best]:
        return {**row, "status": "conflict", "message":
                f"best match {product['slug']!r} is sold as "
                f"{num(product['package_quantity'])} {product['package_unit']}, "
                f"the list says {num(size)} {unit}: check the size"}
    assert price is not None  # required: a row without one is invalid
    old = product["price"]
    if old is not None and not pd.isna(old) and Decimal(str(old)) == price:
        status = "changed" if row["uncosted_lots"] else "unchanged"
    else:
        status = "new" if old is None or pd.isna(old) else "changed"
    message = f"price {bt_views.show(None if old != old else old)} -> {num(money(price))}"
    if row["uncosted_lots"]:
        message += f"; costs {row['uncosted_lots']} uncosted lot(s)"
    return {**row, "status": status, "message": message}


def _same_product_twice(rows: list[dict[str, Any]]) -> None:
    """Rows matching one product: the same price again is unchanged, another is a conflict."""
    by_product: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        if row["status"] in ("new", "changed", "unchanged"):
            by_product[row["match"]].append(row)
    for group in by_product.values():
        if len(group) < 2:
            continue
        prices = {r["price"] for r in group}
        firsts = ", ".join(str(r["row"]) for r in group)
        for r in group[1:] if len(prices) == 1 else group:
            if len(prices) == 1:
                r["status"], r["message"] = "unchanged", f"same product and price as row " \
                                                         f"{group[0]['row']}"
            else:
                r["status"] = "conflict"
                r["message"] = f"rows {firsts} match {r['match']!r} with different prices"


def _same_size(size: Decimal, unit: str, pq: float, pu: str) -> bool:
    try:
        return abs(float(size * factor(unit, pu)) - float(pq)) <= 0.02 * float(pq)
    except Exception:  # noqa: BLE001
        return False


def apply_prices(ws: Workspace, frame: pd.DataFrame, on: dt.date, tally: Tally) -> None:
    todo = frame[frame["status"].isin(["new", "changed"])]
    tally.add("prices", "read", len(frame))
    tally.add("prices", "unchanged", int((frame["status"] == "unchanged").sum()))
    tally.add("prices", "skipped", int((~frame["status"].isin(
        ["new", "changed", "unchanged"])).sum()))
    if todo.empty:
        return
    p = tables.products
    latest: dict[int, Decimal] = {}
    for r in todo.itertuples():
        latest[int(r.product_id)] = Decimal(str(r.price))
    ws.execute(update(p).where(p.c.id == bindparam("b_id"))
               .values(price=bindparam("b_price"), price_on=bindparam("b_on")),
               [{"b_id": k, "b_price": v, "b_on": on} for k, v in latest.items()])
    tally.add("prices", "created", int((todo["status"] == "new").sum()))
    tally.add("prices", "updated", int((todo["status"] == "changed").sum()))
    fill_product_lots(ws, latest)


def fill_product_lots(ws: Workspace, prices: dict[int, Decimal]) -> int:
    """Cost the uncosted lots of products from a package price; returns how many."""
    lots, p, i = tables.lots, tables.products, tables.ingredients
    rows = ws.execute(select(lots.c.id, lots.c.unit, lots.c.product_id, p.c.package_quantity,
                             p.c.package_unit, i.c.g_per_ml, i.c.slug)
                      .join(p, p.c.id == lots.c.product_id)
                      .join(i, i.c.id == lots.c.ingredient_id)
                      .where(lots.c.unit_cost.is_(None),
                             lots.c.product_id.in_(list(prices)))).all()
    costs = []
    for r in rows:
        density = None if r.g_per_ml is None else Decimal(r.g_per_ml)
        in_lot_units = Decimal(r.package_quantity) * factor(r.package_unit, r.unit,
                                                           g_per_ml=density, item=r.slug)
        costs.append((int(r.id), money(prices[int(r.product_id)] / in_lot_units)))
    fill_lot_costs(ws, costs)
    return len(costs)
