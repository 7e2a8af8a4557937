"""Recipe expansion: a recipe's nested components scaled down to ingredient lines, in one
statement (a recursive CTE over the component graph); cycle detection over that graph."""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

import pandas as pd
from sqlalchemy import (
    Integer,
    bindparam,
    literal_column,
    null,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import aliased

from bakekit.db import tables
from bakekit.errors import (
    RecipeCycleError,
    UnitConversionError,
)
from bakekit.units import base_unit, factor, normalize_unit

if TYPE_CHECKING:  # pragma: no cover
    from bakekit.operations import Workspace

#: columns of the frame ``expand`` returns
EXPANDED_COLUMNS = ["ingredient_id", "item", "quantity", "unit", "g_per_ml", "quantity_base",
                    "base_unit"]


def _rows(ws: Workspace, stmt: Any) -> list[Any]:
    """The rows of a SELECT (typed loosely, so they unpack)."""
    return list(ws.execute(stmt))


@functools.cache
def _component_graph_statement() -> Any:
    """The SELECT of ``component_graph`` (built once: it keeps its SQLAlchemy cache key, and
    the aliases are not rebuilt per call)."""
    rc, parent, child = tables.recipe_components, aliased(tables.recipes), aliased(
        tables.recipes)
    return (
        select(rc.c.recipe_id, parent.c.slug, rc.c.component_id, child.c.slug, rc.c.batches)
        .join(parent, parent.c.id == rc.c.recipe_id)
        .join(child, child.c.id == rc.c.component_id)
        .order_by(rc.c.recipe_id, rc.c.id)
    )


@functools.lru_cache(maxsize=2)
def _expansion_statement(*, by_unit: bool = False) -> Any:
    """What ``expand_rows`` reads, in ONE statement (built once): the recipes reachable from
    the roots (a recursive CTE; UNION, so a cycle ends it), their component edges (part 0)
    and ingredient lines (part 1), in order. ``by_unit``: the root is the recipe of the
    finished unit ``unit``, whose own row comes first (part -1)."""
    rc, ri, ing, r, fu = (tables.recipe_components, tables.recipe_ingredients,
                          tables.ingredients, tables.recipes, tables.finished_units)
    seed = (select(fu.c.recipe_id.label("id")).where(fu.c.slug == bindparam("unit")) if by_unit
            else select(r.c.id).where(r.c.id.in_(bindparam("roots", expanding=True))))
    reach = seed.cte("reach", recursive=True)
    reach = reach.union(select(rc.c.component_id).join(reach, reach.c.id == rc.c.recipe_id))
    parent, child = aliased(r), aliased(r)
    edges = (
        select(literal_column("0", Integer).label("part"), rc.c.recipe_id,
               rc.c.component_id.label("other_id"), parent.c.slug.label("recipe_slug"),
               child.c.slug.label("slug"), rc.c.batches.label("amount"),
               type_coerce(null(), ing.c.g_per_ml.type).label("g_per_ml"),
               type_coerce(null(), ri.c.unit.type).label("unit"),
               literal_column("0", Integer).label("position"), rc.c.id.label("row_id"))
        .join(reach, reach.c.id == rc.c.recipe_id)
        .join(parent, parent.c.id == rc.c.recipe_id)
        .join(child, child.c.id == rc.c.component_id)
    )
    lines = (
        select(literal_column("1", Integer), ri.c.recipe_id, ri.c.ingredient_id,
               type_coerce(null(), r.c.slug.type), ing.c.slug, ri.c.quantity, ing.c.g_per_ml,
               ri.c.unit, ri.c.position, ri.c.id)
        .join(reach, reach.c.id == ri.c.recipe_id)
        .join(ing, ing.c.id == ri.c.ingredient_id)
    )
    parts = [edges, lines]
    if by_unit:
        parts.append(
            select(literal_column("-1", Integer), fu.c.recipe_id, fu.c.id, r.c.slug, fu.c.slug,
                   fu.c.items_per_batch, type_coerce(null(), ing.c.g_per_ml.type),
                   fu.c.item_unit, literal_column("0", Integer), fu.c.id)
            .select_from(fu.outerjoin(r, r.c.id == fu.c.recipe_id))
            .where(fu.c.slug == bindparam("unit")))
    both = union_all(*parts)
    c = both.selected_columns
    return both.order_by(c.part, c.recipe_id, c.position, c.row_id)


class ExpandedUnit(NamedTuple):
    """A finished unit's row as ``expand_unit`` reads it with its recipe's expansion."""

    id: int
    slug: str
    recipe_id: int
    items_per_batch: Decimal
    item_unit: str
    recipe_slug: str | None


def component_graph(ws: Workspace) -> tuple[dict[int, list[tuple[int, Decimal]]],
                                            dict[int, str]]:
    """Every component edge (recipe -> [(component, batches)]) and the slugs they name.

    One SELECT: the edge table is small (one row per nested use of a recipe).
    """
    stmt = _component_graph_statement()
    edges: dict[int, list[tuple[int, Decimal]]] = defaultdict(list)
    slugs: dict[int, str] = {}
    for recipe_id, recipe_slug, component_id, component_slug, batches in _rows(ws, stmt):
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


def cycle_error(cycle: list[int], slugs: Mapping[int, str]) -> RecipeCycleError:
    return RecipeCycleError([slugs.get(r, f"#{r}") for r in cycle])


def scale(edges: Mapping[int, list[tuple[int, Decimal]]], slugs: Mapping[int, str],
          roots: Mapping[int, Decimal]) -> dict[int, Decimal]:
    """Batches of every reachable recipe (roots and nested components, scaled and summed),
    in the order recipes are first reached (depth first: a recipe, then its components)."""
    for root in roots:
        cycle = find_cycle(edges, root)
        if cycle:
            raise cycle_error(cycle, slugs)
    # first reach, depth first (a recipe, then its components): fixes the order of rows
    order: list[int] = []
    seen: set[int] = set()
    stack = [int(r) for r in reversed(list(roots))]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        order.append(node)
        stack.extend(c for c, _ in reversed(edges.get(node, [])) if c not in seen)
    # batches: push each recipe's total down its edges once, parents before children
    indegree = dict.fromkeys(order, 0)
    for node in order:
        for child, _ in edges.get(node, ()):
            indegree[child] += 1
    totals = {node: Decimal(0) for node in order}
    for root, batches in roots.items():
        totals[int(root)] += Decimal(batches)
    ready = [n for n in order if indegree[n] == 0]
    while ready:
        node = ready.pop()
        for child, per_batch in edges.get(node, ()):
            totals[child] += totals[node] * per_batch
            indegree[child] -= 1
            if indegree[child] == 0:
                ready.append(child)
    return {node: totals[node] for node in order}


def expand(ws: Workspace, batches_by_recipe_id: Mapping[int, Decimal]) -> pd.DataFrame:
    """The ingredients several recipes need at once, as a DataFrame (see ``expand_rows``).

    >>> frame = expand(ws, {3: Decimal(2)})  # recipe 3: frosted brownies, 2 batches
    >>> egg = frame.set_index("item").loc["egg"]
    >>> float(egg["quantity"]), egg["unit"]
    (4.0, 'each')
    """
    rows = expand_rows(ws, batches_by_recipe_id)
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in EXPANDED_COLUMNS})
    return pd.DataFrame(rows, columns=EXPANDED_COLUMNS)


