"""bakekit JSON: the whole database as one versioned file (docs/format.md), and its loader.

Rows carry natural keys (slugs, names, uuids) instead of database ids, so an export loaded
into an empty database and exported again gives the same file (the timestamp aside).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Numeric,
    String,
    Table,
    bindparam,
    insert,
    select,
    update,
)

from bakekit.checks import as_date, as_datetime
from bakekit.db.exact import Exact
from bakekit.db.models import LOCAL_TABLES, metadata
from bakekit.errors import BakekitError, ValidationError
from bakekit.files import write_atomic
from bakekit.io._sync import Problems, Tally, insert_with_ids, loads_checked, num
from bakekit.results import ImportReport
from bakekit.units import normalize_unit

if TYPE_CHECKING:  # pragma: no cover
    from bakekit.operations import Workspace

FORMAT = "bakekit"
FORMAT_VERSION = 1
#: versions of the format this loader reads
READS_VERSIONS = (1,)

#: the natural key of each table that other tables refer to
NATURAL_KEYS = {
    "suppliers": "name", "ingredients": "slug", "products": "slug", "recipes": "slug",
    "finished_units": "slug", "finished_goods": "slug", "packages": "slug", "events": "name",
    "recipients": "name", "purchases": "uuid", "lots": "uuid", "movements": "uuid",
    "runs": "uuid",
}


#: tables written in id order, not by key: the order of lots (and of the ledger and runs)
#: is their FIFO position where dates tie, so a load keeps it
ID_ORDER = ("purchases", "lots", "movements", "runs")
#: rows naming a row of any table: (entity column, local id column), written by natural key
POLYMORPHIC = {"external_ids": ("entity", "local_id")}


def _tables() -> list[Table]:
    """Every table but the database's own identity and its record of applied plans (so a
    loaded database keeps its own identity), those that name rows of any table last."""
    tables = [t for t in metadata.sorted_tables if t.name not in LOCAL_TABLES]
    return [t for t in tables if t.name not in POLYMORPHIC] + \
        [t for t in tables if t.name in POLYMORPHIC]


def _fks(t: Table) -> dict[str, Table]:
    return {fk.parent.name: fk.column.table for fk in t.foreign_keys}


def _out(value: Any, column: Any) -> Any:
    if value is None:
        return None
    if isinstance(column.type, Numeric | Exact):
        scale = column.type.scale or 0
        return num(Decimal(str(value)).quantize(Decimal(1).scaleb(-scale)))
    if isinstance(column.type, DateTime):
        if isinstance(value, str):
            value = as_datetime(value)
        return value.isoformat()
    if isinstance(column.type, Date):
        return value.isoformat()[:10] if not isinstance(value, str) else value[:10]
    if isinstance(column.type, Boolean):
        return bool(value)
    return value


#: numbers that carry a sign (the ledger's changes, a run's loss); every other is >= 0
SIGNED = {("movements", "quantity"), ("movements", "cost"), ("runs", "loss")}
#: columns holding a unit of measure (a lot's, when it is an ingredient lot)
UNIT_COLUMNS = {("products", "package_unit"), ("recipe_ingredients", "unit"),
                ("ingredients", "display_unit"), ("lots", "unit")}


def _number(value: Any, column: Any) -> Decimal:
    """A number of a Numeric column, as an import checks it: a JSON number (or the text of
    one), finite, within the column's size, not negative unless the column is signed."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError("not a number")
    try:
        number = Decimal(str(value))
    except ArithmeticError:  # decimal.InvalidOperation: text that is no number
        raise ValueError("not a number") from None
    if not number.is_finite():
        raise ValueError("not a finite number")
    limit = Decimal(10) ** ((column.type.precision or 24) - (column.type.scale or 0))
    if abs(number) >= limit:
        raise ValueError(f"out of range (less than {limit:.0e} in size expected)")
    if number < 0 and (column.table.name, column.name) not in SIGNED:
        raise ValueError("negative")
    return number


def _text(value: Any, column: Any, rec: dict[str, Any]) -> Any:
    """Text as an import checks it: valid Unicode, within the column's length, a known
    unit where the column holds one."""
    if not isinstance(value, str):
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("not valid text (a lone surrogate)") from None
    length = getattr(column.type, "length", None)
    if length and len(value) > length:
        raise ValueError(f"longer than {length} characters ({len(value):,})")
    if (column.table.name, column.name) in UNIT_COLUMNS and \
            (column.table.name != "lots" or rec.get("kind") == "ingredient"):
        try:
            normalize_unit(value, field=column.name)
        except BakekitError as exc:
            raise ValueError(str(exc)) from None
    return value


def _in(value: Any, column: Any, rec: dict[str, Any] | None = None) -> Any:
    if value is None:
        return None
    if isinstance(column.type, Numeric | Exact):
        return _number(value, column)
    if isinstance(column.type, String):
        return _text(value, column, rec or {})
    if isinstance(column.type, DateTime):
        return as_datetime(value)
    if isinstance(column.type, Date):
        return as_date(value)
    return value


