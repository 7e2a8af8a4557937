"""The recipes area: recipes with ingredients, nested components and finished units; expansion."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import aliased

from bakekit.areas._common import table
from bakekit.errors import RecipeCycleError, UnitConversionError
from bakekit.units import base_unit, factor, normalize_unit

if TYPE_CHECKING:  # pragma: no cover
    from bakekit.workspace import Workspace

#: columns of the frame ``expand`` returns
EXPANDED_COLUMNS = ["ingredient_id", "item", "quantity", "unit", "g_per_ml", "quantity_base",
                    "base_unit"]


def _component_graph(ws: Workspace) -> tuple[dict[int, list[tuple[int, Decimal]]],
                                             dict[int, str]]:
    """Every component edge (recipe -> [(component, batches)]) and the slugs they name.

    One SELECT: the edge table is small (one row per nested use of a recipe).
    """
    rc, parent, child = table("recipe_components"), aliased(table("recipes")), aliased(
        table("recipes"))
    stmt = (
        select(rc.c.recipe_id, parent.c.slug, rc.c.component_id, child.c.slug, rc.c.batches)
        .join(parent, parent.c.id == rc.c.recipe_id)
        .join(child, child.c.id == rc.c.component_id)
        .order_by(rc.c.recipe_id, rc.c.id)
    )
    edges: dict[int, list[tuple[int, Decimal]]] = defaultdict(list)
    slugs: dict[int, str] = {}
    for recipe_id, recipe_slug, component_id, component_slug, batches in ws.execute(stmt):
        edges[int(recipe_id)].append((int(component_id), Decimal(batches)))
        slugs[int(recipe_id)] = str(recipe_slug)
        slugs[int(component_id)] = str(component_slug)
    return edges, slugs


def find_cycle(edges: Mapping[int, list[tuple[int, Decimal]]], start: int) -> list[int] | None:
    """The first cycle reachable from ``start`` as a list of recipe ids (first == last)."""
    path: list[int] = []
    on_path: set[int] = set()
    done: set[int] = set()

    def visit(node: int) -> list[int] | None:
        if node in on_path:
            return path[path.index(node):] + [node]
        if node in done:
            return None
        path.append(node)
        on_path.add(node)
        for child, _ in edges.get(node, ()):
            found = visit(child)
            if found:
                return found
        path.pop()
        on_path.discard(node)
        done.add(node)
        return None

    return visit(start)


def _cycle_error(cycle: list[int], slugs: Mapping[int, str]) -> RecipeCycleError:
    return RecipeCycleError([slugs.get(r, f"#{r}") for r in cycle])


def _scale(edges: Mapping[int, list[tuple[int, Decimal]]], slugs: Mapping[int, str],
           roots: Mapping[int, Decimal]) -> dict[int, Decimal]:
    """Batches of every reachable recipe (roots and nested components, scaled and summed),
    in the order recipes are first reached (depth first: a recipe, then its components)."""
    for root in roots:
        cycle = find_cycle(edges, root)
        if cycle:
            raise _cycle_error(cycle, slugs)
    order: dict[int, Decimal] = {}

    def visit(recipe_id: int, batches: Decimal) -> None:
        order[recipe_id] = order.get(recipe_id, Decimal(0)) + batches
        for child, per_batch in edges.get(recipe_id, ()):
            visit(child, batches * per_batch)

    for root, batches in roots.items():
        visit(int(root), Decimal(batches))
    return order


def expand(ws: Workspace, batches_by_recipe_id: Mapping[int, Decimal]) -> pd.DataFrame:
    """The ingredients several recipes need at once: nested components expanded and scaled,
    one row per ingredient (per unit, where two units of it cannot be converted).

    Columns: ``ingredient_id``, ``item`` (slug), ``quantity`` (Decimal), ``unit`` (canonical;
    the unit of the ingredient's first occurrence, depth first), ``g_per_ml`` (Decimal or
    None), ``quantity_base`` (Decimal, in ``base_unit``: g, ml or each). Always two SELECTs,
    however many recipes are reached. Raises RecipeCycleError on a cycle.

    >>> expand(ws, {brownie_id: Decimal(2)})  # doctest: +SKIP
       ingredient_id   item quantity unit ...
    """
    edges, slugs = _component_graph(ws)
    scaled = _scale(edges, slugs, {int(k): Decimal(v) for k, v in batches_by_recipe_id.items()})
    if not scaled:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in EXPANDED_COLUMNS})
    ri, ing = table("recipe_ingredients"), table("ingredients")
    stmt = (
        select(ri.c.recipe_id, ri.c.ingredient_id, ing.c.slug, ing.c.g_per_ml, ri.c.quantity,
               ri.c.unit)
        .join(ing, ing.c.id == ri.c.ingredient_id)
        .where(ri.c.recipe_id.in_(sorted(scaled)))
        .order_by(ri.c.recipe_id, ri.c.position, ri.c.id)
    )
    lines: dict[int, list[Any]] = defaultdict(list)
    for row in ws.execute(stmt):
        lines[int(row.recipe_id)].append(row)
    # per ingredient: [unit, quantity] buckets, the first bucket in the first unit seen
    buckets: dict[int, list[list[Any]]] = {}
    info: dict[int, tuple[str, Decimal | None]] = {}
    for recipe_id, batches in scaled.items():
        for row in lines.get(recipe_id, ()):
            ingredient_id = int(row.ingredient_id)
            density = None if row.g_per_ml is None else Decimal(row.g_per_ml)
            info[ingredient_id] = (str(row.slug), density)
            unit = normalize_unit(row.unit)
            amount = Decimal(row.quantity) * batches
            for bucket in buckets.setdefault(ingredient_id, []):
                try:
                    f = factor(unit, bucket[0], g_per_ml=density, item=str(row.slug))
                except UnitConversionError:
                    continue
                bucket[1] += amount * f
                break
            else:
                buckets[ingredient_id].append([unit, amount])
    rows = []
    for ingredient_id, item_buckets in buckets.items():
        slug, density = info[ingredient_id]
        for unit, amount in item_buckets:
            base = base_unit(unit)
            rows.append({"ingredient_id": ingredient_id, "item": slug, "quantity": amount,
                         "unit": unit, "g_per_ml": density,
                         "quantity_base": amount * factor(unit, base), "base_unit": base})
    return pd.DataFrame(rows, columns=EXPANDED_COLUMNS)
