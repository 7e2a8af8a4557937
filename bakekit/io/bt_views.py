"""bake-tracker files that are not imports: view exports (``view_type`` / ``export_type``
with ``_meta``) and bt_mobile files (``import_type``), reviewed by ``ws.io.reconcile``.

A view record matches a local row by the bake-tracker id or uuid an earlier import or
reconciliation remembered, then by natural key (ingredient, brand, product name, package
size and unit; a purchase also by its date). Only the view's editable fields and its prices
change anything. bt_mobile rows match products by UPC/GTIN (digits only, leading zeros
ignored).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import Float, bindparam, cast, select, update

from bakekit.db import tables
from bakekit.db.dialect import to_date
from bakekit.errors import ValidationError
from bakekit.io._sync import Checker, Problems, Tally, fill_lot_costs, loads_checked, num, same
from bakekit.io.external import external_key, remember, remembered
from bakekit.units import factor, money, normalize_unit, q

if TYPE_CHECKING:  # pragma: no cover
    from bakekit.workspace import Workspace

#: view_type (or export_type) -> reconcile kind
VIEW_KINDS = {"products": "products", "purchases": "purchases", "inventory": "inventory_count"}
#: bt_mobile import_type -> (reconcile kind, the section holding its rows)
MOBILE_KINDS = {"purchases": ("purchases", "purchases"),
                "inventory_updates": ("inventory_count", "inventory_updates")}
#: fields of a view record bakekit reads (beyond these, the record's fields are listed)
VIEW_USED = {
    "products": {"id", "uuid", "ingredient_id", "ingredient_slug", "brand", "product_name",
                 "package_unit", "package_unit_quantity", "upc_code", "gtin", "notes",
                 "preferred"},
    "purchases": {"id", "uuid", "product_id", "product_slug", "product_name", "brand",
                  "ingredient_slug", "purchase_date", "unit_price", "quantity_purchased",
                  "total_cost"},
    "inventory": {"id", "uuid", "product_id", "product_slug", "product_name", "brand",
                  "ingredient_slug", "package_unit", "package_unit_quantity", "purchase_id",
                  "purchase_date", "quantity"},
}
MOBILE_USED = {"purchases": {"upc", "scanned_at", "unit_price", "quantity_purchased", "notes"},
               "inventory_updates": {"upc", "scanned_at", "remaining_percentage", "notes"}}

#: review columns of the kinds views add
PRODUCT_COLUMNS = ("row", "status", "message", "product", "product_id", "external_id",
                   "external_uuid", "ingredient", "brand", "name", "package_quantity",
                   "package_unit", "upc", "notes", "preferred", "changes", "changed_fields",
                   "ingredient_id")


def describe(data: Any) -> tuple[str, str, str] | None:
    """What a bake-tracker JSON object is when it is not an export: (family, type, kind),
    family "view" or "bt_mobile"; None for an export (or anything else).

    >>> describe({"view_type": "products", "records": []})
    ('view', 'products', 'products')
    >>> describe({"import_type": "inventory_updates", "inventory_updates": []})
    ('bt_mobile', 'inventory_updates', 'inventory_count')
    """
    if not isinstance(data, dict):
        return None
    if "import_type" in data:
        kind = MOBILE_KINDS.get(str(data["import_type"]), (None, None))[0]
        return "bt_mobile", str(data["import_type"]), str(kind)
    view = data.get("view_type")
    if view is None and "records" in data and "_meta" in data:
        view = data.get("export_type")
    if view is not None:
        return "view", str(view), str(VIEW_KINDS.get(str(view)))
    return None


def refusal(data: Any, source: str) -> str | None:
    """Why ``import_bake_tracker`` refuses a file that is not an export, and what takes it."""
    what = describe(data)
    if what is None:
        return None
    family, kind_of, kind = what
    if family == "view":
        name = f"a bake-tracker {kind_of} view (view_type {kind_of!r}: records to edit and " \
               "merge back)"
    else:
        name = f"a bt_mobile {kind_of} file (import_type {kind_of!r}: scanned UPCs)"
    if kind == "None":
        return f"{source} is {name}, not an export; bakekit does not read this kind of " \
               f"{family} file (views: {', '.join(VIEW_KINDS)}; bt_mobile: " \
               f"{', '.join(MOBILE_KINDS)})"
    return f"{source} is {name}, not an export to import: review it with " \
           f"ws.io.reconcile({source!r}) (kind {kind!r}; `bakekit reconcile FILE`), then " \
           "apply it"


def read_json(source: Any) -> Any:
    """The JSON object of a .json path (or a dict as given); None for anything else."""
    if isinstance(source, dict):
        return source
    if isinstance(source, pd.DataFrame) or source is None:
        return None
    path = Path(source)
    if path.suffix.lower() != ".json" or not path.exists():
        return None
    try:
        data, twice = loads_checked(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None  # the table reader reports it
    return data if isinstance(data, dict) and not twice else None


def kind_of(data: Any, kind: str | None, source: Any) -> str | None:
    """The reconcile kind a self-describing file says; a different ``kind`` is an error."""
    what = describe(data)
    if what is None:
        return kind
    family, type_, said = what
    key = "view_type" if family == "view" else "import_type"
    if said == "None":
        raise ValidationError(f"{key}: {str(source)!r} is a bake-tracker {family} file "
                              f"({key} {type_!r}), which reconcile does not read (views: "
                              f"{', '.join(VIEW_KINDS)}; bt_mobile: {', '.join(MOBILE_KINDS)})",
                              field=key, value=type_)
    if kind is not None and kind != said:
        raise ValidationError(f"kind: {kind!r}, but {str(source)!r} is a bake-tracker "
                              f"{family} file of type {type_!r} (kind {said!r})",
                              field="kind", value=kind)
    return said


def records_of(data: dict[str, Any], source: Any) -> tuple[str, str, list[dict[str, Any]],
                                                            dict[str, Any]]:
    """(family, type, records, header) of a view or bt_mobile file, checked for shape."""
    what = describe(data)
    assert what is not None
    family, type_, _ = what
    section = "records" if family == "view" else MOBILE_KINDS[type_][1]
    rows = data.get(section)
    if not isinstance(rows, list):
        raise ValidationError(f"{section}: {str(source)!r} ({family} {type_}) must hold a list "
                              f"of records under {section!r}, not {type(rows).__name__}",
                              field=section, value=type(rows).__name__)
    for n, rec in enumerate(rows):
        if not isinstance(rec, dict):
            raise ValidationError(f"{section}: record {n} of {str(source)!r} must be an "
                                  f"object, not {rec!r}", field=section, value=rec)
    return family, type_, rows, data


def unused_fields(family: str, type_: str, rows: list[dict[str, Any]]) -> list[str]:
    """The fields of the records bakekit does not read (listed, never dropped silently)."""
    used = VIEW_USED.get(type_, set()) if family == "view" else MOBILE_USED.get(type_, set())
    return sorted({k for r in rows for k in r} - used)


def normalise_code(value: Any) -> str | None:
    """A UPC/GTIN as digits only, leading zeros ignored.

    >>> normalise_code("0 16000-19610 0"), normalise_code(16000196100), normalise_code("n/a")
    ('16000196100', '16000196100', None)
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    digits = "".join(ch for ch in str(value) if ch.isdigit()).lstrip("0")
    return digits or None


