"""The bake-tracker importer: export versions 3.x and 4.x (whole or partial files) into bakekit.

Every section a file holds is read and checked first (every problem collected); then each
table is written set-based: one SELECT of what is there, one INSERT (executemany) of what is
new, one UPDATE of what differs. Lots get their first ledger row, so the audit stays clean.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert, select

from bakekit import fifo
from bakekit.areas._common import table
from bakekit.areas.recipes import find_cycle
from bakekit.db.models.base import new_uuid, to_utc, utcnow
from bakekit.db.models.events import ASSIGNMENT_STATUSES
from bakekit.io._sync import (
    Checker,
    Problems,
    Tally,
    existing,
    fill_lot_costs,
    insert_ids,
    loads_checked,
    num,
    slugify,
    upsert,
)
from bakekit.results import ImportReport
from bakekit.units import money, normalize_unit, q

if TYPE_CHECKING:  # pragma: no cover
    from bakekit.workspace import Workspace

SUPPORTED_MAJOR_VERSIONS = ("3", "4")

#: file fields understood, per section (others are listed in ImportReport.unknown_fields)
KNOWN: dict[str, set[str]] = {
    "_file": {"version", "exported_at", "application", "transformed_at",
              "transformation_notes"},
    "suppliers": {"name", "city", "state", "website", "notes", "id"},
    "ingredients": {"slug", "display_name", "name", "category", "parent_slug",
                    "hierarchy_level", "density", "density_volume_value",
                    "density_volume_unit", "density_weight_value", "density_weight_unit",
                    "is_packaging", "description", "notes"},
    "materials": {"slug", "display_name", "name", "category", "description", "notes",
                  "is_packaging_material"},
    "products": {"ingredient_slug", "brand", "product_name", "package_unit",
                 "package_unit_quantity", "package_size", "preferred", "notes", "upc_code",
                 "gtin", "preferred_supplier_id", "supplier", "price", "slug"},
    "material_products": {"material", "material_slug", "display_name", "name", "brand",
                          "default_unit", "package_quantity", "supplier", "notes"},
    "purchases": {"ingredient_slug", "product_brand", "product_name", "package_unit",
                  "package_unit_quantity", "product_slug", "purchased_at", "purchase_date",
                  "quantity_purchased", "unit_cost", "total_cost", "supplier", "notes",
                  "location"},
    "inventory_items": {"ingredient_slug", "product_brand", "product_name", "package_unit",
                        "package_unit_quantity", "product_slug", "quantity", "purchase_date",
                        "location", "notes", "unit_cost"},
    "recipes": {"name", "slug", "category", "notes", "source", "ingredients", "components",
                "finished_units"},
    "recipe_ingredients": {"ingredient_slug", "quantity", "unit", "notes"},
    "recipe_components": {"recipe_name", "recipe_slug", "component_slug", "quantity",
                          "batches", "notes"},
    "finished_units": {"slug", "display_name", "name", "recipe_name", "recipe_slug",
                       "items_per_batch", "item_unit"},
    "finished_goods": {"slug", "display_name", "name", "description", "notes"},
    "compositions": {"finished_good_slug", "finished_unit_slug",
                     "finished_good_component_slug", "material_slug", "component_quantity",
                     "sort_order", "packaging_product_id", "package_name", "unit"},
    "packages": {"name", "slug", "description", "notes"},
    "package_finished_goods": {"package_name", "package_slug", "finished_good_slug",
                               "quantity"},
    "recipients": {"name", "household_name", "address", "notes"},
    "events": {"name", "event_date", "date", "notes", "year"},
    "event_recipient_packages": {"event_name", "recipient_name", "package_name",
                                 "package_slug", "quantity", "status",
                                 "fulfillment_status", "notes"},
    "event_production_targets": {"event_name", "recipe_name", "recipe_slug",
                                 "finished_unit_slug", "target_batches", "quantity"},
    "event_assembly_targets": {"event_name", "finished_good_slug", "target_quantity",
                               "quantity"},
    "production_records": {"recipe_name", "recipe_slug", "finished_unit_slug", "batches",
                           "num_batches", "produced_at", "actual_cost", "total_cost",
                           "event_name", "notes", "actual_yield", "expected_yield"},
    "production_runs": {"recipe_name", "recipe_slug", "finished_unit_slug", "batches",
                        "num_batches", "produced_at", "actual_cost", "total_cost",
                        "total_ingredient_cost", "per_unit_cost", "event_name", "notes",
                        "actual_yield", "expected_yield"},
    "assembly_runs": {"finished_good_slug", "quantity", "quantity_assembled", "assembled_at",
                      "produced_at", "total_cost", "total_component_cost", "per_unit_cost",
                      "event_name", "notes"},
}

SECTIONS = [k for k in KNOWN if k not in ("_file", "recipe_ingredients", "recipe_components")]

#: sections whose rows are named by a key that must be unique (sections sharing a key space
#: together), and the key's field
_KEYED_SECTIONS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("suppliers",), "name"), (("ingredients", "materials"), "slug"), (("recipes",), "slug"),
    (("finished_units",), "slug"), (("finished_goods",), "slug"), (("packages",), "slug"),
    (("recipients",), "name"), (("events",), "name"))

_STATUS_MAP = {"pending": "pending", "assembled": "assembled", "ready": "assembled",
               "delivered": "delivered", "in_progress": "pending"}


def read_file(path: str | Path, problems: Problems) -> dict[str, Any] | None:
    """Parse a bake-tracker JSON file; a file that is not JSON is one problem, not a crash."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        problems.add("file", None, "path", str(path), f"cannot be read: {exc}")
        return None
    try:
        data, twice = loads_checked(text)
    except json.JSONDecodeError as exc:
        problems.add("file", exc.lineno, "json", text[max(0, exc.pos - 20):exc.pos + 20],
                     f"is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")
        return None
    except RecursionError:
        problems.add("file", None, "json", str(path), "is nested too deeply to read")
        return None
    for key, values, keys in twice:
        problems.add("file", None, key, ", ".join(json.dumps(v, default=str) for v in values),
                     f"the key {key!r} appears {len(values)} times in one JSON object (keys "
                     f"{', '.join(keys)}): which value is meant is ambiguous")
    if twice:
        return None
    if not isinstance(data, dict):
        problems.add("file", None, "json", type(data).__name__,
                     "must be a JSON object of sections (ingredients, products, ...)")
        return None
    return data