def _sort_key(key: str | None) -> Callable[[dict[str, Any]], str]:
    """Rows of a table in a stable order: by natural key, else by their whole content."""
    if key:
        return lambda rec: str(rec[key])
    return lambda rec: json.dumps(rec, sort_keys=True)


def _posted_on(rec: dict[str, Any], by_uuid: dict[str, dict[Any, dict[str, Any]]]) -> Any:
    """The business date of a ledger row from a file that has none (written before
    ``posted_on``), by the migration's rule: a run's row its run's date (a reversal's, the
    date it was reversed), a purchase or import row its lot's date, else the day it was
    typed in."""
    def find(table_name: str, uuid: Any) -> dict[str, Any]:
        return by_uuid[table_name].get(uuid, {})

    def day(value: Any) -> Any:
        return value[:10] if isinstance(value, str) else value

    if rec.get("run_id") is not None:
        run = find("runs", rec["run_id"])
        when = run.get("reversed_at") if rec.get("reason") == "reversal" else None
        if day(when or run.get("produced_at")):
            return day(when or run.get("produced_at"))
    if rec.get("reason") in ("purchase", "import") and rec.get("lot_id") is not None:
        acquired = find("lots", rec["lot_id"]).get("acquired_on")
        if acquired:
            return day(acquired)
    return day(rec.get("created_at"))


