"""bake-tracker files that are not imports: view exports (``view_type`` / ``export_type``
with ``_meta``) and bt_mobile files (``import_type``), reviewed by ``ws.io.reconcile``.

A view record matches a local row by the bake-tracker id or uuid an earlier import or
reconciliation remembered, then by natural key (ingredient, brand, product name, package
size and unit; a purchase also by its date). Only the view's editable fields and its prices
change anything. bt_mobile rows match products by UPC/GTIN (digits only, leading zeros
ignored).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import bindparam, select, update

from bakekit.db import tables
from bakekit.errors import ValidationError
from bakekit.io._sync import (
    Checker,
    Problems,
    Tally,
    _unit,
    insert_with_ids,
    loads_checked,
    num,
    same,
    slugify,
)
from bakekit.io.external import external_key, remember, remembered
from bakekit.units import normalize_unit

if TYPE_CHECKING:  # pragma: no cover
    from bakekit.operations import Workspace

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
    # quantity_purchased only finds a purchase that has no id: never applied, so listed
    "purchases": {"id", "uuid", "product_id", "product_slug", "product_name", "brand",
                  "ingredient_slug", "purchase_date", "unit_price", "total_cost"},
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
    return sorted(set().union(*rows) - used)


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
def _catalog(ws: Workspace, wide: bool) -> list[dict[str, Any]]:
    rows = ws.execute(_CATALOG[wide])
    keys = tuple(rows.keys())
    return [dict(zip(keys, r, strict=True)) for r in rows.all()]


def _catalog_statements() -> dict[bool, Any]:
    p, i = tables.products, tables.ingredients
    narrow = (p.c.id, p.c.slug, p.c.brand, p.c.name, p.c.package_quantity, p.c.package_unit,
              p.c.upc, i.c.slug.label("ingredient"))
    return {wide: select(*narrow, *((p.c.notes, p.c.preferred, i.c.g_per_ml) if wide else ()))
            .join(i, i.c.id == p.c.ingredient_id).order_by(p.c.id) for wide in (False, True)}


#: the catalog to match against (built once): what matching reads, and (wide) also the
#: notes, preferred flag and density a products view or a count reads
_CATALOG = _catalog_statements()


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
        norm = None if unit in (None, "") else _unit(str(unit))
    except Exception:  # noqa: BLE001
        norm = None
    return size, norm


#: the fields of a record a natural-key match reads (besides its id and uuid)
_MATCH_FIELDS = ("ingredient_slug", "brand", "product_name", "package_unit_quantity",
                 "package_unit", "product_slug")


class _Matcher:
    """Finds the local product a record means: remembered id/uuid, then natural key."""

    def __init__(self, ws: Workspace, also: tuple[str, ...] = (), *, wide: bool = True):
        """``also``: the entities besides products whose remembered keys the review reads
        (``"purchases"``, ``"lots"``); only those are loaded. ``wide=False``: the catalog
        without the products' notes, preferred flag and density (a purchases review)."""
        self.catalog = _catalog(ws, wide)
        self.by_id = {int(c["id"]): c for c in self.catalog}
        self.memory = remembered(ws, ("products", *also))
        self.by_ingredient: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._pools: dict[str, list[tuple[dict[str, Any], str, str, Decimal, str]]] = {}
        #: the match of each distinct set of matching fields (records repeat products)
        self._found: dict[tuple[Any, ...], tuple[dict[str, Any] | None, str, list[str]]] = {}
        for c in self.catalog:
            self.by_ingredient[c["ingredient"]].append(c)

    @functools.cached_property
    def by_code(self) -> dict[str, list[dict[str, Any]]]:
        """The products by normalised UPC/GTIN (worked out when a record first asks)."""
        out: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for c in self.catalog:
            code = normalise_code(c["upc"])
            if code:
                out[code].append(c)
        return out

    def product(self, rec: dict[str, Any], *, id_field: str, uuid_field: str | None
                ) -> tuple[dict[str, Any] | None, str, list[str]]:
        """(product, how it matched, candidates when ambiguous): worked out once per
        distinct set of the fields a match reads."""
        values = (rec.get(id_field), rec.get(uuid_field) if uuid_field else None,
                  *map(rec.get, _MATCH_FIELDS))
        key = (values, tuple(map(type, values)))  # 1, 1.0 and True are equal keys
        try:
            return self._found[key]
        except KeyError:
            found = self._found[key] = self._match(rec, id_field, uuid_field)
        except TypeError:  # a field that is not a plain value (a list, an object)
            return self._match(rec, id_field, uuid_field)
        return found

    def _match(self, rec: dict[str, Any], id_field: str, uuid_field: str | None
               ) -> tuple[dict[str, Any] | None, str, list[str]]:
        local = self.memory["products"].find(rec.get(id_field),
                                             rec.get(uuid_field) if uuid_field else None)
        if local is not None and local in self.by_id:
            return self.by_id[local], "remembered bake-tracker id", []
        size, unit = _size(rec)
        brand, product_name = _low(rec.get("brand")), _low(rec.get("product_name"))
        exact, loose = [], []
        for c, c_brand, c_name, c_size, c_unit in self._pool(
                str(rec.get("ingredient_slug") or "")):
            if c_brand != brand or (size is not None and c_size != size) or (
                    unit is not None and c_unit != unit):
                continue
            loose.append(c)  # ingredient, brand and package fit
            if c_name == product_name:
                exact.append(c)
        if len(exact) == 1:
            return exact[0], "natural key", []
        loose = exact or loose
        if len(loose) == 1:
            return loose[0], "ingredient, brand and package (the names differ)", []
        return None, "", [str(c["slug"]) for c in loose]

    def _pool(self, ingredient: str) -> list[tuple[dict[str, Any], str, str, Decimal, str]]:
        """The candidates of an ingredient, each with its brand and name casefolded and its
        package size and unit normalised: worked out once per ingredient a record names,
        not once per record that looks at it."""
        pool = self._pools.get(ingredient)
        if pool is None:
            pool = self._pools[ingredient] = [
                (c, _low(c["brand"]), _low(c["name"]), Decimal(str(c["package_quantity"])),
                 _unit(c["package_unit"])) for c in self.by_ingredient.get(ingredient, [])]
        return pool


