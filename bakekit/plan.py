"""Plan: the write calls a what-if recorded, their previewed ledger rows, and a safe apply.

``plan.apply()`` replays the operations in a fresh workspace and commits only if the
replay writes the same ledger rows as the preview (lot, item, quantity, cost; lots the plan
itself creates are matched by the order in which it created them) and every item the plan
touches still has the stock it had at the preview. Otherwise nothing is committed and
StalePlanError shows what moved.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import inspect
import json
import math
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import Float, bindparam, cast, func, insert, literal, select, union_all
from sqlalchemy.exc import DBAPIError, IntegrityError

from bakekit import frames
from bakekit.db import tables
from bakekit.db.models.base import utcnow
from bakekit.errors import (
    BakekitError,
    DatabaseError,
    InvalidPlanError,
    PlanAlreadyAppliedError,
    ReadOnlyError,
    StalePlanError,
    WrongDatabaseError,
)
from bakekit.frames import build, validate
from bakekit.results import Reconciliation

if TYPE_CHECKING:  # pragma: no cover
    from bakekit.bakery import Bakery
    from bakekit.workspace import Workspace, _Operation

#: the plan file format this bakekit writes and reads (version 1 files named no database,
#: had no id and no digest: they are refused with a message to make the plan again)
FORMAT_VERSION = 2
#: differences below this (quantities 6 places, money 10) are rounding, not movement
TOLERANCE = 1e-6

# -- what a plan file may hold: bounds ------------------------------------------------------
#: a plan file longer than this (characters) is refused before it is parsed
MAX_PLAN_CHARS = 64 * 1024 * 1024
#: operations, and ledger rows / summary rows, per plan
MAX_OPERATIONS = 10_000
MAX_CHANGE_ROWS = 1_000_000
#: positional and keyword arguments of one operation (no write method takes more than ~8)
MAX_POSITIONAL = 16
MAX_KEYWORDS = 32
#: values (list items, frame cells, ...) in the arguments of one operation
MAX_VALUES = 2_000_000
#: lists within lists within an argument (recipes' ingredient triples are depth 2)
MAX_DEPTH = 6
#: characters of one text value; columns of a recorded frame
MAX_TEXT = 100_000
MAX_FRAME_COLUMNS = 256

#: arguments that name a file the operation reads: recorded with the file's sha256, and
#: replayed only if the file is still there, a regular file, with the same content
FILE_PARAMETERS: dict[tuple[str, str], str] = {
    ("io", "import_bake_tracker"): "path", ("io", "load"): "path",
    ("io", "import_history"): "source",
}
#: arguments that may be a JSON document given by value (a bake-tracker export as a dict)
DOCUMENT_PARAMETERS: dict[tuple[str, str], str] = {("io", "import_bake_tracker"): "path"}

_SCALARS = (str, int, float, bool, type(None))


class PlanFileArgument:
    """A file an operation of the plan reads, as recorded: its path and its sha256."""

    __slots__ = ("path", "sha256")

    def __init__(self, path: str, sha256: str):
        self.path = path
        self.sha256 = sha256

    def __repr__(self) -> str:
        return f"file {self.path!r} (sha256 {self.sha256[:12]})"


def _file_digest(path: str) -> str:
    """sha256 of a regular file's content ('' if it cannot be read)."""
    p = Path(path)
    if not p.is_file():
        return ""
    digest = hashlib.sha256()
    try:
        with p.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return ""
    return digest.hexdigest()