# -- the catalog, for matching ------------------------------------------------------------------
def _catalog(ws: Workspace) -> list[dict[str, Any]]:
    p, i = tables.products, tables.ingredients
    rows = ws.execute(select(p.c.id, p.c.slug, p.c.brand, p.c.name, p.c.package_quantity,
                             p.c.package_unit, p.c.upc, p.c.notes, p.c.preferred, p.c.price,
                             p.c.price_on, i.c.slug.label("ingredient"),
                             i.c.g_per_ml).join(i, i.c.id == p.c.ingredient_id)
                      .order_by(p.c.id)).all()
    return [dict(r._mapping) for r in rows]


def _low(value: Any) -> str:
    return str(value or "").strip().casefold()


def _size(rec: dict[str, Any]) -> tuple[Decimal | None, str | None]:
    """A record's package size: its own fields, else the view's product_slug
    ("ingredient:brand:16.0:oz")."""
    qty, unit = rec.get("package_unit_quantity"), rec.get("package_unit")
    slug = rec.get("product_slug")
    if (qty is None or unit is None) and isinstance(slug, str) and slug.count(":") >= 3:
        parts = slug.split(":")
        qty = qty if qty is not None else parts[-2]
        unit = unit if unit is not None else parts[-1]
    try:
        size = None if qty in (None, "") else Decimal(str(qty))
    except ArithmeticError:
        size = None
    try:
        norm = None if unit in (None, "") else normalize_unit(str(unit))
    except Exception:  # noqa: BLE001
        norm = None
    return size, norm


