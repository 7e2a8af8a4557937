"""How an event's ingredient costs are shared among its packages: how much of each needed
ingredient each package accounts for (``reports.event_cost``)."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import Float, cast, func, select

from bakekit import stock
from bakekit.areas._needs import _ceil
from bakekit.areas.assembly import component_rows
from bakekit.areas.expansion import component_graph, scale
from bakekit.db import tables
from bakekit.db.exact import number
from bakekit.errors import UnitConversionError
from bakekit.units import factor, normalize_unit

if TYPE_CHECKING:  # pragma: no cover
    from bakekit.operations import Workspace

EACH = "each"

#: (package, ingredient id, unit) -> how much of the ingredient the package accounts for
Weights = dict[tuple[str, int, str], float]
#: per package: its finished units (id -> items) and its packaging ((ingredient id, unit) ->
#: quantity)
_Units = dict[str, dict[int, Decimal]]
_Packaging = dict[str, dict[tuple[int, str], Decimal]]


def package_weights(ws: Workspace, event_id: int,
                    needs: list[tuple[stock.Item, Decimal, str]]
                    ) -> tuple[list[tuple[str, int, float]], Weights]:
    """The event's packages (slug, recipients, quantity) and how much of each needed
    ingredient (id, unit) each package accounts for, in a fixed few statements."""
    packages = _packages(ws, event_id)
    weights = _Weigher(needs)
    units, packaging = _package_contents(ws, event_id)
    if not (units or packaging) or not needs:
        return packages, weights.weights
    for package, amounts in packaging.items():
        for (item_id, unit), amount in amounts.items():
            if item_id in weights.item_of:
                item = weights.item_of[item_id]
                weights.add(package, item_id, unit, amount, item.slug, item.g_per_ml)
    if any(units.values()):
        _add_batches(ws, units, weights)
    return packages, weights.weights


def _packages(ws: Workspace, event_id: int) -> list[tuple[str, int, float]]:
    a, p = tables.assignments, tables.packages
    return [(str(r.slug), int(r.recipients), float(r.quantity)) for r in ws.execute(
        select(p.c.slug, func.count(func.distinct(a.c.recipient_id)).label("recipients"),
               cast(func.sum(a.c.quantity), Float).label("quantity"))
        .select_from(a.join(p, p.c.id == a.c.package_id))
        .where(a.c.event_id == event_id).group_by(p.c.slug).order_by(p.c.slug))]


def _package_contents(ws: Workspace, event_id: int) -> tuple[_Units, _Packaging]:
    """Per package: the finished units and the packaging its goods hold (nested goods
    expanded)."""
    a, p, pc = tables.assignments, tables.packages, tables.package_contents
    direct = list(ws.execute(
        select(p.c.slug, pc.c.finished_good_id,
               func.sum(number(a.c.quantity) * number(pc.c.quantity)).label("total"))
        .select_from(a.join(p, p.c.id == a.c.package_id)
                     .join(pc, pc.c.package_id == a.c.package_id))
        .where(a.c.event_id == event_id).group_by(p.c.slug, pc.c.finished_good_id)))
    units: _Units = defaultdict(lambda: defaultdict(Decimal))
    packaging: _Packaging = defaultdict(lambda: defaultdict(Decimal))
    if not direct:
        return units, packaging
    children: dict[int, list[Any]] = defaultdict(list)
    for row in component_rows(ws).itertuples(index=False):
        children[int(row.good_id)].append(row)

    def add_good(package: str, good_id: int, amount: Decimal) -> None:
        for row in children.get(good_id, ()):
            per = amount * Decimal(str(row.quantity))
            if row.component_kind == "finished_good":
                add_good(package, int(row.component_id), per)
            elif row.component_kind == "finished_unit":
                units[package][int(row.component_id)] += per
            else:
                unit = normalize_unit(row.unit) if isinstance(row.unit, str) else EACH
                packaging[package][(int(row.component_id), unit)] += per

    for row in direct:
        add_good(str(row.slug), int(row.finished_good_id), Decimal(str(row.total)))
    return units, packaging


class _Weigher:
    """Adds an amount of an ingredient to a package's weight, in the first unit the event
    needs it in that the amount converts to."""

    def __init__(self, needs: list[tuple[stock.Item, Decimal, str]]):
        self.item_of = {item.id: item for item, _, _ in needs}
        self.by_item: dict[int, list[str]] = defaultdict(list)
        for item, _, unit in needs:
            self.by_item[item.id].append(unit)
        self.weights: Weights = defaultdict(float)

    def add(self, package: str, item_id: int, unit: str, amount: Decimal, slug: str,
            density: Decimal | None) -> None:
        for target in self.by_item.get(item_id, ()):
            try:
                f = factor(unit, target, g_per_ml=density, item=slug)
            except UnitConversionError:
                continue
            self.weights[(package, item_id, target)] += float(amount * f)
            return


def _add_batches(ws: Workspace, units: _Units, weights: _Weigher) -> None:
    """Each package's share of the event's whole batches, as ingredient weights: the
    whole batches per recipe (as events.requirements counts them) split by the packages'
    shares of the finished units."""
    all_units = {u for per in units.values() for u in per}
    fu = tables.finished_units
    unit_rows = {int(r.id): r for r in ws.execute(
        select(fu.c.id, fu.c.recipe_id, fu.c.items_per_batch)
        .where(fu.c.id.in_(sorted(all_units))))}
    event_units: dict[int, Decimal] = defaultdict(Decimal)
    for per in units.values():
        for unit_id, amount in per.items():
            event_units[unit_id] += amount
    whole: dict[int, Decimal] = defaultdict(Decimal)
    fraction: dict[int, Decimal] = defaultdict(Decimal)
    for unit_id, amount in event_units.items():
        row = unit_rows[unit_id]
        whole[int(row.recipe_id)] += _ceil(amount / Decimal(row.items_per_batch))
        fraction[int(row.recipe_id)] += amount / Decimal(row.items_per_batch)
    scaled, lines = _recipe_lines(ws, whole)
    for package, per in units.items():
        for unit_id, amount in per.items():
            row = unit_rows[unit_id]
            recipe = int(row.recipe_id)
            if fraction[recipe] <= 0:
                continue
            # this package's share of the recipe's whole batches
            batches = (amount / Decimal(row.items_per_batch)) / fraction[recipe] \
                * whole[recipe]
            for sub, per_batch in scaled[recipe].items():
                for line in lines.get(sub, ()):
                    density = None if line.g_per_ml is None else Decimal(line.g_per_ml)
                    weights.add(package, int(line.ingredient_id), normalize_unit(line.unit),
                                Decimal(line.quantity) * per_batch * batches,
                                str(line.slug), density)


def _recipe_lines(ws: Workspace, recipes: dict[int, Decimal]
                  ) -> tuple[dict[int, dict[int, Decimal]], dict[int, list[Any]]]:
    """Per recipe, the batches of itself and of its component recipes one batch takes;
    and the ingredient lines of every recipe reached."""
    edges, slugs = component_graph(ws)
    scaled = {r: scale(edges, slugs, {r: Decimal(1)}) for r in recipes}
    reached = sorted({n for s in scaled.values() for n in s})
    ri, ing = tables.recipe_ingredients, tables.ingredients
    lines: dict[int, list[Any]] = defaultdict(list)
    for row in ws.execute(
            select(ri.c.recipe_id, ri.c.ingredient_id, ing.c.slug, ing.c.g_per_ml,
                   ri.c.quantity, ri.c.unit)
            .join(ing, ing.c.id == ri.c.ingredient_id)
            .where(ri.c.recipe_id.in_(reached))):
        lines[int(row.recipe_id)].append(row)
    return scaled, lines
