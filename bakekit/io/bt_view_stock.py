"""Purchases and inventory views of bake-tracker and bt_mobile purchases and inventory
updates: the records that describe stock, matched to purchases and lots."""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import Float, cast, select

from bakekit.checks import as_date
from bakekit.db import tables
from bakekit.io._sync import Checker, Problems, fill_lot_costs
from bakekit.io.bt_views import (
    _invalid,
    _low,
    _Matcher,
    _missing_product,
    _price,
    normalise_code,
    show,
)
from bakekit.io.external import BAKE_TRACKER, Remembered, external_key, remember
from bakekit.io.tabular import _given
from bakekit.units import factor, money, normalize_unit, q

if TYPE_CHECKING:  # pragma: no cover
    from bakekit.operations import Workspace


# -- purchases view and bt_mobile purchases --------------------------------------------------
def _lots_by_day(ws: Workspace) -> dict[tuple[int, dt.date], list[Any]]:
    """Ingredient lots without a purchase, by product and day (what a view's purchase
    record may describe when the purchase itself was never imported)."""
    lots = tables.lots
    out: dict[tuple[int, dt.date], list[Any]] = defaultdict(list)
    for r in ws.execute(select(lots.c.id, lots.c.product_id, lots.c.acquired_on,
                               lots.c.unit, lots.c.unit_cost, lots.c.quantity)
                        .where(lots.c.purchase_id.is_(None), lots.c.product_id.isnot(None))
                        .order_by(lots.c.acquired_on, lots.c.id)).all():
        out[(int(r.product_id), as_date(r.acquired_on))].append(r)
    return out


def _record_product(m: Any, rec: dict[str, Any], family: str
                    ) -> tuple[dict[str, Any] | None, str, str]:
    """The product a view or bt_mobile record names: ``(product, how it matched, "")``, or
    ``(None, status, message)`` with status ``missing`` or ``conflict``. bt_mobile records
    match by UPC/GTIN; view records by remembered id, then natural key."""
    if family == "bt_mobile":
        code = normalise_code(rec.get("upc"))
        hits = m.by_code.get(code or "", [])
        if not hits:
            return None, "missing", (f"no product has UPC/GTIN {rec.get('upc')!r} (read as "
                                     f"{code}): add the code to a product (reconcile a "
                                     "products view) first")
        if len(hits) > 1:
            return None, "conflict", (f"UPC/GTIN {rec.get('upc')!r} is on several products: "
                                      + ", ".join(h["slug"] for h in hits))
        return hits[0], "UPC/GTIN", ""
    found, how, candidates = m.product(rec, id_field="product_id", uuid_field=None)
    if found is None:
        status, message = _missing_product(rec, candidates)
        return None, status, message
    return found, how, ""


class _Purchase(NamedTuple):
    """A purchase as a purchases review reads it: its price (a float) and its product."""

    id: int
    uuid: str
    cost: float | None
    product: str
    brand: str | None
    ingredient: str
    packages: Any


class _Stock:
    """What a purchases review matches records against: the purchases there (by id, uuid,
    product and day), lots without a purchase (by product and day), supplier names, and
    the purchases and lots already matched by an earlier record. The remembered
    bake-tracker keys of purchases are read up front with their purchases (one
    statement); the rest when a record first needs it (a view whose records all name a
    remembered purchase reads nothing more)."""

    def __init__(self, ws: Workspace):
        self._ws = ws
        self.memory = Remembered()  # as external.remembered reads it: live rows, in order
        self.by_id: dict[int, _Purchase] = {}  # the remembered purchases
        for external_id, external_uuid, *purchase in ws.execute(_PURCHASES["remembered"]):
            found = self.by_id[purchase[0]] = _Purchase._make(purchase)
            if external_id is not None:
                self.memory.by_id[external_id] = found.id
            if external_uuid is not None:
                self.memory.by_uuid[external_uuid] = found.id
        self.taken: set[int] = set()

    def known(self, row: dict[str, Any]) -> tuple[Any, str]:
        """The purchase a view record names by its remembered bake-tracker id or uuid, or
        by its own uuid (a purchase bakekit holds under that uuid), and how; (None, "")
        if it names none."""
        local = self.memory.find(row["external_id"], row["external_uuid"])
        if local is not None and local in self.by_id:
            return self.by_id[local], "remembered bake-tracker id"
        if row["external_uuid"] is not None and row["external_uuid"] in self.by_uuid:
            return self.by_uuid[row["external_uuid"]], "purchase uuid"
        return None, ""

    @functools.cached_property
    def by_uuid(self) -> dict[Any, _Purchase]:
        """Every purchase by its own uuid (read when a record names no remembered one)."""
        return {r.uuid: r for r in map(_Purchase._make,
                                       self._ws.execute(_PURCHASES["every"]))}

    @functools.cached_property
    def by_day(self) -> dict[tuple[int, dt.date], list[Any]]:
        """The purchases (with their product, day and count) by product and day."""
        out: dict[tuple[int, dt.date], list[Any]] = defaultdict(list)
        for r in self._ws.execute(_PURCHASES["by_day"]).all():
            out[(int(r.product_id), as_date(r.purchased_on))].append(r)
        return out

    @functools.cached_property
    def loose_lots(self) -> dict[tuple[int, dt.date], list[Any]]:
        return _lots_by_day(self._ws)

    @functools.cached_property
    def suppliers(self) -> set[str]:
        return set(self._ws.execute(select(tables.suppliers.c.name)).scalars().all())