def _missing_product(rec: dict[str, Any], candidates: list[str]) -> tuple[str, str]:
    what = ", ".join(f"{k}={rec[k]!r}" for k in ("product_id", "ingredient_slug", "brand",
                                                    "product_name", "product_slug")
                     if rec.get(k) is not None)
    if candidates:
        return "conflict", f"{len(candidates)} products match ({what}): " \
                           f"{', '.join(candidates[:6])}; name the product"
    return "missing", f"no product matches ({what}): import or reconcile the products first"


def _price(rec: dict[str, Any], c: Checker, field_name: str) -> Decimal | None:
    """A record's price: None where not given, or 0 ("not known yet")."""
    found = c.number(rec, field_name, non_negative=True)
    return None if found is None or found == 0 else found


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
    try:
        if value:  # not None, zero (0 and -0 are equal keys) nor empty text: remembered
            return _shown(value)
    except (TypeError, ValueError):  # not hashable, or no truth value: worked out each time
        pass
    return _show(value)


def _show(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "None"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float, Decimal)):
        # a float shows 12 significant digits: 1.5899999999999999 is 1.59
        return num(Decimal(format(float(value), ".12g") if isinstance(value, float)
                           else str(value)))
    return repr(value)


#: ``_show`` of a hashable value, remembered (a file repeats a few prices); typed, so that
#: True, 1 and 1.0 are each their own
_shown = functools.lru_cache(maxsize=1024, typed=True)(_show)


def apply_products(ws: Workspace, frame: pd.DataFrame, tally: Tally) -> None:
    """Write a products view: changed editable fields, new products; remember ids."""
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
    new_ids = insert_with_ids(ws, p, rows, match=("slug",))
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


def load_view(data: dict[str, Any], source: Any) -> tuple[str, str, list[dict[str, Any]],
                                                           dict[str, Any], set[str]]:
    """(family, type, records, header, editable fields) of a view or bt_mobile file."""
    family, type_, rows, header = records_of(data, source)
    meta = header.get("_meta") if isinstance(header.get("_meta"), dict) else {}
    editable = meta.get("editable_fields") if isinstance(meta, dict) else None
    return family, type_, rows, header, set(editable or []) if isinstance(editable, list) \
        else set()
