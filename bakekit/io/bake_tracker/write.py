"""Write a resolved import table by table, set-based: one SELECT of what is there, one
INSERT of what is new, one UPDATE of what differs; lots get their first ledger row."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, delete, insert, select, update

from bakekit import costing, stock
from bakekit.checks import as_date, as_datetime
from bakekit.db import tables
from bakekit.db.models.base import new_uuid, utcnow
from bakekit.io._sync import (
    OnInsert,
    Tally,
    existing,
    fill_lot_costs,
    insert_shape,
    num,
    upsert,
)
from bakekit.io.external import remember
from bakekit.units import money, normalize_unit, q

if TYPE_CHECKING:  # pragma: no cover
    from bakekit.operations import Workspace

from bakekit.io.bake_tracker.state import State, WrittenProduct


class Write(State):
    """The write phase: suppliers, ingredients, products, purchases and lots, recipes,
    goods, events, runs; bake-tracker ids and uuids remembered on the way."""

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
        remember(self.ws, "suppliers", [(r["file_id"], r["file_uuid"],
                                         self.supplier_ids[r["name"]])
                                        for r in self.rows["suppliers"]])
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
        current = self.db["ingredients"]
        self.ingredient_ids = {s: int(r.id) for s, r in current.items()}
        parent_of = {r["slug"]: r["parent"] for r in self.rows["ingredients"] if r["parent"]}
        inserted_parent: dict[str, int | None] = {}
        for entity in ("ingredients", "materials"):  # one slug space (duplicates refused)
            wanted = [(r["slug"], {"slug": r["slug"], **_given(r, t_cols)})
                      for r in self.rows[entity]]
            # new rows go in with their parent, one INSERT per level of the hierarchy
            for level in _parents_first(_dedupe(wanted, self.tally, entity), current,
                                        parent_of):
                for slug, values in level:
                    if slug not in current:
                        values["parent_id"] = self.ingredient_ids.get(parent_of.get(slug, ""))
                        inserted_parent[slug] = values["parent_id"]
                self.ingredient_ids |= upsert(self.ws, "ingredients", level, current,
                                              self.tally, entity, compare=("slug", *t_cols))
        remember(self.ws, "ingredients", [(r["file_id"], None, self.ingredient_ids[r["slug"]])
                                          for r in self.rows["ingredients"] if r["file_id"]])
        # parents that differ from what is stored (rows there before; a cycle's rows)
        def stored(slug: str) -> int | None:
            return current[slug].parent_id if slug in current else inserted_parent.get(slug)

        changes = [{"b_id": self.ingredient_ids[s], "b_parent_id": self.ingredient_ids[p]}
                   for s, p in parent_of.items() if stored(s) != self.ingredient_ids[p]]
        if changes:
            t = tables.ingredients
            self.ws.execute(update(t).where(t.c.id == bindparam("b_id"))
                            .values(parent_id=bindparam("b_parent_id")), changes)
            if any(s in current and current[s].parent_id is not None for s in parent_of):
                self.tally.reason("ingredients", "parents changed")

    def _write_products(self) -> None:
        latest: dict[str, tuple[Any, Decimal]] = {}
        for r in self.rows["purchases"]:
            if r["product"] and r["unit_cost"] is not None:
                prev = latest.get(r["product"])
                if prev is None or prev[0] <= r["purchased_on"]:
                    latest[r["product"]] = (r["purchased_on"], r["unit_cost"])
        written: dict[str, WrittenProduct] = {}
        for entity in ("products", "material_products"):
            wanted = []
            for r in self.rows[entity]:
                values = {"slug": r["slug"], "ingredient_id": self.ingredient_ids[r["ingredient"]],
                          "brand": r["brand"], "package_quantity": r["package_quantity"],
                          "package_unit": r["package_unit"],
                          **_given(r, ("name", "preferred")),
                          "upc": r["upc"], "notes": r["notes"],
                          "supplier_id": self.supplier_ids.get(r["supplier"])
                          if r["supplier"] else None}
                if r["slug"] in latest:
                    values["price_on"], values["price"] = latest[r["slug"]]
                elif r.get("price") is not None:
                    values["price"] = r["price"]
                wanted.append((r["slug"], values))
            wanted = _dedupe(wanted, self.tally, entity)
            ids = upsert(self.ws, "products", wanted, self.db["products"], self.tally, entity)
            stored = self.db["products"]
            written.update((slug, WrittenProduct(
                ids[slug], v["ingredient_id"],
                v["supplier_id"] if v["supplier_id"] is not None or slug not in stored
                else stored[slug].supplier_id, v["package_quantity"], v["package_unit"]))
                for slug, v in wanted)
        # what the purchases and lots need of each product, as written (no re-read)
        self.db["products"] = {**self.db["products"], **written}
        self.product_rows = self.db["products"]
        remember(self.ws, "products", [
            (r["file_id"], r["file_uuid"], int(self.db["products"][r["slug"]].id))
            for r in self.rows["products"] if r.get("file_id") or r.get("file_uuid")])

    def _write_purchases_and_lots(self) -> None:
        purchases = self._write_purchases()
        self._write_lots(purchases)
        self._fill_priced_purchases(purchases.of_day)

    def _write_purchases(self) -> _Purchases:
        """Upsert the file's purchases (matched by uuid, else product, day and count)."""
        ws = self.ws
        products = self.product_rows
        pt = tables.purchases
        every = ws.execute(select(pt).order_by(pt.c.id)).all()
        row: Any
        natural: dict[Any, list[Any]] = defaultdict(list)
        for row in every:
            natural[(row.product_id, _day(row.purchased_on), num(row.packages))].append(row)
        current = {k: rows[0] for k, rows in natural.items()}
        current.update({("uuid", row.uuid): row for row in every})
        by_id = {int(row.id): row for row in every}
        memory = self.remembered["purchases"]
        named = set(memory.by_id.values()) | set(memory.by_uuid.values())
        claimed: set[int] = set()
        wanted = []
        for r in self.rows["purchases"]:
            prod = products[r["product"]]
            key: tuple[Any, ...] = (prod.id, r["purchased_on"], num(r["packages"]))
            if r["uuid"] is not None or r["file_id"] is not None:
                # a purchase with a source id is that purchase: by its uuid, else the id
                # remembered, else a stored purchase of its fields no source id names
                key = ("uuid", r["uuid"]) if r["uuid"] is not None else ("id", r["file_id"])
                row = current.get(key) if key[0] == "uuid" else None
                if row is None:
                    row = by_id.get(memory.find(r["file_id"], r["uuid"]) or 0)
                if row is None:
                    row = next((x for x in natural.get((prod.id, r["purchased_on"],
                                                        num(r["packages"])), [])
                                if int(x.id) not in named and int(x.id) not in claimed), None)
                if row is not None:
                    current[key] = row
                    claimed.add(int(row.id))
            r["_key"] = key
            wanted.append((key, {
                "uuid": r["uuid"] or (current[key].uuid if key in current else new_uuid()),
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
        for key, rows in natural.items():
            purchase_of.setdefault((key[0], key[1]), (int(rows[0].id), rows[0].unit_cost))
        for key, values in wanted:
            purchase_of[(values["product_id"], values["purchased_on"])] = (
                ids[key], values["unit_cost"])
        remember(ws, "purchases", [(r["file_id"], r["uuid"], ids[r["_key"]])
                                   for r in self.rows["purchases"]])
        return _Purchases(ids, purchase_of, {int(row.id): row.unit_cost for row in every})

    def _write_lots(self, purchases: _Purchases) -> None:
        """Lots from inventory items: an item matching a lot there (product, day, quantity,
        location) gives it a missing cost; the others become new lots with a ledger row."""
        ws = self.ws
        lots = tables.lots
        lot_rows = ws.execute(select(lots).where(lots.c.product_id.isnot(None))
                              .order_by(lots.c.id)).all()
        matched = self._match_lots(lot_rows)
        new_lots: list[dict[str, Any]] = []
        new_items: list[dict[str, Any]] = []
        lot_keys: list[tuple[Any, Any, int]] = []
        fills: list[tuple[int, Decimal]] = []
        links: list[dict[str, int]] = []  # matched lots an item links to its purchase
        linked: dict[int, int] = {}
        now = utcnow()  # one time of writing for the lots of one import, as for the ledger
        for n, r in enumerate(self.rows["inventory_items"]):
            prod = self.product_rows[r["product"]]
            qty = q(r["quantity"])
            purchase_id, lot_cost = self._item_cost(r, purchases, prod)
            lot = matched.get(n)
            if lot is not None:
                lot_keys.append((r["file_id"], r["file_uuid"], int(lot.id)))
                changed = False
                if lot.purchase_id is None and purchase_id is not None:
                    links.append({"b_id": int(lot.id), "b_purchase": purchase_id})
                    linked[int(lot.id)] = purchase_id
                    self.tally.change("inventory_items", "purchase_id")
                    changed = True
                if lot.unit_cost is None and lot_cost is not None:
                    fills.append((int(lot.id), lot_cost))
                    self.tally.change("inventory_items", "unit_cost")
                    changed = True
                self.tally.add("inventory_items", "updated" if changed else "unchanged")
                continue
            if qty == 0:
                self.tally.add("inventory_items", "skipped")
                self.tally.reason("inventory_items", "quantity 0: no lot")
                continue
            new_items.append(r)
            new_lots.append({  # (no finished unit or good, no run: NULL, not sent)
                "uuid": new_uuid(), "kind": "ingredient", "ingredient_id": prod.ingredient_id,
                "product_id": prod.id, "purchase_id": purchase_id, "acquired_on": r["acquired_on"],
                "quantity": qty, "remaining": qty, "unit": normalize_unit(prod.package_unit),
                "unit_cost": lot_cost, "location": r["location"], "created_at": now})
            if lot_cost is None:
                self.uncosted_lots += 1
                self.tally.reason("inventory_items", "no price known: uncosted lot")
        self._note_counts_apart()
        lot_keys += self._insert_lots(insert_shape(tables.lots, new_lots, ("uuid",)),
                                      new_items)
        if links:
            ws.execute(update(lots).where(lots.c.id == bindparam("b_id"))
                       .values(purchase_id=bindparam("b_purchase")), links)
        fill_lot_costs(ws, fills)
        remember(ws, "lots", lot_keys)
        filled = {lot_id for lot_id, _ in fills}
        self.uncosted_purchase_lots = any(
            lot.unit_cost is None and int(lot.id) not in filled
            and (lot.purchase_id is not None or int(lot.id) in linked)
            for lot in lot_rows) or any(
            v["unit_cost"] is None and v.get("purchase_id") is not None for v in new_lots)

    def _note_counts_apart(self) -> None:
        """Purchases of this file whose count is not what their items hold (bake-tracker
        files write 16 or 750 "packages" for one 16 oz or 750 ml package's item): kept as
        the file says, and said in the report (the first such purchase named)."""
        held: dict[str, Decimal] = defaultdict(Decimal)
        for r in self.rows["inventory_items"]:
            if r["purchase_id"] in self.file_purchases_by_id:
                held[r["purchase_id"]] += q(r["quantity"])
        apart = []
        for file_id, quantity in held.items():
            bought = self.file_purchases_by_id[file_id]
            if bought.get("product") is None:
                continue
            size = Decimal(str(self.product_rows[bought["product"]].package_quantity))
            if quantity > 0 and bought["packages"] * size != quantity:
                apart.append((bought, size, quantity))
        if apart:
            bought, size, quantity = apart[0]
            self.tally.reason("purchases", (
                f"{len(apart)} purchase(s) whose quantity_purchased is not what their items "
                f"hold, kept as the file says (e.g. row {bought['_row']}: "
                f"{num(bought['packages'])} package(s) of {num(size)}, its items hold "
                f"{num(quantity)}: a count of units, not packages?)"))

    def _lot_key(self, r: dict[str, Any]) -> tuple[Any, ...]:
        """An inventory item's natural key: (product id, day, quantity, location)."""
        return (self.product_rows[r["product"]].id, r["acquired_on"], num(q(r["quantity"])),
                r["location"])

    def _match_lots(self, lot_rows: Sequence[Any]) -> dict[int, Any]:
        """The lot each inventory item (by its index) already is: among the lots of its
        natural key, first the lot its bake-tracker uuid or id is remembered for, then the
        oldest lot no other item claimed, so identical items keep their own lots on every
        back end and every re-import."""
        by_key: dict[tuple, list[Any]] = defaultdict(list)
        for lot in lot_rows:  # in id order
            by_key[(lot.product_id, _day(lot.acquired_on), num(lot.quantity),
                    lot.location)].append(lot)
        items = list(enumerate(self.rows["inventory_items"]))
        keys = {n: self._lot_key(r) for n, r in items}
        matched: dict[int, Any] = {}
        claimed: set[int] = set()
        memory = self.remembered["lots"]
        for n, r in items:
            known = memory.find(r["file_id"], r["file_uuid"])
            lot = next((x for x in by_key.get(keys[n], []) if int(x.id) == known), None)
            if lot is not None and known not in claimed:
                matched[n] = lot
                claimed.add(int(lot.id))
        for n, _ in items:
            if n not in matched:
                lot = next((x for x in by_key.get(keys[n], []) if int(x.id) not in claimed),
                           None)
                if lot is not None:
                    matched[n] = lot
                    claimed.add(int(lot.id))
        return matched

    def _item_cost(self, r: dict[str, Any], purchases: _Purchases, prod: Any
                   ) -> tuple[int | None, Decimal | None]:
        """An inventory item's purchase and its lot's cost per unit: the item's own, else
        its purchase's package price over the package size, else None (uncosted)."""
        purchase_id, package_cost = self._purchase_of_item(r, purchases.ids, purchases.cost,
                                                           purchases.of_day, prod.id)
        if r["unit_cost"] is not None:
            return purchase_id, r["unit_cost"]
        if package_cost is not None:
            return purchase_id, money(Decimal(package_cost) / Decimal(prod.package_quantity))
        return purchase_id, None

    def _insert_lots(self, new_lots: list[dict[str, Any]], new_items: list[dict[str, Any]]
                     ) -> list[tuple[Any, Any, int]]:
        """Insert the new lots and their first ledger rows; their (file id, uuid, lot id)."""
        if not new_lots:
            return []
        ws = self.ws
        lot_ids = stock.create_lot_rows(ws, new_lots, reason="import")
        self.tally.add("inventory_items", "created", len(new_lots))
        return [(r["file_id"], r["file_uuid"], lot_id)
                for r, lot_id in zip(new_items, lot_ids, strict=True)]

    def _fill_priced_purchases(self, purchase_of: dict[tuple[int, Any], tuple[int, Any]]
                               ) -> None:
        """Purchases whose price arrived now: fill their uncosted lots too (where a lot of a
        purchase is still uncosted: none is, after an import whose lots all got a cost)."""
        priced = [(pid, cost) for pid, cost in purchase_of.values() if cost is not None]
        if not priced or not self.uncosted_purchase_lots:
            return
        costing.price_purchase_lots(self.ws, {pid: Decimal(cost) for pid, cost in priced})

    def _purchase_of_item(self, r: dict[str, Any], ids: dict[Any, int],
                          local_cost: dict[int, Any], purchase_of: dict, product_id: int
                          ) -> tuple[int | None, Any]:
        """The purchase an inventory item came from: the one its ``purchase_id`` names (in
        the file, else remembered), else a purchase of its product on its day."""
        if r["purchase_id"] is not None:
            bought = self.file_purchases_by_id.get(r["purchase_id"])
            if bought is not None and bought.get("_key") in ids:
                return ids[bought["_key"]], bought["unit_cost"]
            local = self.remembered["purchases"].find(r["purchase_id"])
            if local is not None and local in local_cost:
                return local, local_cost[local]
        return purchase_of.get((product_id, r["acquired_on"]), (None, None))

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
        ri, rc = tables.recipe_ingredients, tables.recipe_components
        # the lines of the recipes there before (a recipe created now has none yet)
        mine = [recipe_ids[r["slug"]] for r in self.rows["recipes"]
                if statuses.get(r["slug"]) != "created"]
        have_i: dict[int, list[tuple]] = defaultdict(list)
        have_c: dict[int, set[tuple]] = defaultdict(set)
        if mine:
            for x in ws.execute(select(ri).where(ri.c.recipe_id.in_(mine))
                                .order_by(ri.c.recipe_id, ri.c.position, ri.c.id)).all():
                have_i[x.recipe_id].append((x.ingredient_id, num(x.quantity), x.unit,
                                            x.notes))
            for x in ws.execute(select(rc).where(rc.c.recipe_id.in_(mine))).all():
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
            # a recipe given without a list of lines keeps its own (absent never erases;
            # a list given, even empty, is the recipe's)
            if "ingredients" in r["_lines"] and want_i != have_i.get(rid, []):
                if rid in have_i:
                    replace_i.append(rid)
                new_i += [{"recipe_id": rid, "ingredient_id": i, "quantity": Decimal(qty),
                           "unit": u, "notes": n, "position": pos}
                          for pos, (i, qty, u, n) in enumerate(want_i)]
                changed = True
            if "components" in r["_lines"] and want_c != have_c.get(rid, set()):
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
    return (kind, fu, fg, as_datetime(at).replace(microsecond=0).isoformat(), num(quantity))


def _day(value: Any) -> Any:
    return as_date(value)


@dataclass(frozen=True)
class _Purchases:
    """What writing purchases leaves for their lots: local id by file key, (id, package
    price) by product and day, and the package price of every purchase already there."""

    ids: dict[Any, int]
    of_day: dict[tuple[int, Any], tuple[int, Decimal | None]]
    cost: dict[int, Any]


def _parents_first(wanted: list[tuple[Any, dict[str, Any]]], current: dict[Any, Any],
                   parent_of: dict[str, str]) -> list[list[tuple[Any, dict[str, Any]]]]:
    """The rows in batches, each new row in a batch after its parent's (a row already
    stored, or without a parent, goes in the first); rows in a parent cycle go last."""
    placed = set(current)

    def ready(key: Any) -> bool:
        parent = parent_of.get(key)
        return key in current or parent is None or parent in placed

    left, batches = wanted, []
    while left:
        batch = [w for w in left if ready(w[0])] or left
        placed.update(k for k, _ in batch)
        left = [w for w in left if w[0] not in placed]
        batches.append(batch)
    return batches


def _given(r: dict[str, Any], columns: Sequence[str]) -> dict[str, Any]:
    """A parsed row's values of ``columns``; those the file did not give (``_derived``)
    only for a row created now (``OnInsert``): a stored value stays."""
    derived = r.get("_derived", ())
    return {k: OnInsert(r[k]) if k in derived else r[k] for k in columns}


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