def _purchases() -> dict[str, Any]:
    pur, p, i, e = tables.purchases, tables.products, tables.ingredients, tables.external_ids
    cost = cast(pur.c.unit_cost, Float).label("cost")
    purchase = (pur.c.id, pur.c.uuid, cost, p.c.slug.label("product"), p.c.brand,
                i.c.slug.label("ingredient"), pur.c.packages)
    return {"every": select(*purchase).join(p, p.c.id == pur.c.product_id)
            .join(i, i.c.id == p.c.ingredient_id).order_by(pur.c.id),
            "remembered": select(e.c.external_id, e.c.uuid.label("external_uuid"), *purchase)
            .select_from(e).join(pur, pur.c.id == e.c.local_id)
            .join(p, p.c.id == pur.c.product_id).join(i, i.c.id == p.c.ingredient_id)
            .where(e.c.source == BAKE_TRACKER, e.c.entity == "purchases").order_by(e.c.id),
            "by_day": select(pur.c.id, pur.c.uuid, pur.c.product_id, pur.c.purchased_on,
                             pur.c.packages, cost).order_by(pur.c.id)}


#: every purchase, oldest first, with its price as a float and its product's slug, brand
#: and ingredient; the remembered bake-tracker keys of purchases with those purchases (in
#: the order remembered); every purchase with its product id, day and count (built once)
_PURCHASES = _purchases()


def review_purchases(ws: Workspace, family: str, rows: list[dict[str, Any]],
                     header: dict[str, Any]) -> list[dict[str, Any]]:
    """Review rows of a purchases view or bt_mobile purchases (kind "purchases").

    A view record that names its purchase (remembered bake-tracker id or uuid, or its own
    uuid) is that purchase, of that purchase's product: its read-only product fields are
    not matched against the catalog (one that disagrees is said in the message). Other
    records match their product (natural key, or UPC/GTIN for bt_mobile), then a
    purchase or lots of that product and day."""
    stock = _Stock(ws)
    catalog = functools.cache(lambda: _Matcher(ws, wide=False))  # read when first needed
    supplier = header.get("supplier") if family == "bt_mobile" else None
    problems = Problems()
    out = []
    for n, rec in enumerate(rows):
        row, ok = _read_purchase(rec, n, family, problems)
        given = row.pop("_given")
        if not ok:
            out.append({**row, "status": "invalid", "message": _invalid(problems, n)})
            continue
        target, how = stock.known(row) if family == "view" else (None, "")
        if target is not None:
            row["product"] = target.product
            stock.taken.add(int(target.id))
            out.append(_judge_purchase(row, target, how, _read_only_differs(rec, target),
                                       given))
            continue
        product, how, message = _record_product(catalog(), rec, family)
        if product is None:
            out.append({**row, "status": how, "message": message})
            continue
        row["product"] = product["slug"]
        suffix = ""
        if supplier is not None:
            if supplier in stock.suppliers:
                row["supplier"] = supplier
            else:
                suffix = f"; supplier {supplier!r} unknown: left out"
        target = _purchase_for(stock, row, product)
        if target is not None:
            stock.taken.add(int(target.id))
            out.append(_judge_purchase(row, target, how, suffix, given))
            continue
        lots = [x for x in stock.loose_lots.get((int(product["id"]), row["purchased_on"]), [])
                if int(x.id) not in stock.taken]
        if lots and family == "view":
            out.append(_judge_lots(row, lots, product, stock.taken, how, suffix))
        elif family == "view":
            out.append({**row, "status": "missing", "message": (
                f"no purchase or lot of {product['slug']!r} on {row['purchased_on']}: import "
                "the purchases or inventory first (a view changes records, it does not add "
                "stock)")})
        else:
            out.append({**row, "status": "new", "message": f"new purchase ({how}){suffix}"})
    return out


