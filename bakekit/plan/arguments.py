"""Plans: the arguments of recorded write calls, by value (recording, checking on read),
the size bounds of a plan file, and the registry of what a plan may call."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import inspect
import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from bakekit.errors import (
    BakekitError,
    InvalidPlanError,
)
from bakekit.results import Reconciliation

if TYPE_CHECKING:  # pragma: no cover
    from bakekit.recording import Operation as _Operation

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


def file_digest(path: str) -> str:
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


def operation_record(op: _Operation) -> RecordedOperation:
    """One write call of a what-if, by value; a file it read is named with its sha256."""
    args, kwargs = list(op.args), dict(op.kwargs)
    name = FILE_PARAMETERS.get((op.area, op.method))
    fn = write_methods().get((op.area, op.method))
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
            holder[key] = PlanFileArgument(path, file_digest(path))
    return RecordedOperation(op.area, op.method, _encode(args),
                             {str(k): _encode(v) for k, v in kwargs.items()})


# -- the registry of what a plan may call ---------------------------------------------------
@functools.lru_cache(maxsize=1)
def write_methods() -> dict[tuple[str, str], Callable[..., Any]]:
    """(area, method) -> the registered write operation: bakekit's own write operations,
    the only calls a plan replays (``workspace.WRITE_METHODS``, filled by
    ``@write_operation``; every area module is imported first so the list is whole)."""
    from bakekit.areas.assembly import Assembly
    from bakekit.areas.catalog import Catalog
    from bakekit.areas.events import Events
    from bakekit.areas.inventory import Inventory
    from bakekit.areas.io import IO
    from bakekit.areas.production import Production
    from bakekit.areas.recipes import Recipes
    from bakekit.operations import WRITE_METHODS

    registered = {id(fn) for fn in WRITE_METHODS.values()}
    allowed: dict[tuple[str, str], Callable[..., Any]] = {}
    for cls in (Catalog, Inventory, Recipes, Production, Assembly, Events, IO):
        for name, member in vars(cls).items():
            if (not name.startswith("_") and id(member) in registered
                    and getattr(member, "__bakekit_write__", False)):
                allowed[(cls.area_name, name)] = member
    return allowed


def _areas() -> list[str]:
    return sorted({area for area, _ in write_methods()})


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
            if kind == "products" and rec["status"] == "changed":
                self.product_changes(n, rec, field)

    def product_changes(self, n: int, rec: dict[str, Any], field: str) -> None:
        """A changed product names only columns a products view may change, each value
        valid for its column (the apply writes exactly those columns)."""
        for column in str(rec["changed_fields"]).split(","):
            check = _PRODUCT_CHANGES.get(column)
            if check is None:
                raise self.refuse(f"row {n} (changed): {column!r} is not a product field a "
                                  f"view may change ({', '.join(_PRODUCT_CHANGES)})",
                                  field=f"{field}.changed_fields", value=rec["changed_fields"])
            if column not in rec or not _CELL_CHECKS[check](rec[column]):
                raise self.refuse(f"row {n} (changed): {column} is not a valid {check}",
                                  field=f"{field}.{column}", value=rec.get(column))

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


_REVIEW_STATUSES = {"new", "changed", "unchanged", "missing", "conflict", "invalid",
                    "undecided", "skipped"}  # the last two: an analyst's review (bakekit.nb)
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
    "products": {"new": {"ingredient": "text", "package_quantity": "positive",
                         "package_unit": "text", "brand": "text?", "name": "text?",
                         "upc": "text?", "notes": "text?"},
                 # the changed columns are named in changed_fields: see product_changes
                 "changed": {"product_id": "id", "changed_fields": "text"}},
}
#: the product columns a products view may change, and the check of each value
_PRODUCT_CHANGES = {"brand": "text", "name": "text", "package_quantity": "positive",
                    "package_unit": "text", "notes": "text", "preferred": "flag",
                    "upc": "text"}


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
    "flag": lambda x: isinstance(x, (bool, int)) and x in (0, 1),
    "ids": lambda x: (isinstance(x, str) and len(x) < 100_000 and all(
        part.isdigit() and 0 < int(part) < 2**63 for part in x.split(","))),
}


def check_operation(index: int, raw: Any, *, limits: bool = True
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
    fn = write_methods().get((area, method))
    if fn is None:
        if area not in _areas():
            why = (f"{area!r} is not an area of a workspace (a plan calls only the write "
                   f"operations of the areas {', '.join(_areas())})")
        else:
            allowed = sorted(m for a, m in write_methods() if a == area)
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
        fn = write_methods().get((self.area, self.method))
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
