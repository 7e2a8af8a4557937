"""Stock against needs: how much of many items is on hand, in the needs' units, in one
statement per kind of lot (the read behind every ``check``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import func, select

from bakekit import frames
from bakekit.db import tables
from bakekit.errors import UnitConversionError
from bakekit.stock.fifo import shortfall
from bakekit.stock.items import KINDS, Item
from bakekit.stock.queries import has_stock
from bakekit.units import exact_factor, normalize_unit, q

if TYPE_CHECKING:  # pragma: no cover
    from bakekit.operations import Workspace


def availability_rows(ws: Workspace,
                      needs: Iterable[tuple[Item, Decimal, str]]) -> list[dict[str, Any]]:
    """Stock against needs for many items, in one statement per kind of lot: a row per need
    (item, needed, available, shortfall, unit, kind, note). An item whose lots cannot be
    converted to the needed unit counts as 0 available, with the reason in ``note``."""
    needs = list(needs)
    lots = tables.lots
    stock: dict[tuple[str, int], list[tuple[str, Decimal]]] = defaultdict(list)
    by_kind: dict[str, set[int]] = defaultdict(set)
    for item, _, _ in needs:
        by_kind[item.kind].add(item.id)
    for kind, ids in by_kind.items():
        column = lots.c[KINDS[kind].column]
        stmt = (
            select(column, lots.c.unit, func.sum(lots.c.remaining))
            .where(column.in_(sorted(ids)), has_stock())
            .group_by(column, lots.c.unit)
        )
        for item_id, lot_unit, total in ws.execute(stmt):
            stock[(kind, int(item_id))].append((lot_unit, Decimal(str(total))))
    rows = []
    for item, needed, unit in needs:
        unit = normalize_unit(unit)
        have = Fraction(0)
        scale = Fraction(1)
        note = ""
        for lot_unit, total in stock.get((item.kind, item.id), []):
            try:
                f = exact_factor(lot_unit, unit, g_per_ml=item.g_per_ml, item=item.slug)
            except UnitConversionError as exc:
                note = str(exc)
                continue
            have += Fraction(total) * f
            scale = max(scale, f)
        short = shortfall(needed, have, scale)
        rows.append({"item": item.slug, "needed": float(needed), "available": float(q(have)),
                     "shortfall": float(q(short)), "unit": unit,
                     "kind": item.kind, "note": note})
    return rows


def available(ws: Workspace, needs: Iterable[tuple[Item, Decimal, str]]) -> pd.DataFrame:
    """The Availability frame of ``availability_rows``: item, needed, available, shortfall,
    unit (the needs' units), kind, note."""
    return frames.build(availability_rows(ws, needs), frames.AVAILABILITY)