def _read_only_differs(rec: dict[str, Any], target: _Purchase) -> str:
    """A message suffix naming the record's read-only ingredient and brand where they are
    not its purchase's product's ("" where they agree or are not given)."""
    ingredient, brand = rec.get("ingredient_slug"), rec.get("brand")
    if (ingredient is None or ingredient == target.ingredient) and (
            brand is None or brand == target.brand):
        return ""  # the common case: the record agrees
    suffix = ""
    for name, value, have in (("ingredient_slug", ingredient, target.ingredient),
                              ("brand", brand, target.brand)):
        if value is not None and _low(value) != _low(have):
            suffix += (f"; the record's {name} {value!r} is not its purchase's product's "
                       f"({have!r}): read-only, left as it is")
    return suffix


def _read_purchase(rec: dict[str, Any], n: int, family: str, problems: Problems
                   ) -> tuple[dict[str, Any], bool]:
    """A purchase record's values, and whether they passed their checks (the problems
    go to ``problems``)."""
    c = Checker(problems, "purchases", n)
    price = _price(rec, c, "unit_price")
    given = c.number(rec, "quantity_purchased", positive=True)
    packages = given or Decimal(1)
    on = c.date(rec, "purchase_date" if family == "view" else "scanned_at", required=True)
    row: dict[str, Any] = {"row": n, "packages": packages, "_given": given,
                           "unit_cost": price,
                           "purchased_on": on, "notes": c.text(rec, "notes"),
                           "external_id": external_key(rec.get("id")) if family == "view"
                           else None,
                           "external_uuid": rec.get("uuid") if family == "view" else None}
    return row, c.ok


def _purchase_for(stock: _Stock, row: dict[str, Any], product: dict[str, Any]) -> Any:
    """The purchase of ``product`` a record that names none means: one of the product's
    purchases that day not matched yet (the same count first, an uncosted one first)."""
    same_day = [x for x in stock.by_day.get((int(product["id"]), row["purchased_on"]), [])
                if int(x.id) not in stock.taken]
    fits = [x for x in same_day if Decimal(str(x.packages)) == row["packages"]] or same_day
    return next((x for x in fits if x.cost is None), fits[0]) if fits else None


def _judge_purchase(row: dict[str, Any], target: Any, how: str, suffix: str,
                    given: Decimal | None = None) -> dict[str, Any]:
    """A record matched to a purchase: its price fills an unpriced one, equals it, or
    conflicts with it; a ``quantity_purchased`` (``given``) that is not the purchase's
    count is said, never applied."""
    price = row["unit_cost"]
    row["purchase_id"], row["old_unit_cost"] = int(target.id), target.cost  # the row is ours
    if given is not None and Decimal(str(target.packages)) != given:
        suffix += (f"; quantity_purchased {show(given)} is not the purchase's "
                   f"{show(Decimal(str(target.packages)))}: not applied (a purchase's "
                   "stock is its lots': count it with an inventory view)")
    if price is None:
        row["status"], row["message"] = ("unchanged", f"matched by {how}; no price in the "
                                         f"record{suffix}")
    elif target.cost is None:
        row["status"], row["message"] = ("changed", f"matched by {how}: price None -> "
                                         f"{show(price)}; costs its uncosted lots{suffix}")
    elif Decimal(str(target.cost)) == price:
        row["status"], row["message"] = "unchanged", f"matched by {how}{suffix}"
    else:
        row["status"], row["message"] = "conflict", (
            f"matched by {how}, which has price {show(target.cost)}, the record "
            f"says {show(price)}{suffix}")
    return row


