"""Parse each section of a bake-tracker file, of any generation, into one normalised
shape: plain dicts with bakekit's names (a new format is one more parser here)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from bakekit.db.models.events import ASSIGNMENT_STATUSES
from bakekit.io._sync import (
    Checker,
    num,
    slugify,
)
from bakekit.io.bake_tracker.detect import generation
from bakekit.io.bake_tracker.fields import (
    _STATUS_MAP,
    KNOWN,
    LEGACY_FIELDS,
    LEGACY_SECTIONS,
    SECTIONS,
)
from bakekit.io.bake_tracker.state import State
from bakekit.io.external import external_key
from bakekit.units import dimension, money, normalize_unit, parse_density


class Parse(State):
    """The parse phase: ``self.rows[section]`` holds each section's rows, normalised."""

    def section(self, name: str) -> list[tuple[int, dict[str, Any]]]:
        raw = self.data.get(name)
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.problems.add(name, None, name, type(raw).__name__, "must be a list of records")
            return []
        out = []
        fields: set[str] = set()
        for i, rec in enumerate(raw, start=1):
            if type(rec) is not dict and not isinstance(rec, dict):
                self.problems.add(name, i, None, rec, "must be an object")
                continue
            fields.update(rec)
            out.append((i, rec))
        fields -= KNOWN[name]
        if fields:
            self.unknown[name].update(fields)
        self.tally.add(name, "read", len(raw))
        return out

    def _translate_legacy(self) -> None:
        """Older generations' section and field names read as today's (3.0's ``variants``
        and ``pantry_items``, 3.0-3.3's ``purchase_unit``, ``variant_brand``, ...): the
        file's dict is not changed, a translated copy is read."""
        data = dict(self.data)
        for old, new in LEGACY_SECTIONS.items():
            if old in data and new not in data:
                data[new] = data.pop(old)
                self.tally.reason(new, f"read from the {old!r} section (bake-tracker 3.0)")
        for name, renamed in LEGACY_FIELDS.items():
            rows = data.get(name)
            if not isinstance(rows, list) or not any(
                    isinstance(r, dict) and not renamed.keys().isdisjoint(r) for r in rows):
                continue
            data[name] = [_renamed(r, renamed) for r in rows]
        self.data = data

    def parse(self) -> None:
        self._densities: dict[str, Decimal] = {}
        self._event_slugs: dict[str, str] = {}
        self._translate_legacy()
        self.version = generation(self.data, self.problems)
        for key in self.data:
            if key not in KNOWN["_file"] and key not in KNOWN:
                self.unknown["_file"].add(key)
        for name in SECTIONS:
            parser = getattr(self, f"_parse_{name}")
            rows = []
            for i, rec in self.section(name):
                r = parser(i, rec)
                if r is not None:
                    r["_raw"] = rec
                    rows.append(r)
            self.rows[name] = rows

    def _parse_suppliers(self, i: int, rec: dict) -> dict | None:
        c = self._check("suppliers", i)
        out = {"name": c.text(rec, "name", required=True), "city": c.text(rec, "city"),
               "state": c.text(rec, "state"), "website": c.text(rec, "website"),
               "notes": c.text(rec, "notes"), "file_id": external_key(rec.get("id")),
               "file_uuid": c.text(rec, "uuid"), "_row": i}
        return out if c.ok else None

    def _density(self, c: Checker, rec: dict) -> str | None:
        if rec.get("density"):
            return c.text(rec, "density")
        if rec.get("density_g_per_ml") not in (None, ""):  # bake-tracker 3.0
            g = c.number(rec, "density_g_per_ml", positive=True)
            return None if g is None else f"1 ml = {num(g)} g"
        fields = ("density_volume_value", "density_volume_unit", "density_weight_value",
                  "density_weight_unit")
        if all(rec.get(f) in (None, "") for f in fields):
            return None
        vv = c.number(rec, "density_volume_value", required=True, positive=True)
        vu = c.unit(rec, "density_volume_unit")
        wv = c.number(rec, "density_weight_value", required=True, positive=True)
        wu = c.unit(rec, "density_weight_unit")
        if None in (vv, vu, wv, wu):
            return None
        return f"{num(vv)} {vu} = {num(wv)} {wu}"

    def _parse_ingredients(self, i: int, rec: dict) -> dict | None:
        c = self._check("ingredients", i)
        slug = c.text(rec, "slug", required=True)
        out: dict[str, Any] = {
            "file_id": external_key(rec.get("id")),
            "slug": slug, "name": c.text(rec, "display_name", alternatives=("name",)) or slug,
            "category": c.text(rec, "category"), "parent": c.text(rec, "parent_slug"),
            "density": self._density(c, rec), "is_packaging": c.flag(rec, "is_packaging"),
            "notes": c.text(rec, "description", alternatives=("notes",)), "_row": i,
            "_derived": _derived(rec, name=("display_name", "name"),
                                 is_packaging=("is_packaging",))}
        density = out["density"]
        if density:
            known = self._densities.get(density)  # a file repeats a few densities
            if known is not None:
                out["g_per_ml"] = known
            else:
                try:
                    out["g_per_ml"] = self._densities[density] = parse_density(density)
                except Exception as exc:  # noqa: BLE001
                    c.fail("density", density, str(exc).split(": ", 1)[-1])
        else:
            out["g_per_ml"] = None
        return out if c.ok else None

    def _parse_materials(self, i: int, rec: dict) -> dict | None:
        c = self._check("materials", i)
        slug = c.text(rec, "slug", required=True)
        out = {"slug": slug, "name": c.text(rec, "display_name", alternatives=("name",)) or slug,
               "category": c.text(rec, "category"), "parent": None, "density": None,
               "g_per_ml": None, "is_packaging": True,
               "notes": c.text(rec, "description", alternatives=("notes",)), "_row": i}
        return out if c.ok else None

    def _parse_products(self, i: int, rec: dict) -> dict | None:
        c = self._check("products", i)
        ingredient_id = external_key(rec.get("ingredient_id"))
        ingredient = c.text(rec, "ingredient_slug", required=ingredient_id is None)
        if ingredient is None and ingredient_id is not None:
            ingredient = next((r["slug"] for r in self.rows.get("ingredients", [])
                               if r.get("file_id") == ingredient_id), None) \
                or self._remembered_slug("ingredients", ingredient_id)
            if ingredient is None:
                c.fail("ingredient_id", ingredient_id,
                       "names a bake-tracker ingredient not remembered from an earlier "
                       "import: give ingredient_slug, or import the ingredients first")
        brand = c.text(rec, "brand")
        raw_name = c.text(rec, "product_name")
        qty = c.number(rec, "package_unit_quantity", required=True, positive=True)
        unit = c.unit(rec, "package_unit")
        if not c.ok:
            return None
        name = raw_name or c.text(rec, "package_size") or " ".join(
            x for x in (brand, f"{num(qty)} {unit}") if x)
        slug = c.text(rec, "slug") or slugify(
            "-".join(x for x in (ingredient, brand, raw_name, num(qty), unit) if x))
        upc = c.text(rec, "upc_code") or (str(rec["gtin"]) if rec.get("gtin") else None)
        supplier = c.text(rec, "supplier")
        sid = rec.get("preferred_supplier_id")
        price = self._price(c.number(rec, "price", non_negative=True))
        return {"slug": slug, "ingredient": ingredient, "brand": brand, "raw_name": raw_name,
                "price": price,
                "name": name, "package_quantity": qty, "package_unit": unit,
                "preferred": c.flag(rec, "preferred"), "upc": upc,
                "_derived": _derived(rec, name=("product_name", "package_size"),
                                     preferred=("preferred",)),
                "notes": c.text(rec, "notes"), "supplier": supplier,
                "supplier_file_id": external_key(sid), "file_id": external_key(rec.get("id")),
                "file_uuid": c.text(rec, "uuid"), "_row": i}

    def _parse_material_products(self, i: int, rec: dict) -> dict | None:
        c = self._check("material_products", i)
        material = c.text(rec, "material_slug") or c.text(rec, "material", required=True)
        name = c.text(rec, "display_name", alternatives=("name",), required=True)
        unit = c.unit(rec, "default_unit")
        notes = c.text(rec, "notes")
        qty = c.number(rec, "package_quantity", positive=True)
        if not c.ok:
            return None
        reason = None
        if qty is None:
            qty, reason = _pack_size(unit or "each", name or "", notes or "")
            if reason:
                self.tally.reason("material_products", reason)
        return {"slug": c.text(rec, "slug") or slugify(name or ""), "material": material,
                "brand": c.text(rec, "brand"),
                "raw_name": name, "name": name, "package_quantity": qty, "package_unit": unit,
                "preferred": False, "upc": None, "notes": notes,
                "_derived": ("preferred",),
                "supplier": c.text(rec, "supplier"), "supplier_file_id": None, "_row": i}

    def _product_ref(self, c: Checker, rec: dict) -> dict | None:
        ref = {"slug": c.text(rec, "product_slug"), "ingredient": c.text(rec, "ingredient_slug"),
               "brand": c.text(rec, "product_brand"), "raw_name": c.text(rec, "product_name"),
               "package_quantity": c.number(rec, "package_unit_quantity", positive=True),
               "package_unit": c.unit(rec, "package_unit", required=False)}
        ids = [k for k in ("product_id", "purchase_id") if external_key(rec.get(k))]
        if ref["slug"] is None and ref["ingredient"] is None and not ids:
            c.fail("ingredient_slug", None,
                   "is missing (give ingredient_slug, product_slug or product_id)")
        return ref

    def _parse_purchases(self, i: int, rec: dict) -> dict | None:
        c = self._check("purchases", i)
        ref = self._product_ref(c, rec)
        on = c.date(rec, "purchased_at", required=True, alternatives=("purchase_date",))
        packages = c.number(rec, "quantity_purchased", required=True, positive=True)
        unit_cost = c.number(rec, "unit_cost", non_negative=True, alternatives=("unit_price",))
        total = c.number(rec, "total_cost", non_negative=True)
        if unit_cost is None and total is not None and packages:
            unit_cost = money(total / packages)
        unit_cost = self._price(unit_cost)
        uuid = c.text(rec, "uuid")
        if uuid is not None and len(uuid) > 36:
            c.fail("uuid", uuid, "is longer than a uuid (36 characters)")
        out = {"ref": ref, "purchased_on": on, "packages": packages, "unit_cost": unit_cost,
               "uuid": uuid, "file_id": external_key(rec.get("id")),
               "product_id": external_key(rec.get("product_id")),
               "supplier_file_id": external_key(rec.get("supplier_id")),
               "supplier": c.text(rec, "supplier"), "notes": c.text(rec, "notes"),
               "location": c.text(rec, "location"), "_row": i}
        return out if c.ok else None

    def _parse_inventory_items(self, i: int, rec: dict) -> dict | None:
        c = self._check("inventory_items", i)
        ref = self._product_ref(c, rec)
        out = {"ref": ref, "quantity": c.number(rec, "quantity", required=True,
                                                non_negative=True),
               "acquired_on": c.date(rec, "purchase_date", required=True),
               "location": c.text(rec, "location"), "notes": c.text(rec, "notes"),
               "unit": c.unit(rec, "unit", required=False),
               "unit_cost": self._price(c.number(rec, "unit_cost", non_negative=True)),
               "file_id": external_key(rec.get("id")), "file_uuid": c.text(rec, "uuid"),
               "product_id": external_key(rec.get("product_id")),
               "purchase_id": external_key(rec.get("purchase_id")), "_row": i}
        return out if c.ok else None

    def _parse_unit_conversions(self, i: int, rec: dict) -> dict | None:
        """bake-tracker 3.x's per-ingredient conversions: ``1 from_unit = factor to_unit``
        (3.0) or ``from_quantity from_unit = to_quantity to_unit``; a weight against a
        volume is a density (used where the ingredient has none)."""
        c = self._check("unit_conversions", i)
        factor = c.number(rec, "factor", positive=True)
        fq = c.number(rec, "from_quantity", positive=True)
        tq = c.number(rec, "to_quantity", positive=True)
        units = (c.unit(rec, "from_unit"), c.unit(rec, "to_unit"))
        out: dict[str, Any] = {"ingredient": c.text(rec, "ingredient_slug", required=True),
                               "from_unit": units[0], "to_unit": units[1],
                               "from_quantity": fq, "density": None, "_row": i}
        if not c.ok:
            return None
        amounts: tuple[Decimal, Decimal] | None = None
        if factor is not None:
            amounts = (Decimal(1), factor)
        elif tq is not None:
            amounts = (fq or Decimal(1), tq)
        # else from_quantity alone (3.2): which side it measures is not said
        if {dimension(u) for u in units if u} != {"mass", "volume"}:
            return out
        if amounts is not None:
            out["density"] = _density_text(amounts, units)
            return out
        # 3.2 wrote 3.0's factor as from_quantity; bake-tracker's own importer read it as
        # "from_quantity from_unit = 1 to_unit": the reading giving a baking density
        # (0.1-2.5 g/ml) is taken; none or both: refused (resolve names the way in)
        if fq is not None:
            fits = [d for d in (_density_text((Decimal(1), fq), units),
                                _density_text((fq, Decimal(1)), units))
                    if Decimal("0.1") <= parse_density(d) <= Decimal("2.5")]
            if len(fits) == 1:
                out["density"] = fits[0]
                self.tally.reason("unit_conversions", "from_quantity alone read as 1 "
                                  "from_unit = from_quantity to_unit (the other reading is "
                                  "no baking density)")
        return out

    def _parse_recipes(self, i: int, rec: dict) -> dict | None:
        c = self._check("recipes", i)
        name = c.text(rec, "name", required=True)
        slug = c.text(rec, "slug") or (slugify(name) if name else None)
        notes = c.text(rec, "notes")
        source = c.text(rec, "source")
        if source:
            notes = f"{notes}\n\nSource: {source}" if notes else f"Source: {source}"
        ingredients = []
        raw_ingredients = rec.get("ingredients") or []
        if not isinstance(raw_ingredients, list):
            c.fail("ingredients", raw_ingredients, "must be a list")
            raw_ingredients = []
        for pos, ing in enumerate(raw_ingredients):
            if not isinstance(ing, dict):
                c.fail(f"ingredients[{pos}]", ing, "must be an object")
                continue
            self.unknown["recipe_ingredients"].update(k for k in ing
                                                      if k not in KNOWN["recipe_ingredients"])
            by_name = c.text(ing, "ingredient_name")
            ingredients.append({
                "ingredient": c.text(ing, "ingredient_slug", required=by_name is None),
                "ingredient_name": by_name,
                "quantity": c.number(ing, "quantity", required=True, positive=True),
                "unit": c.unit(ing, "unit"), "notes": c.text(ing, "notes"), "position": pos})
        components = []
        for pos, comp in enumerate(rec.get("components") or []):
            if not isinstance(comp, dict):
                c.fail(f"components[{pos}]", comp, "must be an object")
                continue
            self.unknown["recipe_components"].update(k for k in comp
                                                     if k not in KNOWN["recipe_components"])
            components.append({
                "slug": c.text(comp, "recipe_slug", alternatives=("component_slug",)),
                "name": c.text(comp, "recipe_name"),
                "batches": c.number(comp, "quantity", required=True, positive=True,
                                    alternatives=("batches",))})
            if components[-1]["slug"] is None and components[-1]["name"] is None:
                c.fail("components.recipe_name", None, "is missing")
        for fu in rec.get("finished_units") or []:
            if isinstance(fu, dict):
                self.unknown["recipe_finished_units"].update(
                    k for k in fu if k not in KNOWN["finished_units"])
                fu = {**fu, "recipe_slug": slug}
                parsed = self._parse_finished_units(i, fu, entity="recipes")
                if parsed is not None:
                    self.rows.setdefault("_embedded_finished_units", []).append(parsed)
        out = {"slug": slug, "name": name, "category": c.text(rec, "category"), "notes": notes,
               "ingredients": ingredients, "components": components, "_row": i,
               # lines the file does not carry (no such key) are kept as stored
               "_lines": tuple(k for k in ("ingredients", "components") if k in rec)}
        return out if c.ok else None

    def _parse_finished_units(self, i: int, rec: dict,
                              entity: str = "finished_units") -> dict | None:
        c = self._check(entity, i)
        name = c.text(rec, "display_name", alternatives=("name",))
        slug = c.text(rec, "slug", required=name is None)
        if slug is None and name is not None:  # bake-tracker 3.0: no slug, made from the name
            slug = slugify(name, "_")
            self.tally.reason(entity, "slugs made from display names (bake-tracker 3.0)")
        out = {"slug": slug, "name": name or slug,
               "recipe_slug": c.text(rec, "recipe_slug"), "recipe_name": c.text(rec,
                                                                                  "recipe_name"),
               "items_per_batch": c.number(rec, "items_per_batch", required=True,
                                           positive=True,
                                           alternatives=("unit_yield_quantity",)),
               "item_unit": c.text(rec, "item_unit", alternatives=("unit_yield_unit",))
               or "each", "_row": i, "_entity": entity}
        if out["recipe_slug"] is None and out["recipe_name"] is None:
            c.fail("recipe_name", None, "is missing")
        return out if c.ok else None

    def _parse_finished_goods(self, i: int, rec: dict) -> dict | None:
        c = self._check("finished_goods", i)
        slug = c.text(rec, "slug", required=True)
        out = {"slug": slug, "name": c.text(rec, "display_name", alternatives=("name",)) or slug,
               "notes": c.text(rec, "description", alternatives=("notes",)), "_row": i}
        return out if c.ok else None

    def _parse_compositions(self, i: int, rec: dict) -> dict | None:
        c = self._check("compositions", i)
        out = {"good": c.text(rec, "finished_good_slug", required=True),
               "unit_slug": c.text(rec, "finished_unit_slug"),
               "component_good": c.text(rec, "finished_good_component_slug"),
               "material": c.text(rec, "material_slug"),
               "quantity": c.number(rec, "component_quantity", required=True, positive=True),
               "position": int(rec.get("sort_order") or 0), "_row": i}
        given = [k for k in ("unit_slug", "component_good", "material") if out[k]]
        if rec.get("packaging_product_id") is not None and not given:
            c.fail("packaging_product_id", rec["packaging_product_id"],
                   "names packaging by a bake-tracker database id, which an export cannot "
                   "resolve; give material_slug")
        elif len(given) != 1:
            c.fail("finished_unit_slug", None, "exactly one of finished_unit_slug, "
                   "finished_good_component_slug, material_slug must be given")
        return out if c.ok else None

    def _parse_packages(self, i: int, rec: dict) -> dict | None:
        c = self._check("packages", i)
        name = c.text(rec, "name", required=True)
        out = {"slug": c.text(rec, "slug") or (slugify(name) if name else None), "name": name,
               "notes": c.text(rec, "description", alternatives=("notes",)), "_row": i}
        return out if c.ok else None

    def _parse_package_finished_goods(self, i: int, rec: dict) -> dict | None:
        c = self._check("package_finished_goods", i)
        out = {"package": c.text(rec, "package_slug"),
               "package_name": c.text(rec, "package_name"),
               "good": c.text(rec, "finished_good_slug", required=True),
               "quantity": c.number(rec, "quantity", required=True, positive=True), "_row": i}
        if out["package"] is None and out["package_name"] is None:
            c.fail("package_name", None, "is missing")
        return out if c.ok else None

    def _parse_recipients(self, i: int, rec: dict) -> dict | None:
        c = self._check("recipients", i)
        out = {"name": c.text(rec, "name", required=True),
               "household": c.text(rec, "household_name"), "address": c.text(rec, "address"),
               "notes": c.text(rec, "notes"), "_row": i}
        return out if c.ok else None

    def _parse_events(self, i: int, rec: dict) -> dict | None:
        c = self._check("events", i)
        name = c.text(rec, "name", required=True)
        out = {"name": name,
               "date": c.date(rec, "event_date", required=True, alternatives=("date",)),
               "notes": c.text(rec, "notes"), "_row": i}
        slug = c.text(rec, "slug")
        if slug and name:  # 3.x files name events by slug elsewhere
            self._event_slugs[slug] = name
        return out if c.ok else None

    def _event(self, c: Checker, rec: dict, *, required: bool = False) -> str | None:
        """The event a row names: by name, else by a slug of the file's events."""
        slug = c.text(rec, "event_slug")
        name = c.text(rec, "event_name", required=required and slug is None)
        if name is None and slug is not None:
            name = self._event_slugs.get(slug)
            if name is None:
                c.fail("event_slug", slug, "unknown event (not in this file's events)")
        return name

    def _parse_event_recipient_packages(self, i: int, rec: dict) -> dict | None:
        c = self._check("event_recipient_packages", i)
        status = (c.text(rec, "status") or c.text(rec, "fulfillment_status") or "pending")
        if status.lower() not in _STATUS_MAP:
            c.fail("status", status, f"unknown status (known: {', '.join(ASSIGNMENT_STATUSES)})")
        package = c.text(rec, "package_slug")
        out = {"event": self._event(c, rec, required=True),
               "recipient": c.text(rec, "recipient_name", required=True),
               "package": package,
               "package_name": c.text(rec, "package_name", required=package is None),
               "quantity": c.number(rec, "quantity", positive=True) or Decimal(1),
               "status": _STATUS_MAP.get(status.lower(), "pending"),
               "notes": c.text(rec, "notes"), "_row": i}
        return out if c.ok else None

    def _parse_event_production_targets(self, i: int, rec: dict) -> dict | None:
        c = self._check("event_production_targets", i)
        out = {"event": c.text(rec, "event_name", required=True),
               "unit_slug": c.text(rec, "finished_unit_slug"),
               "recipe_slug": c.text(rec, "recipe_slug"),
               "recipe_name": c.text(rec, "recipe_name"),
               "batches": c.number(rec, "target_batches", positive=True),
               "quantity": c.number(rec, "quantity", positive=True), "_row": i}
        if out["batches"] is None and out["quantity"] is None:
            c.fail("target_batches", None, "is missing")
        return out if c.ok else None

    def _parse_event_assembly_targets(self, i: int, rec: dict) -> dict | None:
        c = self._check("event_assembly_targets", i)
        out = {"event": c.text(rec, "event_name", required=True),
               "good": c.text(rec, "finished_good_slug", required=True),
               "quantity": c.number(rec, "target_quantity", required=True, positive=True,
                                    alternatives=("quantity",)), "_row": i}
        return out if c.ok else None

    def _parse_production(self, entity: str, i: int, rec: dict) -> dict | None:
        c = self._check(entity, i)
        out = {"kind": "production", "unit_slug": c.text(rec, "finished_unit_slug"),
               "recipe_slug": c.text(rec, "recipe_slug"),
               "recipe_name": c.text(rec, "recipe_name"),
               "batches": c.number(rec, "batches", required=True, positive=True,
                                   alternatives=("num_batches",)),
               "expected": c.number(rec, "expected_yield", non_negative=True),
               "actual": c.number(rec, "actual_yield", non_negative=True),
               "produced_at": c.datetime(rec, "produced_at", required=True),
               "total_cost": c.number(rec, "actual_cost", non_negative=True,
                                      alternatives=("total_cost", "total_ingredient_cost")),
               "event": self._event(c, rec), "notes": c.text(rec, "notes"),
               "_row": i, "_entity": entity}
        if out["unit_slug"] is None and out["recipe_slug"] is None and \
                out["recipe_name"] is None:
            c.fail("recipe_name", None, "is missing")
        return out if c.ok else None

    def _parse_production_records(self, i: int, rec: dict) -> dict | None:
        return self._parse_production("production_records", i, rec)

    def _parse_production_runs(self, i: int, rec: dict) -> dict | None:
        return self._parse_production("production_runs", i, rec)

    def _parse_assembly_runs(self, i: int, rec: dict) -> dict | None:
        c = self._check("assembly_runs", i)
        out = {"kind": "assembly", "good": c.text(rec, "finished_good_slug", required=True),
               "quantity": c.number(rec, "quantity_assembled", required=True, positive=True,
                                    alternatives=("quantity",)),
               "produced_at": c.datetime(rec, "assembled_at", required=True,
                                         alternatives=("produced_at",)),
               "total_cost": c.number(rec, "total_component_cost", non_negative=True,
                                      alternatives=("total_cost",)),
               "event": c.text(rec, "event_name"), "notes": c.text(rec, "notes"),
               "_row": i, "_entity": "assembly_runs"}
        return out if c.ok else None