class _Matcher:
    """Finds the local product a record means: remembered id/uuid, then natural key."""

    def __init__(self, ws: Workspace):
        self.catalog = _catalog(ws)
        self.by_id = {int(c["id"]): c for c in self.catalog}
        self.memory = remembered(ws, ("products", "purchases", "lots", "ingredients"))
        self.by_ingredient: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.by_code: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for c in self.catalog:
            self.by_ingredient[c["ingredient"]].append(c)
            code = normalise_code(c["upc"])
            if code:
                self.by_code[code].append(c)

    def product(self, rec: dict[str, Any], *, id_field: str, uuid_field: str | None
                ) -> tuple[dict[str, Any] | None, str, list[str]]:
        """(product, how it matched, candidates when ambiguous)."""
        local = self.memory["products"].find(rec.get(id_field),
                                             rec.get(uuid_field) if uuid_field else None)
        if local is not None and local in self.by_id:
            return self.by_id[local], "remembered bake-tracker id", []
        size, unit = _size(rec)
        pool = self.by_ingredient.get(str(rec.get("ingredient_slug") or ""), [])

        def fits(c: dict[str, Any], *, name: bool) -> bool:
            if _low(c["brand"]) != _low(rec.get("brand")):
                return False
            if size is not None and Decimal(str(c["package_quantity"])) != size:
                return False
            if unit is not None and normalize_unit(c["package_unit"]) != unit:
                return False
            return not name or _low(c["name"]) == _low(rec.get("product_name"))

        exact = [c for c in pool if fits(c, name=True)]
        if len(exact) == 1:
            return exact[0], "natural key", []
        loose = exact or [c for c in pool if fits(c, name=False)]
        if len(loose) == 1:
            return loose[0], "ingredient, brand and package (the names differ)", []
        return None, "", [str(c["slug"]) for c in loose]


def _missing_product(rec: dict[str, Any], candidates: list[str]) -> tuple[str, str]:
    what = ", ".join(f"{k}={rec[k]!r}" for k in ("product_id", "ingredient_slug", "brand",
                                                    "product_name", "product_slug")
                     if rec.get(k) is not None)
    if candidates:
        return "conflict", f"{len(candidates)} products match ({what}): " \
                           f"{', '.join(candidates[:6])}; name the product"
    return "missing", f"no product matches ({what}): import or reconcile the products first"


def _price(value: Any, c: Checker, field_name: str) -> Decimal | None:
    found = c.number({field_name: value}, field_name, non_negative=True)
    return None if found is None or found == 0 else found  # 0 is "not known yet"


def problem_text(x: dict[str, Any]) -> str:
    """One problem for a review message: "field 'value': reason" ("field: is missing")."""
    value = "" if x["value"] is None else f" {x['value']!r}"
    return f"{x['field']}{value}: {x['reason']}"


def _invalid(problems: Problems, n: int) -> str:
    return "; ".join(problem_text(x) for x in problems.rows if x["row"] == n)