# -- arguments by value: recording ----------------------------------------------------------
def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"__decimal__": str(value)}
    if isinstance(value, dt.datetime):
        return {"__datetime__": value.isoformat()}
    if isinstance(value, dt.date):
        return {"__date__": value.isoformat()}
    if isinstance(value, pd.DataFrame):
        return {"__frame__": json.loads(value.to_json(orient="split", date_format="iso"))}
    if isinstance(value, Reconciliation):  # recorded as what was reviewed: kind and rows
        return {"__reconciliation__": {"kind": value.kind, "frame": _encode(value.frame)}}
    if isinstance(value, PlanFileArgument):
        return {"__file__": {"path": value.path, "sha256": value.sha256}}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if isinstance(value, dict):  # a JSON document by value (a bake-tracker export)
        return {"__document__": json.loads(json.dumps(value, default=str))}
    if hasattr(value, "__fspath__"):
        return os.fspath(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise BakekitError(f"a what-if argument of type {type(value).__name__} cannot be recorded "
                       "by value; pass plain values")


def _record(op: _Operation) -> RecordedOperation:
    """One write call of a what-if, by value; a file it read is named with its sha256."""
    args, kwargs = list(op.args), dict(op.kwargs)
    name = FILE_PARAMETERS.get((op.area, op.method))
    fn = _write_methods().get((op.area, op.method))
    if name is not None and fn is not None:
        params = [p for p in inspect.signature(fn).parameters if p != "self"]
        position = params.index(name)
        holder: Any = None
        key: Any = None
        if name in kwargs:
            holder, key = kwargs, name
        elif position < len(args):
            holder, key = args, position
        if holder is not None and isinstance(holder[key], (str, os.PathLike)):
            path = str(Path(os.fspath(holder[key])).resolve())
            holder[key] = PlanFileArgument(path, _file_digest(path))
    return RecordedOperation(op.area, op.method, _encode(args),
                             {str(k): _encode(v) for k, v in kwargs.items()})


# -- the registry of what a plan may call ---------------------------------------------------
@functools.lru_cache(maxsize=1)
def _write_methods() -> dict[tuple[str, str], Callable[..., Any]]:
    """(area, method) -> the registered write operation: bakekit's own write operations,
    the only calls a plan replays (``workspace.WRITE_METHODS``, filled by
    ``@write_operation``; every area module is imported first so the list is whole)."""
    from bakekit.areas.assembly import Assembly
    from bakekit.areas.catalog import Catalog
    from bakekit.areas.events import Events
    from bakekit.areas.inventory import Inventory
    from bakekit.areas.production import Production
    from bakekit.areas.recipes import Recipes
    from bakekit.io import IO
    from bakekit.workspace import WRITE_METHODS

    registered = {id(fn) for fn in WRITE_METHODS.values()}
    allowed: dict[tuple[str, str], Callable[..., Any]] = {}
    for cls in (Catalog, Inventory, Recipes, Production, Assembly, Events, IO):
        for name, member in vars(cls).items():
            if (not name.startswith("_") and id(member) in registered
                    and getattr(member, "__bakekit_write__", False)):
                allowed[(cls.area_name, name)] = member
    return allowed


def _areas() -> list[str]:
    return sorted({area for area, _ in _write_methods()})


# -- arguments by value: reading, checked ---------------------------------------------------
class _Reader:
    """Decodes the arguments of one operation, refusing anything a plan does not record."""

    def __init__(self, index: int, area: str, method: str, *, limits: bool = True):
        self.index, self.area, self.method = index, area, method
        #: the size bounds apply to plans read from a file, not to a what-if's own record
        self.limits = limits
        self.values = 0

    def refuse(self, what: str, *, field: str, value: Any) -> InvalidPlanError:
        shown = repr(value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        return InvalidPlanError(
            f"plan operation {self.index} ({self.area}.{self.method}): {field}: {what} "
            f"(got {shown}); the plan was refused, nothing was written",
            operation=self.index, field=field, value=value)

    def count(self, n: int, field: str) -> None:
        self.values += n
        if self.limits and self.values > MAX_VALUES:
            raise self.refuse(f"the arguments hold more than {MAX_VALUES:,} values",
                              field=field, value=f"{self.values:,} values")

    def scalar(self, value: Any, field: str) -> Any:
        if not self.limits:
            return value
        if isinstance(value, str) and len(value) > MAX_TEXT:
            raise self.refuse(f"text longer than {MAX_TEXT:,} characters", field=field,
                              value=value)
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**30:
            raise self.refuse("an integer beyond 10**30", field=field, value=value)
        return value

    def value(self, value: Any, field: str, *, depth: int = 0, special: bool = False) -> Any:
        """A recorded value: scalar, list, or one of the tagged types; ``special`` allows a
        file or a JSON document (only where the operation takes one)."""
        self.count(1, field)
        if isinstance(value, _SCALARS):
            return self.scalar(value, field)
        if isinstance(value, list):
            if self.limits and depth >= MAX_DEPTH:
                raise self.refuse(f"lists nested deeper than {MAX_DEPTH}", field=field,
                                  value="[...]")
            self.count(len(value), field)
            return [self.value(v, f"{field}[{i}]", depth=depth + 1)
                    for i, v in enumerate(value)]
        if not isinstance(value, dict):  # pragma: no cover - JSON has no other types
            raise self.refuse("not a value a plan records", field=field, value=value)
        if len(value) != 1:
            raise self.refuse("an object that is not a recorded value (a recorded value is "
                              "one of __decimal__, __date__, __datetime__, __frame__, "
                              "__reconciliation__)", field=field, value=value)
        ((tag, inner),) = value.items()
        if tag == "__decimal__":
            return self.decimal(inner, field)
        if tag in ("__date__", "__datetime__"):
            if not isinstance(inner, str) or len(inner) > 40:
                raise self.refuse(f"{tag} must be ISO text", field=field, value=inner)
            try:
                if tag == "__date__":
                    return dt.date.fromisoformat(inner)
                return dt.datetime.fromisoformat(inner)
            except ValueError:
                raise self.refuse(f"{inner!r} is not an ISO {tag.strip('_')}", field=field,
                                  value=inner) from None
        if tag == "__frame__":
            return self.frame(inner, field)
        if tag == "__reconciliation__":
            return self.reconciliation(inner, field)
        if tag == "__file__" and special:
            return self.file(inner, field)
        if tag == "__document__" and special and (self.area, self.method) in \
                DOCUMENT_PARAMETERS:
            return self.document(inner, field)
        raise self.refuse(f"{tag!r}: not a recorded value here (a plan records numbers, text, "
                          "true/false, null, lists, and __decimal__, __date__, __datetime__, "
                          "__frame__, __reconciliation__; a file or a document only where "
                          "the operation reads one)", field=field, value=value)

    def decimal(self, inner: Any, field: str) -> Decimal:
        if not isinstance(inner, str) or len(inner) > 100:
            raise self.refuse("__decimal__ must be text", field=field, value=inner)
        try:
            return Decimal(inner)
        except InvalidOperation:
            raise self.refuse(f"{inner!r} is not a decimal number", field=field,
                              value=inner) from None

    def frame(self, inner: Any, field: str) -> pd.DataFrame:
        if not isinstance(inner, dict) or not {"columns", "data"} <= set(inner) or not set(
                inner) <= {"columns", "data", "index"}:
            raise self.refuse("a recorded frame is {columns, index, data}", field=field,
                              value=inner)
        columns, data = inner["columns"], inner["data"]
        if (not isinstance(columns, list) or len(columns) > MAX_FRAME_COLUMNS
                or not all(isinstance(c, str) and len(c) <= 200 for c in columns)
                or len(set(columns)) != len(columns)):
            raise self.refuse(f"frame columns must be at most {MAX_FRAME_COLUMNS} distinct "
                              "names", field=field, value=columns)
        if not isinstance(data, list):
            raise self.refuse("frame data must be a list of rows", field=field, value=data)
        self.count(len(data) * max(len(columns), 1), field)
        for n, row in enumerate(data):
            if not isinstance(row, list) or len(row) != len(columns):
                raise self.refuse(f"frame row {n} must be a list of {len(columns)} values",
                                  field=field, value=row)
            for c, cell in zip(columns, row, strict=True):
                if not isinstance(cell, _SCALARS):
                    raise self.refuse(f"frame row {n}, column {c!r}: not a plain value",
                                      field=field, value=cell)
                self.scalar(cell, f"{field}[{n}].{c}")
        return pd.DataFrame(data, columns=columns)

    def reconciliation(self, inner: Any, field: str) -> Reconciliation:
        from bakekit.io.reconcile import KINDS

        if not isinstance(inner, dict) or set(inner) != {"kind", "frame"}:
            raise self.refuse("a recorded reconciliation is {kind, frame}", field=field,
                              value=inner)
        kind = inner["kind"]
        if kind not in KINDS:
            raise self.refuse(f"reconciliation kind must be one of {', '.join(KINDS)}",
                              field=f"{field}.kind", value=kind)
        frame = inner["frame"]
        if not isinstance(frame, dict) or set(frame) != {"__frame__"}:
            raise self.refuse("a reconciliation's frame must be a recorded frame",
                              field=f"{field}.frame", value=frame)
        review = self.frame(frame["__frame__"], f"{field}.frame")
        self.review(kind, review, f"{field}.frame")
        return Reconciliation(kind, review)

    def review(self, kind: str, frame: pd.DataFrame, field: str) -> None:
        """The rows a reconciliation will write hold what its apply needs, of the right
        types (a review read from a file is data, checked like any input)."""
        from bakekit.io.reconcile import REVIEW_COLUMNS

        missing = [c for c in REVIEW_COLUMNS[kind] if c not in frame.columns]
        if missing:
            raise self.refuse(f"a {kind} review has no column(s) {', '.join(missing)}",
                              field=field, value=list(frame.columns))
        bad = sorted({str(v) for v in frame["status"] if v not in _REVIEW_STATUSES})
        if bad:
            raise self.refuse(f"status must be one of {', '.join(sorted(_REVIEW_STATUSES))}",
                              field=f"{field}.status", value=bad[0])
        writes = _REVIEW_WRITES[kind]
        for n, rec in enumerate(frame.to_dict("records")):
            for column, want in writes.get(str(rec["status"]), {}).items():
                v = rec[column]
                if want.endswith("?") and _empty(v):
                    continue
                if not _CELL_CHECKS[want.rstrip("?")](v):
                    raise self.refuse(f"row {n} ({rec['status']}): {column} is not a valid "
                                      f"{want.rstrip('?')}", field=f"{field}.{column}",
                                      value=v)
            if (kind == "purchases" and rec["status"] == "changed"
                    and _empty(rec.get("purchase_id")) and _empty(rec.get("lot_ids"))):
                raise self.refuse(f"row {n} (changed): names neither a purchase_id nor "
                                  "lot_ids to fill", field=f"{field}.purchase_id", value=None)

    def file(self, inner: Any, field: str) -> PlanFileArgument:
        if (not isinstance(inner, dict) or set(inner) != {"path", "sha256"}
                or not isinstance(inner["path"], str) or not isinstance(inner["sha256"], str)
                or len(inner["path"]) > 4096 or len(inner["sha256"]) > 64):
            raise self.refuse("a recorded file is {path, sha256}", field=field, value=inner)
        return PlanFileArgument(inner["path"], inner["sha256"])

    def document(self, inner: Any, field: str, depth: int = 0) -> Any:
        """A JSON document given by value: plain JSON, bounded."""
        self.count(1, field)
        if isinstance(inner, _SCALARS):
            return self.scalar(inner, field)
        if depth >= 32:
            raise self.refuse("a document nested deeper than 32", field=field, value="...")
        if isinstance(inner, list):
            return [self.document(v, field, depth + 1) for v in inner]
        if isinstance(inner, dict):
            return {str(k): self.document(v, field, depth + 1) for k, v in inner.items()}
        raise self.refuse("not JSON", field=field, value=inner)  # pragma: no cover


_REVIEW_STATUSES = {"new", "changed", "unchanged", "missing", "conflict", "invalid"}
#: per kind and status: the columns a reconciliation's apply writes from, and their type
_REVIEW_WRITES: dict[str, dict[str, dict[str, str]]] = {
    "prices": {"new": {"product_id": "id", "price": "amount"},
               "changed": {"product_id": "id", "price": "amount"}},
    "purchases": {"new": {"product": "text", "packages": "positive", "unit_cost": "amount?",
                          "purchased_on": "date", "supplier": "text?", "location": "text?",
                          "notes": "text?"},
                  # a changed purchase names its purchase, or (a priced view matched by
                  # product and day) the uncosted lots it fills: one of the two
                  "changed": {"purchase_id": "id?", "lot_ids": "ids?", "unit_cost": "amount"}},
    "inventory_count": {"changed": {"item": "text", "counted": "amount", "unit": "text"}},
}


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _is_date(value: Any) -> bool:
    if not isinstance(value, str) or len(value) > 40:
        return False
    try:
        pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):
        return False
    return True


def _is_amount(value: Any, *, positive: bool = False) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return False
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return False
    if not amount.is_finite() or amount < 0 or amount > Decimal(10) ** 15:
        return False
    return amount > 0 if positive else True


_CELL_CHECKS: dict[str, Callable[[Any], bool]] = {
    "id": lambda x: (isinstance(x, (int, float)) and not isinstance(x, bool)
                     and math.isfinite(x) and float(x).is_integer() and 0 < x < 2**63),
    "text": lambda x: isinstance(x, str) and x.strip() != "",
    "date": _is_date,
    "amount": _is_amount,
    "positive": lambda x: _is_amount(x, positive=True),
    "ids": lambda x: (isinstance(x, str) and len(x) < 100_000 and all(
        part.isdigit() and 0 < int(part) < 2**63 for part in x.split(","))),
}


def _check_operation(index: int, raw: Any, *, limits: bool = True
                     ) -> tuple[RecordedOperation, Callable[..., Any], list[Any],
                                dict[str, Any]]:
    """One operation of a plan, checked: a registered write operation whose arguments are
    values a plan records and bind to its signature. Returns the operation (as recorded),
    the write method, and the decoded arguments."""
    if not isinstance(raw, dict) or set(raw) != {"area", "method", "args", "kwargs"}:
        shown = repr(raw)[:80]
        raise InvalidPlanError(
            f"plan operation {index}: must be an object of area, method, args and kwargs "
            f"(got {shown}); the plan was refused, nothing was written", operation=index,
            field="operations", value=raw)
    area, method, args, kwargs = raw["area"], raw["method"], raw["args"], raw["kwargs"]
    if not isinstance(area, str) or not isinstance(method, str):
        raise InvalidPlanError(f"plan operation {index}: area and method must be text (got "
                               f"{area!r}, {method!r}); the plan was refused, nothing was "
                               "written", operation=index, field="area", value=(area, method))
    fn = _write_methods().get((area, method))
    if fn is None:
        if area not in _areas():
            why = (f"{area!r} is not an area of a workspace (a plan calls only the write "
                   f"operations of the areas {', '.join(_areas())})")
        else:
            allowed = sorted(m for a, m in _write_methods() if a == area)
            why = (f"{area}.{method} is not one of bakekit's write operations (in {area} a "
                   f"plan may call {', '.join(allowed)})")
        raise InvalidPlanError(f"plan operation {index} (area {area!r}, method {method!r}): "
                               f"{why}; the plan was refused, nothing was written",
                               operation=index, field="method", value=f"{area}.{method}")
    reader = _Reader(index, area, method, limits=limits)
    if not isinstance(args, list) or (limits and len(args) > MAX_POSITIONAL):
        raise reader.refuse(f"args must be a list of at most {MAX_POSITIONAL} values",
                            field="args", value=f"{len(args):,} values"
                            if isinstance(args, list) else args)
    if not isinstance(kwargs, dict) or (limits and len(kwargs) > MAX_KEYWORDS):
        raise reader.refuse(f"kwargs must be an object of at most {MAX_KEYWORDS} values",
                            field="kwargs", value=f"{len(kwargs):,} values"
                            if isinstance(kwargs, dict) else kwargs)
    for key in kwargs:
        if not key.isidentifier() or key.startswith("_"):
            raise reader.refuse("a keyword must be a public argument name", field="kwargs",
                                value=key)
    signature = inspect.signature(fn)
    try:
        signature.bind(None, *args, **kwargs)
    except TypeError as exc:
        params = ", ".join(str(p) for name, p in signature.parameters.items()
                           if name != "self")
        raise reader.refuse(f"the arguments do not fit {area}.{method}({params}): {exc}",
                            field="arguments", value={"args": args, "kwargs": kwargs}) from None
    special = FILE_PARAMETERS.get((area, method))
    names = [n for n in signature.parameters if n != "self"]
    decoded_args = []
    for i, v in enumerate(args):
        name = names[i] if i < len(names) else f"args[{i}]"
        decoded_args.append(reader.value(v, name, special=name == special))
    decoded_kwargs = {k: reader.value(v, k, special=k == special) for k, v in kwargs.items()}
    if special is not None:  # what the operation reads: only as recorded, never a bare path
        given = dict(zip(names, decoded_args, strict=False)) | decoded_kwargs
        source = given.get(special)
        kinds = (PlanFileArgument, dict) if (area, method) in DOCUMENT_PARAMETERS else (
            (PlanFileArgument, pd.DataFrame) if method == "import_history"
            else (PlanFileArgument,))
        if not isinstance(source, kinds):
            raise reader.refuse("what the operation reads must be a file recorded with its "
                                "sha256 (a plan made by a what-if records it), not a bare "
                                "path or another value", field=special,
                                value=source if not isinstance(source, pd.DataFrame)
                                else "a table")
    if (area, method) == ("io", "apply_reconciliation"):
        given = dict(zip(names, decoded_args, strict=False)) | decoded_kwargs
        if not isinstance(given.get("reconciliation"), Reconciliation):
            raise reader.refuse("must be a recorded reconciliation (__reconciliation__)",
                                field="reconciliation", value=given.get("reconciliation"))
    return RecordedOperation(area, method, args, kwargs), fn, decoded_args, decoded_kwargs


@dataclass(frozen=True)
class RecordedOperation:
    """One write call of a what-if, by value (its arguments as the plan file holds them)."""

    area: str
    method: str
    args: list[Any]
    kwargs: dict[str, Any]

    def describe(self) -> str:
        """The call's arguments in words: ``finished_unit='cookie', batches=2``."""
        fn = _write_methods().get((self.area, self.method))
        names = ([n for n in inspect.signature(fn).parameters if n != "self"]
                 if fn is not None else [])
        parts = [f"{names[i]}={_show_value(a)}" if i < len(names) else _show_value(a)
                 for i, a in enumerate(self.args)]
        parts += [f"{k}={_show_value(v)}" for k, v in self.kwargs.items()]
        return ", ".join(parts)


def _show_value(value: Any, limit: int = 120) -> str:
    """A recorded value for people: text quoted, numbers plain, frames by their size."""
    if isinstance(value, dict) and len(value) == 1:
        ((tag, inner),) = value.items()
        if tag in ("__decimal__", "__date__", "__datetime__"):
            return str(inner)
        if tag == "__frame__" and isinstance(inner, dict):
            rows = len(inner.get("data") or [])
            return f"<table of {rows} row(s): {', '.join(map(str, inner.get('columns', [])))}>"
        if tag == "__reconciliation__" and isinstance(inner, dict):
            recorded = inner.get("frame")
            frame = recorded.get("__frame__", {}) if isinstance(recorded, dict) else {}
            columns, data = frame.get("columns", []), frame.get("data", [])
            counts: dict[str, int] = {}
            if "status" in columns:
                at = columns.index("status")
                for row in data:
                    counts[str(row[at])] = counts.get(str(row[at]), 0) + 1
            shown = ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
            return f"<{inner.get('kind')} review of {len(data)} row(s): {shown}>"
        if tag == "__file__" and isinstance(inner, dict):
            return f"file {inner.get('path')!r} (sha256 {str(inner.get('sha256'))[:12]})"
        if tag == "__document__":
            return "<a JSON document>"
    if isinstance(value, list):
        text = "[" + ", ".join(_show_value(v, limit) for v in value[:20]) + (
            ", ..." if len(value) > 20 else "") + "]"
    elif isinstance(value, str):
        text = repr(value)
    else:
        text = json.dumps(value, default=str)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _canonical_digest(document: dict[str, Any]) -> str:
    """sha256 over the plan document (everything but its digest) as canonical JSON."""
    body = {k: v for k, v in document.items() if k != "digest"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return "sha256:" + hashlib.sha256(text.encode("ascii")).hexdigest()


_CHANGE_FIELDS: dict[str, type] = {
    "step": int, "position": int, "lot": str, "item": str, "kind": str, "reason": str,
    "quantity": float, "unit": str, "cost": float, "item_id": int}
_SUMMARY_FIELDS: dict[str, type] = {
    "item": str, "kind": str, "unit": str, "before": float, "change": float, "after": float,
    "cost": float}


def _check_rows(rows: Any, fields: dict[str, type], name: str) -> list[dict[str, Any]]:
    """The plan's ledger rows (or summary rows): a list of objects of exactly these fields."""
    if not isinstance(rows, list) or len(rows) > MAX_CHANGE_ROWS:
        raise InvalidPlanError(f"plan {name} must be a list of at most {MAX_CHANGE_ROWS:,} "
                               "rows; the plan was refused, nothing was written", field=name,
                               value=type(rows).__name__)
    for n, row in enumerate(rows):
        if not isinstance(row, dict) or set(row) != set(fields):
            raise InvalidPlanError(f"plan {name} row {n}: must have the fields "
                                   f"{', '.join(fields)}; the plan was refused, nothing was "
                                   "written", field=name, value=row)
        for key, kind in fields.items():
            v = row[key]
            if kind is float:
                ok = (v is None and key == "cost") or (
                    isinstance(v, (int, float)) and not isinstance(v, bool))
            elif kind is int:
                ok = isinstance(v, int) and not isinstance(v, bool) and abs(v) < 2**63
            else:
                ok = isinstance(v, str) and len(v) <= MAX_TEXT
            if not ok:
                what = {float: "number", int: "whole number", str: "text"}[kind]
                raise InvalidPlanError(f"plan {name} row {n}: {key} is not {what} "
                                       f"(got {v!r}); the plan was refused, "
                                       "nothing was written", field=f"{name}.{key}", value=v)
    return rows


# -- ledger rows in comparable form ---------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _ledger_statement() -> Any:
    """Ledger rows from a given id on, with their lot's item (built once)."""
    from bakekit.areas.inventory import lots_with_items

    m, lots = tables.movements, tables.lots
    joined, slug = lots_with_items()
    return (select(m.c.id, m.c.lot_id, slug.label("item"), lots.c.kind, m.c.reason,
                   cast(m.c.quantity, Float).label("quantity"), lots.c.unit,
                   cast(m.c.cost, Float).label("cost"),
                   func.coalesce(lots.c.ingredient_id, lots.c.finished_unit_id,
                                 lots.c.finished_good_id).label("item_id"))
            .select_from(m.join(joined, lots.c.id == m.c.lot_id))
            .where(m.c.id >= bindparam("first")))


def _ledger_rows(ws: Workspace, steps: list[_Operation]) -> list[dict[str, Any]]:
    """The ledger rows each operation wrote (plain rows, one statement), with lots the plan
    itself created named by creation order (``new#1``...), others by id (``lot#12``)."""
    created: dict[int, str] = {}
    for op in steps:
        for lot_id in op.created_lot_ids:
            created[lot_id] = f"new#{len(created) + 1}"
    all_ids = [i for op in steps for i in op.movement_ids]
    if not all_ids:
        return []
    wanted = set(all_ids)
    moves = {r.id: r for r in ws.execute(_ledger_statement(), {"first": min(all_ids)})
             if r.id in wanted}
    rows = []
    for step, op in enumerate(steps, start=1):
        for position, movement_id in enumerate(op.movement_ids, start=1):
            r = moves[movement_id]
            rows.append({"step": step, "position": position,
                         "lot": created.get(int(r.lot_id), f"lot#{int(r.lot_id)}"),
                         "item": r.item, "kind": r.kind, "reason": r.reason,
                         "quantity": r.quantity, "unit": r.unit, "cost": r.cost,
                         "item_id": int(r.item_id)})
    return rows


_ITEM_COLUMNS = {"ingredient": "ingredient_id", "finished_unit": "finished_unit_id",
                 "finished_good": "finished_good_id"}


@functools.lru_cache(maxsize=8)
def _stock_statement(kinds: tuple[str, ...]) -> Any:
    """On hand per item and unit for items of these kinds: one branch per kind, each able
    to use that kind's partial FIFO index (built once per set of kinds)."""
    lots = tables.lots
    branches = [
        select(literal(kind).label("kind"), lots.c[_ITEM_COLUMNS[kind]].label("item_id"),
               lots.c.unit, cast(func.sum(lots.c.remaining), Float).label("after"))
        .where(lots.c[_ITEM_COLUMNS[kind]].in_(bindparam(kind, expanding=True)),
               lots.c.remaining > 0)
        .group_by(lots.c[_ITEM_COLUMNS[kind]], lots.c.unit)
        for kind in kinds
    ]
    return branches[0] if len(branches) == 1 else union_all(*branches)


def _stock_after(ws: Workspace, changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """On hand now (at the end of the preview) per touched item and unit: one statement."""
    if not changes:
        return []
    touched: dict[str, set[int]] = {}
    for c in changes:
        touched.setdefault(c["kind"], set()).add(c["item_id"])
    kinds = tuple(sorted(touched))
    result = ws.execute(_stock_statement(kinds), {k: sorted(touched[k]) for k in kinds})
    return [{"kind": r.kind, "item_id": int(r.item_id), "unit": r.unit, "after": r.after}
            for r in result]


def _summary_rows(changes: list[dict[str, Any]],
                  after: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per touched item and unit: before, change, after (as of the preview) and cost."""
    on_hand = {(a["kind"], a["item_id"], a["unit"]): a["after"] or 0.0 for a in after}
    grouped: dict[tuple[str, str, int, str], list[float]] = {}
    for c in changes:
        acc = grouped.setdefault((c["item"], c["kind"], c["item_id"], c["unit"]), [0.0, 0.0])
        acc[0] += c["quantity"]
        acc[1] += 0.0 if c["cost"] is None else c["cost"]
    rows = []
    for (item, kind, item_id, unit), (change, cost) in sorted(grouped.items()):
        now = on_hand.get((kind, item_id, unit), 0.0)
        rows.append({"item": item, "kind": kind, "unit": unit, "before": now - change,
                     "change": change, "after": now, "cost": cost})
    return rows


class Plan:
    """What a what-if would do; apply it later, safely, once, on the database it was made on.

    A plan has an id (a uuid, ``plan.plan_id``) and names the database it was made on
    (``plan.database_id``, ``plan.database_label``). ``apply`` replays only bakekit's own
    write operations, refuses another database (WrongDatabaseError) and a plan the
    database has already applied (PlanAlreadyAppliedError, remembered in the database).

    >>> with bakery.what_if() as ws:
    ...     _ = ws.production.record("chocolate-chip-cookie", batches=1)
    >>> summary = ws.plan.summary().set_index("item")
    >>> float(summary.loc["chocolate-chip-cookie", "change"])
    36.0
    >>> len(ws.plan.apply()) == len(ws.plan.changes)
    True
    """

    def __init__(self, bakery: Bakery | None, operations: list[RecordedOperation],
                 changes: list[dict[str, Any]], summary: list[dict[str, Any]], *,
                 plan_id: str | None = None, database_id: str | None = None,
                 database_label: str | None = None, made_at: str | None = None,
                 limits: bool = True, _checked: bool = False):
        self.bakery = bakery
        #: size bounds on arguments (True for plans read from files; a what-if's own
        #: record is checked for what it calls and holds, without them)
        self._limits = limits
        if not _checked:
            for index, op in enumerate(operations, start=1):  # every operation is checked
                _check_operation(index, _raw(op), limits=limits)
        self._operations = operations
        self._change_rows = changes
        self._summary_rows = summary
        self._frames: dict[str, pd.DataFrame] = {}
        self.applied = False
        #: this plan's own id: the database records it when it applies the plan
        self.plan_id: str = plan_id or str(uuid.uuid4())
        #: the identity and label (URL, password masked) of the database it was made on
        if bakery is None and (database_id is None or database_label is None):
            raise BakekitError("a new plan needs the bakery it is made on")
        self.database_id: str = (database_id if database_id is not None
                                 else bakery.database_id)  # type: ignore[union-attr]
        self.database_label: str = (database_label if database_label is not None
                                    else bakery.database_label)  # type: ignore[union-attr]
        #: when the plan was made (UTC, ISO text)
        self.made_at: str = made_at or dt.datetime.now(dt.UTC).isoformat(timespec="seconds")

    @classmethod
    def from_workspace(cls, ws: Workspace) -> Plan:
        """Record a what-if's operations and their ledger rows (called as its block ends,
        three statements; the frames are built when first looked at)."""
        from bakekit.bakery import read_identity

        recorded = [_record(op) for op in ws._operations]
        changes = _ledger_rows(ws, ws._operations)
        here = read_identity(ws.connection)  # the database as this workspace sees it
        return cls(ws.bakery, recorded, changes,
                   _summary_rows(changes, _stock_after(ws, changes)), limits=False,
                   database_id=here if here is not None else ws.bakery.database_id)

    @property
    def changes(self) -> pd.DataFrame:
        """The previewed ledger rows: step, position, lot, item, kind, reason, quantity,
        unit, cost (lots the plan creates are ``new#1``, ``new#2``... in creation order)."""
        if "changes" not in self._frames:
            self._frames["changes"] = build(self._change_rows, frames.PLAN_CHANGES)
        return self._frames["changes"]

    # -- reads ------------------------------------------------------------------------------
    @property
    def operations(self) -> pd.DataFrame:
        """One row per recorded write call: step, area, method, arguments, ledger_rows."""
        counts: dict[int, int] = {}
        for c in self._change_rows:
            counts[c["step"]] = counts.get(c["step"], 0) + 1
        rows = [{"step": i, "area": op.area, "method": op.method, "arguments": op.describe(),
                 "ledger_rows": counts.get(i, 0)}
                for i, op in enumerate(self._operations, start=1)]
        return validate(pd.DataFrame(rows), frames.PLAN_OPERATIONS)

    def summary(self) -> pd.DataFrame:
        """Per item: stock before, change, after, and the cost of the change."""
        if "summary" not in self._frames:
            self._frames["summary"] = build(self._summary_rows, frames.PLAN_SUMMARY)
        return self._frames["summary"].copy()

    def _repr_html_(self) -> str:
        state = "applied" if self.applied else "not applied"
        head = (f"<b>Plan</b>: {len(self._operations)} operation(s), "
                f"{len(self.changes)} ledger row(s), {state}")
        return head + self.summary().to_html(index=False, float_format=lambda v: f"{v:,.4g}")

    def __repr__(self) -> str:
        return (f"<Plan {len(self._operations)} operations, {len(self.changes)} ledger rows"
                f"{', applied' if self.applied else ''}>")

    @property
    def steps(self) -> tuple[RecordedOperation, ...]:
        """The recorded write calls, in order (area, method and arguments by value)."""
        return tuple(self._operations)

    def preview_again(self) -> Plan:
        """Run this plan's operations again as a fresh what-if (nothing is written): a new
        plan on today's stock, for when this one was refused as stale.

        >>> with bakery.what_if() as ws:
        ...     _ = ws.production.record("sugar-cookie", batches=1)
        >>> again = ws.plan.preview_again()
        >>> again.plan_id != ws.plan.plan_id, len(again.steps)
        (True, 1)
        """
        calls = [_check_operation(i, _raw(op), limits=self._limits)
                 for i, op in enumerate(self._operations, start=1)]
        bakery = self._bound()
        _check_files(calls)
        with bakery.what_if() as ws:
            for op, fn, args, kwargs in calls:
                fn(getattr(ws, op.area), *[_replayed(a) for a in args],
                   **{k: _replayed(v) for k, v in kwargs.items()})
        return ws.plan

    def describe(self) -> list[str]:
        """What the plan will do, in words: one line per operation.

        >>> with bakery.what_if() as ws:
        ...     _ = ws.production.record("chocolate-chip-cookie", batches=2)
        >>> ws.plan.describe()
        ["production.record finished_unit='chocolate-chip-cookie', batches=2"]
        """
        return [f"{op.area}.{op.method} {op.describe()}".rstrip() for op in self._operations]

    def applied_at(self) -> dt.datetime | None:
        """When the plan's database applied this plan (naive UTC), None if it has not. Only
        the database the plan was made on is asked; any other says nothing about it.

        >>> with bakery.what_if() as ws:
        ...     _ = ws.inventory.consume("sugar", 1, "cup", reason="test")
        >>> ws.plan.applied_at() is None
        True
        """
        bakery = self._bound()
        if bakery.database_id != self.database_id:
            return None
        with bakery.session() as ws:
            return _applied_at(ws, self.plan_id)

    def _bound(self) -> Bakery:
        if self.bakery is None:
            raise BakekitError("this plan was read without a bakery; read it with "
                               "Plan.from_json(text, bakery) to apply it")
        return self.bakery

    # -- apply ------------------------------------------------------------------------------
    def apply(self, *, allow_drift: bool = False) -> pd.DataFrame:
        """Replay in a fresh workspace; commit only if what the user saw still holds.

        Before anything runs, every operation is checked again (only bakekit's write
        operations, with recorded values: InvalidPlanError), the database must be the one
        the plan was made on (WrongDatabaseError) and must not have applied this plan
        before (PlanAlreadyAppliedError, also from another process or a copy of the plan
        file: the database records the plan's id in the same transaction as the replay).
        Commits only if (a) the replay writes the same ledger rows as the preview and (b)
        every item the plan touches still has the stock it had at the preview (the
        ``before`` column of ``summary()``); ``allow_drift=True`` waives (b). Returns the
        committed ledger rows. Raises StalePlanError (``.diff``: ``changed``, ``missing``,
        ``extra``, ``failed`` and ``drift`` rows) otherwise.
        """
        if self.applied:
            raise PlanAlreadyAppliedError(f"plan {self.plan_id} has already been applied",
                                          plan_id=self.plan_id)
        calls = [_check_operation(i, _raw(op), limits=self._limits)
                 for i, op in enumerate(self._operations, start=1)]
        bakery = self._bound()
        if bakery.read_only:
            raise ReadOnlyError(f"plan {self.plan_id}: this bakery was opened read_only=True; "
                                "open it with bakekit.open(url) to apply a plan")
        _check_files(calls)
        with bakery.session() as ws:
            self._claim(ws, bakery)
            step = 0
            failure: BakekitError | None = None
            try:
                for step, (op, fn, args, kwargs) in enumerate(calls, start=1):  # noqa: B007
                    fn(getattr(ws, op.area), *[_replayed(a) for a in args],
                       **{k: _replayed(v) for k, v in kwargs.items()})
            except BakekitError as exc:
                failure = exc
            replay = _ledger_rows(ws, ws._operations)
            # stock before the plan, now: read after the replay, in the same transaction
            # (what the replay itself wrote taken off), so a change committed by another
            # workspace while the replay ran is seen too
            drift = self._drift_rows(ws, replay, tolerant=failure is not None)
            if failure is not None:
                op = self._operations[step - 1]
                moved = "".join(f"; {d['message']}" for d in drift)
                diff = _diff_frame([{  # one row, saying what moved under it
                    "step": step, "status": "failed",
                    "message": f"{type(failure).__name__}: {failure}{moved}"}])
                raise StalePlanError(
                    f"the plan no longer applies: step {step} ({op.area}.{op.method}) "
                    f"failed: {failure}", diff) from failure
            if not _same_rows(self._change_rows, replay):
                moved = _diff(self.changes, build(replay, frames.PLAN_CHANGES))
                if not moved.empty:  # (the same rows in another order are the same rows)
                    diff = _diff_frame(moved.to_dict("records") + drift)
                    raise StalePlanError(
                        f"the data moved since the preview: {len(moved)} stock change(s) "
                        f"differ; nothing was committed", diff)
            if drift and not allow_drift:
                words = "; ".join(d["message"] for d in drift)
                raise StalePlanError(
                    f"stock moved since the preview ({words}); nothing was committed "
                    "(apply(allow_drift=True) applies anyway)", _diff_frame(drift))
            ws.commit()
        self.applied = True
        return build(replay, frames.PLAN_CHANGES)

    def _drift_rows(self, ws: Workspace, replay: list[dict[str, Any]], *,
                    tolerant: bool) -> list[dict[str, Any]]:
        """A ``drift`` row per touched item whose stock before the plan differs now from the
        preview's ``before`` (one statement)."""
        ids = {(c["item"], c["kind"], c["unit"]): c["item_id"] for c in self._change_rows}
        try:
            now = _stock_after(ws, self._change_rows)
        except BakekitError:
            if not tolerant:
                raise
            return []  # the failed replay left the transaction unusable: no drift to show
        on_hand = {(a["kind"], a["item_id"], a["unit"]): a["after"] or 0.0 for a in now}
        written: dict[tuple[str, int, str], float] = {}
        for r in replay:
            key = (r["kind"], r["item_id"], r["unit"])
            written[key] = written.get(key, 0.0) + r["quantity"]
        rows = []
        for s in self._summary_rows:
            item_id = ids.get((s["item"], s["kind"], s["unit"]))
            if item_id is None:
                continue
            key = (s["kind"], item_id, s["unit"])
            before_now = on_hand.get(key, 0.0) - written.get(key, 0.0)
            before = s["before"]
            if abs(before_now - before) <= TOLERANCE * max(1.0, abs(before)):
                continue
            rows.append({
                "status": "drift", "item": s["item"], "unit": s["unit"],
                "quantity_preview": before, "quantity_now": before_now,
                "message": (f"{s['item']}: {_number(before)} {s['unit']} on hand at the "
                            f"preview, {_number(before_now)} {s['unit']} now")})
        return rows

    def _claim(self, ws: Workspace, bakery: Bakery) -> None:
        """In the apply's own transaction: the database must be the plan's, and must not have
        applied it; then record it as applied (committed with the replay, or not at all)."""
        from bakekit.bakery import read_identity

        here = read_identity(ws.connection)
        if here != self.database_id:
            raise WrongDatabaseError(
                f"plan {self.plan_id} was made on database {self.database_id} "
                f"({self.database_label}), not on this one, {here} "
                f"({bakery.database_label}); make the plan again on this database. "
                "Nothing was written", plan_database=(self.database_id, self.database_label),
                database=(str(here), bakery.database_label))
        t = tables.applied_plans
        when = ws.scalar(select(t.c.applied_at).where(t.c.plan_id == self.plan_id))
        if when is not None:
            self.applied = True
            raise _already_applied(self, bakery, when)
        try:
            ws.execute(insert(t).values(plan_id=self.plan_id, applied_at=utcnow(),
                                        operations=len(self._operations),
                                        ledger_rows=len(self._change_rows)))
        except IntegrityError:  # applied at the same moment by another process
            ws.rollback()
            self.applied = True
            raise _already_applied(self, bakery, _applied_at(ws, self.plan_id)) from None
        except DBAPIError as exc:
            raise DatabaseError(f"recording plan {self.plan_id} as applied", exc) from exc

    # -- saving -----------------------------------------------------------------------------
    def to_json(self) -> str:
        """The plan as JSON text, to review and apply later (``Plan.from_json``).

        The text carries a ``digest``: sha256 over the rest of the document (operations,
        ledger rows, summary, plan id, database id), so a file edited after it was saved is
        refused when it is read. This is integrity, not authenticity: anyone can compute a
        sha256, so the digest catches edits and damage, not a forger; what makes a forged
        file harmless is that a plan replays only bakekit's own write operations, with
        recorded values, on the database it names, once.
        """
        document = {
            "format": "bakekit-plan", "version": FORMAT_VERSION, "plan_id": self.plan_id,
            "made_at": self.made_at,
            "database": {"id": self.database_id, "label": self.database_label},
            "applied": self.applied,
            "operations": [{"area": o.area, "method": o.method, "args": o.args,
                            "kwargs": o.kwargs} for o in self._operations],
            "changes": self._change_rows,
            "summary": self._summary_rows,
        }
        document["digest"] = _canonical_digest(document)
        return json.dumps(document, indent=2)

    @classmethod
    def from_json(cls, text: str | bytes, bakery: Bakery | None) -> Plan:
        """A plan saved with ``to_json``, bound to a bakery to apply it to (None: to read
        and show it only).

        Everything is checked as it is read, before anything can run: the digest (a file
        edited after it was saved is refused), and every operation (only bakekit's write
        operations, arguments that bind to their signature, of the value types a plan
        records). Any problem is an InvalidPlanError naming the operation, area and method.

        >>> with bakery.what_if() as ws:
        ...     _ = ws.inventory.consume("sugar", 1, "cup", reason="test")
        >>> _ = (tmp / "plan.json").write_text(ws.plan.to_json())
        >>> plan = Plan.from_json((tmp / "plan.json").read_text(), bakery)
        >>> plan.plan_id == ws.plan.plan_id
        True
        """
        document = _read_document(text)
        operations = document["operations"]
        if not isinstance(operations, list) or len(operations) > MAX_OPERATIONS:
            raise InvalidPlanError(f"plan operations must be a list of at most "
                                   f"{MAX_OPERATIONS:,}; the plan was refused, nothing was "
                                   "written", field="operations",
                                   value=type(operations).__name__)
        checked = [_check_operation(i, raw)[0] for i, raw in enumerate(operations, start=1)]
        changes = _check_rows(document["changes"], _CHANGE_FIELDS, "changes")
        summary = _check_rows(document["summary"], _SUMMARY_FIELDS, "summary")
        database = document["database"]
        plan = cls(bakery, checked, changes, summary, plan_id=document["plan_id"],
                   database_id=database["id"], database_label=database["label"],
                   made_at=document["made_at"], _checked=True)
        plan.applied = document["applied"]
        return plan


_DOCUMENT_KEYS = {"format", "version", "plan_id", "made_at", "database", "applied",
                  "operations", "changes", "summary", "digest"}


def _read_document(text: str | bytes) -> dict[str, Any]:
    """A plan file's JSON document, its envelope checked and its digest verified."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidPlanError(f"plan file: not UTF-8 text ({exc.reason} at byte "
                                   f"{exc.start})", field="file", value="bytes") from None
    if not isinstance(text, str):
        raise InvalidPlanError(f"a plan is JSON text, not {type(text).__name__}",
                               field="file", value=type(text).__name__)
    if len(text) > MAX_PLAN_CHARS:
        raise InvalidPlanError(f"plan file: larger than {MAX_PLAN_CHARS:,} characters",
                               field="file", value=f"{len(text):,} characters")
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, huge integers, nesting
        raise InvalidPlanError(f"plan file: not valid JSON ({exc})", field="file",
                               value=text[:40]) from None
    if not isinstance(document, dict) or document.get("format") != "bakekit-plan":
        raise InvalidPlanError("plan file: not a bakekit plan (format must be 'bakekit-plan')",
                               field="format", value=None if not isinstance(document, dict)
                               else document.get("format"))
    version = document.get("version")
    if version != FORMAT_VERSION:
        hint = (" (a version 1 plan names no database and has no id; make the plan again)"
                if version == 1 else "")
        raise InvalidPlanError(f"plan file: version {version!r} is not supported (this bakekit "
                               f"reads version {FORMAT_VERSION}){hint}", field="version",
                               value=version)
    missing = sorted(_DOCUMENT_KEYS - set(document))
    extra = sorted(set(document) - _DOCUMENT_KEYS)
    if missing or extra:
        raise InvalidPlanError(
            "plan file: " + "; ".join(filter(None, [
                f"missing {', '.join(missing)}" if missing else "",
                f"unknown field(s) {', '.join(extra)}" if extra else ""])) +
            "; the plan was refused, nothing was written", field="file",
            value=missing or extra)
    if document["digest"] != _canonical_digest(document):
        raise InvalidPlanError("the plan file was edited after it was saved (its digest does "
                               "not match its content); the plan was refused, nothing was "
                               "written", field="digest", value=document["digest"])
    database = document["database"]
    if (not isinstance(database, dict) or set(database) != {"id", "label"}
            or not all(isinstance(v, str) and len(v) <= 4096 for v in database.values())):
        raise InvalidPlanError("plan database must be {id, label}", field="database",
                               value=database)
    if not _is_uuid(document["plan_id"]):
        raise InvalidPlanError("plan_id must be a uuid", field="plan_id",
                               value=document["plan_id"])
    if not isinstance(document["made_at"], str) or len(document["made_at"]) > 40:
        raise InvalidPlanError("made_at must be ISO text", field="made_at",
                               value=document["made_at"])
    if not isinstance(document["applied"], bool):
        raise InvalidPlanError("applied must be true or false", field="applied",
                               value=document["applied"])
    return document


def _is_uuid(value: Any) -> bool:
    if not isinstance(value, str) or len(value) != 36:
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _raw(op: RecordedOperation) -> dict[str, Any]:
    return {"area": op.area, "method": op.method, "args": op.args, "kwargs": op.kwargs}


def _replayed(value: Any) -> Any:
    """An argument as the replay passes it (a recorded file by its path)."""
    return value.path if isinstance(value, PlanFileArgument) else value


def _check_files(calls: list[tuple[RecordedOperation, Any, list[Any], dict[str, Any]]]
                 ) -> None:
    """Files the operations read must be there, regular files, with the content the plan
    recorded (else StalePlanError, before anything runs)."""
    for step, (op, _, args, kwargs) in enumerate(calls, start=1):
        for value in [*args, *kwargs.values()]:
            if not isinstance(value, PlanFileArgument):
                continue
            now = _file_digest(value.path)
            if not value.sha256 or now != value.sha256:
                why = ("is not there (or not a regular file)" if not now
                       else "changed since the plan was made")
                diff = validate(pd.DataFrame([{
                    "step": step, "status": "failed",
                    "message": f"file {value.path} {why}",
                }]).reindex(columns=list(frames.PLAN_DIFF.columns)), frames.PLAN_DIFF)
                raise StalePlanError(f"the plan no longer applies: step {step} "
                                     f"({op.area}.{op.method}) reads {value.path!r}, which "
                                     f"{why}; nothing was written", diff)


def _applied_at(ws: Workspace, plan_id: str) -> dt.datetime | None:
    """When this workspace's database applied the plan (None: it has not), read through the
    workspace itself."""
    t = tables.applied_plans
    when = ws.scalar(select(t.c.applied_at).where(t.c.plan_id == plan_id))
    if isinstance(when, str):
        when = dt.datetime.fromisoformat(when)
    return when  # type: ignore[no-any-return]


def _already_applied(plan: Plan, bakery: Bakery, when: Any) -> PlanAlreadyAppliedError:
    shown = when.isoformat(sep=" ", timespec="seconds") if isinstance(
        when, dt.datetime) else str(when)
    return PlanAlreadyAppliedError(
        f"plan {plan.plan_id} was already applied to this database "
        f"({bakery.database_label}) at {shown} UTC; a plan applies once. Nothing "
        "was written", plan_id=plan.plan_id, applied_at=when)


def _same_rows(preview: list[dict[str, Any]], replay: list[dict[str, Any]]) -> bool:
    """Whether the replay wrote the previewed ledger rows (ids and timestamps aside)."""
    if len(preview) != len(replay):
        return False
    return all(
        (a["step"], a["position"], a["lot"], a["item"]) == (b["step"], b["position"],
                                                             b["lot"], b["item"])
        and abs(a["quantity"] - b["quantity"]) <= TOLERANCE and _same_cost(a["cost"], b["cost"])
        for a, b in zip(preview, replay, strict=True))


def _number(value: float) -> str:
    """A quantity in words: at most 6 places, no trailing zeros."""
    return f"{value:,.6f}".rstrip("0").rstrip(".")


def _diff_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    columns = list(frames.PLAN_DIFF.columns)
    return validate(pd.DataFrame(rows).reindex(columns=columns), frames.PLAN_DIFF)


def _diff(preview: pd.DataFrame, replay: pd.DataFrame) -> pd.DataFrame:
    """Ledger rows that differ between preview and replay, paired by step, item and lot
    (and, where one step writes the same lot of an item twice, by their order there):
    ``changed`` (quantity or cost differs), ``missing`` (previewed, not written now) or
    ``extra`` (written now, not previewed)."""
    keys = ["step", "item", "lot", "occurrence"]
    sides = [frame.assign(occurrence=frame.groupby(["step", "item", "lot"]).cumcount())
             for frame in (preview, replay)]
    merged = sides[0].merge(sides[1], on=keys, how="outer", suffixes=("_preview", "_now"),
                            indicator=True, sort=False)
    rows = []
    for r in merged.to_dict("records"):
        unit = r["unit_preview"] if isinstance(r["unit_preview"], str) else r["unit_now"]
        where = f"{r['item']} {r['lot']}, step {r['step']}"
        if r["_merge"] == "left_only":
            status, position = "missing", r["position_preview"]
            message = (f"{where}: {_number(r['quantity_preview'])} {unit} previewed, "
                       "not written now")
        elif r["_merge"] == "right_only":
            status, position = "extra", r["position_now"]
            message = (f"{where}: {_number(r['quantity_now'])} {unit} written now, "
                       "not in the preview")
        else:
            if (abs(r["quantity_preview"] - r["quantity_now"]) <= TOLERANCE
                    and _same_cost(r["cost_preview"], r["cost_now"])):
                continue
            status, position = "changed", r["position_preview"]
            message = (f"{where}: {_number(r['quantity_preview'])} {unit} previewed, "
                       f"{_number(r['quantity_now'])} {unit} now")
        rows.append({
            "step": r["step"], "position": position, "status": status, "item": r["item"],
            "lot": r["lot"], "unit": unit,
            "quantity_preview": r.get("quantity_preview"), "quantity_now": r.get("quantity_now"),
            "cost_preview": r.get("cost_preview"), "cost_now": r.get("cost_now"),
            "message": message,
        })
    rows.sort(key=lambda d: (d["step"], d["position"], d["status"]))
    return _diff_frame(rows)


def _same_cost(a: Any, b: Any) -> bool:
    if pd.isna(a) and pd.isna(b):
        return True
    if pd.isna(a) or pd.isna(b):
        return False
    return abs(float(a) - float(b)) <= TOLERANCE