_PACKS = (re.compile(r"(?:pack of|box of)\s*(\d+)", re.I),
          re.compile(r"(\d+)\s*(?:pk|pack)\b", re.I),
          re.compile(r"(\d+)\s*(?:ct|count)\b", re.I))
_LENGTH = re.compile(r"=\s*(\d+(?:\.\d+)?)\s*inches|\((\d+(?:\.\d+)?)\s*inches\)", re.I)


def _density_text(amounts: tuple[Decimal, Decimal], units: tuple[str | None, str | None]
                  ) -> str:
    """A density as text, volume first, from two amounts of one ingredient.

    >>> _density_text((Decimal(1), Decimal("3.6")), ("lb", "cup"))
    '3.6 cup = 1 lb'
    """
    sides = sorted(zip(amounts, units, strict=True), key=lambda a: dimension(a[1] or "") !=
                   "volume")
    return f"{num(sides[0][0])} {sides[0][1]} = {num(sides[1][0])} {sides[1][1]}"


def _renamed(rec: Any, renamed: dict[str, str]) -> Any:
    """A record with its old field names as today's (a field given under both keeps both).

    >>> _renamed({"purchase_unit": "lb"}, {"purchase_unit": "package_unit"})
    {'package_unit': 'lb'}
    """
    if not isinstance(rec, dict):
        return rec
    return {k if renamed.get(k, k) in rec else renamed.get(k, k): v for k, v in rec.items()}


