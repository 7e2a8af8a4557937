"""What to buy for a shortfall: per item, the whole packages of its products that cover it
(``bakekit.buying``), or a note saying why nothing can be bought."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bakekit import buying, fifo
from bakekit.areas._needs import _ceil
from bakekit.errors import UnitConversionError
from bakekit.units import QUANTITY_PLACES, factor, q

#: packages may fall short of a shortfall by this much (rounding of unit conversion)
TOLERANCE = Decimal(1).scaleb(-QUANTITY_PLACES)


def _sizes(item: fifo.Item, unit: str,
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


def _buy(item: fifo.Item, unit: str, shortfall: Decimal, candidates: list[Any],
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
