"""What to buy for a shortfall: per item, the whole packages of its products that cover it
(``bakekit.buying``), or a note saying why nothing can be bought."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import select

from bakekit import buying, stock
from bakekit.areas._needs import _ceil
from bakekit.db import tables
from bakekit.errors import UnitConversionError
from bakekit.units import QUANTITY_PLACES, factor, q

if TYPE_CHECKING:  # pragma: no cover
    from bakekit.operations import Workspace

#: packages may fall short of a shortfall by this much (rounding of unit conversion)
TOLERANCE = Decimal(1).scaleb(-QUANTITY_PLACES)


def _sizes(item: stock.Item, unit: str,
           candidates: list[Any]) -> tuple[list[tuple[Any, Decimal]], str]:
    """The products whose package unit converts to ``unit``, with their package size in it
    (rounded to the places quantities keep), and a note naming those that do not."""
    convertible: list[tuple[Any, Decimal]] = []
    skipped = []
    for row in candidates:
        try:
            f = factor(row.package_unit, unit, g_per_ml=item.g_per_ml, item=item.slug)
        except UnitConversionError:
            skipped.append(row.slug)
            continue
        convertible.append((row, q(Decimal(row.package_quantity) * f)))
    note = ""
    if skipped:
        note = (f"products {', '.join(skipped)} skipped: their package unit does not "
                f"convert to {unit}")
    return convertible, note


def _buy(item: stock.Item, unit: str, shortfall: Decimal, candidates: list[Any],
         prefer: str) -> tuple[list[dict[str, Any]], str]:
    """The shopping rows of one item (product, packages, cost, ...) and a note."""
    nothing = {"product": None, "packages": None, "estimated_cost": None,
               "package_quantity": None, "package_unit": None, "price": None,
               "left_over": None}
    if shortfall <= 0:
        return [{**nothing, "packages": 0, "estimated_cost": 0.0, "left_over": 0.0}], ""
    convertible, note = _sizes(item, unit, candidates)
    notes = [note] if note else []
    if not convertible:
        notes.append(f"no product of {item.slug} to buy: add one with catalog.add_product")
        return [nothing], "; ".join(notes)
    preferred = [(row, size) for row, size in convertible if row.preferred]
    if prefer == "preferred" and preferred:
        options = preferred[:1]
    else:
        options = [(row, size) for row, size in convertible if row.price is not None]
        unpriced = [row.slug for row, _ in convertible if row.price is None]
        if not options:
            notes.append(f"no priced product of {item.slug} ({', '.join(unpriced)} "
                         "without a known price): set one with catalog.update_product(..., "
                         "price=...) or record a purchase")
            return [nothing], "; ".join(notes)
        if unpriced:
            notes.append(f"{', '.join(unpriced)} left out: no known price")
    if len(options) == 1 and options[0][0].price is None:  # the preferred one, unpriced
        row, size = options[0]
        count = int(_ceil((shortfall - TOLERANCE) / size))
        notes.append(f"no known price for {row.slug}")
        return [{"product": row.slug, "packages": count, "estimated_cost": None,
                 "package_quantity": float(row.package_quantity),
                 "package_unit": row.package_unit, "price": None,
                 "left_over": float(max(count * size - shortfall, Decimal(0)))}], \
            "; ".join(notes)
    by_slug = {row.slug: row for row, _ in options}
    plan = buying.cover(shortfall, [buying.Option(row.slug, size, Decimal(row.price))
                                    for row, size in options], tolerance=TOLERANCE)
    rows = []
    for slug, count in plan.packages:
        row = by_slug[slug]
        rows.append({"product": slug, "packages": count,
                     "estimated_cost": float(count * Decimal(row.price)),
                     "package_quantity": float(row.package_quantity),
                     "package_unit": row.package_unit, "price": float(row.price),
                     "left_over": float(plan.left_over)})
    return rows, "; ".join(notes)


def shopping_rows(ws: Workspace, needs: list[tuple[stock.Item, Decimal, str]],
                  prefer: str) -> list[dict[str, Any]]:
    """The shopping list's rows: per needed item and unit, what is on hand, the shortfall,
    and one row per product bought (``events.shopping_list`` documents the columns)."""
    on_hand = stock.available(ws, needs)
    p = tables.products
    products: dict[int, list[Any]] = defaultdict(list)
    for row in ws.execute(
            select(p.c.ingredient_id, p.c.slug, p.c.package_quantity, p.c.package_unit,
                   p.c.preferred, p.c.price)
            .where(p.c.ingredient_id.in_(sorted({item.id for item, _, _ in needs})))
            .order_by(p.c.slug)):
        products[int(row.ingredient_id)].append(row)
    rows: list[dict[str, Any]] = []
    for (item, needed, unit), have in zip(needs, on_hand.itertuples(index=False),
                                          strict=True):
        shortfall = max(q(needed - Decimal(str(have.available))), Decimal(0))
        base = {"item": item.slug, "needed": float(needed), "on_hand": have.available,
                "shortfall": float(shortfall), "unit": unit}
        bought, note = _buy(item, unit, shortfall, products[item.id], prefer)
        notes = "; ".join(n for n in (note, have.note) if n and not pd.isna(n)) or None
        rows.extend({**base, **one, "note": notes} for one in bought)
    return rows
