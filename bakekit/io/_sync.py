"""Shared machinery of the importers: problem collection, slugs, value checks, and a
set-based upsert (one SELECT, one executemany INSERT, one executemany UPDATE per table)."""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import bindparam, insert, select, update

from bakekit import frames, stock
from bakekit.checks import MAX_KEY_LENGTH, as_date, as_datetime
from bakekit.costing import reprice_from_lots
from bakekit.db import tables
from bakekit.errors import BakekitError, ImportValidationError, ValidationError
from bakekit.results import ImportReport
from bakekit.units import normalize_unit, to_decimal

if TYPE_CHECKING:  # pragma: no cover
    from bakekit.operations import Workspace

COUNTS = ("read", "created", "updated", "unchanged", "skipped")

#: numbers this large are refused (as ``units.to_decimal`` does)
_TOO_LARGE = Decimal("1e12")


@functools.lru_cache(maxsize=1024)
def _unit(spelling: str) -> str:
    """``normalize_unit`` of a spelling, remembered."""
    return normalize_unit(spelling)


@functools.lru_cache(maxsize=4096)
def _text_number(text: str, field_name: str, positive: bool, non_negative: bool) -> Decimal:
    """``to_decimal`` of a number written as text ("$1,250.00" reads 1250.00), remembered
    (a ValidationError is raised again each time, never remembered). A comma is read only
    as a thousands separator: "1,0" or "4,25" (a decimal comma) is refused, not 10 or 425.
    """
    plain = text.strip().replace("$", "")
    if "," in plain:
        if not _THOUSANDS.match(plain):
            raise ValidationError(f"{field_name}: {text!r} has a comma that is not a "
                                  "thousands separator (a decimal comma? write it with a "
                                  "point: 4.25)", field=field_name, value=text)
        plain = plain.replace(",", "")
    return to_decimal(plain, field_name, positive=positive, non_negative=non_negative)


#: a number whose commas separate thousands ("1,250", "-12,000.5")
_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(,\d{3})+(\.\d*)?$")


@functools.lru_cache(maxsize=4096)
def _text_datetime(text: str) -> dt.datetime:
    """``as_datetime`` of ISO 8601 text, remembered (datetimes are immutable)."""
    return as_datetime(text)


def slugify(text: str, sep: str = "-") -> str:
    """A lower-case slug of ASCII letters and digits.

    >>> slugify("Toasted Almond Sablés")
    'toasted-almond-sabl-s'
    """
    return re.sub(r"[^a-z0-9]+", sep, text.lower()).strip(sep)


def num(value: Decimal | float | int | None) -> str:
    """A number written without trailing zeros (for keys and density strings)."""
    if value is None:
        return ""
    d = Decimal(str(value)).normalize()
    return format(d, "f")