def _judge_lots(row: dict[str, Any], lots: list[Any], product: dict[str, Any],
                taken: set[int], how: str, suffix: str) -> dict[str, Any]:
    """A view record matched to lots of its product and day that have no purchase: its
    price costs as many uncosted lots as its packages fill, equals theirs, or conflicts."""
    price, packages = row["unit_cost"], row["packages"]
    uncosted = [x for x in lots if x.unit_cost is None]
    size = Decimal(str(product["package_quantity"]))
    if price is None:
        return {**row, "status": "unchanged", "message": (
            f"matched {len(lots)} lot(s) of that day by {how}; no price in the "
            f"record{suffix}")}
    if uncosted:
        mine = _packages_worth(uncosted, packages, size)
        taken.update(int(x.id) for x in mine)
        return {**row, "lot_ids": ",".join(str(int(x.id)) for x in mine), "status": "changed",
                "message": (f"matched {len(mine)} uncosted lot(s) of that day by {how}: "
                            f"price None -> {show(price)}{suffix}")}
    same = [x for x in lots if money(price / size) == Decimal(str(x.unit_cost))]
    if same:
        taken.update(int(x.id) for x in _packages_worth(same, packages, size))
        return {**row, "status": "unchanged",
                "message": f"matched lot(s) of that day by {how}{suffix}"}
    return {**row, "status": "conflict", "message": (
        f"the lots of {product['slug']!r} on {row['purchased_on']} cost "
        + ", ".join(show(Decimal(str(x.unit_cost)) * size) for x in lots)
        + f" a package, the record says {show(price)}{suffix}")}