def _derived(rec: dict, **given_by: tuple[str, ...]) -> tuple[str, ...]:
    """The fields of a row the file does not give (each given by one of its keys): their
    values are made up (a name from the slug, a flag's default), so they fill a new row
    but never overwrite a stored one.

    >>> _derived({"slug": "x"}, name=("display_name", "name"), is_packaging=("is_packaging",))
    ('name', 'is_packaging')
    """
    return tuple(f for f, keys in given_by.items()
                 if all(rec.get(k) in (None, "") for k in keys))


def _pack_size(unit: str, name: str, notes: str) -> tuple[Decimal, str | None]:
    """The package size of a material product from its name or notes ("25pk", "= 18000
    inches"); 1 (with a reason) where neither says."""
    text = f"{name} {notes}"
    if normalize_unit(unit) == "in":
        m = _LENGTH.search(text)
        if m:
            return Decimal(m.group(1) or m.group(2)), None
    else:
        # "pack of 12" says the count outright; "12pk" next; "6ct" last (a box holding 6
        # cupcakes, sold 12 to a pack: "Michaels 6ct Cupcake Window Box 12pk")
        for pattern in _PACKS:
            m = pattern.search(text)
            if m:
                return Decimal(m.group(1)), None
        if "individual" in text.lower():
            return Decimal(1), None
    return Decimal(1), "package size not stated: 1 assumed"