class Problems:
    """Collects every problem of an input (row, entity, field, value, reason); raise at the end."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def add(self, entity: str, row: int | None, field_name: str | None, value: Any,
            reason: str) -> None:
        self.rows.append({"row": row, "entity": entity, "field": field_name,
                          "value": None if value is None else _short(value), "reason": reason})

    def __bool__(self) -> bool:
        return bool(self.rows)

    def frame(self) -> pd.DataFrame:
        return frames.validate(pd.DataFrame(self.rows), frames.IMPORT_ERRORS)

    def raise_if_any(self, what: str) -> None:
        if self.rows:
            errors = self.frame()
            first = self.rows[0]
            raise ImportValidationError(
                f"{what}: {len(self.rows)} problem(s); first: {first['entity']} row "
                f"{first['row']}, field {first['field']!r}, value {first['value']!r}: "
                f"{first['reason']} (see .errors for all; nothing was written)", errors)


def loads_checked(text: str) -> tuple[Any, list[tuple[str, list[Any], list[str]]]]:
    """Parse JSON text, also returning every key given twice in one object (key, its
    values, the object's keys): ``json.loads`` alone keeps the last silently.

    >>> loads_checked('{"slug": "flour", "slug": "sugar"}')[1]
    [('slug', ['flour', 'sugar'], ['slug'])]
    """
    twice: list[tuple[str, list[Any], list[str]]] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out = dict(items)
        if len(out) < len(items):  # rare: only then look at which key came twice
            seen: dict[str, list[Any]] = {}
            for key, value in items:
                seen.setdefault(key, []).append(value)
            twice.extend((k, v, list(out)) for k, v in seen.items() if len(v) > 1)
        return out

    return json.loads(text, object_pairs_hook=pairs), twice


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 200 else text[:197] + "..."


@dataclass
class Checker:
    """Value checks for one row that record problems instead of raising."""

    problems: Problems
    entity: str
    row: int
    ok: bool = True

    def fail(self, field_name: str | None, value: Any, reason: str) -> None:
        self.ok = False
        self.problems.add(self.entity, self.row, field_name, value, reason)

    def text(self, rec: dict, key: str, *, required: bool = False,
             alternatives: Sequence[str] = ()) -> str | None:
        value = rec.get(key)
        if type(value) is str and (stripped := value.strip()):
            if len(stripped) <= MAX_KEY_LENGTH and stripped.isascii() and \
                    "\x00" not in stripped:
                return stripped  # the common case, in one step (a file has thousands)
            return self._sound_text(key, stripped)
        if value is None and not alternatives:  # the next most common: not given
            if required:
                self.fail(key, None, "is missing")
            return None
        for k in (key, *alternatives):
            value = rec.get(k)
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            if not isinstance(value, str):
                self.fail(k, value, f"must be text, not {type(value).__name__}")
                return None
            return self._sound_text(k, value.strip())
        if required:
            self.fail(key, None, "is missing")
        return None

    def _sound_text(self, key: str, text: str) -> str | None:
        """Text a database can store: no NUL, no lone surrogate, a name or slug of at most
        ``MAX_KEY_LENGTH`` characters (as the API takes); else a problem, and None."""
        if "\x00" in text:
            self.fail(key, text.replace("\x00", "\\x00"), "contains a NUL character")
            return None
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            self.fail(key, text.encode("utf-8", "backslashreplace").decode("utf-8"),
                      "is not valid text (a lone surrogate)")
            return None
        if len(text) > MAX_KEY_LENGTH and key.endswith(("slug", "name")):
            self.fail(key, text, f"is longer than {MAX_KEY_LENGTH} characters "
                                 f"({len(text):,})")
            return None
        return text

    def number(self, rec: dict, key: str, *, required: bool = False, positive: bool = False,
               non_negative: bool = False, alternatives: Sequence[str] = ()) -> Decimal | None:
        value: Any = rec.get(key)
        kind = type(value)
        if kind is int or (kind is float and math.isfinite(value)):  # JSON's numbers first
            number = Decimal(value) if kind is int else Decimal(repr(value))
            if -_TOO_LARGE < number < _TOO_LARGE and (number > 0 or not positive) and (
                    number >= 0 or not non_negative):
                return number  # else the general path below names what is wrong
        elif value is None and not alternatives:
            if required:
                self.fail(key, None, "is missing")
            return None
        elif kind is str:  # a file repeats a few spellings: each read once
            try:
                return _text_number(value, key, positive, non_negative)
            except ValidationError:
                pass  # blank, or not a number: the general path below says which
        for k in (key, *alternatives):
            value = rec.get(k)
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            if isinstance(value, float) and math.isnan(value):
                self.fail(k, value, "is NaN, not a number")
                return None
            try:
                if isinstance(value, str):  # a file repeats a few spellings: each read once
                    return _text_number(value, k, positive, non_negative)
                return to_decimal(value, k, positive=positive, non_negative=non_negative)
            except ValidationError as exc:
                self.fail(k, rec.get(k), str(exc).split(": ", 1)[-1])
                return None
        if required:
            self.fail(key, None, "is missing")
        return None

    def date(self, rec: dict, key: str, *, required: bool = False,
             alternatives: Sequence[str] = ()) -> dt.date | None:
        stamp = self.datetime(rec, key, required=required, alternatives=alternatives)
        if stamp is None:
            return None
        # the local day written in the value (checks.as_date), not its UTC day
        return as_date(next(v for v in (rec.get(k) for k in (key, *alternatives))
                            if v is not None and not (isinstance(v, str) and not v.strip())))

    def datetime(self, rec: dict, key: str, *, required: bool = False,
                 alternatives: Sequence[str] = ()) -> dt.datetime | None:
        value = rec.get(key)
        if type(value) is str:  # the common case: a file repeats a few days, each read once
            try:
                return _text_datetime(value)
            except ValueError:
                pass  # blank, or not a date: the general path below says which
        for k in (key, *alternatives):
            value = rec.get(k)
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            try:
                # a file repeats a few days: each text read once (errors are not cached)
                return _text_datetime(value) if type(value) is str else as_datetime(value)
            except ValueError:
                self.fail(k, value, "is not a date (use YYYY-MM-DD or ISO 8601)")
                return None
        if required:
            self.fail(key, None, "is missing")
        return None

    def unit(self, rec: dict, key: str, *, required: bool = True) -> str | None:
        value = rec.get(key)
        if value is None or value == "":
            if required:
                self.fail(key, value, "is missing")
            return None
        try:
            # a file repeats a few spellings: each is normalised once (errors are not cached)
            return _unit(value) if type(value) is str else normalize_unit(value, field=key)
        except BakekitError as exc:
            self.fail(key, value, str(exc).split(": ", 1)[-1])
            return None

    def flag(self, rec: dict, key: str, default: bool = False) -> bool:
        value = rec.get(key)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in {"true", "false", "yes", "no"}:
            return value.strip().lower() in {"true", "yes"}
        self.fail(key, value, "must be true or false")
        return default


@dataclass
class Tally:
    """Counts and reasons per entity, in the order entities were first seen."""

    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    reasons: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    #: values changed in rows already there, per entity and field (listed in the reasons)
    changes: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))

    def entity(self, name: str) -> dict[str, int]:
        if name not in self.counts:
            self.counts[name] = dict.fromkeys(COUNTS, 0)
        return self.counts[name]

    def add(self, name: str, what: str, n: int = 1) -> None:
        self.entity(name)[what] += n

    def reason(self, name: str, text: str) -> None:
        self.entity(name)
        if text not in self.reasons[name]:
            self.reasons[name].append(text)

    def change(self, name: str, field_name: str, n: int = 1) -> None:
        """Count ``n`` stored values of ``field_name`` changed (a row's other fields kept)."""
        self.entity(name)
        fields = self.changes[name]
        fields[field_name] = fields.get(field_name, 0) + n

    def changed(self, name: str) -> dict[str, int]:
        """The values changed of one entity, by field."""
        return dict(self.changes.get(name, {}))

    def report(self, *, unknown: dict[str, set[str]], source: str, version: str | None,
               **extra: int) -> ImportReport:
        """The import report of these counts; its frame is built when first read. ``extra``:
        ImportReport's other counts (zero_prices, identical_rows, uncosted_lots)."""
        for name, fields in self.changes.items():
            if fields:
                self.reason(name, "values changed: " + ", ".join(
                    f"{f} {n}" for f, n in sorted(fields.items())))
        rows = [{"entity": name, **c, "reasons": "; ".join(self.reasons.get(name, []))}
                for name, c in self.counts.items()]

        def frame() -> pd.DataFrame:
            index = pd.RangeIndex(len(rows))
            data = frames.columns(rows, frames.IMPORT_REPORT)  # plain counts: built in place
            if rows:
                data["reasons"] = pd.Series([r["reasons"] for r in rows], dtype=str,
                                            index=index)
            return pd.DataFrame(data, index=index, copy=False)  # one frame, made once

        return ImportReport(frame=frame,
                            unknown_fields={k: tuple(sorted(v)) for k, v in unknown.items()
                                            if v},
                            source=source, version=version,
                            _counts={name: dict(c) for name, c in self.counts.items()},
                            **extra)


def same(a: Any, b: Any) -> bool:
    """Equality of a stored value and a wanted one (Decimals by value to the 15 significant
    digits a SQLite REAL keeps, dates by day)."""
    if a is None or b is None:
        return a is None and b is None
    if isinstance(b, Decimal) or isinstance(a, Decimal):
        try:
            x, y = Decimal(str(a)), Decimal(str(b))
        except Exception:  # noqa: BLE001
            return False
        return x == y or abs(x - y) <= Decimal("1e-14") * max(abs(x), abs(y))
    if isinstance(b, dt.datetime) and isinstance(a, (dt.datetime, str)):
        return as_datetime(a) == as_datetime(b)
    if isinstance(b, dt.date) and not isinstance(b, dt.datetime):
        if isinstance(a, dt.datetime):
            return a.date() == b
        if isinstance(a, str):
            return a[:10] == b.isoformat()
    return bool(a == b)


def existing(ws: Workspace, table_name: str, key: Callable[[Any], Any] | Sequence[str]
             ) -> dict[Any, Any]:
    """Every row of a table by its natural key (one SELECT; where a key is not unique the
    newest row wins, on every back end)."""
    t = tables.by_name(table_name)
    rows = ws.execute(select(t).order_by(t.c.id)).all()
    if callable(key):
        return {key(r): r for r in rows}
    cols = list(key)
    if len(cols) == 1:
        return {getattr(r, cols[0]): r for r in rows}
    return {tuple(getattr(r, c) for c in cols): r for r in rows}


def insert_with_ids(ws: Workspace, t: Any, rows: Sequence[dict[str, Any]],
               match: Sequence[str]) -> list[int]:
    """Insert rows into ``t`` with one ``INSERT ... RETURNING`` (SQLAlchemy batches the
    rows itself); their new ids, in the rows' order. Matched by ``uuid`` (the insert
    sentinel of the tables that have one), the ids come back sorted by SQLAlchemy
    (``sort_by_parameter_order``); otherwise by the ``match`` columns, unique among the
    rows (a slug, a name, a link's natural key).

    >>> from bakekit.db import tables
    >>> insert_with_ids(ws, tables.suppliers, [{"name": "A"}, {"name": "B"}], match=["name"])
    [4, 5]
    """
    if not rows:
        return []
    if tuple(match) == ("uuid",):
        stmt = insert(t).returning(t.c.id, sort_by_parameter_order=True)
        return [int(i) for i in ws.execute(stmt, list(rows)).scalars()]
    got = ws.execute(insert(t).returning(t.c.id, *(t.c[c] for c in match)), list(rows))
    by_key = {tuple(r[1:]): int(r[0]) for r in got}
    return [by_key[tuple(row[c] for c in match)] for row in rows]


def insert_shape(t: Any, rows: list[dict[str, Any]], keep: Sequence[str]
                  ) -> list[dict[str, Any]]:
    """The rows in one shape for executemany (every row the same columns). Rows already
    of one shape are returned as they are; otherwise each row gets every column any row
    has, except those None in every row without a default (NULL either way).

    >>> from bakekit.db import tables
    >>> insert_shape(tables.suppliers, [{"name": "A", "city": None}, {"name": "B"}],
    ...              keep=("name",))
    [{'name': 'A'}, {'name': 'B'}]
    """
    if not rows:
        return rows
    first = rows[0].keys()
    width = len(first)
    if all(len(row) == width and row.keys() == first for row in rows):
        return rows  # already one shape
    columns = set().union(*rows)
    empty = [c for c in columns
             if c not in keep and t.c[c].default is None and t.c[c].server_default is None
             and all(row.get(c) is None for row in rows)]
    wanted = columns.difference(empty)
    return [{c: row.get(c) for c in wanted} for row in rows]


@dataclass(frozen=True)
class OnInsert:
    """A value an upsert writes only into a row it creates (a name made up from a slug, a
    flag's default): a row already there keeps its own.

    >>> OnInsert("flour").value
    'flour'
    """

    value: Any


def present(value: Any) -> bool:
    """Whether a file carries a value that may change a stored one (the merge rule: absent,
    empty and placeholder values never overwrite).

    >>> present(None), present("  "), present(OnInsert("x")), present(0)
    (False, False, False, True)
    """
    if value is None or isinstance(value, OnInsert):
        return False
    return not (isinstance(value, str) and not value.strip())


def _inserted(t: Any, values: dict[str, Any]) -> dict[str, Any]:
    """A new row's values: ``OnInsert`` unwrapped, None where a column has a plain default
    replaced by it."""
    out = {}
    for c, v in values.items():
        if isinstance(v, OnInsert):
            v = v.value
        if v is None:
            default = t.c[c].default
            if default is not None and getattr(default, "is_scalar", False):
                v = default.arg
        out[c] = v
    return out


def _match_columns(t: Any, columns: set[str]) -> tuple[str, ...]:
    """The columns identifying inserted rows of ``t``: its uuid, else slug, else name."""
    for c in ("uuid", "slug", "name"):
        if c in t.c and c in columns:
            return (c,)
    raise ValueError(f"upsert into {t.name}: give match= (no uuid, slug or name)")


def upsert(ws: Workspace, table_name: str, wanted: Iterable[tuple[Any, dict[str, Any]]],
           current: dict[Any, Any], tally: Tally, entity: str, *,
           compare: Sequence[str] | None = None,
           statuses: dict[Any, str] | None = None,
           match: Sequence[str] | None = None) -> dict[Any, int]:
    """Insert rows whose key is new, update those whose compared columns differ.

    ``wanted`` yields (key, column values); returns the id of every key. The merge rule: a
    stored value changes only where the value given is ``present`` (None, blank and
    ``OnInsert`` values never overwrite); each value changed is counted
    (``tally.change``). Counts go to ``tally`` under ``entity`` (created / updated /
    unchanged). New rows are inserted in one batch and their ids matched back by ``match``
    (default: the table's uuid, slug or name column; give the natural key's columns for a
    link table).
    """
    t = tables.by_name(table_name)
    ids: dict[Any, int] = {}
    inserts: list[tuple[Any, dict[str, Any]]] = []
    updates: list[dict[str, Any]] = []
    for key, values in wanted:
        row = current.get(key)
        if row is None:
            inserts.append((key, values))
            continue
        ids[key] = int(row.id)
        given: Iterable[str] = compare if compare is not None else values
        cols = [c for c in given if c in values and present(values[c])]
        diff = [c for c in cols if not same(getattr(row, c), values[c])]
        if diff:
            updates.append({"b_id": row.id, **{f"b_{c}": values[c] for c in cols}})
            for c in diff:
                tally.change(entity, c)
            tally.add(entity, "updated")
            status = "updated"
        else:
            tally.add(entity, "unchanged")
            status = "unchanged"
        if statuses is not None:
            statuses[key] = status
    if inserts:
        columns = set().union(*(v.keys() for _, v in inserts))
        match = match or _match_columns(t, columns)
        rows = insert_shape(t, [_inserted(t, v) for _, v in inserts], match)
        new_ids = insert_with_ids(ws, t, rows, match)
        for (key, _), new_id in zip(inserts, new_ids, strict=True):
            ids[key] = int(new_id)
            if statuses is not None:
                statuses[key] = "created"
        tally.add(entity, "created", len(inserts))
    if updates:
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
        for u in updates:
            groups[tuple(sorted(k for k in u if k != "b_id"))].append(u)
        for names, params in groups.items():
            stmt = (update(t).where(t.c.id == bindparam("b_id"))
                    .values({c[2:]: bindparam(c) for c in names}))
            ws.execute(stmt, params)
    return ids


def fill_lot_costs(ws: Workspace, costs: Sequence[tuple[int, Decimal]]) -> None:
    """Give uncosted lots their cost per lot unit; the cost then flows downstream
    (``costing.reprice_from_lots``): their uncosted ledger rows, the runs that consumed
    them, the lots those runs made, and so on, in this unit of work.

    Set-based (executemany UPDATEs, a few statements per level of the run graph); lots
    that already have a cost are left alone, so the ledger audit (remaining value equals
    the ledger's cost sum) stays clean.
    """
    if not costs:
        return
    stock.fill_costs(ws, costs)
    reprice_from_lots(ws, [lot_id for lot_id, _ in costs])
