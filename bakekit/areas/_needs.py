"""What an event's assignments need, level by level: packages, finished goods (nested goods
expanded), finished units, whole batches per recipe, ingredients (with the goods' packaging)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import func, select

from bakekit import fifo
from bakekit.areas.assembly import component_rows
from bakekit.db import tables
from bakekit.errors import UnitConversionError
from bakekit.units import each_per, factor, normalize_unit, q

if TYPE_CHECKING:  # pragma: no cover
    from bakekit.workspace import Workspace

EACH = "each"


@dataclass
class _Needs:
    """Everything an event's assignments need, level by level (Decimals)."""

    packages: list[tuple[str, Decimal]] = field(default_factory=list)
    goods: dict[str, Decimal] = field(default_factory=dict)
    units: list[tuple[str, Decimal, str, str]] = field(default_factory=list)
    batches: list[tuple[int, str, Decimal]] = field(default_factory=list)
    ingredients: list[tuple[fifo.Item, Decimal, str]] = field(default_factory=list)


def _ceil(value: Decimal) -> Decimal:
    """Round up to a whole number, after rounding away the last digits of conversion noise."""
    return q(value).to_integral_value(rounding=ROUND_CEILING)


def event_needs(ws: Workspace, event_id: int) -> _Needs:
    """An event's needs at every level, in a fixed number of statements."""
    from bakekit.areas.recipes import expand

    a, p, pc, fg = (tables.assignments, tables.packages, tables.package_contents,
                    tables.finished_goods)
    needs = _Needs()
    for row in ws.execute(
            select(p.c.slug, func.sum(a.c.quantity).label("total"))
            .select_from(a.join(p, p.c.id == a.c.package_id))
            .where(a.c.event_id == event_id).group_by(p.c.slug).order_by(p.c.slug)):
        needs.packages.append((str(row.slug), q(Decimal(str(row.total)))))
    direct = list(ws.execute(
        select(pc.c.finished_good_id, fg.c.slug,
               func.sum(a.c.quantity * pc.c.quantity).label("total"))
        .select_from(a.join(pc, pc.c.package_id == a.c.package_id)
                     .join(fg, fg.c.id == pc.c.finished_good_id))
        .where(a.c.event_id == event_id)
        .group_by(pc.c.finished_good_id, fg.c.slug)))
    if not direct:
        return needs
    graph = component_rows(ws)
    children: dict[int, list[Any]] = defaultdict(list)
    for row in graph.itertuples(index=False):
        children[int(row.good_id)].append(row)
    good_qty: dict[int, Decimal] = defaultdict(Decimal)
    good_slug: dict[int, str] = {}

    def add_good(good_id: int, slug: str, amount: Decimal) -> None:
        good_qty[good_id] += amount
        good_slug[good_id] = slug
        for row in children.get(good_id, ()):
            if row.component_kind == "finished_good":
                add_good(int(row.component_id), str(row.item),
                         amount * Decimal(str(row.quantity)))

    for good in direct:
        add_good(int(good.finished_good_id), str(good.slug), q(Decimal(str(good.total))))
    unit_qty: dict[int, Decimal] = defaultdict(Decimal)
    unit_slug: dict[int, str] = {}
    packaging: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    packaging_item: dict[int, fifo.Item] = {}
    for good_id, amount in good_qty.items():
        for row in children.get(good_id, ()):
            per = Decimal(str(row.quantity))
            if row.component_kind == "finished_unit":
                unit_qty[int(row.component_id)] += amount * per
                unit_slug[int(row.component_id)] = str(row.item)
            elif row.component_kind == "ingredient":
                unit = normalize_unit(row.unit) if isinstance(row.unit, str) else EACH
                packaging[(int(row.component_id), unit)] += amount * per
                density = row.g_per_ml
                packaging_item[int(row.component_id)] = fifo.Item(
                    "ingredient", int(row.component_id), str(row.item),
                    None if density is None or pd.isna(density) else Decimal(str(density)))
    needs.goods = {good_slug[g]: q(n) for g, n in good_qty.items()}
    batches: dict[int, Decimal] = defaultdict(Decimal)
    recipe_slug: dict[int, str] = {}
    if unit_qty:
        fu, r = tables.finished_units, tables.recipes
        for row in ws.execute(
                select(fu.c.id, fu.c.item_unit, fu.c.recipe_id, fu.c.items_per_batch,
                       r.c.slug.label("recipe"))
                .join(r, r.c.id == fu.c.recipe_id)
                .where(fu.c.id.in_(sorted(unit_qty)))):
            amount = q(unit_qty[int(row.id)])
            needs.units.append((unit_slug[int(row.id)], amount, EACH, str(row.recipe)))
            # whole batches per finished unit, summed per recipe (a batch of 2 dozen
            # is 24 items)
            per_batch = q(Fraction(Decimal(row.items_per_batch)) * each_per(row.item_unit))
            batches[int(row.recipe_id)] += _ceil(amount / per_batch)
            recipe_slug[int(row.recipe_id)] = str(row.recipe)
    needs.units.sort(key=lambda u: u[0])
    needs.batches = sorted(((rid, recipe_slug[rid], n) for rid, n in batches.items()),
                           key=lambda b: b[1])
    merged: list[list[Any]] = []
    if batches:
        expanded = expand(ws, dict(batches))
        for row in expanded.itertuples(index=False):
            density = row.g_per_ml
            item = fifo.Item("ingredient", int(row.ingredient_id), str(row.item),
                             None if density is None or pd.isna(density)
                             else Decimal(str(density)))
            merged.append([item, Decimal(str(row.quantity)), normalize_unit(row.unit)])
    for (ingredient_id, unit), amount in packaging.items():
        item = packaging_item[ingredient_id]
        for entry in merged:
            if entry[0].id != ingredient_id:
                continue
            try:
                f = factor(unit, entry[2], g_per_ml=item.g_per_ml, item=item.slug)
            except UnitConversionError:
                continue
            entry[1] += amount * f
            break
        else:
            merged.append([item, amount, unit])
    needs.ingredients = sorted(((e[0], q(e[1]), e[2]) for e in merged),
                               key=lambda e: (e[0].slug, e[2]))
    return needs
