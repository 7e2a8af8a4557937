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
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import Float, bindparam, cast, func, literal, select, union_all

from bakekit import frames
from bakekit.areas._common import table
from bakekit.errors import BakekitError, PlanAlreadyAppliedError, StalePlanError
from bakekit.frames import build, validate
from bakekit.results import Reconciliation

if TYPE_CHECKING:  # pragma: no cover
    from bakekit.bakery import Bakery
    from bakekit.workspace import Workspace, _Operation

FORMAT_VERSION = 1
#: differences below this (quantities 6 places, money 10) are rounding, not movement
TOLERANCE = 1e-6

# -- arguments by value ---------------------------------------------------------------------
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
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if hasattr(value, "__fspath__"):
        return str(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise BakekitError(f"a what-if argument of type {type(value).__name__} cannot be recorded "
                       "by value; pass plain values")


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if "__decimal__" in value:
            return Decimal(value["__decimal__"])
        if "__datetime__" in value:
            return dt.datetime.fromisoformat(value["__datetime__"])
        if "__date__" in value:
            return dt.date.fromisoformat(value["__date__"])
        if "__frame__" in value:
            split = value["__frame__"]
            return pd.DataFrame(split["data"], columns=split["columns"])
        if "__reconciliation__" in value:
            recorded = value["__reconciliation__"]
            return Reconciliation(recorded["kind"], _decode(recorded["frame"]))
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


@dataclass(frozen=True)
class RecordedOperation:
    """One write call of a what-if, by value."""

    area: str
    method: str
    args: list[Any]
    kwargs: dict[str, Any]

    def describe(self) -> str:
        parts = [json.dumps(a, default=str) for a in self.args]
        parts += [f"{k}={json.dumps(v, default=str)}" for k, v in self.kwargs.items()]
        return ", ".join(parts)


# -- ledger rows in comparable form ---------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _ledger_statement() -> Any:
    """Ledger rows from a given id on, with their lot's item (built once)."""
    from bakekit.areas.inventory import lots_with_items

    m, lots = table("movements"), table("lots")
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
    lots = table("lots")
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
    """What a what-if would do; apply it later, safely.

    >>> with bakery.what_if() as ws:  # doctest: +SKIP
    ...     ws.production.record("chocolate-chip-cookie", batches=3)
    >>> ws.plan.summary()  # doctest: +SKIP
    >>> ws.plan.apply()  # doctest: +SKIP
    """

    def __init__(self, bakery: Bakery, operations: list[RecordedOperation],
                 changes: list[dict[str, Any]], summary: list[dict[str, Any]]):
        self.bakery = bakery
        self._operations = operations
        self._change_rows = changes
        self._summary_rows = summary
        self._frames: dict[str, pd.DataFrame] = {}
        self.applied = False

    @classmethod
    def from_workspace(cls, ws: Workspace) -> Plan:
        """Record a what-if's operations and their ledger rows (called as its block ends,
        two statements; the frames are built when first looked at)."""
        recorded = [RecordedOperation(op.area, op.method, _encode(list(op.args)),
                                      _encode(op.kwargs)) for op in ws._operations]
        changes = _ledger_rows(ws, ws._operations)
        return cls(ws.bakery, recorded, changes,
                   _summary_rows(changes, _stock_after(ws, changes)))

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

    # -- apply ------------------------------------------------------------------------------
    def apply(self, *, allow_drift: bool = False) -> pd.DataFrame:
        """Replay in a fresh workspace; commit only if what the user saw still holds.

        Commits only if (a) the replay writes the same ledger rows as the preview and (b)
        every item the plan touches still has the stock it had at the preview (the
        ``before`` column of ``summary()``); ``allow_drift=True`` waives (b). Returns the
        committed ledger rows. Raises StalePlanError (``.diff``: ``changed``, ``missing``,
        ``extra``, ``failed`` and ``drift`` rows) otherwise, PlanAlreadyAppliedError the
        second time.
        """
        if self.applied:
            raise PlanAlreadyAppliedError("this plan has already been applied")
        with self.bakery.session() as ws:
            step = 0
            failure: BakekitError | None = None
            try:
                for step, op in enumerate(self._operations, start=1):  # noqa: B007
                    area = getattr(ws, op.area)
                    getattr(area, op.method)(*_decode(op.args), **_decode(op.kwargs))
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

    # -- saving -----------------------------------------------------------------------------
    def to_json(self) -> str:
        """The plan as JSON text, to review and apply later (``Plan.from_json``)."""
        return json.dumps({
            "format": "bakekit-plan", "version": FORMAT_VERSION, "applied": self.applied,
            "operations": [{"area": o.area, "method": o.method, "args": o.args,
                            "kwargs": o.kwargs} for o in self._operations],
            "changes": self._change_rows,
            "summary": self._summary_rows,
        }, indent=2)

    @classmethod
    def from_json(cls, text: str, bakery: Bakery) -> Plan:
        """A plan saved with ``to_json``, bound to a bakery to apply it to."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BakekitError(f"plan JSON is not valid: {exc}") from None
        if not isinstance(data, dict) or data.get("format") != "bakekit-plan":
            raise BakekitError("not a bakekit plan (format must be 'bakekit-plan')")
        if data.get("version") != FORMAT_VERSION:
            raise BakekitError(f"plan version {data.get('version')!r} is not supported "
                               f"(this bakekit reads version {FORMAT_VERSION})")
        operations = [RecordedOperation(o["area"], o["method"], o["args"], o["kwargs"])
                      for o in data["operations"]]
        plan = cls(bakery, operations, list(data["changes"]), list(data["summary"]))
        plan.applied = bool(data.get("applied"))
        return plan


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