def expand_rows(ws: Workspace,
                batches_by_recipe_id: Mapping[int, Decimal]) -> list[dict[str, Any]]:
    """The ingredients several recipes need at once: nested components expanded and scaled,
    one row per ingredient (per unit, where two units of it cannot be converted).

    Columns: ``ingredient_id``, ``item`` (slug), ``quantity`` (Decimal), ``unit`` (canonical;
    the unit of the ingredient's first occurrence, depth first), ``g_per_ml`` (Decimal or
    None), ``quantity_base`` (Decimal, in ``base_unit``: g, ml or each). Always one SELECT,
    however many recipes are reached (``_expansion_statement``). Raises RecipeCycleError
    on a cycle.

    >>> sorted(row["item"] for row in expand_rows(ws, {3: Decimal(1)}))[:3]
    ['butter', 'cocoa', 'cream-cheese']
    """
    roots = {int(k): Decimal(v) for k, v in batches_by_recipe_id.items()}
    if not roots:
        return []
    return _expanded(ws.execute(_expansion_statement(), {"roots": sorted(roots)}), roots)[1]


def expand_unit(ws: Workspace, finished_unit: str, batches: Decimal
                ) -> tuple[ExpandedUnit | None, list[dict[str, Any]]]:
    """A finished unit's row and ``expand_rows`` of ``batches`` of its recipe, in ONE
    statement; (None, []) when no finished unit has that slug.

    >>> unit, rows = expand_unit(ws, "sugar-cookie", Decimal(1))
    >>> unit.slug, sorted(row["item"] for row in rows)[:2]
    ('sugar-cookie', ['baking-soda', 'butter'])
    """
    found = ws.execute(_expansion_statement(by_unit=True), {"unit": finished_unit})
    return _expanded(found, None, batches)