class _Importer:
    """One import: parse every section, resolve references, then write table by table."""

    def __init__(self, ws: Workspace, data: dict[str, Any], source: str):
        self.ws = ws
        self.data = data
        self.source = source
        self.problems = Problems()
        self.tally = Tally()
        self.unknown: dict[str, set[str]] = defaultdict(set)
        self.version: str | None = None
        self.rows: dict[str, list[dict[str, Any]]] = {}

    # -- parsing ------------------------------------------------------------------------------
    def section(self, name: str) -> list[tuple[int, dict[str, Any]]]:
        raw = self.data.get(name)
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.problems.add(name, None, name, type(raw).__name__, "must be a list of records")
            return []
        out = []
        for i, rec in enumerate(raw, start=1):
            if not isinstance(rec, dict):
                self.problems.add(name, i, None, rec, "must be an object")
                continue
            self.unknown[name].update(k for k in rec if k not in KNOWN[name])
            out.append((i, rec))
        self.tally.add(name, "read", len(raw))
        return out

    def parse(self) -> None:
        version = self.data.get("version")
        if version is not None:
            self.version = str(version)
            if self.version.split(".")[0] not in SUPPORTED_MAJOR_VERSIONS:
                self.problems.add("file", None, "version", version,
                                  "unsupported bake-tracker export version (3.x and 4.x are)")
        for key in self.data:
            if key not in KNOWN["_file"] and key not in KNOWN:
                self.unknown["_file"].add(key)
        for name in SECTIONS:
            parser = getattr(self, f"_parse_{name}")
            self.rows[name] = [r for r in (parser(i, rec) for i, rec in self.section(name))
                               if r is not None]

    def _check(self, entity: str, row: int) -> Checker:
        return Checker(self.problems, entity, row)

    def _parse_suppliers(self, i: int, rec: dict) -> dict | None:
        c = self._check("suppliers", i)
        out = {"name": c.text(rec, "name", required=True), "city": c.text(rec, "city"),
               "state": c.text(rec, "state"), "website": c.text(rec, "website"),
               "notes": c.text(rec, "notes"), "file_id": rec.get("id"), "_row": i}
        return out if c.ok else None

    def _density(self, c: Checker, rec: dict) -> str | None:
        if rec.get("density"):
            return c.text(rec, "density")
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
            "slug": slug, "name": c.text(rec, "display_name", alternatives=("name",)) or slug,
            "category": c.text(rec, "category"), "parent": c.text(rec, "parent_slug"),
            "density": self._density(c, rec), "is_packaging": c.flag(rec, "is_packaging"),
            "notes": c.text(rec, "description", alternatives=("notes",)), "_row": i}
        if out["density"]:
            from bakekit.units import parse_density

            try:
                out["g_per_ml"] = parse_density(out["density"])
            except Exception as exc:  # noqa: BLE001
                c.fail("density", out["density"], str(exc).split(": ", 1)[-1])
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
        ingredient = c.text(rec, "ingredient_slug", required=True)
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
        return {"slug": slug, "ingredient": ingredient, "brand": brand, "raw_name": raw_name,
                "name": name, "package_quantity": qty, "package_unit": unit,
                "preferred": c.flag(rec, "preferred"), "upc": upc,
                "notes": c.text(rec, "notes"), "supplier": supplier, "supplier_file_id": sid,
                "_row": i}

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
        return {"slug": slugify(name or ""), "material": material, "brand": c.text(rec, "brand"),
                "raw_name": name, "name": name, "package_quantity": qty, "package_unit": unit,
                "preferred": False, "upc": None, "notes": notes,
                "supplier": c.text(rec, "supplier"), "supplier_file_id": None, "_row": i}

    def _product_ref(self, c: Checker, rec: dict) -> dict | None:
        ref = {"slug": c.text(rec, "product_slug"), "ingredient": c.text(rec, "ingredient_slug"),
               "brand": c.text(rec, "product_brand"), "raw_name": c.text(rec, "product_name"),
               "package_quantity": c.number(rec, "package_unit_quantity", positive=True),
               "package_unit": c.unit(rec, "package_unit", required=False)}
        if ref["slug"] is None and ref["ingredient"] is None:
            c.fail("ingredient_slug", None, "is missing (or give product_slug)")
        return ref

    def _parse_purchases(self, i: int, rec: dict) -> dict | None:
        c = self._check("purchases", i)
        ref = self._product_ref(c, rec)
        on = c.date(rec, "purchased_at", required=True, alternatives=("purchase_date",))
        packages = c.number(rec, "quantity_purchased", required=True, positive=True)
        unit_cost = c.number(rec, "unit_cost", non_negative=True)
        total = c.number(rec, "total_cost", non_negative=True)
        if unit_cost is None and total is not None and packages:
            unit_cost = money(total / packages)
        out = {"ref": ref, "purchased_on": on, "packages": packages, "unit_cost": unit_cost,
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
               "unit_cost": c.number(rec, "unit_cost", non_negative=True), "_row": i}
        return out if c.ok else None

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
            ingredients.append({
                "ingredient": c.text(ing, "ingredient_slug", required=True),
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
                fu = {**fu, "recipe_slug": slug}
                parsed = self._parse_finished_units(i, fu, entity="recipes")
                if parsed is not None:
                    self.rows.setdefault("_embedded_finished_units", []).append(parsed)
        out = {"slug": slug, "name": name, "category": c.text(rec, "category"), "notes": notes,
               "ingredients": ingredients, "components": components, "_row": i}
        return out if c.ok else None

    def _parse_finished_units(self, i: int, rec: dict,
                              entity: str = "finished_units") -> dict | None:
        c = self._check(entity, i)
        slug = c.text(rec, "slug", required=True)
        out = {"slug": slug, "name": c.text(rec, "display_name", alternatives=("name",)) or slug,
               "recipe_slug": c.text(rec, "recipe_slug"), "recipe_name": c.text(rec,
                                                                                  "recipe_name"),
               "items_per_batch": c.number(rec, "items_per_batch", required=True,
                                           positive=True),
               "item_unit": c.text(rec, "item_unit") or "each", "_row": i, "_entity": entity}
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
        out = {"name": c.text(rec, "name", required=True),
               "date": c.date(rec, "event_date", required=True, alternatives=("date",)),
               "notes": c.text(rec, "notes"), "_row": i}
        return out if c.ok else None

    def _parse_event_recipient_packages(self, i: int, rec: dict) -> dict | None:
        c = self._check("event_recipient_packages", i)
        status = (c.text(rec, "status") or c.text(rec, "fulfillment_status") or "pending")
        if status.lower() not in _STATUS_MAP:
            c.fail("status", status, f"unknown status (known: {', '.join(ASSIGNMENT_STATUSES)})")
        out = {"event": c.text(rec, "event_name", required=True),
               "recipient": c.text(rec, "recipient_name", required=True),
               "package": c.text(rec, "package_slug"),
               "package_name": c.text(rec, "package_name", required=True),
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
               "event": c.text(rec, "event_name"), "notes": c.text(rec, "notes"),
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

    # -- references -----------------------------------------------------------------------------
    def load_current(self) -> None:
        ws = self.ws
        self.db = {
            "suppliers": existing(ws, "suppliers", ["name"]),
            "ingredients": existing(ws, "ingredients", ["slug"]),
            "products": existing(ws, "products", ["slug"]),
            "recipes": existing(ws, "recipes", ["slug"]),
            "finished_units": existing(ws, "finished_units", ["slug"]),
            "finished_goods": existing(ws, "finished_goods", ["slug"]),
            "packages": existing(ws, "packages", ["slug"]),
            "recipients": existing(ws, "recipients", ["name"]),
            "events": existing(ws, "events", ["name"]),
        }

    def _known(self, kind: str, file_keys: set[str]) -> set[str]:
        return set(self.db[kind]) | file_keys

    def duplicates(self) -> None:
        """A slug (or name) given twice in one section is a problem, not a silent merge;
        ingredients and materials share one slug space."""
        for sections, field_name in _KEYED_SECTIONS:
            first: dict[str, tuple[str, int]] = {}
            for entity in sections:
                for r in self.rows[entity]:
                    key = r[field_name]
                    if key in first:
                        where, row = first[key]
                        self.problems.add(entity, r["_row"], field_name, key,
                                          f"duplicate of {where} row {row}: one "
                                          f"{field_name} per row")
                    else:
                        first[key] = (entity, r["_row"])
        seen: dict[str, int] = {}
        for fu in self.rows.get("_embedded_finished_units", []):
            if fu["slug"] in seen:
                self.problems.add("recipes", fu["_row"], "finished_units.slug", fu["slug"],
                                  f"finished unit also listed by recipes row {seen[fu['slug']]}")
            seen.setdefault(fu["slug"], fu["_row"])

    def cycles(self) -> None:
        """Refuse recipes whose components form a cycle (through the file's recipes and the
        database's), one problem per cycle naming the recipes on it."""
        file_recipes = {r["slug"]: r for r in self.rows["recipes"]}
        edges: dict[str, list[str]] = defaultdict(list)
        for r in self.rows["recipes"]:
            edges[r["slug"]] = [c["recipe"] for c in r["components"]
                                if c.get("recipe") and c["recipe"] != r["slug"]]
        if not any(edges.values()):
            return
        rc, rt = table("recipe_components"), table("recipes")
        parent, child = rt.alias("parent"), rt.alias("child")
        for slug, component in self.ws.execute(
                select(parent.c.slug, child.c.slug)
                .join(rc, rc.c.recipe_id == parent.c.id)
                .join(child, child.c.id == rc.c.component_id)):
            if slug not in file_recipes:  # the file's components replace the database's
                edges[slug].append(component)
        number = {s: n for n, s in enumerate(sorted(set(edges) | {c for cs in edges.values()
                                                                   for c in cs}))}
        slug_of = {n: s for s, n in number.items()}
        graph = {number[s]: [(number[c], Decimal(1)) for c in cs] for s, cs in edges.items()}
        reported: set[frozenset[int]] = set()
        for r in self.rows["recipes"]:
            cycle = find_cycle(graph, number[r["slug"]])
            if not cycle or frozenset(cycle) in reported:
                continue
            reported.add(frozenset(cycle))
            names = [file_recipes[slug_of[n]]["name"] if slug_of[n] in file_recipes
                     else slug_of[n] for n in cycle]
            on_file = [file_recipes[slug_of[n]] for n in cycle if slug_of[n] in file_recipes]
            first = min(on_file, key=lambda x: x["_row"])
            self.problems.add("recipes", first["_row"], "components", first["name"],
                              "components form a cycle: " + " -> ".join(names))

    def resolve(self) -> None:
        """Check every reference against the file and the database; record what is unknown."""
        p = self.problems
        self.duplicates()
        ing_slugs = self._known("ingredients", {r["slug"] for r in self.rows["ingredients"]}
                                | {r["slug"] for r in self.rows["materials"]})
        for r in self.rows["ingredients"]:
            if r["parent"] and r["parent"] not in ing_slugs:
                p.add("ingredients", r["_row"], "parent_slug", r["parent"],
                      "unknown parent ingredient")
        material_names = {r["name"]: r["slug"] for r in self.rows["materials"]}
        material_names.update({row.name: s for s, row in self.db["ingredients"].items()
                               if row.is_packaging and row.name not in material_names})
        for r in self.rows["material_products"]:
            slug = r["material"] if r["material"] in ing_slugs else \
                material_names.get(r["material"])
            if slug is None:
                p.add("material_products", r["_row"], "material", r["material"],
                      "unknown material (by slug or display name)")
            r["ingredient"] = slug
        for r in self.rows["products"]:
            if r["ingredient"] not in ing_slugs:
                p.add("products", r["_row"], "ingredient_slug", r["ingredient"],
                      "unknown ingredient")
        # products: the file's and the database's, for purchases and inventory items
        self.candidates: dict[str, dict[str, Any]] = {}
        self._by_ingredient: dict[Any, list[dict[str, Any]]] | None = None
        ing_by_id = {row.id: s for s, row in self.db["ingredients"].items()}
        for slug, row in self.db["products"].items():
            self.candidates[slug] = {
                "slug": slug, "ingredient": ing_by_id.get(row.ingredient_id),
                "brand": row.brand, "raw_name": row.name,
                "package_quantity": row.package_quantity, "package_unit": row.package_unit,
                "preferred": row.preferred}
        seen_slugs: dict[tuple[str, str], int] = {}
        for entity in ("products", "material_products"):
            for r in self.rows[entity]:
                if (entity, r["slug"]) in seen_slugs:
                    p.add(entity, r["_row"], "slug", r["slug"],
                          f"duplicate of row {seen_slugs[(entity, r['slug'])]}")
                seen_slugs[(entity, r["slug"])] = r["_row"]
                self.candidates[r["slug"]] = r
        for entity in ("purchases", "inventory_items"):
            for r in self.rows[entity]:
                r["product"] = self._match_product(entity, r)
        purchases_by = defaultdict(list)
        for r in self.rows["purchases"]:
            if r["product"]:
                purchases_by[(r["product"], r["purchased_on"])].append(r)
        self.file_purchases = purchases_by
        # recipes and what refers to them
        recipe_names = {row.name: s for s, row in self.db["recipes"].items()}
        recipe_names.update({r["name"]: r["slug"] for r in self.rows["recipes"]})
        recipe_slugs = self._known("recipes", {r["slug"] for r in self.rows["recipes"]})

        def recipe_of(entity: str, row: int, slug: str | None, name: str | None) -> str | None:
            if slug is not None:
                if slug in recipe_slugs:
                    return slug
                p.add(entity, row, "recipe_slug", slug, "unknown recipe")
                return None
            if name in recipe_names:
                return recipe_names[name]
            p.add(entity, row, "recipe_name", name, "unknown recipe")
            return None

        for r in self.rows["recipes"]:
            for ing in r["ingredients"]:
                if ing["ingredient"] and ing["ingredient"] not in ing_slugs:
                    p.add("recipes", r["_row"], "ingredients.ingredient_slug",
                          ing["ingredient"], "unknown ingredient")
            for comp in r["components"]:
                comp["recipe"] = recipe_of("recipes", r["_row"], comp["slug"], comp["name"])
                if comp["recipe"] == r["slug"]:
                    p.add("recipes", r["_row"], "components", r["name"],
                          "a recipe cannot contain itself")
        self.cycles()
        units = self.rows["finished_units"] + self.rows.get("_embedded_finished_units", [])
        self.rows["_all_finished_units"] = units
        for fu in units:
            fu["recipe"] = recipe_of(fu["_entity"], fu["_row"], fu["recipe_slug"],
                                     fu["recipe_name"])
        # finished units per recipe (file, then database)
        self.units_of: dict[str, list[str]] = defaultdict(list)
        recipe_by_id = {row.id: s for s, row in self.db["recipes"].items()}
        for s, row in self.db["finished_units"].items():
            self.units_of[recipe_by_id.get(row.recipe_id, "")].append(s)
        for fu in units:
            if fu["recipe"] and fu["slug"] not in self.units_of[fu["recipe"]]:
                self.units_of[fu["recipe"]].append(fu["slug"])
        unit_slugs = self._known("finished_units", {fu["slug"] for fu in units})
        self.items_per_batch = {s: Decimal(row.items_per_batch)
                                for s, row in self.db["finished_units"].items()}
        self.items_per_batch.update({fu["slug"]: fu["items_per_batch"] for fu in units})
        good_slugs = self._known("finished_goods", {r["slug"] for r in
                                                    self.rows["finished_goods"]})
        for r in self.rows["compositions"]:
            if r["good"] not in good_slugs:
                p.add("compositions", r["_row"], "finished_good_slug", r["good"],
                      "unknown finished good")
            for key, known, fld in (("unit_slug", unit_slugs, "finished_unit_slug"),
                                    ("component_good", good_slugs,
                                     "finished_good_component_slug"),
                                    ("material", ing_slugs, "material_slug")):
                if r[key] and r[key] not in known:
                    p.add("compositions", r["_row"], fld, r[key], "unknown reference")
        package_names = {row.name: s for s, row in self.db["packages"].items()}
        package_names.update({r["name"]: r["slug"] for r in self.rows["packages"]})
        package_slugs = self._known("packages", {r["slug"] for r in self.rows["packages"]})
        for entity in ("package_finished_goods", "event_recipient_packages"):
            for r in self.rows[entity]:
                slug = r["package"] if r["package"] in package_slugs else \
                    package_names.get(r["package_name"])
                if slug is None:
                    p.add(entity, r["_row"], "package_name", r["package_name"] or r["package"],
                          "unknown package")
                r["package"] = slug
        for r in self.rows["package_finished_goods"]:
            if r["good"] not in good_slugs:
                p.add("package_finished_goods", r["_row"], "finished_good_slug", r["good"],
                      "unknown finished good")
        events = self._known("events", {r["name"] for r in self.rows["events"]})
        recipients = self._known("recipients", {r["name"] for r in self.rows["recipients"]})
        for r in self.rows["event_recipient_packages"]:
            if r["event"] not in events:
                p.add("event_recipient_packages", r["_row"], "event_name", r["event"],
                      "unknown event")
            if r["recipient"] not in recipients:
                p.add("event_recipient_packages", r["_row"], "recipient_name", r["recipient"],
                      "unknown recipient")
        for r in self.rows["event_production_targets"]:
            if r["event"] not in events:
                p.add("event_production_targets", r["_row"], "event_name", r["event"],
                      "unknown event")
            r["unit"] = self._unit_for("event_production_targets", r, recipe_of, unit_slugs)
            if r["unit"] and r["quantity"] is None:
                r["quantity"] = r["batches"] * self.items_per_batch[r["unit"]]
        for r in self.rows["event_assembly_targets"]:
            if r["event"] not in events:
                p.add("event_assembly_targets", r["_row"], "event_name", r["event"],
                      "unknown event")
            if r["good"] not in good_slugs:
                p.add("event_assembly_targets", r["_row"], "finished_good_slug", r["good"],
                      "unknown finished good")
        for entity in ("production_records", "production_runs"):
            for r in self.rows[entity]:
                r["unit"] = self._unit_for(entity, r, recipe_of, unit_slugs)
                if r["event"] and r["event"] not in events:
                    p.add(entity, r["_row"], "event_name", r["event"], "unknown event")
        for r in self.rows["assembly_runs"]:
            if r["good"] not in good_slugs:
                p.add("assembly_runs", r["_row"], "finished_good_slug", r["good"],
                      "unknown finished good")
            if r["event"] and r["event"] not in events:
                p.add("assembly_runs", r["_row"], "event_name", r["event"], "unknown event")

    def _unit_for(self, entity: str, r: dict, recipe_of: Any, unit_slugs: set[str]
                  ) -> str | None:
        if r.get("unit_slug"):
            if r["unit_slug"] not in unit_slugs:
                self.problems.add(entity, r["_row"], "finished_unit_slug", r["unit_slug"],
                                  "unknown finished unit")
                return None
            return str(r["unit_slug"])
        recipe = recipe_of(entity, r["_row"], r.get("recipe_slug"), r.get("recipe_name"))
        if recipe is None:
            return None
        units = self.units_of.get(recipe, [])
        if not units:
            self.problems.add(entity, r["_row"], "recipe_name", r.get("recipe_name") or recipe,
                              "the recipe has no finished unit to record this against")
            return None
        if len(units) > 1:
            self.tally.reason(entity, f"recipe {recipe!r} has several finished units; "
                                      f"used {units[0]!r}")
        r["recipe"] = recipe
        return units[0]

    def _match_product(self, entity: str, r: dict) -> str | None:
        ref = r["ref"]
        if ref["slug"]:
            if ref["slug"] in self.candidates:
                return str(ref["slug"])
            self.problems.add(entity, r["_row"], "product_slug", ref["slug"], "unknown product")
            return None
        if self._by_ingredient is None:  # candidates per ingredient, built once
            self._by_ingredient = defaultdict(list)
            for cand in self.candidates.values():
                self._by_ingredient[cand.get("ingredient")].append(cand)
        found = []
        for cand in self._by_ingredient.get(ref["ingredient"], ()):
            if ref["brand"] and (cand.get("brand") or "").lower() != ref["brand"].lower():
                continue
            if ref["raw_name"] and (cand.get("raw_name") or "").lower() != \
                    ref["raw_name"].lower():
                continue
            if ref["package_quantity"] is not None and Decimal(
                    str(cand["package_quantity"])) != ref["package_quantity"]:
                continue
            if ref["package_unit"] and normalize_unit(cand["package_unit"]) != \
                    ref["package_unit"]:
                continue
            found.append(cand)
        if len(found) > 1:
            preferred = [f for f in found if f.get("preferred")]
            if len(preferred) == 1:
                found = preferred
        if len(found) == 1:
            return str(found[0]["slug"])
        what = ", ".join(f"{k}={v}" for k, v in ref.items() if v is not None)
        self.problems.add(entity, r["_row"], "product", what,
                          "no product matches" if not found else
                          f"{len(found)} products match; name the product (product_name, "
                          "package size)")
        return None

    # -- writing --------------------------------------------------------------------------------
    def write(self) -> None:
        self._write_suppliers()
        self._write_ingredients()
        self._write_products()
        self._write_purchases_and_lots()
        self._write_recipes()
        self._write_goods()
        self._write_events()
        self._write_runs()

    def _write_suppliers(self) -> None:
        wanted = [(r["name"], {k: r[k] for k in ("name", "city", "state", "website", "notes")})
                  for r in self.rows["suppliers"]]
        ids = upsert(self.ws, "suppliers", _dedupe(wanted, self.tally, "suppliers"),
                     self.db["suppliers"], self.tally, "suppliers")
        self.supplier_ids = {n: int(r.id) for n, r in self.db["suppliers"].items()} | ids
        by_file_id = {r["file_id"]: r["name"] for r in self.rows["suppliers"]}
        implied = set()
        for entity in ("products", "material_products", "purchases"):
            for r in self.rows[entity]:
                if r.get("supplier_file_id") is not None:
                    r["supplier"] = r["supplier"] or by_file_id.get(r["supplier_file_id"])
                if r.get("supplier") and r["supplier"] not in self.supplier_ids:
                    implied.add(r["supplier"])
        if implied:
            self.tally.add("implied_suppliers", "read", len(implied))
            self.tally.reason("implied_suppliers",
                              "suppliers named by products or purchases but not listed")
            ids = upsert(self.ws, "suppliers", [(n, {"name": n}) for n in sorted(implied)],
                         {}, self.tally, "implied_suppliers")
            self.supplier_ids |= ids

    def _write_ingredients(self) -> None:
        t_cols = ("name", "category", "density", "g_per_ml", "is_packaging", "notes")
        statuses: dict[Any, str] = {}
        for entity in ("ingredients", "materials"):  # one slug space (duplicates refused)
            wanted = [(r["slug"], {"slug": r["slug"], **{k: r[k] for k in t_cols}})
                      for r in self.rows[entity]]
            upsert(self.ws, "ingredients", _dedupe(wanted, self.tally, entity),
                   self.db["ingredients"], self.tally, entity, statuses=statuses)
        if "created" in statuses.values():  # the new rows, for their ids and parents
            self.db["ingredients"] = existing(self.ws, "ingredients", ["slug"])
        self.ingredient_ids = {s: int(r.id) for s, r in self.db["ingredients"].items()}
        # parents, once every slug has an id
        parents = [(r["slug"], r["parent"]) for r in self.rows["ingredients"] if r["parent"]]
        changes = [{"b_id": self.ingredient_ids[s], "b_parent_id": self.ingredient_ids[p]}
                   for s, p in parents
                   if self.db["ingredients"][s].parent_id != self.ingredient_ids[p]]
        if changes:
            from sqlalchemy import bindparam, update

            t = table("ingredients")
            self.ws.execute(update(t).where(t.c.id == bindparam("b_id"))
                            .values(parent_id=bindparam("b_parent_id")), changes)
            if any(self.db["ingredients"][s].parent_id is not None for s, _ in parents):
                self.tally.reason("ingredients", "parents changed")

    def _write_products(self) -> None:
        latest: dict[str, tuple[Any, Decimal]] = {}
        for r in self.rows["purchases"]:
            if r["product"] and r["unit_cost"] is not None:
                prev = latest.get(r["product"])
                if prev is None or prev[0] <= r["purchased_on"]:
                    latest[r["product"]] = (r["purchased_on"], r["unit_cost"])
        for entity in ("products", "material_products"):
            wanted = []
            for r in self.rows[entity]:
                values = {"slug": r["slug"], "ingredient_id": self.ingredient_ids[r["ingredient"]],
                          "brand": r["brand"], "name": r["name"],
                          "package_quantity": r["package_quantity"],
                          "package_unit": r["package_unit"], "preferred": r["preferred"],
                          "upc": r["upc"], "notes": r["notes"],
                          "supplier_id": self.supplier_ids.get(r["supplier"])
                          if r["supplier"] else None}
                if r["slug"] in latest:
                    values["price_on"], values["price"] = latest[r["slug"]]
                wanted.append((r["slug"], values))
            upsert(self.ws, "products", _dedupe(wanted, self.tally, entity),
                   self.db["products"], self.tally, entity)
        self.db["products"] = existing(self.ws, "products", ["slug"])
        self.product_rows = self.db["products"]

    def _write_purchases_and_lots(self) -> None:
        ws = self.ws
        products = self.product_rows
        current = existing(ws, "purchases",
                           lambda r: (r.product_id, _day(r.purchased_on), num(r.packages)))
        wanted = []
        for r in self.rows["purchases"]:
            prod = products[r["product"]]
            key = (prod.id, r["purchased_on"], num(r["packages"]))
            wanted.append((key, {
                "uuid": current[key].uuid if key in current else new_uuid(),
                "product_id": prod.id,
                "supplier_id": self.supplier_ids.get(r["supplier"]) if r["supplier"]
                else prod.supplier_id,
                "purchased_on": r["purchased_on"], "packages": r["packages"],
                "unit_cost": r["unit_cost"], "location": r["location"], "notes": r["notes"],
                "created_at": utcnow()}))
        ids = upsert(ws, "purchases", _dedupe(wanted, self.tally, "purchases"), current,
                     self.tally, "purchases",
                     compare=("supplier_id", "unit_cost", "location", "notes"))
        purchase_of: dict[tuple[int, Any], tuple[int, Decimal | None]] = {}
        for key, row in current.items():
            purchase_of.setdefault((key[0], key[1]), (int(row.id), row.unit_cost))
        for (pid, on, _), values in wanted:
            purchase_of[(pid, on)] = (ids[(pid, on, num(values["packages"]))],
                                      values["unit_cost"])
        # lots from inventory items
        lots = table("lots")
        lot_rows = ws.execute(select(lots).where(lots.c.product_id.isnot(None))).all()
        by_key: dict[tuple, list[Any]] = defaultdict(list)
        for lot in lot_rows:
            by_key[(lot.product_id, _day(lot.acquired_on), num(lot.quantity),
                    lot.location)].append(lot)
        new_lots: list[dict[str, Any]] = []
        fills: list[tuple[int, Decimal]] = []
        for r in self.rows["inventory_items"]:
            prod = products[r["product"]]
            unit = normalize_unit(prod.package_unit)
            qty = q(r["quantity"])
            purchase_id, package_cost = purchase_of.get((prod.id, r["acquired_on"]),
                                                        (None, None))
            if r["unit_cost"] is not None:
                lot_cost = r["unit_cost"]
            elif package_cost is not None:
                lot_cost = money(Decimal(package_cost) / Decimal(prod.package_quantity))
            else:
                lot_cost = None
            lot_key = (prod.id, r["acquired_on"], num(qty), r["location"])
            if by_key.get(lot_key):
                lot = by_key[lot_key].pop(0)
                if lot.unit_cost is None and lot_cost is not None:
                    fills.append((int(lot.id), lot_cost))
                    self.tally.add("inventory_items", "updated")
                else:
                    self.tally.add("inventory_items", "unchanged")
                continue
            if qty == 0:
                self.tally.add("inventory_items", "skipped")
                self.tally.reason("inventory_items", "quantity 0: no lot")
                continue
            new_lots.append({
                "uuid": new_uuid(), "kind": "ingredient", "ingredient_id": prod.ingredient_id,
                "finished_unit_id": None, "finished_good_id": None, "product_id": prod.id,
                "purchase_id": purchase_id, "run_id": None, "acquired_on": r["acquired_on"],
                "quantity": qty, "remaining": qty, "unit": unit, "unit_cost": lot_cost,
                "location": r["location"], "created_at": utcnow()})
            if lot_cost is None:
                self.tally.reason("inventory_items", "no price known: uncosted lot")
        if new_lots:
            lot_ids = insert_ids(ws, lots, new_lots)
            fifo.ledger(ws, [(lot_id, v["quantity"], None if v["unit_cost"] is None
                              else money(v["quantity"] * v["unit_cost"]))
                             for lot_id, v in zip(lot_ids, new_lots, strict=True)],
                        reason="import")
            for lot_id in lot_ids:
                ws._note_created_lot(lot_id)
            self.tally.add("inventory_items", "created", len(new_lots))
        fill_lot_costs(ws, fills)
        # purchases whose price arrived now: fill their uncosted lots too
        priced = [(pid, cost) for pid, cost in purchase_of.values() if cost is not None]
        if priced:
            uncosted = ws.execute(select(lots.c.id, lots.c.purchase_id, lots.c.product_id)
                                  .where(lots.c.unit_cost.is_(None),
                                         lots.c.purchase_id.in_([p for p, _ in priced]))).all()
            cost_of = dict(priced)
            pkg = {int(r.id): Decimal(r.package_quantity) for r in products.values()}
            fill_lot_costs(ws, [(int(x.id), money(Decimal(cost_of[x.purchase_id])
                                                  / pkg[int(x.product_id)]))
                                for x in uncosted])

    def _write_recipes(self) -> None:
        ws = self.ws
        statuses: dict[Any, str] = {}
        wanted = [(r["slug"], {"slug": r["slug"], "name": r["name"], "category": r["category"],
                               "notes": r["notes"], "created_at": utcnow()})
                  for r in self.rows["recipes"]]
        ids = upsert(ws, "recipes", _dedupe(wanted, self.tally, "recipes"), self.db["recipes"],
                     self.tally, "recipes", compare=("name", "category", "notes"),
                     statuses=statuses)
        recipe_ids = {s: int(r.id) for s, r in self.db["recipes"].items()} | ids
        ri, rc = table("recipe_ingredients"), table("recipe_components")
        mine = [recipe_ids[r["slug"]] for r in self.rows["recipes"]]
        have_i: dict[int, list[tuple]] = defaultdict(list)
        for x in ws.execute(select(ri).where(ri.c.recipe_id.in_(mine))
                            .order_by(ri.c.recipe_id, ri.c.position, ri.c.id)):
            have_i[x.recipe_id].append((x.ingredient_id, num(x.quantity), x.unit, x.notes))
        have_c: dict[int, set[tuple]] = defaultdict(set)
        for x in ws.execute(select(rc).where(rc.c.recipe_id.in_(mine))):
            have_c[x.recipe_id].add((x.component_id, num(x.batches)))
        replace_i: list[int] = []
        replace_c: list[int] = []
        new_i: list[dict] = []
        new_c: list[dict] = []
        for r in self.rows["recipes"]:
            rid = recipe_ids[r["slug"]]
            want_i = [(self.ingredient_ids[x["ingredient"]], num(q(x["quantity"])), x["unit"],
                       x["notes"]) for x in r["ingredients"]]
            want_c = {(recipe_ids[x["recipe"]], num(q(x["batches"]))) for x in r["components"]}
            changed = False
            if want_i != have_i.get(rid, []):
                if rid in have_i:
                    replace_i.append(rid)
                new_i += [{"recipe_id": rid, "ingredient_id": i, "quantity": Decimal(qty),
                           "unit": u, "notes": n, "position": pos}
                          for pos, (i, qty, u, n) in enumerate(want_i)]
                changed = True
            if want_c != have_c.get(rid, set()):
                if rid in have_c:
                    replace_c.append(rid)
                new_c += [{"recipe_id": rid, "component_id": c, "batches": Decimal(b)}
                          for c, b in sorted(want_c)]
                changed = True
            if changed and statuses.get(r["slug"]) == "unchanged":
                self.tally.add("recipes", "unchanged", -1)
                self.tally.add("recipes", "updated")
        if replace_i:
            ws.execute(delete(ri).where(ri.c.recipe_id.in_(replace_i)))
        if new_i:
            ws.execute(insert(ri), new_i)
        if replace_c:
            ws.execute(delete(rc).where(rc.c.recipe_id.in_(replace_c)))
        if new_c:
            ws.execute(insert(rc), new_c)
        # finished units (top level and embedded in recipes)
        wanted_fu = []
        for fu in self.rows["_all_finished_units"]:
            wanted_fu.append((fu["slug"], {"slug": fu["slug"], "name": fu["name"],
                                           "recipe_id": recipe_ids[fu["recipe"]],
                                           "items_per_batch": fu["items_per_batch"],
                                           "item_unit": fu["item_unit"]}))
        entity = "finished_units"
        self.tally.add("finished_units", "read", 0)
        embedded = len(self.rows.get("_embedded_finished_units", []))
        if embedded:
            self.tally.add("finished_units", "read", embedded)
            self.tally.reason("finished_units", f"{embedded} listed inside recipes")
        ids = upsert(ws, "finished_units", _dedupe(wanted_fu, self.tally, entity),
                     self.db["finished_units"], self.tally, entity)
        self.unit_ids = {s: int(r.id) for s, r in self.db["finished_units"].items()} | ids
        self.recipe_ids = recipe_ids

    def _write_goods(self) -> None:
        ws = self.ws
        wanted = [(r["slug"], {"slug": r["slug"], "name": r["name"], "notes": r["notes"]})
                  for r in self.rows["finished_goods"]]
        ids = upsert(ws, "finished_goods", _dedupe(wanted, self.tally, "finished_goods"),
                     self.db["finished_goods"], self.tally, "finished_goods")
        self.good_ids = {s: int(r.id) for s, r in self.db["finished_goods"].items()} | ids
        current = _existing_if(self.rows["compositions"], ws, "finished_good_components",
                               ["finished_good_id", "finished_unit_id", "component_good_id",
                                "ingredient_id"])
        wanted = []
        for r in self.rows["compositions"]:
            key = (self.good_ids[r["good"]],
                   self.unit_ids.get(r["unit_slug"]) if r["unit_slug"] else None,
                   self.good_ids.get(r["component_good"]) if r["component_good"] else None,
                   self.ingredient_ids.get(r["material"]) if r["material"] else None)
            wanted.append((key, {"finished_good_id": key[0], "finished_unit_id": key[1],
                                 "component_good_id": key[2], "ingredient_id": key[3],
                                 "quantity": r["quantity"],
                                 "unit": "each" if key[3] else None,
                                 "position": r["position"]}))
        upsert(ws, "finished_good_components", _dedupe(wanted, self.tally, "compositions"),
               current, self.tally, "compositions", compare=("quantity", "position"),
               match=("finished_good_id", "finished_unit_id", "component_good_id",
                      "ingredient_id"))
        wanted = [(r["slug"], {"slug": r["slug"], "name": r["name"], "notes": r["notes"]})
                  for r in self.rows["packages"]]
        ids = upsert(ws, "packages", _dedupe(wanted, self.tally, "packages"),
                     self.db["packages"], self.tally, "packages")
        self.package_ids = {s: int(r.id) for s, r in self.db["packages"].items()} | ids
        current = _existing_if(self.rows["package_finished_goods"], ws, "package_contents",
                               ["package_id", "finished_good_id"])
        wanted = []
        for r in self.rows["package_finished_goods"]:
            content = (self.package_ids[r["package"]], self.good_ids[r["good"]])
            wanted.append((content, {"package_id": content[0],
                                     "finished_good_id": content[1],
                                     "quantity": r["quantity"]}))
        upsert(ws, "package_contents", _dedupe(wanted, self.tally, "package_finished_goods"),
               current, self.tally, "package_finished_goods",
               match=("package_id", "finished_good_id"))

    def _write_events(self) -> None:
        ws = self.ws
        wanted = [(r["name"], {k: r[k] for k in ("name", "household", "address", "notes")})
                  for r in self.rows["recipients"]]
        ids = upsert(ws, "recipients", _dedupe(wanted, self.tally, "recipients"),
                     self.db["recipients"], self.tally, "recipients")
        recipient_ids = {s: int(r.id) for s, r in self.db["recipients"].items()} | ids
        wanted = [(r["name"], {k: r[k] for k in ("name", "date", "notes")})
                  for r in self.rows["events"]]
        ids = upsert(ws, "events", _dedupe(wanted, self.tally, "events"), self.db["events"],
                     self.tally, "events")
        self.event_ids = {s: int(r.id) for s, r in self.db["events"].items()} | ids
        current = _existing_if(self.rows["event_recipient_packages"], ws, "assignments",
                               ["event_id", "recipient_id", "package_id"])
        wanted = []
        for r in self.rows["event_recipient_packages"]:
            key = (self.event_ids[r["event"]], recipient_ids[r["recipient"]],
                   self.package_ids[r["package"]])
            wanted.append((key, {"event_id": key[0], "recipient_id": key[1],
                                 "package_id": key[2], "quantity": r["quantity"],
                                 "status": r["status"], "notes": r["notes"]}))
        upsert(ws, "assignments", _dedupe(wanted, self.tally, "event_recipient_packages"),
               current, self.tally, "event_recipient_packages",
               match=("event_id", "recipient_id", "package_id"))
        current = _existing_if(self.rows["event_production_targets"]
                               + self.rows["event_assembly_targets"], ws, "targets",
                               ["event_id", "finished_unit_id", "finished_good_id"])
        for entity in ("event_production_targets", "event_assembly_targets"):
            wanted = []
            for r in self.rows[entity]:
                fu = self.unit_ids[r["unit"]] if entity == "event_production_targets" else None
                fg = self.good_ids[r["good"]] if entity == "event_assembly_targets" else None
                target = (self.event_ids[r["event"]], fu, fg)
                wanted.append((target, {"event_id": target[0], "finished_unit_id": fu,
                                        "finished_good_id": fg, "quantity": r["quantity"]}))
            upsert(ws, "targets", _dedupe(wanted, self.tally, entity), current, self.tally,
                   entity, match=("event_id", "finished_unit_id", "finished_good_id"))

    def _write_runs(self) -> None:
        if not any(self.rows[e] for e in ("production_records", "production_runs",
                                          "assembly_runs")):
            return
        recipe_of_unit = {}
        for s, row in existing(self.ws, "finished_units", ["slug"]).items():
            recipe_of_unit[s] = int(row.recipe_id)
        runs: list[dict[str, Any]] = []
        for entity in ("production_records", "production_runs"):
            for r in self.rows[entity]:
                per_batch = self.items_per_batch[r["unit"]]
                expected = r["expected"] if r["expected"] is not None else \
                    q(r["batches"] * per_batch)
                made = r["actual"] if r["actual"] is not None else expected
                runs.append({"_entity": entity, "kind": "production",
                             "finished_unit_id": self.unit_ids[r["unit"]],
                             "finished_good_id": None,
                             "recipe_id": recipe_of_unit.get(r["unit"]),
                             "batches": r["batches"], "expected_quantity": expected,
                             "quantity": made, "loss": max(expected - made, Decimal(0)),
                             "total_cost": r["total_cost"], "event": r["event"],
                             "produced_at": r["produced_at"], "notes": r["notes"]})
        for r in self.rows["assembly_runs"]:
            runs.append({"_entity": "assembly_runs", "kind": "assembly",
                         "finished_unit_id": None, "finished_good_id": self.good_ids[r["good"]],
                         "recipe_id": None, "batches": None, "expected_quantity": r["quantity"],
                         "quantity": r["quantity"], "loss": Decimal(0),
                         "total_cost": r["total_cost"], "event": r["event"],
                         "produced_at": r["produced_at"], "notes": r["notes"]})
        write_runs(self.ws, runs, self.tally, self.event_ids)


def write_runs(ws: Workspace, runs: list[dict[str, Any]], tally: Tally,
               event_ids: dict[str, int] | None = None) -> None:
    """Insert imported runs (history: no stock moves); a run already there (same item,
    produced_at and quantity) counts as unchanged (or updated when its cost differs)."""
    if not runs:
        return
    if event_ids is None:
        event_ids = {s: int(r.id) for s, r in existing(ws, "events", ["name"]).items()}
    current = existing(ws, "runs", lambda r: _run_key(r.kind, r.finished_unit_id,
                                                      r.finished_good_id, r.produced_at,
                                                      r.quantity))
    by_entity: dict[str, list[tuple[Any, dict[str, Any]]]] = defaultdict(list)
    for r in runs:
        quantity = Decimal(r["quantity"])
        total = r["total_cost"]
        values = {
            "kind": r["kind"], "finished_unit_id": r["finished_unit_id"],
            "finished_good_id": r["finished_good_id"], "recipe_id": r["recipe_id"],
            "batches": r["batches"], "expected_quantity": r["expected_quantity"],
            "quantity": quantity, "loss": r["loss"], "total_cost": total,
            "per_unit_cost": None if total is None or quantity == 0 else money(total / quantity),
            "event_id": event_ids.get(r["event"]) if r["event"] else None,
            "produced_at": r["produced_at"], "notes": r["notes"], "imported": True,
            "snapshot": None, "reversed_at": None, "created_at": utcnow()}
        key = _run_key(r["kind"], r["finished_unit_id"], r["finished_good_id"],
                       r["produced_at"], quantity)
        values["uuid"] = current[key].uuid if key in current else new_uuid()
        by_entity[r["_entity"]].append((key, values))
    for entity, wanted in by_entity.items():
        upsert(ws, "runs", _dedupe(wanted, tally, entity), current, tally, entity,
               compare=("total_cost", "per_unit_cost", "notes", "event_id"))


def _existing_if(rows: list[dict[str, Any]], ws: Workspace, table_name: str,
                 key: list[str]) -> dict[Any, Any]:
    """The table's rows by key (one SELECT) where the file has rows for it; else none."""
    return existing(ws, table_name, key) if rows else {}


def _run_key(kind: str, fu: int | None, fg: int | None, at: Any, quantity: Any) -> tuple:
    stamp = at if not isinstance(at, str) else dt.datetime.fromisoformat(at)
    return (kind, fu, fg, to_utc(stamp).replace(microsecond=0).isoformat(), num(quantity))


def _day(value: Any) -> Any:
    return fifo._as_date(value)


def _dedupe(wanted: list[tuple[Any, dict[str, Any]]], tally: Tally, entity: str
            ) -> list[tuple[Any, dict[str, Any]]]:
    """Drop later rows of a key already seen in the same file (counted as skipped)."""
    seen: set[Any] = set()
    out = []
    for key, values in wanted:
        if key in seen:
            tally.add(entity, "skipped")
            tally.reason(entity, "same key twice in the file: later row skipped")
            continue
        seen.add(key)
        out.append((key, values))
    return out


_PACK = re.compile(r"(?:pack of|box of)\s*(\d+)|(\d+)\s*(?:pk|ct|count|pack)\b", re.I)
_LENGTH = re.compile(r"=\s*(\d+(?:\.\d+)?)\s*inches|\((\d+(?:\.\d+)?)\s*inches\)", re.I)


def _pack_size(unit: str, name: str, notes: str) -> tuple[Decimal, str | None]:
    """The package size of a material product from its name or notes ("25pk", "= 18000
    inches"); 1 (with a reason) where neither says."""
    text = f"{name} {notes}"
    if normalize_unit(unit) == "in":
        m = _LENGTH.search(text)
        if m:
            return Decimal(m.group(1) or m.group(2)), None
    else:
        m = _PACK.search(text)
        if m:
            return Decimal(m.group(1) or m.group(2)), None
        if "individual" in text.lower():
            return Decimal(1), None
    return Decimal(1), "package size not stated: 1 assumed"


def import_bake_tracker(ws: Workspace, path: str | Path | dict[str, Any]) -> ImportReport:
    """Import a bake-tracker export (a path, or the parsed JSON object); see IO."""
    problems = Problems()
    if isinstance(path, dict):
        data: dict[str, Any] | None = path
        source = "<data>"
    else:
        data = read_file(path, problems)
        source = str(path)
    problems.raise_if_any(f"import of {source}")
    assert data is not None
    imp = _Importer(ws, data, source)
    imp.parse()
    imp.load_current()
    imp.resolve()
    imp.problems.raise_if_any(f"import of {source}")
    imp.write()
    return imp.tally.report(unknown=imp.unknown, source=source, version=imp.version)
