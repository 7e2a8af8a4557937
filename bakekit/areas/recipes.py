"""The recipes area: recipes with ingredients, nested components and finished units (their
expansion is bakekit.areas.expansion)."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import (
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)

from bakekit import frames, stock
from bakekit.areas._common import (
    entries,
    known_fields,
    lookup_id,
    refuse_duplicate,
    refuse_if_used,
)
from bakekit.areas.expansion import (
    component_graph,
    cycle_error,
    expand,
    find_cycle,
)
from bakekit.checks import check_key, check_text, positive
from bakekit.db import tables
from bakekit.errors import (
    InUseError,
    NotFoundError,
    RecipeCycleError,
    UnitConversionError,
    ValidationError,
)
from bakekit.operations import Area, read_operation, write_operation
from bakekit.results import Saved
from bakekit.units import count_unit, normalize_unit

if TYPE_CHECKING:  # pragma: no cover
    from bakekit.operations import Workspace

def _rows(ws: Workspace, stmt: Any) -> list[Any]:
    """The rows of a SELECT (typed loosely, so they unpack)."""
    return list(ws.execute(stmt))


# -- the area ---------------------------------------------------------------------------------
_RECIPE_FIELDS = {"name", "category", "notes", "ingredients", "components", "finished_units"}

def _ids_by_slug(ws: Workspace, table_name: str, slugs: list[Any], kind: str) -> dict[str, int]:
    """Ids of many slugs in one SELECT; NotFoundError for the first that names nothing."""
    for slug in slugs:
        check_key(slug, kind)
    if not slugs:
        return {}
    t = tables.by_name(table_name)
    found = {str(s): int(i) for i, s in _rows(
        ws, select(t.c.id, t.c.slug).where(t.c.slug.in_(sorted(set(slugs)))))}
    for slug in slugs:
        if slug not in found:
            raise NotFoundError(kind, slug)
    return found


class Recipes(Area):
    """Recipes: ingredients, nested components (fractional batches) and finished units.

    >>> with bakery.session() as ws:
    ...     saved = ws.recipes.add(
    ...         "blondies", "Blondies",
    ...         ingredients=[("flour-ap", 1, "cup"), ("butter", 8, "oz")],
    ...         components=[("cream-cheese-frosting", 0.5)],
    ...         finished_units=[("blondie-square", "Blondie square", 16, "each")])
    ...     needs = ws.recipes.ingredients_for("blondies", batches=2)
    >>> saved.key, sorted(needs["item"])[:2]
    ('blondies', ['butter', 'cream-cheese'])
    """

    area_name = "recipes"

    # -- writes -----------------------------------------------------------------------------
    @write_operation
    def add(self, slug: str, name: str, *, ingredients: Any, components: Any = (),
            finished_units: Any = (), category: str | None = None,
            notes: str | None = None) -> Saved:
        """Add a recipe: ``ingredients`` as ``(ingredient, quantity, unit)``, ``components``
        as ``(recipe, batches)``, ``finished_units`` as ``(slug, name, items_per_batch,
        item_unit)`` (what one batch yields).

        >>> ws.recipes.add("vanilla-glaze", "Vanilla glaze",
        ...                ingredients=[("powdered-sugar", 1, "cup"), ("vanilla", 1, "tsp")]).key
        'vanilla-glaze'
        """
        ws = self._ws
        check_key(slug, "slug")
        check_key(name, "name")
        check_text(category, "category")
        check_text(notes, "notes")
        ingredient_rows = self._ingredient_rows(ingredients)
        component_rows = self._component_rows(components, slug)
        unit_rows = self._finished_unit_rows(finished_units)
        r = tables.recipes
        refuse_duplicate(ws, "recipes", "slug", slug, "recipe")
        recipe_id = int(ws.scalar(insert(r).returning(r.c.id),
                                  {"slug": slug, "name": name, "category": category,
                                   "notes": notes}))
        self._write_ingredients(recipe_id, ingredient_rows)
        self._write_components(recipe_id, component_rows)
        self._write_finished_units(recipe_id, slug, unit_rows)
        return Saved("recipe", slug, recipe_id)

    @write_operation
    def update(self, slug: str, **changes: Any) -> Saved:
        """Change a recipe: ``name``, ``category``, ``notes``; ``ingredients`` and
        ``components`` replace the lists; ``finished_units`` adds or updates (by slug).

        Past production runs keep their own snapshot and costs.

        >>> ws.recipes.update("sugar-cookies", components=[("cream-cheese-frosting", 1)]).created
        False
        """
        ws = self._ws
        known_fields(changes, _RECIPE_FIELDS, f"recipes.update({slug!r})")
        recipe_id = lookup_id(ws, "recipes", "slug", slug, "recipe")
        values: dict[str, Any] = {}
        if "name" in changes:
            values["name"] = check_key(changes["name"], "name")
        for text_field in ("category", "notes"):
            if text_field in changes:
                values[text_field] = check_text(changes[text_field], text_field)
        ingredient_rows = (self._ingredient_rows(changes["ingredients"])
                           if "ingredients" in changes else None)
        component_rows = (self._component_rows(changes["components"], slug)
                          if "components" in changes else None)
        unit_rows = (self._finished_unit_rows(changes["finished_units"])
                     if "finished_units" in changes else None)
        if component_rows is not None:
            edges, slugs = component_graph(ws)
            edges[recipe_id] = [(c, b) for c, b, _ in component_rows]
            slugs[recipe_id] = slug
            slugs.update({c: s for c, _, s in component_rows})
            cycle = find_cycle(edges, recipe_id)
            if cycle:
                raise cycle_error(cycle, slugs)
        r = tables.recipes
        if values:
            ws.execute(update(r).where(r.c.id == recipe_id).values(**values))
        if ingredient_rows is not None:
            ri = tables.recipe_ingredients
            ws.execute(delete(ri).where(ri.c.recipe_id == recipe_id))
            self._write_ingredients(recipe_id, ingredient_rows)
        if component_rows is not None:
            rc = tables.recipe_components
            ws.execute(delete(rc).where(rc.c.recipe_id == recipe_id))
            self._write_components(recipe_id, component_rows)
        if unit_rows is not None:
            self._write_finished_units(recipe_id, slug, unit_rows)
        return Saved("recipe", slug, recipe_id, created=False)

    @write_operation
    def delete(self, slug: str) -> Saved:
        """Delete a recipe that no other recipe, run or lot uses (its own ingredient lines
        and unused finished units go with it).

        >>> _ = ws.recipes.add("old-glaze", "Old glaze", ingredients=[("sugar", 1, "cup")])
        >>> ws.recipes.delete("old-glaze").key
        'old-glaze'
        """
        ws = self._ws
        recipe_id = lookup_id(ws, "recipes", "slug", slug, "recipe")
        rc, fu = tables.recipe_components, tables.finished_units
        users = [str(s) for (s,) in ws.execute(
            select(tables.recipes.c.slug)
            .join(rc, rc.c.recipe_id == tables.recipes.c.id)
            .where(rc.c.component_id == recipe_id).order_by(tables.recipes.c.slug))]
        if users:
            raise InUseError(f"recipe {slug!r} is still used as a component by "
                             f"{', '.join(users)}; remove it from those first",
                             field="recipes", value=slug)
        refuse_if_used(ws, "recipes", recipe_id, f"recipe {slug!r}",
                       ignore=("recipe ingredients", "recipe components", "finished units"))
        unit_ids = [(int(i), str(s)) for i, s in _rows(
            ws, select(fu.c.id, fu.c.slug).where(fu.c.recipe_id == recipe_id))]
        for unit_id, unit_slug in unit_ids:
            refuse_if_used(ws, "finished_units", unit_id,
                           f"finished unit {unit_slug!r} of recipe {slug!r}")
        ws.execute(delete(fu).where(fu.c.recipe_id == recipe_id))
        ws.execute(delete(tables.recipe_ingredients)
                   .where(tables.recipe_ingredients.c.recipe_id == recipe_id))
        ws.execute(delete(rc).where(rc.c.recipe_id == recipe_id))
        ws.execute(delete(tables.recipes).where(tables.recipes.c.id == recipe_id))
        return Saved("recipe", slug, recipe_id, created=False)

    # -- argument checks and writes of the lists --------------------------------------------
    def _ingredient_rows(self, ingredients: Any) -> list[tuple[int, Decimal, str]]:
        given = entries(ingredients, "ingredients", (3,),
                        shape="(ingredient, quantity, unit) tuples")
        ids = _ids_by_slug(self._ws, "ingredients", [e[0] for e in given], "ingredient")
        rows = []
        for i, (slug, quantity, unit) in enumerate(given):
            rows.append((ids[slug], positive(quantity, f"ingredients[{i}] quantity"),
                         normalize_unit(unit, field=f"ingredients[{i}] unit")))
        return rows

    def _component_rows(self, components: Any, slug: str) -> list[tuple[int, Decimal, str]]:
        given = entries(components, "components", (2,), shape="(recipe, batches) pairs")
        seen: set[str] = set()
        for recipe, _ in given:
            if recipe == slug:
                raise RecipeCycleError([slug, slug])
            if recipe in seen:
                raise ValidationError(f"components: recipe {recipe!r} is listed twice",
                                      field="components", value=recipe)
            seen.add(recipe)
        ids = _ids_by_slug(self._ws, "recipes", [e[0] for e in given], "component recipe")
        return [(ids[recipe], positive(batches, f"components[{i}] batches"), recipe)
                for i, (recipe, batches) in enumerate(given)]

    def _finished_unit_rows(self, finished_units: Any) -> list[tuple[str, str, Decimal, str]]:
        given = entries(finished_units, "finished_units", (4,),
                        shape="(slug, name, items_per_batch, item_unit) tuples")
        rows = []
        seen: set[str] = set()
        for i, (slug, name, per_batch, item_unit) in enumerate(given):
            check_key(slug, f"finished_units[{i}] slug")
            if slug in seen:
                raise ValidationError(f"finished_units: {slug!r} is listed twice",
                                      field="finished_units", value=slug)
            seen.add(slug)
            rows.append((slug, check_key(name, f"finished_units[{i}] name"),
                         positive(per_batch, f"finished_units[{i}] items_per_batch"),
                         count_unit(item_unit, field=f"finished_units[{i}] item_unit")))
        return rows

    def _write_ingredients(self, recipe_id: int, rows: list[tuple[int, Decimal, str]]) -> None:
        if rows:
            self._ws.execute(insert(tables.recipe_ingredients), [
                {"recipe_id": recipe_id, "ingredient_id": ingredient_id, "quantity": quantity,
                 "unit": unit, "position": position}
                for position, (ingredient_id, quantity, unit) in enumerate(rows)])

    def _write_components(self, recipe_id: int, rows: list[tuple[int, Decimal, str]]) -> None:
        if rows:
            self._ws.execute(insert(tables.recipe_components), [
                {"recipe_id": recipe_id, "component_id": component_id, "batches": batches}
                for component_id, batches, _ in rows])

    def _write_finished_units(self, recipe_id: int, recipe_slug: str,
                              rows: list[tuple[str, str, Decimal, str]]) -> None:
        if not rows:
            return
        ws = self._ws
        fu, ing = tables.finished_units, tables.ingredients
        slugs = [r[0] for r in rows]
        clash = ws.scalar(select(ing.c.slug).where(ing.c.slug.in_(slugs)).limit(1))
        if clash is not None:
            raise ValidationError(f"finished_units: {clash!r} is already an ingredient's slug",
                                  field="finished_units", value=clash)
        existing = {str(s): (int(i), int(r)) for i, s, r in _rows(
            ws, select(fu.c.id, fu.c.slug, fu.c.recipe_id).where(fu.c.slug.in_(slugs)))}
        new, changed = [], []
        for slug, name, per_batch, item_unit in rows:
            values = {"name": name, "items_per_batch": per_batch, "item_unit": item_unit}
            if slug not in existing:
                new.append({"slug": slug, "recipe_id": recipe_id, **values})
            elif existing[slug][1] != recipe_id:
                raise ValidationError(
                    f"finished_units: {slug!r} already belongs to another recipe",
                    field="finished_units", value=slug)
            else:
                changed.append({"fid": existing[slug][0], **values})
        if new:
            ws.execute(insert(fu), new)
        if changed:
            ws.execute(update(fu).where(fu.c.id == bindparam("fid"))
                       .values(name=bindparam("name"), items_per_batch=bindparam("items_per_batch"),
                               item_unit=bindparam("item_unit")), changed)

    # -- reads ------------------------------------------------------------------------------
    @read_operation
    def recipes(self) -> pd.DataFrame:
        """Every recipe, by slug: counts of ingredient lines and components, finished units.

        >>> ws.recipes.recipes()["item"].tolist()
        ['chocolate-chip-cookies', 'cream-cheese-frosting', 'frosted-brownies', 'sugar-cookies']
        """
        ws = self._ws
        r, ri, rc, fu = (tables.recipes, tables.recipe_ingredients,
                         tables.recipe_components, tables.finished_units)
        n_ing = (select(func.count()).select_from(ri).where(ri.c.recipe_id == r.c.id)
                 .scalar_subquery())
        n_comp = (select(func.count()).select_from(rc).where(rc.c.recipe_id == r.c.id)
                  .scalar_subquery())
        frame = ws.frame(
            select(r.c.id.label("recipe_id"), r.c.slug.label("item"), r.c.name, r.c.category,
                   n_ing.label("ingredients"), n_comp.label("components"), r.c.notes)
            .order_by(r.c.slug))
        units: dict[int, list[str]] = defaultdict(list)
        for recipe_id, unit_slug in _rows(ws, select(fu.c.recipe_id, fu.c.slug)
                                           .order_by(fu.c.slug)):
            units[int(recipe_id)].append(str(unit_slug))
        if not frame.empty:
            frame["finished_units"] = [", ".join(units.get(int(i), [])) or None
                                       for i in frame["recipe_id"]]
        else:
            frame["finished_units"] = pd.Series(dtype=object)
        return frames.validate(frame, frames.RECIPES)

    def _recipe_id(self, recipe: str) -> int:
        return lookup_id(self._ws, "recipes", "slug", recipe, "recipe")

    @read_operation
    def ingredients_for(self, recipe: str, batches: Any = 1) -> pd.DataFrame:
        """What ``batches`` of a recipe need: nested components expanded and scaled, one row
        per ingredient, in the recipe's unit and in g, ml or each.

        >>> ws.recipes.ingredients_for("frosted-brownies", batches=2).head(3)
             item  quantity  unit  quantity_base base_unit
        0  butter       1.5   cup     354.882355        ml
        1   sugar       2.0   cup     473.176473        ml
        2     egg       4.0  each       4.000000      each
        """
        amount = positive(batches, "batches")
        needs = expand(self._ws, {self._recipe_id(recipe): amount})
        frame = needs[["item", "quantity", "unit", "quantity_base", "base_unit"]].copy()
        for col in ("quantity", "quantity_base"):
            frame[col] = [float(v) for v in frame[col]]
        return frames.validate(frame, frames.RECIPE_INGREDIENTS)

    @read_operation
    def cost(self, recipe: str, batches: Any = 1) -> pd.DataFrame:
        """What ``batches`` of a recipe would cost at current stock (FIFO, without writing),
        per ingredient; ``note`` says why a line cannot be (fully) costed.

        >>> round(float(ws.recipes.cost("frosted-brownies")["cost"].sum()), 2)
        5.06
        """
        ws = self._ws
        amount = positive(batches, "batches")
        needs = expand(ws, {self._recipe_id(recipe): amount})
        rows = []
        for need in needs.itertuples(index=False):
            item = stock.Item("ingredient", int(need.ingredient_id), str(need.item),
                             need.g_per_ml)
            row: dict[str, Any] = {"item": need.item, "quantity": float(need.quantity),
                                   "unit": need.unit, "cost": None, "costed_quantity": 0.0,
                                   "note": None}
            try:
                plan = stock.take(ws, item, need.quantity, need.unit, lock=False)
            except UnitConversionError as exc:
                row["note"] = f"cannot cost: {exc}"
                rows.append(row)
                continue
            costed = sum((t.requested_quantity for t in plan.takes if t.unit_cost is not None),
                         Decimal(0))
            row["costed_quantity"] = float(costed)
            known = plan.known_cost  # None when a lot without a price is taken
            row["cost"] = None if not plan.takes or known is None else float(known)
            notes = []
            if plan.shortfall > 0:
                notes.append(f"not enough stock: short {float(plan.shortfall):g} {need.unit}")
            if plan.uncosted > 0:
                notes.append(f"{float(plan.uncosted):g} {need.unit} from lots with no price")
            row["note"] = "; ".join(notes) or None
            rows.append(row)
        return frames.validate(pd.DataFrame(rows), frames.RECIPE_COST)
