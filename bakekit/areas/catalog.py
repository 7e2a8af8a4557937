"""The catalog area: ingredients (hierarchy, density, packaging), products and suppliers."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import cast, delete, insert, select, update
from sqlalchemy.orm import aliased
from sqlalchemy.types import Float

from bakekit import frames
from bakekit.areas._common import (
    known_fields,
    lookup_id,
    lookup_row,
    refuse_duplicate,
    refuse_if_used,
)
from bakekit.checks import check_date, check_key, check_text, positive
from bakekit.db import tables
from bakekit.errors import ValidationError
from bakekit.operations import Area, read_operation, write_operation
from bakekit.results import Saved
from bakekit.units import normalize_unit, parse_density, to_decimal

_INGREDIENT_FIELDS = {"name", "category", "parent", "density", "is_packaging", "display_unit",
                      "notes"}
_PRODUCT_FIELDS = {"ingredient", "brand", "name", "package_quantity", "package_unit",
                   "supplier", "preferred", "price", "price_on", "upc", "notes"}
_SUPPLIER_FIELDS = {"city", "state", "website", "notes"}


class Catalog(Area):
    """Ingredients, products and suppliers.

    >>> with bakery.session() as ws:
    ...     _ = ws.catalog.add_ingredient("rye", "Rye flour", density="1 cup = 3.6 oz")
    ...     saved = ws.catalog.add_product("rye-2lb", "rye", brand="Bob's Red Mill",
    ...                                    name="Rye flour 2 lb", package_quantity=2,
    ...                                    package_unit="lb")
    >>> saved.entity, saved.key
    ('product', 'rye-2lb')
    """

    area_name = "catalog"

    # -- ingredients ------------------------------------------------------------------------
    def _ingredient_values(self, changes: dict[str, Any], *, slug: str | None = None) -> dict:
        values: dict[str, Any] = {}
        if "name" in changes:
            values["name"] = check_key(changes["name"], "name")
        if "category" in changes:
            values["category"] = check_text(changes["category"], "category")
        if "parent" in changes:
            parent = changes["parent"]
            if parent is None:
                values["parent_id"] = None
            else:
                if parent == slug:
                    raise ValidationError(f"parent: {parent!r} cannot be its own parent",
                                          field="parent", value=parent)
                values["parent_id"] = lookup_id(self._ws, "ingredients", "slug", parent,
                                                "parent ingredient")
        if "density" in changes:
            density = changes["density"]
            if density is None or density == "":
                values["density"], values["g_per_ml"] = None, None
            else:
                values["density"] = check_text(density, "density")
                values["g_per_ml"] = parse_density(density)
        if "is_packaging" in changes:
            if not isinstance(changes["is_packaging"], bool):
                raise ValidationError(f"is_packaging: {changes['is_packaging']!r} must be "
                                      "True or False", field="is_packaging",
                                      value=changes["is_packaging"])
            values["is_packaging"] = changes["is_packaging"]
        if "display_unit" in changes:
            unit = changes["display_unit"]
            values["display_unit"] = None if unit is None else normalize_unit(unit,
                                                                              field="display_unit")
        if "notes" in changes:
            values["notes"] = check_text(changes["notes"], "notes")
        return values

    @write_operation
    def add_ingredient(self, slug: str, name: str, *, category: str | None = None,
                       parent: str | None = None, density: str | None = None,
                       is_packaging: bool = False, display_unit: str | None = None,
                       notes: str | None = None) -> Saved:
        """Add an ingredient; ``density`` like ``"1 cup = 4.42 oz"`` lets cups meet pounds.

        >>> ws.catalog.add_ingredient("almond-flour", "Almond flour",
        ...                           density="1 cup = 3.39 oz").key
        'almond-flour'
        """
        check_key(slug, "slug")
        refuse_duplicate(self._ws, "ingredients", "slug", slug, "ingredient")
        values = self._ingredient_values(
            {"name": name, "category": category, "parent": parent, "density": density,
             "is_packaging": is_packaging, "display_unit": display_unit, "notes": notes},
            slug=slug)
        t = tables.ingredients
        new_id = self._ws.scalar(insert(t).returning(t.c.id), {"slug": slug, **values})
        return Saved("ingredient", slug, int(new_id))

    @write_operation
    def update_ingredient(self, slug: str, **changes: Any) -> Saved:
        """Change an ingredient's fields (name, category, parent, density, ...).

        >>> ws.catalog.update_ingredient("flour-ap", density="1 cup = 4.5 oz").created
        False
        """
        known_fields(changes, _INGREDIENT_FIELDS, f"update_ingredient({slug!r})")
        row_id = lookup_id(self._ws, "ingredients", "slug", slug, "ingredient")
        values = self._ingredient_values(changes, slug=slug)
        if "parent_id" in values and values["parent_id"] is not None:
            self._refuse_parent_cycle(row_id, values["parent_id"], slug)
        if values:
            t = tables.ingredients
            self._ws.execute(update(t).where(t.c.id == row_id).values(**values))
        return Saved("ingredient", slug, row_id, created=False)

    def _refuse_parent_cycle(self, row_id: int, parent_id: int, slug: str) -> None:
        t = tables.ingredients
        seen = {row_id}
        current: int | None = parent_id
        while current is not None:
            if current in seen:
                raise ValidationError(f"parent: making it the parent of {slug!r} would form a "
                                      "cycle in the hierarchy", field="parent", value=slug)
            seen.add(current)
            current = self._ws.scalar(select(t.c.parent_id).where(t.c.id == current))

    @write_operation
    def delete_ingredient(self, slug: str) -> Saved:
        """Delete an ingredient nothing uses (lots, products, recipes refuse it)."""
        row_id = lookup_id(self._ws, "ingredients", "slug", slug, "ingredient")
        refuse_if_used(self._ws, "ingredients", row_id, f"ingredient {slug!r}")
        t = tables.ingredients
        self._ws.execute(delete(t).where(t.c.id == row_id))
        return Saved("ingredient", slug, row_id, created=False)

    @read_operation
    def ingredients(self) -> pd.DataFrame:
        """All ingredients, sorted by slug, with their parent's slug and density."""
        t = tables.ingredients
        parent = aliased(t)
        stmt = (
            select(t.c.id.label("ingredient_id"), t.c.slug.label("item"), t.c.name,
                   t.c.category, parent.c.slug.label("parent"), t.c.density,
                   cast(t.c.g_per_ml, Float).label("g_per_ml"), t.c.is_packaging,
                   t.c.display_unit, t.c.notes)
            .outerjoin(parent, parent.c.id == t.c.parent_id)
            .order_by(t.c.slug)
        )
        return frames.validate(self._ws.frame(stmt), frames.INGREDIENTS)

    # -- products ---------------------------------------------------------------------------
    def _product_values(self, changes: dict[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        if "ingredient" in changes:
            values["ingredient_id"] = lookup_id(self._ws, "ingredients", "slug",
                                                changes["ingredient"], "ingredient")
        for text_field in ("brand", "upc", "notes"):
            if text_field in changes:
                values[text_field] = check_text(changes[text_field], text_field)
        if "name" in changes:
            values["name"] = check_key(changes["name"], "name")
        if "package_quantity" in changes:
            values["package_quantity"] = positive(changes["package_quantity"],
                                                  "package_quantity")
        if "package_unit" in changes:
            values["package_unit"] = normalize_unit(changes["package_unit"],
                                                    field="package_unit")
        if "supplier" in changes:
            supplier = changes["supplier"]
            values["supplier_id"] = None if supplier is None else lookup_id(
                self._ws, "suppliers", "name", supplier, "supplier")
        if "preferred" in changes:
            if not isinstance(changes["preferred"], bool):
                raise ValidationError(f"preferred: {changes['preferred']!r} must be True or "
                                      "False", field="preferred", value=changes["preferred"])
            values["preferred"] = changes["preferred"]
        if "price" in changes:
            price = changes["price"]
            values["price"] = None if price is None else to_decimal(price, "price",
                                                                    non_negative=True)
        if "price_on" in changes:
            on = changes["price_on"]
            values["price_on"] = None if on is None else check_date(on, "price_on")
        return values

    @write_operation
    def add_product(self, slug: str, ingredient: str, *, brand: str | None = None,
                    name: str, package_quantity: float | str, package_unit: str,
                    supplier: str | None = None, preferred: bool = False,
                    price: float | str | None = None, upc: str | None = None,
                    notes: str | None = None) -> Saved:
        """Add a purchasable package of an ingredient (e.g. a 25 lb bag of flour).

        >>> ws.catalog.add_product("ka-flour-25lb", "flour-ap", brand="King Arthur",
        ...     name="All-Purpose Flour 25 lb", package_quantity=25, package_unit="lb").key
        'ka-flour-25lb'
        """
        check_key(slug, "slug")
        refuse_duplicate(self._ws, "products", "slug", slug, "product")
        values = self._product_values(
            {"ingredient": ingredient, "brand": brand, "name": name,
             "package_quantity": package_quantity, "package_unit": package_unit,
             "supplier": supplier, "preferred": preferred, "price": price, "upc": upc,
             "notes": notes})
        if values.get("preferred"):
            self._clear_preferred(values["ingredient_id"])
        t = tables.products
        new_id = self._ws.scalar(insert(t).returning(t.c.id), {"slug": slug, **values})
        return Saved("product", slug, int(new_id))

    def _clear_preferred(self, ingredient_id: int) -> None:
        t = tables.products
        self._ws.execute(update(t).where(t.c.ingredient_id == ingredient_id,
                                         t.c.preferred.is_(True)).values(preferred=False))

    @write_operation
    def update_product(self, slug: str, **changes: Any) -> Saved:
        """Change a product's fields; ``preferred=True`` makes it the ingredient's one choice."""
        known_fields(changes, _PRODUCT_FIELDS, f"update_product({slug!r})")
        row = lookup_row(self._ws, "products", "slug", slug, "product")
        values = self._product_values(changes)
        if values.get("preferred"):
            self._clear_preferred(values.get("ingredient_id", row.ingredient_id))
        if values:
            t = tables.products
            self._ws.execute(update(t).where(t.c.id == row.id).values(**values))
        return Saved("product", slug, int(row.id), created=False)

    @write_operation
    def delete_product(self, slug: str) -> Saved:
        """Delete a product no purchase or lot refers to."""
        row_id = lookup_id(self._ws, "products", "slug", slug, "product")
        refuse_if_used(self._ws, "products", row_id, f"product {slug!r}")
        t = tables.products
        self._ws.execute(delete(t).where(t.c.id == row_id))
        return Saved("product", slug, row_id, created=False)

    @read_operation
    def products(self, ingredient: str | None = None) -> pd.DataFrame:
        """All products (or one ingredient's), sorted by ingredient then slug."""
        p, i, s = tables.products, tables.ingredients, tables.suppliers
        stmt = (
            select(p.c.id.label("product_id"), p.c.slug.label("item"),
                   i.c.slug.label("ingredient"), p.c.brand, p.c.name,
                   cast(p.c.package_quantity, Float).label("package_quantity"),
                   p.c.package_unit, s.c.name.label("supplier"), p.c.preferred,
                   cast(p.c.price, Float).label("price"), p.c.price_on, p.c.upc, p.c.notes)
            .join(i, i.c.id == p.c.ingredient_id)
            .outerjoin(s, s.c.id == p.c.supplier_id)
            .order_by(i.c.slug, p.c.slug)
        )
        if ingredient is not None:
            stmt = stmt.where(i.c.slug == ingredient)
        return frames.validate(self._ws.frame(stmt), frames.PRODUCTS)

    # -- suppliers --------------------------------------------------------------------------
    @write_operation
    def add_supplier(self, name: str, *, city: str | None = None, state: str | None = None,
                     website: str | None = None, notes: str | None = None) -> Saved:
        """Add a supplier, named by its name.

        >>> ws.catalog.add_supplier("Smart & Final", city="Bellevue", state="WA").entity
        'supplier'
        """
        check_key(name, "name")
        refuse_duplicate(self._ws, "suppliers", "name", name, "supplier")
        values = {k: check_text(v, k) for k, v in
                  {"city": city, "state": state, "website": website, "notes": notes}.items()}
        t = tables.suppliers
        new_id = self._ws.scalar(insert(t).returning(t.c.id), {"name": name, **values})
        return Saved("supplier", name, int(new_id))

    @write_operation
    def update_supplier(self, name: str, **changes: Any) -> Saved:
        """Change a supplier's city, state, website or notes."""
        known_fields(changes, _SUPPLIER_FIELDS, f"update_supplier({name!r})")
        row_id = lookup_id(self._ws, "suppliers", "name", name, "supplier")
        values = {k: check_text(v, k) for k, v in changes.items()}
        if values:
            t = tables.suppliers
            self._ws.execute(update(t).where(t.c.id == row_id).values(**values))
        return Saved("supplier", name, row_id, created=False)

    @write_operation
    def delete_supplier(self, name: str) -> Saved:
        """Delete a supplier no product or purchase refers to."""
        row_id = lookup_id(self._ws, "suppliers", "name", name, "supplier")
        refuse_if_used(self._ws, "suppliers", row_id, f"supplier {name!r}")
        t = tables.suppliers
        self._ws.execute(delete(t).where(t.c.id == row_id))
        return Saved("supplier", name, row_id, created=False)

    @read_operation
    def suppliers(self) -> pd.DataFrame:
        """All suppliers, sorted by name."""
        t = tables.suppliers
        stmt = select(t.c.id.label("supplier_id"), t.c.name.label("item"), t.c.city, t.c.state,
                      t.c.website, t.c.notes).order_by(t.c.name)
        return frames.validate(self._ws.frame(stmt), frames.SUPPLIERS)
