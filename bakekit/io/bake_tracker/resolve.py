"""Resolve references (after ``same_keys``' duplicates and cycles): bake-tracker's integer
ids (the file's rows first, then remembered ids, then natural fields), products named by
their fields."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from bakekit.io._sync import (
    existing,
    num,
)
from bakekit.io.bake_tracker.same_keys import SameKeys
from bakekit.io.bt_views import normalise_code
from bakekit.io.external import remembered, set_aside
from bakekit.units import convert, dimension, factor, money, normalize_unit, parse_density, q


class Resolve(SameKeys):
    """The resolve phase: every reference checked; problems recorded, nothing written."""

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
        self.remembered = remembered(ws, ("ingredients", "products", "suppliers",
                                          "purchases", "lots"))
        self.deleted = set_aside(ws, ("products", "suppliers", "purchases"))

    def _known(self, kind: str, file_keys: set[str]) -> set[str]:
        return set(self.db[kind]) | file_keys

    def resolve(self) -> None:
        """Check every reference against the file and the database; record what is unknown.

        Phases, each leaving its known keys in ``self.known`` for the next: the catalog
        (ingredients, materials, products), bake-tracker ids, stock (purchases, inventory),
        recipes and finished units, goods and packages, events and runs.
        """
        self._identify_products()
        self.duplicates()
        self.known = {}
        self._resolve_catalog()
        self._resolve_conversions()
        self._resolve_ids()
        self._resolve_stock()
        self._resolve_recipes()
        self._resolve_goods()
        self._resolve_events()

    def _identify_products(self) -> None:
        """The file's products that are rows already there under another slug: by the
        bake-tracker id or uuid remembered first, then by UPC, then by ingredient, brand,
        package size and unit (a catalog names products by slugs of its own). Such a row
        takes the stored slug (references by the file's slug follow it); where several
        stored products fit, the row is refused, naming them."""
        stored = self.db["products"]
        if not stored or not self.rows.get("products"):
            self.product_alias: dict[str, str] = {}
            return
        slug_of = {int(row.id): s for s, row in stored.items()}
        ing_by_id = {row.id: s for s, row in self.db["ingredients"].items()}
        by_fields: dict[tuple, list[str]] = defaultdict(list)
        by_upc: dict[str, list[str]] = defaultdict(list)
        for s, row in stored.items():
            by_fields[_product_fields(ing_by_id.get(row.ingredient_id), row.brand,
                                      row.package_quantity, row.package_unit)].append(s)
            if normalise_code(row.upc):
                by_upc[str(normalise_code(row.upc))].append(s)
        alias = {}
        for r in self.rows["products"]:
            local = self.remembered["products"].find(r.get("file_id"), r.get("file_uuid"))
            if local in slug_of:
                found = [slug_of[int(local)]]
            elif r["slug"] in stored:
                continue
            else:
                found = (by_upc.get(str(normalise_code(r["upc"]))) if r["upc"] else
                         None) or by_fields.get(_product_fields(
                    r["ingredient"], r["brand"], r["package_quantity"], r["package_unit"]), [])
            if len(found) == 1 and found[0] != r["slug"]:
                alias[r["slug"]] = r["slug"] = found[0]
            elif len(found) > 1:
                self.problems.add("products", r["_row"], "slug", r["slug"],
                                  f"{len(found)} products already there have its ingredient, "
                                  f"brand and package ({', '.join(sorted(found)[:5])}): give "
                                  "the slug of the one it is")
        self.product_alias = {old: new for old, new in alias.items() if old != new}

    def _resolve_catalog(self) -> None:
        p = self.problems
        ing_slugs = self._known("ingredients", {r["slug"] for r in self.rows["ingredients"]}
                                | {r["slug"] for r in self.rows["materials"]})
        self.known["ingredients"] = ing_slugs
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
        self.candidates = {}
        self._by_ingredient = None
        self._candidate_keys: dict[int, _CandidateKey] = {}
        ing_by_id = {row.id: s for s, row in self.db["ingredients"].items()}
        for slug, row in self.db["products"].items():
            self.candidates[slug] = {
                "slug": slug, "ingredient": ing_by_id.get(row.ingredient_id),
                "brand": row.brand, "raw_name": row.name,
                "package_quantity": row.package_quantity, "package_unit": row.package_unit,
                "preferred": row.preferred}
        for entity in ("products", "material_products"):
            for r in self.rows[entity]:
                self.candidates[r["slug"]] = r

    def _resolve_conversions(self) -> None:
        """bake-tracker 3.x's unit conversions: a weight against a volume gives the density
        of a file's ingredient that has none; the others are counted skipped, saying why."""
        rows = self.rows.get("unit_conversions", [])
        file_ingredients = {r["slug"]: r for r in self.rows["ingredients"]}
        for r in rows:
            ing = file_ingredients.get(r["ingredient"])
            stored = self.db["ingredients"].get(r["ingredient"])
            if ing is None and stored is None:
                self.problems.add("unit_conversions", r["_row"], "ingredient_slug",
                                  r["ingredient"], "unknown ingredient")
                continue
            has_density = bool(ing["density"] if ing is not None else
                               getattr(stored, "density", None))
            if has_density:
                why = "the ingredient's own density is used"
            elif r["density"] is not None and ing is not None:
                ing["density"], ing["g_per_ml"] = r["density"], parse_density(r["density"])
                self.tally.add("unit_conversions", "updated")
                self.tally.reason("unit_conversions", "the density of an ingredient that "
                                                      "has none")
                continue
            elif r["density"] is not None:
                why = "ingredient not in this file: not used (import it with its density)"
            elif {dimension(r["from_unit"]), dimension(r["to_unit"])} == {"mass", "volume"}:
                self.problems.add("unit_conversions", r["_row"], "to_quantity", None,
                                  f"{r['from_quantity']} {r['from_unit']} is equal to how "
                                  f"many {r['to_unit']}? give to_quantity (or factor), or "
                                  "the ingredient's density")
                continue
            else:
                why = "units of one kind convert without it"
            self.tally.add("unit_conversions", "skipped")
            self.tally.reason("unit_conversions", why)

    def _in_package_units(self, r: dict[str, Any]) -> None:
        """An inventory item counted in another unit than its product's package unit (3.x
        files: "1.5 lb" of a product sold by the oz): its quantity and cost per unit in the
        package unit; a unit of another kind is a problem."""
        unit = r.get("unit")
        if not unit or r["product"] is None:
            return
        package_unit = normalize_unit(self.candidates[r["product"]]["package_unit"])
        if unit == package_unit:
            return
        if dimension(unit) != dimension(package_unit):
            self.problems.add("inventory_items", r["_row"], "unit", unit,
                              f"the product is counted in {package_unit}: give the quantity "
                              f"in {package_unit}")
            return
        r["quantity"] = q(convert(r["quantity"], unit, package_unit))
        if r["unit_cost"] is not None:
            r["unit_cost"] = money(r["unit_cost"] * factor(package_unit, unit))
        self.tally.reason("inventory_items", f"quantities in {unit} read in {package_unit}, "
                                             "the product's package unit")

    def _resolve_stock(self) -> None:
        for entity in ("purchases", "inventory_items"):
            for r in self.rows[entity]:
                r["product"] = self._match_product(entity, r)
        for r in self.rows["inventory_items"]:
            self._in_package_units(r)
        self.same_key([("purchases", self.rows["purchases"])], _purchase_key, "purchase")
        purchases_by = defaultdict(list)
        for r in self.rows["purchases"]:
            if r["product"]:
                purchases_by[(r["product"], r["purchased_on"])].append(r)
        self.file_purchases = purchases_by

    def _recipe_of(self, entity: str, row: int, slug: str | None, name: str | None
                   ) -> str | None:
        """The recipe a row names by slug, else by name; None (a problem) if unknown."""
        if slug is not None:
            if slug in self.known["recipes"]:
                return slug
            self.problems.add(entity, row, "recipe_slug", slug, "unknown recipe")
            return None
        if name in self.recipe_names:
            return self.recipe_names[name]
        self.problems.add(entity, row, "recipe_name", name, "unknown recipe")
        return None

    def _resolve_recipes(self) -> None:
        self.recipe_names = {row.name: s for s, row in self.db["recipes"].items()}
        self.recipe_names.update({r["name"]: r["slug"] for r in self.rows["recipes"]})
        self.known["recipes"] = self._known("recipes", {r["slug"] for r in self.rows["recipes"]})
        self._resolve_recipe_lines()
        self.cycles()
        units = self.rows["finished_units"] + self.rows.get("_embedded_finished_units", [])
        self.rows["_all_finished_units"] = units
        for fu in units:
            fu["recipe"] = self._recipe_of(fu["_entity"], fu["_row"], fu["recipe_slug"],
                                           fu["recipe_name"])
        # finished units per recipe (file, then database)
        self.units_of = defaultdict(list)
        recipe_by_id = {row.id: s for s, row in self.db["recipes"].items()}
        for s, row in self.db["finished_units"].items():
            self.units_of[recipe_by_id.get(row.recipe_id, "")].append(s)
        for fu in units:
            if fu["recipe"] and fu["slug"] not in self.units_of[fu["recipe"]]:
                self.units_of[fu["recipe"]].append(fu["slug"])
        self.known["finished_units"] = self._known("finished_units",
                                                   {fu["slug"] for fu in units})
        self.items_per_batch = {s: Decimal(row.items_per_batch)
                                for s, row in self.db["finished_units"].items()}
        self.items_per_batch.update({fu["slug"]: fu["items_per_batch"] for fu in units})

    def _resolve_recipe_lines(self) -> None:
        """A recipe's ingredients (by slug, or by display name) and its components."""
        p, ing_slugs = self.problems, self.known["ingredients"]
        names: dict[str, str] = {}
        for s_, row in self.db["ingredients"].items():
            names.setdefault(_low(row.name), s_)
        for entity in ("ingredients", "materials"):
            for x in self.rows[entity]:
                names[_low(x["name"])] = x["slug"]
        for r in self.rows["recipes"]:
            for ing in r["ingredients"]:
                if ing["ingredient"] is None and ing.get("ingredient_name"):
                    ing["ingredient"] = names.get(_low(ing["ingredient_name"]))
                    if ing["ingredient"] is None:
                        p.add("recipes", r["_row"], "ingredients.ingredient_name",
                              ing["ingredient_name"], "unknown ingredient (by display name): "
                              "import the ingredients it names first")
                    continue
                if ing["ingredient"] and ing["ingredient"] not in ing_slugs:
                    p.add("recipes", r["_row"], "ingredients.ingredient_slug",
                          ing["ingredient"], "unknown ingredient")
            for comp in r["components"]:
                comp["recipe"] = self._recipe_of("recipes", r["_row"], comp["slug"],
                                                 comp["name"])
                if comp["recipe"] == r["slug"]:
                    p.add("recipes", r["_row"], "components", r["name"],
                          "a recipe cannot contain itself")

    def _resolve_goods(self) -> None:
        p, unit_slugs = self.problems, self.known["finished_units"]
        good_slugs = self._known("finished_goods", {r["slug"] for r in
                                                    self.rows["finished_goods"]})
        self.known["finished_goods"] = good_slugs
        for r in self.rows["compositions"]:
            units = self.units_of.get(r["unit_slug"] or "", [])
            if r["unit_slug"] not in unit_slugs and len(units) == 1:
                r["unit_slug"] = units[0]  # 3.x: a recipe's slug for its finished unit
                self.tally.reason("compositions", "finished units named by their recipe's "
                                                  "slug (bake-tracker 3.x)")
            if r["good"] not in good_slugs:
                p.add("compositions", r["_row"], "finished_good_slug", r["good"],
                      "unknown finished good")
            for key, known, fld in (("unit_slug", unit_slugs, "finished_unit_slug"),
                                    ("component_good", good_slugs,
                                     "finished_good_component_slug"),
                                    ("material", self.known["ingredients"], "material_slug")):
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

    def _resolve_events(self) -> None:
        p, good_slugs = self.problems, self.known["finished_goods"]
        unit_slugs = self.known["finished_units"]
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
            r["unit"] = self._unit_for("event_production_targets", r, self._recipe_of,
                                       unit_slugs)
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
                r["unit"] = self._unit_for(entity, r, self._recipe_of, unit_slugs)
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

    def _resolve_ids(self) -> None:
        """bake-tracker's integer ids: against the file's rows first, then the ids earlier
        imports remembered; rows that point at one another lend each other their natural
        fields (an inventory item naming its purchase carries the product's package size)."""
        p = self.problems
        products_by_id = {r["file_id"]: r["slug"] for r in self.rows["products"]
                          if r.get("file_id")}
        local_products = {int(row.id): s for s, row in self.db["products"].items()}
        self.file_purchases_by_id = {r["file_id"]: r for r in self.rows["purchases"]
                                     if r.get("file_id")}
        items_of: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in self.rows["inventory_items"]:
            if r["purchase_id"] in self.file_purchases_by_id:
                items_of[r["purchase_id"]].append(r)
        for r in self.rows["inventory_items"]:
            bought = self.file_purchases_by_id.get(r["purchase_id"])
            if bought is not None:
                _lend(bought["ref"], r["ref"])
                r["product_id"] = r["product_id"] or bought["product_id"]
            elif (r["purchase_id"] is not None
                  and self.remembered["purchases"].find(r["purchase_id"]) is None
                  and self.deleted["purchases"].find(r["purchase_id"]) is not None):
                # not the product's purchase on that day instead: the one named is gone
                p.add("inventory_items", r["_row"], "purchase_id", r["purchase_id"],
                      f"purchase_id {r['purchase_id']} names a purchase deleted from this "
                      "database since an earlier import remembered it: import that "
                      "purchase again (a full export), or drop the row")
        for r in self.rows["purchases"]:
            for item in items_of.get(r["file_id"], []):
                _lend(item["ref"], r["ref"])
        for entity in ("purchases", "inventory_items"):
            for r in self.rows[entity]:
                pid = r["product_id"]
                r["product_by_id"] = None
                if pid is None:
                    continue
                if pid in products_by_id:
                    r["product_by_id"] = products_by_id[pid]
                else:
                    local = self.remembered["products"].find(pid)
                    r["product_by_id"] = local_products.get(local) if local else None
                    if local is None and self.deleted["products"].find(pid) is not None:
                        r["product_deleted"] = pid
                        p.add(entity, r["_row"], "product_id", pid,
                              f"product_id {pid} names a product deleted from this database "
                              "since an earlier import remembered it: import that product "
                              "again (a full export or a products view), or drop the row")
        # suppliers named by id: the file's, then remembered ones
        by_file_id = {r["file_id"]: r["name"] for r in self.rows["suppliers"] if r["file_id"]}
        local_suppliers = {int(row.id): n for n, row in self.db["suppliers"].items()}
        for entity in ("products", "purchases"):
            for r in self.rows[entity]:
                sid = r.get("supplier_file_id")
                if sid is None or r.get("supplier"):
                    continue
                name = by_file_id.get(sid)
                if name is None:
                    local = self.remembered["suppliers"].find(sid)
                    name = local_suppliers.get(local) if local else None
                if name is None and self.deleted["suppliers"].find(sid) is not None:
                    p.add(entity, r["_row"], "supplier_id", sid,
                          f"supplier_id {sid} names a supplier deleted from this database "
                          "since an earlier import remembered it: import the suppliers again")
                    continue
                if name is None and entity == "products":
                    self.tally.reason(entity, f"preferred_supplier_id {sid} unknown (not in "
                                              "the file's suppliers nor remembered): left out")
                elif name is None:
                    field_name = "supplier_id"
                    p.add(entity, r["_row"], field_name, sid,
                          f"{field_name} {sid} is neither in this file's suppliers nor "
                          "remembered from an earlier import: import the suppliers first "
                          "(a full export or suppliers.json)")
                r["supplier"] = name

    def _match_product(self, entity: str, r: dict) -> str | None:
        ref = r["ref"]
        if r.get("product_deleted"):
            return None  # refused already (_resolve_ids)
        if r.get("product_by_id"):
            return str(r["product_by_id"])
        if ref["slug"]:
            ref["slug"] = self.product_alias.get(ref["slug"], ref["slug"])
            if ref["slug"] in self.candidates:
                return str(ref["slug"])
            self.problems.add(entity, r["_row"], "product_slug", ref["slug"], "unknown product")
            return None
        if self._by_ingredient is None:  # candidates per ingredient, built once
            self._by_ingredient = defaultdict(list)
            for cand in self.candidates.values():
                self._by_ingredient[cand.get("ingredient")].append(cand)
        found = []
        keys = self._candidate_keys
        brand = ref["brand"].lower() if ref["brand"] else None
        raw_name = ref["raw_name"].lower() if ref["raw_name"] else None
        for cand in self._by_ingredient.get(ref["ingredient"], ()):
            key = keys.get(id(cand))  # worked out once per candidate, not per reference
            if key is None:
                key = keys[id(cand)] = _CandidateKey(cand)
            if brand and key.brand != brand:
                continue
            if raw_name and key.name != raw_name:
                continue
            if ref["package_quantity"] is not None and key.size() != ref["package_quantity"]:
                continue
            if ref["package_unit"] and key.unit() != ref["package_unit"]:
                continue
            found.append(cand)
        if len(found) > 1:
            preferred = [f for f in found if f.get("preferred")]
            if len(preferred) == 1:
                found = preferred
        if len(found) == 1:
            return str(found[0]["slug"])
        what = ", ".join(f"{k}={v}" for k, v in ref.items() if v is not None)
        if r.get("product_id") and not found:
            self.problems.add(entity, r["_row"], "product_id", r["product_id"],
                              f"product_id {r['product_id']} is neither in this file's "
                              "products nor remembered from an earlier import, and no product "
                              f"matches its fields ({what or 'none given'}): import the "
                              "products first (a full export, or reconcile a products view)")
            return None
        self.problems.add(entity, r["_row"], "product", what,
                          "no product matches" if not found else
                          f"{len(found)} products match ("
                          + ", ".join(sorted(str(f["slug"]) for f in found)[:5])
                          + "); name the product (product_name, package size)")
        return None


class _CandidateKey:
    """A candidate product's fields as references are compared with them: brand and name
    lower-cased, package size and unit normalised when first asked for."""

    __slots__ = ("_cand", "_size", "_unit", "brand", "name")

    def __init__(self, cand: dict[str, Any]):
        self._cand = cand
        self.brand = (cand.get("brand") or "").lower()
        self.name = (cand.get("raw_name") or "").lower()
        self._size: Decimal | None = None
        self._unit: str | None = None

    def size(self) -> Decimal:
        if self._size is None:
            self._size = Decimal(str(self._cand["package_quantity"]))
        return self._size

    def unit(self) -> str:
        if self._unit is None:
            self._unit = normalize_unit(self._cand["package_unit"])
        return self._unit


def _low(text: Any) -> str:
    return str(text or "").strip().casefold()


def _lend(to: dict[str, Any], source: dict[str, Any]) -> None:
    """Fill a product reference's missing natural fields from another row's reference."""
    for k, v in source.items():
        if to.get(k) is None and v is not None:
            to[k] = v


def _product_fields(ingredient: Any, brand: Any, size: Any, unit: Any) -> tuple:
    """A product's natural fields as compared: brand case-folded, size and unit normalised."""
    return (ingredient, _low(brand), None if size is None else Decimal(str(size)).normalize(),
            None if not unit else normalize_unit(unit))


def _purchase_key(r: dict[str, Any]) -> Any:
    """A file purchase's key: bake-tracker's uuid, else its id (different ids are different
    purchases), else product, day and count."""
    if r["uuid"] is not None:
        return ("uuid", r["uuid"])
    if r.get("file_id") is not None:
        return ("id", r["file_id"])
    return None if r.get("product") is None else (r["product"], r["purchased_on"],
                                                  num(r["packages"]))
