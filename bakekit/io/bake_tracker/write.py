"""Write a resolved import table by table, set-based: one SELECT of what is there, one
INSERT of what is new, one UPDATE of what differs; lots get their first ledger row."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, delete, insert, select, update

from bakekit.checks import as_datetime
from bakekit.db import tables
from bakekit.db.models.base import new_uuid, utcnow
from bakekit.io._sync import (
    OnInsert,
    Tally,
    existing,
    num,
    upsert,
)
from bakekit.io.external import remember
from bakekit.units import money, q

if TYPE_CHECKING:  # pragma: no cover
    from bakekit.operations import Workspace

from bakekit.io.bake_tracker.state import WrittenProduct, dedupe
from bakekit.io.bake_tracker.write_stock import WriteStock


class Write(WriteStock):
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
        ids = upsert(self.ws, "suppliers", dedupe(wanted, self.tally, "suppliers"),
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
            for level in _parents_first(dedupe(wanted, self.tally, entity), current,
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
            wanted = dedupe(wanted, self.tally, entity)
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

    def _write_recipes(self) -> None:
        ws = self.ws
        statuses: dict[Any, str] = {}
        wanted = [(r["slug"], {"slug": r["slug"], "name": r["name"], "category": r["category"],
                               "notes": r["notes"], "created_at": utcnow()})
                  for r in self.rows["recipes"]]
        ids = upsert(ws, "recipes", dedupe(wanted, self.tally, "recipes"), self.db["recipes"],
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
        ids = upsert(ws, "finished_units", dedupe(wanted_fu, self.tally, entity),
                     self.db["finished_units"], self.tally, entity)
        self.unit_ids = {s: int(r.id) for s, r in self.db["finished_units"].items()} | ids
        self.recipe_ids = recipe_ids

    def _write_goods(self) -> None:
        ws = self.ws
        wanted = [(r["slug"], {"slug": r["slug"], "name": r["name"], "notes": r["notes"]})
                  for r in self.rows["finished_goods"]]
        ids = upsert(ws, "finished_goods", dedupe(wanted, self.tally, "finished_goods"),
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
        upsert(ws, "finished_good_components", dedupe(wanted, self.tally, "compositions"),
               current, self.tally, "compositions", compare=("quantity", "position"),
               match=("finished_good_id", "finished_unit_id", "component_good_id",
                      "ingredient_id"))
        wanted = [(r["slug"], {"slug": r["slug"], "name": r["name"], "notes": r["notes"]})
                  for r in self.rows["packages"]]
        ids = upsert(ws, "packages", dedupe(wanted, self.tally, "packages"),
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
        upsert(ws, "package_contents", dedupe(wanted, self.tally, "package_finished_goods"),
               current, self.tally, "package_finished_goods",
               match=("package_id", "finished_good_id"))

    def _write_events(self) -> None:
        ws = self.ws
        wanted = [(r["name"], {k: r[k] for k in ("name", "household", "address", "notes")})
                  for r in self.rows["recipients"]]
        ids = upsert(ws, "recipients", dedupe(wanted, self.tally, "recipients"),
                     self.db["recipients"], self.tally, "recipients")
        recipient_ids = {s: int(r.id) for s, r in self.db["recipients"].items()} | ids
        wanted = [(r["name"], {k: r[k] for k in ("name", "date", "notes")})
                  for r in self.rows["events"]]
        ids = upsert(ws, "events", dedupe(wanted, self.tally, "events"), self.db["events"],
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
        upsert(ws, "assignments", dedupe(wanted, self.tally, "event_recipient_packages"),
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
            upsert(ws, "targets", dedupe(wanted, self.tally, entity), current, self.tally,
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
        upsert(ws, "runs", dedupe(wanted, tally, entity), current, tally, entity,
               compare=("total_cost", "per_unit_cost", "notes", "event_id"))


def _existing_if(rows: list[dict[str, Any]], ws: Workspace, table_name: str,
                 key: list[str]) -> dict[Any, Any]:
    """The table's rows by key (one SELECT) where the file has rows for it; else none."""
    return existing(ws, table_name, key) if rows else {}


def _run_key(kind: str, fu: int | None, fg: int | None, at: Any, quantity: Any) -> tuple:
    return (kind, fu, fg, as_datetime(at).replace(microsecond=0).isoformat(), num(quantity))


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