def export(ws: Workspace, path: str | Path) -> dict[str, int]:
    """Write every table to ``path``; returns the row count per table."""
    keys: dict[str, dict[int, Any]] = {}
    tables: dict[str, list[dict[str, Any]]] = {}
    for t in _tables():
        rows = ws.execute(select(t).order_by(t.c.id)).all()
        fks = _fks(t)
        poly = POLYMORPHIC.get(t.name)
        if t.name in NATURAL_KEYS:
            keys[t.name] = {int(r.id): getattr(r, NATURAL_KEYS[t.name]) for r in rows}
        out = []
        for r in rows:
            rec = {}
            for c in t.columns:
                if c.name == "id":
                    continue
                value = getattr(r, c.name)
                if c.name in fks and value is not None:
                    target = fks[c.name].name
                    if target == t.name and target not in keys:
                        keys[target] = {int(x.id): getattr(x, NATURAL_KEYS[target])
                                        for x in rows}
                    value = keys[target][int(value)]
                elif poly and c.name == poly[1]:
                    value = keys.get(getattr(r, poly[0]), {}).get(int(value))
                else:
                    value = _out(value, c)
                rec[c.name] = value
            out.append(rec)
        if poly:
            out = [rec for rec in out if rec[poly[1]] is not None]
        if t.name not in ID_ORDER:
            out.sort(key=_sort_key(NATURAL_KEYS.get(t.name)))
        tables[t.name] = out
    document = {"format": FORMAT, "version": FORMAT_VERSION,
                "exported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "tables": tables}
    text = json.dumps(document, indent=1, ensure_ascii=False, sort_keys=False) + "\n"
    try:  # whole or not at all; never over the database being exported
        write_atomic(path, text, databases=[ws.connection.engine.url.render_as_string(
            hide_password=False)], what="export:")
    except OSError as exc:  # a missing folder, no permission, a full disk
        raise ValidationError(f"export: cannot write {str(path)!r}: {exc.strerror or exc}",
                              field="path", value=str(path)) from exc
    return {name: len(rows) for name, rows in tables.items()}


def _read_document(path: str | Path, problems: Problems) -> dict[str, Any]:
    """The JSON document of a bakekit file, checked for keys given twice, format and
    version (ImportValidationError, naming each problem, otherwise)."""
    try:
        document, twice = loads_checked(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError
        problems.add("file", None, "json", str(path), f"cannot be read as JSON: {exc}")
        problems.raise_if_any(f"load of {path}")
    for twice_key, seen, _ in twice:
        problems.add("file", None, twice_key, ", ".join(json.dumps(v, default=str)
                                                        for v in seen),
                     f"the key {twice_key!r} appears {len(seen)} times in one JSON object")
    problems.raise_if_any(f"load of {path}")
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        problems.add("file", None, "format", None if not isinstance(document, dict)
                     else document.get("format"), f"not a {FORMAT} JSON file")
    elif document.get("version") not in READS_VERSIONS:
        problems.add("file", None, "version", document.get("version"),
                     f"unsupported version (this bakekit reads {READS_VERSIONS})")
    problems.raise_if_any(f"load of {path}")
    return document  # type: ignore[no-any-return]


def _row_values(t: Any, rec: dict[str, Any], n: int, fks: dict[str, Any],
                ids: dict[str, dict[Any, int]], by_uuid: dict[str, dict[Any, Any]],
                problems: Problems) -> dict[str, Any]:
    """One file row's column values for ``t``: references (``fks``: column -> table)
    through the ids of the rows loaded so far (a self-reference is set after the insert),
    other values converted."""
    self_ref = [c for c, target in fks.items() if target is t]
    poly = POLYMORPHIC.get(t.name)
    values = {}
    for c in t.columns:
        if c.name == "id":
            continue
        value = rec.get(c.name)
        if t.name == "movements" and c.name == "posted_on" and value is None:
            value = _posted_on(rec, by_uuid)  # a file written before posted_on
        if c.name in self_ref:
            value = None
        elif c.name in fks and value is not None:
            found = ids.get(fks[c.name].name, {}).get(value)
            if found is None:
                problems.add(t.name, n, c.name, value, "refers to nothing in the file")
            value = found
        elif poly and c.name == poly[1]:
            found = ids.get(str(rec.get(poly[0])), {}).get(value)
            if found is None:
                problems.add(t.name, n, c.name, value, "refers to nothing in the file")
            value = found
        else:
            try:
                value = _in(value, c, rec)
            except (ValueError, TypeError, ArithmeticError) as exc:
                problems.add(t.name, n, c.name, _shown(value), str(exc) or type(exc).__name__)
        left_out = rec.get(c.name) is None and c.name not in _FILLED
        if value is None and left_out and not c.nullable and c.name not in self_ref:
            problems.add(t.name, n, c.name, None, "missing")
        values[c.name] = value
    return values


#: columns a file may leave out, filled in by the loader (a file written before them)
_FILLED = {"posted_on"}


def _shown(value: Any) -> Any:
    """A value as a problem names it (text that cannot be printed, escaped)."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value


def _check_ledger(ws: Workspace, rows: list[dict[str, Any]], ids: dict[Any, int],
                  problems: Problems) -> None:
    """Every loaded lot has its ledger rows and equals them (``audit``), named by its row
    in the file."""
    row_of = {lot_id: n for n, rec in enumerate(rows, start=1)
              if (lot_id := ids.get(rec.get("uuid"))) is not None}
    lots, m = metadata.tables["lots"], metadata.tables["movements"]
    bare = ws.execute(select(lots.c.id).where(~select(m.c.id).where(m.c.lot_id == lots.c.id)
                                              .exists()).order_by(lots.c.id)).scalars()
    for lot_id in bare:
        problems.add("lots", row_of.get(int(lot_id)), "uuid",
                     rows[row_of[int(lot_id)] - 1].get("uuid") if lot_id in row_of else None,
                     "the lot has no ledger rows (movements) in the file")
    from bakekit.areas.inventory import Inventory

    for r in Inventory(ws).audit().itertuples():
        problems.add("lots", row_of.get(int(r.lot_id)), "remaining" if r.problem != "value"
                     else "unit_cost", r.recorded,
                     f"the lot's {r.problem} ({r.recorded:g}) differs from its ledger rows "
                     f"in the file ({r.ledger:g})")


def load(ws: Workspace, path: str | Path) -> ImportReport:
    """Read a bakekit JSON file into an empty database (see IO.load)."""
    problems = Problems()
    document = _read_document(path, problems)
    for t in _tables():
        if ws.execute(select(t.c.id).limit(1)).first() is not None:
            raise ValidationError(f"load: the database is not empty (table {t.name} has rows);"
                                  " load into an empty database", field="database",
                                  value=t.name)
    tally = Tally()
    ids: dict[str, dict[Any, int]] = {}
    data = document.get("tables", {})
    by_uuid = {name: {r.get("uuid"): r for r in data.get(name, []) if isinstance(r, dict)}
               for name in ("runs", "lots")}
    for t in _tables():
        rows = data.get(t.name, [])
        tally.add(t.name, "read", len(rows))
        if not rows:
            continue
        fks = _fks(t)
        self_ref = [c for c, target in fks.items() if target is t]
        params = [_row_values(t, rec, n, fks, ids, by_uuid, problems)
                  for n, rec in enumerate(rows, start=1)]
        problems.raise_if_any(f"load of {path}")
        key = NATURAL_KEYS.get(t.name)
        if not key:  # nothing refers to these rows: no ids needed
            ws.execute(insert(t), params)
            tally.add(t.name, "created", len(rows))
            continue
        new_ids = insert_with_ids(ws, t, params, match=(key,))
        ids[t.name] = {rec[key]: i for rec, i in zip(rows, new_ids, strict=True)}
        for ref in self_ref:
            links = [{"b_id": i, "b_ref": ids[t.name][rec[ref]]}
                     for rec, i in zip(rows, new_ids, strict=True) if rec.get(ref) is not None]
            if links:
                ws.execute(update(t).where(t.c.id == bindparam("b_id"))
                           .values({ref: bindparam("b_ref")}), links)
        tally.add(t.name, "created", len(rows))
    _check_ledger(ws, [r for r in data.get("lots", []) if isinstance(r, dict)],
                  ids.get("lots", {}), problems)
    problems.raise_if_any(f"load of {path}")
    return tally.report(unknown={}, source=str(path), version=str(document.get("version")))
