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

from bakekit import stock
from bakekit.areas.assembly import component_rows
from bakekit.areas.expansion import expand
from bakekit.db import tables
from bakekit.db.exact import number
from bakekit.errors import UnitConversionError
from bakekit.units import each_per, factor, normalize_unit, q

if TYPE_CHECKING:  # pragma: no cover
    from bakekit.operations import Workspace

EACH = "each"


@dataclass
class _Needs:
    """Everything an event's assignments need, level by level (Decimals)."""

    packages: list[tuple[str, Decimal]] = field(default_factory=list)
    goods: dict[str, Decimal] = field(default_factory=dict)
    units: list[tuple[str, Decimal, str, str]] = field(default_factory=list)
    batches: list[tuple[int, str, Decimal]] = field(default_factory=list)
    ingredients: list[tuple[stock.Item, Decimal, str]] = field(default_factory=list)


def _ceil(value: Decimal) -> Decimal:
    """Round up to a whole number, after rounding away the last digits of conversion noise."""
    return q(value).to_integral_value(rounding=ROUND_CEILING)


def event_needs(ws: Workspace, event_id: int) -> _Needs:
    """An event's needs at every level, in a fixed number of statements."""
    needs = _Needs(packages=_packages(ws, event_id))
    direct = _direct_goods(ws, event_id)
    if not direct:
        return needs
    children: dict[int, list[Any]] = defaultdict(list)
    for row in component_rows(ws).itertuples(index=False):
        children[int(row.good_id)].append(row)
    goods = _expand_goods(direct, children)
    needs.goods = {slug: q(n) for slug, n in goods.values()}
    units, packaging = _contents(goods, children)
    batches = _units_and_batches(ws, units, needs)
    needs.ingredients = _ingredients(ws, batches, packaging)
    return needs


def _packages(ws: Workspace, event_id: int) -> list[tuple[str, Decimal]]:
    """Each package the event gives, with how many (by slug)."""
    a, p = tables.assignments, tables.packages
    return [(str(row.slug), q(Decimal(str(row.total)))) for row in ws.execute(
        select(p.c.slug, func.sum(a.c.quantity).label("total"))
        .select_from(a.join(p, p.c.id == a.c.package_id))
        .where(a.c.event_id == event_id).group_by(p.c.slug).order_by(p.c.slug))]


def _direct_goods(ws: Workspace, event_id: int) -> list[Any]:
    """The finished goods the event's packages hold directly, with how many in all."""
    a, pc, fg = tables.assignments, tables.package_contents, tables.finished_goods
    return list(ws.execute(
        select(pc.c.finished_good_id, fg.c.slug,
               func.sum(number(a.c.quantity) * number(pc.c.quantity)).label("total"))
        .select_from(a.join(pc, pc.c.package_id == a.c.package_id)
                     .join(fg, fg.c.id == pc.c.finished_good_id))
        .where(a.c.event_id == event_id)
        .group_by(pc.c.finished_good_id, fg.c.slug)))


def _expand_goods(direct: list[Any],
                  children: dict[int, list[Any]]) -> dict[int, tuple[str, Decimal]]:
    """Every finished good needed, nested goods expanded: id -> (slug, quantity)."""
    goods: dict[int, tuple[str, Decimal]] = {}

    def add_good(good_id: int, slug: str, amount: Decimal) -> None:
        goods[good_id] = (slug, goods.get(good_id, ("", Decimal(0)))[1] + amount)
        for row in children.get(good_id, ()):
            if row.component_kind == "finished_good":
                add_good(int(row.component_id), str(row.item),
                         amount * Decimal(str(row.quantity)))

    for good in direct:
        add_good(int(good.finished_good_id), str(good.slug), q(Decimal(str(good.total))))
    return goods


#: a good's finished units (id -> (slug, quantity)) and its packaging
#: ((ingredient id, unit) -> (item, quantity))
_Contents = tuple[dict[int, tuple[str, Decimal]],
                  dict[tuple[int, str], tuple[stock.Item, Decimal]]]


def _contents(goods: dict[int, tuple[str, Decimal]],
              children: dict[int, list[Any]]) -> _Contents:
    """The finished units and the packaging the goods hold, summed over the goods."""
    units: dict[int, tuple[str, Decimal]] = {}
    packaging: dict[tuple[int, str], tuple[stock.Item, Decimal]] = {}
    for good_id, (_, amount) in goods.items():
        for row in children.get(good_id, ()):
            per = Decimal(str(row.quantity))
            component = int(row.component_id)
            if row.component_kind == "finished_unit":
                before = units.get(component, ("", Decimal(0)))[1]
                units[component] = (str(row.item), before + amount * per)
            elif row.component_kind == "ingredient":
                unit = normalize_unit(row.unit) if isinstance(row.unit, str) else EACH
                density = row.g_per_ml
                item = stock.Item(
                    "ingredient", component, str(row.item),
                    None if density is None or pd.isna(density) else Decimal(str(density)))
                before = packaging.get((component, unit), (item, Decimal(0)))[1]
                packaging[(component, unit)] = (item, before + amount * per)
    return units, packaging


def _units_and_batches(ws: Workspace, units: dict[int, tuple[str, Decimal]],
                       needs: _Needs) -> dict[int, Decimal]:
    """Fill the finished-unit and batch levels; the whole batches per recipe id."""
    batches: dict[int, Decimal] = defaultdict(Decimal)
    recipe_slug: dict[int, str] = {}
    if units:
        fu, r = tables.finished_units, tables.recipes
        for row in ws.execute(
                select(fu.c.id, fu.c.item_unit, fu.c.recipe_id, fu.c.items_per_batch,
                       r.c.slug.label("recipe"))
                .join(r, r.c.id == fu.c.recipe_id)
                .where(fu.c.id.in_(sorted(units)))):
            slug, total = units[int(row.id)]
            amount = q(total)
            needs.units.append((slug, amount, EACH, str(row.recipe)))
            # whole batches per finished unit, summed per recipe (a batch of 2 dozen
            # is 24 items)
            per_batch = q(Fraction(Decimal(row.items_per_batch)) * each_per(row.item_unit))
            batches[int(row.recipe_id)] += _ceil(amount / per_batch)
            recipe_slug[int(row.recipe_id)] = str(row.recipe)
    needs.units.sort(key=lambda u: u[0])
    needs.batches = sorted(((rid, recipe_slug[rid], n) for rid, n in batches.items()),
                           key=lambda b: b[1])
    return batches


def _ingredients(ws: Workspace, batches: dict[int, Decimal],
                 packaging: dict[tuple[int, str], tuple[stock.Item, Decimal]]
                 ) -> list[tuple[stock.Item, Decimal, str]]:
    """The whole batches' ingredients plus the packaging, one entry per ingredient and unit
    (packaging joins the recipe entry whose unit it converts to)."""
    merged: list[list[Any]] = []
    if batches:
        for row in expand(ws, dict(batches)).itertuples(index=False):
            density = row.g_per_ml
            item = stock.Item("ingredient", int(row.ingredient_id), str(row.item),
                             None if density is None or pd.isna(density)
                             else Decimal(str(density)))
            merged.append([item, Decimal(str(row.quantity)), normalize_unit(row.unit)])
    for (ingredient_id, unit), (item, amount) in packaging.items():
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
    return sorted(((e[0], q(e[1]), e[2]) for e in merged), key=lambda e: (e[0].slug, e[2]))
