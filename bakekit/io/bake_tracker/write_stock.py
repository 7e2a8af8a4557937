"""Write an import's purchases and lots: purchases matched by source id, remembered id or
their fields; lots matched to the ones already there and linked to their purchases; late
prices filled (the stock half of ``write.Write``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select, update

from bakekit import costing, stock
from bakekit.checks import as_date
from bakekit.db import tables
from bakekit.db.models.base import new_uuid, utcnow
from bakekit.io._sync import (
    fill_lot_costs,
    insert_shape,
    num,
    upsert,
)
from bakekit.io.external import remember
from bakekit.units import money, normalize_unit, q

if TYPE_CHECKING:  # pragma: no cover
    pass

from bakekit.io.bake_tracker.state import State, dedupe


class WriteStock(State):
    """Purchases and lots (the stock half of an import's writes)."""

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
        ids = upsert(ws, "purchases", dedupe(wanted, self.tally, "purchases"), current,
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


def _day(value: Any) -> Any:
    return as_date(value)


@dataclass(frozen=True)
class _Purchases:
    """What writing purchases leaves for their lots: local id by file key, (id, package
    price) by product and day, and the package price of every purchase already there."""

    ids: dict[Any, int]
    of_day: dict[tuple[int, Any], tuple[int, Decimal | None]]
    cost: dict[int, Any]