# -- products view ---------------------------------------------------------------------------
def review_products(ws: Workspace, rows: list[dict[str, Any]], editable: set[str]
                    ) -> list[dict[str, Any]]:
    """One review row per products-view record (kind "products")."""
    m = _Matcher(ws)
    ingredients = {r.slug: int(r.id) for r in ws.execute(
        select(tables.ingredients.c.id, tables.ingredients.c.slug))}
    problems = Problems()
    out = []
    for n, rec in enumerate(rows):
        c = Checker(problems, "products", n)
        size = c.number(rec, "package_unit_quantity", positive=True)
        unit = c.unit(rec, "package_unit", required=False)
        brand, name = c.text(rec, "brand"), c.text(rec, "product_name")
        notes = c.text(rec, "notes")
        preferred = c.flag(rec, "preferred")
        code = normalise_code(rec.get("upc_code")) or normalise_code(rec.get("gtin"))
        upc = c.text(rec, "upc_code") or (None if rec.get("gtin") is None
                                          else str(rec["gtin"]))
        row: dict[str, Any] = {"row": n, "external_id": external_key(rec.get("id")),
                               "external_uuid": rec.get("uuid"),
                               "ingredient": rec.get("ingredient_slug"), "brand": brand,
                               "name": name, "package_quantity": size, "package_unit": unit,
                               "upc": upc, "notes": notes, "preferred": preferred,
                               "ingredient_id": external_key(rec.get("ingredient_id"))}
        if not c.ok:
            out.append({**row, "status": "invalid", "message": _invalid(problems, n)})
            continue
        found, how, candidates = m.product(rec, id_field="id", uuid_field="uuid")
        if found is None:
            if candidates:
                status, message = _missing_product(rec, candidates)
                out.append({**row, "status": status, "message": message})
            elif row["ingredient"] in ingredients and size is not None and unit is not None:
                out.append({**row, "status": "new", "message": "new product"})
            else:
                out.append({**row, "status": "missing", "message": (
                    f"no product matches and ingredient {row['ingredient']!r} is unknown: "
                    "import the ingredients first") if row["ingredient"] not in ingredients
                    else "no product matches, and the record has no package size to make one"})
            continue
        row.update(product=found["slug"], product_id=int(found["id"]))
        wanted = {"brand": ("brand", brand), "product_name": ("name", name),
                  "package_unit_quantity": ("package_quantity", size),
                  "package_unit": ("package_unit", unit), "notes": ("notes", notes),
                  "preferred": ("preferred", preferred)}
        changes, cols = [], []
        for view_field, (col, value) in wanted.items():
            if view_field not in editable or value is None:  # null never erases
                continue
            old = found[col]
            if col == "package_unit" and old is not None:
                old = normalize_unit(old)
            if not same(old, value) and not (col == "preferred" and bool(old) == value):
                changes.append(f"{col} {show(old)} -> {show(value)}")
                cols.append(col)
        if ("upc_code" in editable or "gtin" in editable) and code and \
                normalise_code(found["upc"]) != code:
            changes.append(f"upc {show(found['upc'])} -> {show(upc)}")
            cols.append("upc")
        if changes:
            out.append({**row, "status": "changed", "changes": "; ".join(changes),
                        "changed_fields": ",".join(cols),
                        "message": f"matched by {how}: " + "; ".join(changes)})
        else:
            out.append({**row, "status": "unchanged", "message": f"matched by {how}"})
    return out


def show(value: Any) -> str:
    """A value for a message: numbers without float noise, text quoted.

    >>> show(1.5899999999999999), show(Decimal("4.2900")), show(None), show("KA")
    ('1.59', '4.29', 'None', "'KA'")
    """
    if value is None or (isinstance(value, float) and value != value):
        return "None"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float, Decimal)):
        # a float shows 12 significant digits: 1.5899999999999999 is 1.59
        return num(Decimal(format(float(value), ".12g") if isinstance(value, float)
                           else str(value)))
    return repr(value)