def _expanded(found: Any, roots: dict[int, Decimal] | None, unit_batches: Decimal = Decimal(1)
              ) -> tuple[ExpandedUnit | None, list[dict[str, Any]]]:
    """The rows of ``expand_rows`` from the rows of ``_expansion_statement`` (``roots``:
    the root recipes and their batches; None: the finished unit's recipe, ``unit_batches``)
    and the finished unit's row, if read."""
    finished = None
    edges: dict[int, list[tuple[int, Decimal]]] = defaultdict(list)
    slugs: dict[int, str] = {}
    lines: dict[int, list[Any]] = defaultdict(list)
    for row in found:
        if row.part == 0:
            edges[int(row.recipe_id)].append((int(row.other_id), Decimal(row.amount)))
            slugs[int(row.recipe_id)] = str(row.recipe_slug)
            slugs[int(row.other_id)] = str(row.slug)
        elif row.part == 1:
            lines[int(row.recipe_id)].append(row)
        else:
            finished = ExpandedUnit(int(row.other_id), str(row.slug), int(row.recipe_id),
                                Decimal(row.amount), str(row.unit), row.recipe_slug)
    if roots is None:
        if finished is None:
            return None, []
        roots = {finished.recipe_id: Decimal(unit_batches)}
    scaled = scale(edges, slugs, roots)
    # per ingredient: [unit, quantity] buckets, the first bucket in the first unit seen
    buckets: dict[int, list[list[Any]]] = {}
    info: dict[int, tuple[str, Decimal | None]] = {}
    for recipe_id, batches in scaled.items():
        for row in lines.get(recipe_id, ()):
            ingredient_id = int(row.other_id)
            density = None if row.g_per_ml is None else Decimal(row.g_per_ml)
            info[ingredient_id] = (str(row.slug), density)
            unit = normalize_unit(row.unit)
            amount = Decimal(row.amount) * batches
            for bucket in buckets.setdefault(ingredient_id, []):
                try:
                    f = factor(unit, bucket[0], g_per_ml=density, item=str(row.slug))
                except UnitConversionError:
                    continue
                bucket[1] += amount * f
                break
            else:
                buckets[ingredient_id].append([unit, amount])
    rows: list[dict[str, Any]] = []
    for ingredient_id, item_buckets in buckets.items():
        slug, density = info[ingredient_id]
        for unit, amount in item_buckets:
            base = base_unit(unit)
            rows.append({"ingredient_id": ingredient_id, "item": slug, "quantity": amount,
                         "unit": unit, "g_per_ml": density,
                         "quantity_base": amount * factor(unit, base), "base_unit": base})
    return finished, rows