def _packages_worth(lots: list[Any], packages: Decimal, size: Decimal) -> list[Any]:
    """The first lots that hold ``packages`` packages (a part-used package counts as one),
    at least one: a purchase record describes its own lots, not its neighbours'."""
    mine: list[Any] = []
    held = Decimal(0)
    for x in lots:
        if mine and held >= packages:
            break
        mine.append(x)
        held += max(-(-Decimal(x.quantity) // size), Decimal(1))
    return mine


def fill_view_lots(ws: Workspace, changed: Sequence[Mapping[str, Any]]) -> int:
    """Cost the uncosted lots a priced purchases view describes (``changed`` rows with lot
    ids and no purchase), through the one fill path (``fill_lot_costs``); returns how
    many."""
    wanted: dict[int, Decimal] = {}
    for row in changed:
        if _given(row.get("lot_ids")) is None or _given(row.get("purchase_id")) is not None:
            continue
        for lot_id in str(row["lot_ids"]).split(","):
            wanted[int(lot_id)] = Decimal(str(row["unit_cost"]))
    if not wanted:  # the common case (every record names its purchase): done
        return 0
    lots, p, i = tables.lots, tables.products, tables.ingredients
    found = ws.execute(select(lots.c.id, lots.c.unit, p.c.package_quantity, p.c.package_unit,
                              i.c.g_per_ml, i.c.slug)
                       .join(p, p.c.id == lots.c.product_id)
                       .join(i, i.c.id == lots.c.ingredient_id)
                       .where(lots.c.id.in_(list(wanted)), lots.c.unit_cost.is_(None))).all()
    costs = []
    for r in found:
        density = None if r.g_per_ml is None else Decimal(r.g_per_ml)
        size = Decimal(r.package_quantity) * factor(r.package_unit, r.unit, g_per_ml=density,
                                                   item=r.slug)
        costs.append((int(r.id), money(wanted[int(r.id)] / size)))
    fill_lot_costs(ws, costs)
    return len(costs)


# -- inventory view and bt_mobile inventory updates ------------------------------------------
def review_inventory(ws: Workspace, family: str, rows: list[dict[str, Any]],
                     editable: set[str] | None = None) -> list[dict[str, Any]]:
    """Review rows of an inventory view or bt_mobile inventory updates, one lot each
    (kind "inventory_count")."""
    m = _Matcher(ws, also=("lots",))
    lots = tables.lots
    every = ws.execute(select(lots.c.id, lots.c.product_id, lots.c.acquired_on,
                              lots.c.quantity, lots.c.remaining, lots.c.unit,
                              lots.c.unit_cost)
                       .where(lots.c.kind == "ingredient", lots.c.product_id.isnot(None))
                       .order_by(lots.c.acquired_on, lots.c.id)).all()
    by_id = {int(r.id): r for r in every}
    by_product: dict[int, list[Any]] = defaultdict(list)
    for r in every:
        by_product[int(r.product_id)].append(r)
    taken: set[int] = set()
    problems = Problems()
    out = []
    for n, rec in enumerate(rows):
        count = _read_count(rec, n, family, problems)
        row: dict[str, Any] = {"row": n, "external_id": external_key(rec.get("id")),
                               "external_uuid": rec.get("uuid") if family == "view" else None}
        if count is None:
            out.append({**row, "status": "invalid", "message": _invalid(problems, n)})
            continue
        product, how, message = _record_product(m, rec, family)
        if product is None:
            out.append({**row, "status": how, "item": None, "message": message})
            continue
        row["item"] = product["slug"]
        local = m.memory["lots"].find(row["external_id"], row["external_uuid"])
        lot = by_id.get(local) if local is not None else None
        if lot is None:
            pool = [x for x in by_product.get(int(product["id"]), [])
                    if int(x.id) not in taken
                    and (count.on is None or as_date(x.acquired_on) == count.on)]
            if family == "bt_mobile":
                pool = [x for x in pool if Decimal(x.remaining) > 0]  # the open package
            elif count.counted is not None:
                pool = sorted(pool, key=lambda x: Decimal(x.remaining) != count.counted)
            lot = pool[0] if pool else None
        if lot is None:
            out.append({**row, "status": "missing", "message": (
                f"no lot of {product['slug']!r}" + (f" bought on {count.on}" if count.on
                                                     else " with stock")
                + ": import the inventory first")})
            continue
        taken.add(int(lot.id))
        out.append(_judge_count(row, count, lot, product, how,
                                frozen=family == "view" and bool(editable)
                                and "quantity" not in (editable or set())))
    return out


@dataclass(frozen=True)
class _Count:
    """A checked count record: the quantity counted (an inventory view) or the percent
    left of the open package (bt_mobile), and the purchase date it names, if any."""

    counted: Decimal | None
    percent: Decimal | None
    on: dt.date | None


def _read_count(rec: dict[str, Any], n: int, family: str, problems: Problems
                ) -> _Count | None:
    """A count record's values; None where a check failed (the problems go to
    ``problems``)."""
    c = Checker(problems, "inventory_count", n)
    if family == "view":
        counted = c.number(rec, "quantity", required=True, non_negative=True)
        return _Count(counted, None, c.date(rec, "purchase_date")) if c.ok else None
    pct = c.number(rec, "remaining_percentage", required=True, non_negative=True)
    if pct is not None and pct > 100:
        c.fail("remaining_percentage", rec.get("remaining_percentage"),
               "is more than 100 (percent of one package)")
    return _Count(None, pct, None) if c.ok else None


def _judge_count(row: dict[str, Any], count: _Count, lot: Any, product: dict[str, Any],
                 how: str, *, frozen: bool) -> dict[str, Any]:
    """A count matched to its lot: unchanged, or the lot's new remaining quantity (a
    bt_mobile percent is the open package's; the full packages besides it stay). A view
    whose quantity is not editable (``frozen``) changes nothing."""
    unit = normalize_unit(product["package_unit"])
    size = Decimal(str(product["package_quantity"])) * factor(
        product["package_unit"], lot.unit,
        g_per_ml=None if product["g_per_ml"] is None else Decimal(product["g_per_ml"]),
        item=product["ingredient"])
    remaining = Decimal(lot.remaining)
    counted = count.counted
    if count.percent is not None:
        full = max(-(-remaining // size) - 1, Decimal(0))  # packages besides the open one
        counted = q(full * size + size * count.percent / 100)
        unit = lot.unit
    assert counted is not None
    counted_in_lot = q(counted * factor(unit, lot.unit, item=product["ingredient"]))
    variance = counted_in_lot - remaining
    value = None if lot.unit_cost is None else float(money(variance * Decimal(lot.unit_cost)))
    row = {**row, "lot_id": int(lot.id), "counted": float(counted), "unit": unit,
           "on_hand": float(remaining), "variance": float(variance), "variance_value": value}
    if variance == 0:
        return {**row, "status": "unchanged", "message": f"matched by {how}: count "
                "equals stock"}
    if frozen:
        return {**row, "status": "unchanged", "message": (
            f"matched by {how}; quantity differs but is not an editable field of this "
            "view: nothing changes")}
    return {**row, "status": "changed", "message": (
        f"matched by {how}: lot {int(lot.id)} {show(remaining)} -> "
        f"{show(counted_in_lot)} {lot.unit}")}


def remember_rows(ws: Workspace, rows: Sequence[Mapping[str, Any]], entity: str,
                  column: str) -> None:
    """Remember the bake-tracker ids and uuids of the matched rows of a review (its rows,
    or a frame's records: missing values None, NaN or absent)."""
    remember(ws, entity, [(_given(r.get("external_id")), _given(r.get("external_uuid")),
                           int(r[column])) for r in rows
                          if r["status"] in _MATCHED and _given(r.get(column)) is not None])


#: the statuses of review rows matched to a local row
_MATCHED = frozenset(("new", "changed", "unchanged"))