def apply_products(ws: Workspace, frame: pd.DataFrame, tally: Tally) -> None:
    """Write a products view: changed editable fields, new products; remember ids."""
    from bakekit.io._sync import insert_ids, slugify

    p, i = tables.products, tables.ingredients
    tally.add("products", "read", len(frame))
    tally.add("products", "unchanged", int((frame["status"] == "unchanged").sum()))
    tally.add("products", "skipped", int((~frame["status"].isin(
        ["new", "changed", "unchanged"])).sum()))
    ingredients = {r.slug: int(r.id) for r in ws.execute(select(i.c.id, i.c.slug))}
    keys: list[tuple[Any, Any, int]] = []
    ingredient_keys: list[tuple[Any, Any, int]] = []
    updates = []
    for r in frame[frame["status"] == "changed"].itertuples():
        values: dict[str, Any] = {"b_id": int(r.product_id)}
        for col in str(r.changed_fields).split(","):
            value = getattr(r, col)
            values[f"b_{col}"] = Decimal(str(value)) if col == "package_quantity" else \
                bool(value) if col == "preferred" else value
        updates.append(values)
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for u in updates:
        groups[tuple(sorted(u))].append(u)
    for cols, params in groups.items():
        ws.execute(update(p).where(p.c.id == bindparam("b_id"))
                   .values({c[2:]: bindparam(c) for c in cols if c != "b_id"}), params)
    tally.add("products", "updated", len(updates))
    new = frame[frame["status"] == "new"]
    rows = []
    for r in new.itertuples():
        slug = slugify("-".join(x for x in (r.ingredient, r.brand, r.name,
                                            num(Decimal(str(r.package_quantity))),
                                            r.package_unit) if x))
        rows.append({"slug": slug, "ingredient_id": ingredients[r.ingredient],
                     "brand": r.brand, "name": r.name or f"{r.brand or ''} "
                     f"{num(Decimal(str(r.package_quantity)))} {r.package_unit}".strip(),
                     "package_quantity": Decimal(str(r.package_quantity)),
                     "package_unit": r.package_unit, "upc": r.upc, "notes": r.notes,
                     "preferred": bool(r.preferred)})
    new_ids = insert_ids(ws, p, rows, match=("slug",)) if rows else []
    tally.add("products", "created", len(rows))
    for r, pid in zip(new.itertuples(), new_ids, strict=True):
        keys.append((r.external_id, r.external_uuid, pid))
    for r in frame[frame["status"].isin(["changed", "unchanged"])].itertuples():
        keys.append((r.external_id, r.external_uuid, int(r.product_id)))
    for r in frame[frame["status"].isin(["new", "changed", "unchanged"])].itertuples():
        if r.ingredient_id is not None and r.ingredient in ingredients:
            ingredient_keys.append((r.ingredient_id, None, ingredients[r.ingredient]))
    remember(ws, "products", keys)
    remember(ws, "ingredients", ingredient_keys)


# -- purchases view and bt_mobile purchases --------------------------------------------------
def _lots_by_day(ws: Workspace) -> dict[tuple[int, dt.date], list[Any]]:
    """Ingredient lots without a purchase, by product and day (what a view's purchase
    record may describe when the purchase itself was never imported)."""
    lots = tables.lots
    out: dict[tuple[int, dt.date], list[Any]] = defaultdict(list)
    for r in ws.execute(select(lots.c.id, lots.c.product_id, lots.c.acquired_on,
                               lots.c.unit, lots.c.unit_cost, lots.c.quantity)
                        .where(lots.c.purchase_id.is_(None), lots.c.product_id.isnot(None))
                        .order_by(lots.c.acquired_on, lots.c.id)):
        out[(int(r.product_id), to_date(r.acquired_on))].append(r)
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


def review_purchases(ws: Workspace, family: str, rows: list[dict[str, Any]],
                     header: dict[str, Any]) -> list[dict[str, Any]]:
    """Review rows of a purchases view or bt_mobile purchases (kind "purchases")."""
    m = _Matcher(ws)
    pur = tables.purchases
    every = ws.execute(select(pur.c.id, pur.c.uuid, pur.c.product_id, pur.c.purchased_on,
                              pur.c.packages, cast(pur.c.unit_cost, Float).label("cost"))
                       .order_by(pur.c.id)).all()
    by_uuid = {r.uuid: r for r in every}
    by_id = {int(r.id): r for r in every}
    by_day: dict[tuple[int, dt.date], list[Any]] = defaultdict(list)
    for r in every:
        by_day[(int(r.product_id), to_date(r.purchased_on))].append(r)
    loose_lots = _lots_by_day(ws)
    taken: set[int] = set()
    suppliers = {r.name for r in ws.execute(select(tables.suppliers.c.name))}
    supplier = header.get("supplier") if family == "bt_mobile" else None
    problems = Problems()
    out = []
    for n, rec in enumerate(rows):
        c = Checker(problems, "purchases", n)
        price = _price(rec.get("unit_price"), c, "unit_price")
        packages = c.number(rec, "quantity_purchased", positive=True) or Decimal(1)
        on = c.date(rec, "purchase_date" if family == "view" else "scanned_at",
                    required=True)
        row: dict[str, Any] = {"row": n, "packages": packages, "unit_cost": price,
                               "purchased_on": on, "notes": c.text(rec, "notes"),
                               "external_id": external_key(rec.get("id")) if family == "view"
                               else None,
                               "external_uuid": rec.get("uuid") if family == "view" else None}
        if not c.ok:
            out.append({**row, "status": "invalid", "message": _invalid(problems, n)})
            continue
        assert on is not None
        product, how, message = _record_product(m, rec, family)
        if product is None:
            out.append({**row, "status": how, "message": message})
            continue
        row["product"] = product["slug"]
        if supplier is not None:
            if supplier in suppliers:
                row["supplier"] = supplier
            else:
                row["message_note"] = f"supplier {supplier!r} unknown: left out"
        local = m.memory["purchases"].find(row["external_id"], row["external_uuid"])
        target = by_id.get(local) if local is not None else None
        if target is None and row["external_uuid"] in by_uuid:
            target = by_uuid[row["external_uuid"]]
        if target is None:
            same_day = [x for x in by_day.get((int(product["id"]), on), [])
                        if int(x.id) not in taken]
            fits = [x for x in same_day if Decimal(str(x.packages)) == packages] or same_day
            if fits:
                target = next((x for x in fits if x.cost is None), fits[0])
        note = row.pop("message_note", None)
        suffix = f"; {note}" if note else ""
        if target is not None:
            taken.add(int(target.id))
            row["purchase_id"] = int(target.id)
            row["old_unit_cost"] = target.cost
            if price is None:
                out.append({**row, "status": "unchanged",
                            "message": f"matched by {how}; no price in the record{suffix}"})
            elif target.cost is None:
                out.append({**row, "status": "changed", "message": f"matched by {how}: price "
                            f"None -> {show(price)}; costs its uncosted lots{suffix}"})
            elif Decimal(str(target.cost)) == price:
                out.append({**row, "status": "unchanged",
                            "message": f"matched by {how}{suffix}"})
            else:
                out.append({**row, "status": "conflict", "message": (
                    f"matched by {how}, which has price {show(target.cost)}, the record "
                    f"says {show(price)}{suffix}")})
            continue
        lots = [x for x in loose_lots.get((int(product["id"]), on), [])
                if int(x.id) not in taken]
        if lots and family == "view":
            uncosted = [x for x in lots if x.unit_cost is None]
            size = Decimal(str(product["package_quantity"]))
            if price is None:
                out.append({**row, "status": "unchanged", "message": (
                    f"matched {len(lots)} lot(s) of that day by {how}; no price in the "
                    f"record{suffix}")})
            elif uncosted:
                mine = _packages_worth(uncosted, packages, size)
                taken.update(int(x.id) for x in mine)
                row["lot_ids"] = ",".join(str(int(x.id)) for x in mine)
                out.append({**row, "status": "changed", "message": (
                    f"matched {len(mine)} uncosted lot(s) of that day by {how}: price "
                    f"None -> {show(price)}{suffix}")})
            elif any(money(price / size) == Decimal(str(x.unit_cost)) for x in lots):
                taken.update(int(x.id) for x in _packages_worth(
                    [x for x in lots if money(price / size) == Decimal(str(x.unit_cost))],
                    packages, size))
                out.append({**row, "status": "unchanged",
                            "message": f"matched lot(s) of that day by {how}{suffix}"})
            else:
                out.append({**row, "status": "conflict", "message": (
                    f"the lots of {product['slug']!r} on {on} cost "
                    + ", ".join(show(Decimal(str(x.unit_cost)) * size) for x in lots)
                    + f" a package, the record says {show(price)}{suffix}")})
            continue
        if family == "view":
            out.append({**row, "status": "missing", "message": (
                f"no purchase or lot of {product['slug']!r} on {on}: import the purchases "
                "or inventory first (a view changes records, it does not add stock)")})
        else:
            out.append({**row, "status": "new", "message": f"new purchase ({how}){suffix}"})
    return out


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


def fill_view_lots(ws: Workspace, frame: pd.DataFrame) -> int:
    """Cost the uncosted lots a priced purchases view describes (rows with lot ids and no
    purchase), through the one fill path (``fill_lot_costs``); returns how many."""
    rows = frame[(frame["status"] == "changed") & frame["purchase_id"].isna()
                 & frame["lot_ids"].notna()] if "lot_ids" in frame else frame.iloc[0:0]
    if rows.empty:
        return 0
    wanted: dict[int, Decimal] = {}
    for r in rows.itertuples():
        for lot_id in str(r.lot_ids).split(","):
            wanted[int(lot_id)] = Decimal(str(r.unit_cost))
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
    m = _Matcher(ws)
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
        c = Checker(problems, "inventory_count", n)
        if family == "view":
            counted = c.number(rec, "quantity", required=True, non_negative=True)
            on = c.date(rec, "purchase_date")
        else:
            pct = c.number(rec, "remaining_percentage", required=True, non_negative=True)
            if pct is not None and pct > 100:
                c.fail("remaining_percentage", rec.get("remaining_percentage"),
                       "is more than 100 (percent of one package)")
            counted, on = None, None
        row: dict[str, Any] = {"row": n, "external_id": external_key(rec.get("id")),
                               "external_uuid": rec.get("uuid") if family == "view" else None}
        if not c.ok:
            out.append({**row, "status": "invalid", "message": _invalid(problems, n)})
            continue
        product, how, message = _record_product(m, rec, family)
        if product is None:
            out.append({**row, "status": how, "item": None, "message": message})
            continue
        row["item"] = product["slug"]
        unit = normalize_unit(product["package_unit"])
        local = m.memory["lots"].find(row["external_id"], row["external_uuid"])
        lot = by_id.get(local) if local is not None else None
        if lot is None:
            pool = [x for x in by_product.get(int(product["id"]), [])
                    if int(x.id) not in taken
                    and (on is None or to_date(x.acquired_on) == on)]
            if family == "bt_mobile":
                pool = [x for x in pool if Decimal(x.remaining) > 0]  # the open package
            elif counted is not None:
                pool = sorted(pool, key=lambda x: Decimal(x.remaining) != counted)
            lot = pool[0] if pool else None
        if lot is None:
            out.append({**row, "status": "missing", "message": (
                f"no lot of {product['slug']!r}" + (f" bought on {on}" if on else
                                                     " with stock")
                + ": import the inventory first")})
            continue
        taken.add(int(lot.id))
        size = Decimal(str(product["package_quantity"])) * factor(
            product["package_unit"], lot.unit,
            g_per_ml=None if product["g_per_ml"] is None else Decimal(product["g_per_ml"]),
            item=product["ingredient"])
        remaining = Decimal(lot.remaining)
        if family == "bt_mobile":
            full = max(-(-remaining // size) - 1, Decimal(0))  # packages besides the open one
            counted = q(full * size + size * pct / 100)  # type: ignore[operator]
            unit = lot.unit
        assert counted is not None
        counted_in_lot = q(counted * factor(unit, lot.unit, item=product["ingredient"]))
        variance = counted_in_lot - remaining
        value = None if lot.unit_cost is None else float(money(variance
                                                               * Decimal(lot.unit_cost)))
        row.update(lot_id=int(lot.id), counted=float(counted), unit=unit,
                   on_hand=float(remaining), variance=float(variance), variance_value=value)
        if variance == 0:
            out.append({**row, "status": "unchanged", "message": f"matched by {how}: count "
                        "equals stock"})
        elif family == "view" and editable and "quantity" not in editable:
            out.append({**row, "status": "unchanged", "message": (
                f"matched by {how}; quantity differs but is not an editable field of this "
                "view: nothing changes")})
        else:
            out.append({**row, "status": "changed", "message": (
                f"matched by {how}: lot {int(lot.id)} {show(remaining)} -> "
                f"{show(counted_in_lot)} {lot.unit}")})
    return out


def remember_rows(ws: Workspace, frame: pd.DataFrame, entity: str, column: str) -> None:
    """Remember the bake-tracker ids and uuids of the matched rows of a review."""
    if "external_id" not in frame or column not in frame:
        return
    done = frame[frame["status"].isin(["new", "changed", "unchanged"])
                 & frame[column].notna()]
    remember(ws, entity, [(None if pd.isna(r.external_id) else r.external_id,
                           None if pd.isna(r.external_uuid) else r.external_uuid,
                           int(getattr(r, column))) for r in done.itertuples()])


def load_view(data: dict[str, Any], source: Any) -> tuple[str, str, list[dict[str, Any]],
                                                           dict[str, Any], set[str]]:
    """(family, type, records, header, editable fields) of a view or bt_mobile file."""
    family, type_, rows, header = records_of(data, source)
    meta = header.get("_meta") if isinstance(header.get("_meta"), dict) else {}
    editable = meta.get("editable_fields") if isinstance(meta, dict) else None
    return family, type_, rows, header, set(editable or []) if isinstance(editable, list) \
        else set()
