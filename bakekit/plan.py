"""Plan: the write calls a what-if recorded, their previewed ledger rows, and a safe apply.

``plan.apply()`` replays the operations in a fresh workspace and commits only if the
replay writes the same ledger rows as the preview (lot, item, quantity, cost; lots the plan
itself creates are matched by the order in which it created them). Otherwise nothing is
committed and StalePlanError shows what moved.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import Float, cast, func, select

from bakekit.areas._common import table
from bakekit.errors import BakekitError, PlanAlreadyAppliedError, StalePlanError
from bakekit.frames import FLOAT, ID, TEXT, schema, validate
from bakekit.results import Reconciliation

if TYPE_CHECKING:  # pragma: no cover
    from bakekit.bakery import Bakery
    from bakekit.workspace import Workspace, _Operation

FORMAT_VERSION = 1
#: differences below this (quantities 6 places, money 10) are rounding, not movement
TOLERANCE = 1e-6

OPERATIONS = schema("plan_operations", {
    "step": ID, "area": TEXT, "method": TEXT, "arguments": TEXT, "ledger_rows": ID,
}, required=("step", "area", "method"))
CHANGES = schema("plan_changes", {
    "step": ID, "position": ID, "lot": TEXT, "item": TEXT, "kind": TEXT, "reason": TEXT,
    "quantity": FLOAT, "unit": TEXT, "cost": FLOAT,
}, required=("step", "position", "lot", "item", "quantity"))
SUMMARY = schema("plan_summary", {
    "item": TEXT, "kind": TEXT, "unit": TEXT, "before": FLOAT, "change": FLOAT, "after": FLOAT,
    "cost": FLOAT,
}, required=("item", "unit", "before", "change", "after"))
DIFF = schema("plan_diff", {
    "step": ID, "position": ID, "status": TEXT, "item": TEXT, "lot": TEXT,
    "quantity_preview": FLOAT, "quantity_now": FLOAT, "cost_preview": FLOAT, "cost_now": FLOAT,
    "message": TEXT,
}, required=("status",))


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
def _ledger_rows(ws: Workspace, steps: list[_Operation]) -> pd.DataFrame:
    """The ledger rows each operation wrote, with plan-created lots named by creation order."""
    from bakekit.areas.inventory import movements_frame

    created: dict[int, str] = {}
    for op in steps:
        for lot_id in op.created_lot_ids:
            created[lot_id] = f"new#{len(created) + 1}"
    all_ids = [i for op in steps for i in op.movement_ids]
    moves = movements_frame(ws, ids=all_ids).set_index("movement_id")
    rows = []
    for step, op in enumerate(steps, start=1):
        for position, movement_id in enumerate(op.movement_ids, start=1):
            m = moves.loc[movement_id]
            lot_id = int(m["lot_id"])
            rows.append({"step": step, "position": position,
                         "lot": created.get(lot_id, f"lot#{lot_id}"), "item": m["item"],
                         "kind": m["kind"], "reason": m["reason"], "quantity": m["quantity"],
                         "unit": m["unit"], "cost": m["cost"]})
    return validate(pd.DataFrame(rows), CHANGES)


def _summary(ws: Workspace, changes: pd.DataFrame) -> pd.DataFrame:
    """Per touched item and unit: stock before, change, after (as of the preview), cost."""
    if changes.empty:
        return validate(pd.DataFrame(), SUMMARY)
    from bakekit.areas.inventory import lots_with_items

    lots = table("lots")
    joined, slug = lots_with_items()
    items = sorted(set(changes["item"]))
    stmt = (select(slug.label("item"), lots.c.unit,
                   cast(func.sum(lots.c.remaining), Float).label("after"))
            .select_from(joined).where(slug.in_(items)).group_by(slug, lots.c.unit))
    after = ws.frame(stmt)
    grouped = (changes.groupby(["item", "kind", "unit"], as_index=False)
               .agg(change=("quantity", "sum"), cost=("cost", "sum")))
    frame = grouped.merge(after, on=["item", "unit"], how="left")
    frame["after"] = frame["after"].fillna(0.0)
    frame["before"] = frame["after"] - frame["change"]
    frame = frame.sort_values(["item", "unit"])
    return validate(frame, SUMMARY)


class Plan:
    """What a what-if would do; apply it later, safely.

    >>> with bakery.what_if() as ws:  # doctest: +SKIP
    ...     ws.production.record("chocolate-chip-cookie", batches=3)
    >>> ws.plan.summary()  # doctest: +SKIP
    >>> ws.plan.apply()  # doctest: +SKIP
    """

    def __init__(self, bakery: Bakery, operations: list[RecordedOperation],
                 changes: pd.DataFrame, summary: pd.DataFrame):
        self.bakery = bakery
        self._operations = operations
        self.changes: pd.DataFrame = changes
        self._summary = summary
        self.applied = False

    @classmethod
    def from_workspace(cls, ws: Workspace) -> Plan:
        """Record a what-if's operations and their ledger rows (called as its block ends)."""
        recorded = [RecordedOperation(op.area, op.method, _encode(list(op.args)),
                                      _encode(op.kwargs)) for op in ws._operations]
        changes = _ledger_rows(ws, ws._operations)
        return cls(ws.bakery, recorded, changes, _summary(ws, changes))

    # -- reads ------------------------------------------------------------------------------
    @property
    def operations(self) -> pd.DataFrame:
        """One row per recorded write call: step, area, method, arguments, ledger_rows."""
        counts = self.changes.groupby("step").size() if not self.changes.empty else {}
        rows = [{"step": i, "area": op.area, "method": op.method, "arguments": op.describe(),
                 "ledger_rows": int(counts.get(i, 0)) if len(counts) else 0}
                for i, op in enumerate(self._operations, start=1)]
        return validate(pd.DataFrame(rows), OPERATIONS)

    def summary(self) -> pd.DataFrame:
        """Per item: stock before, change, after, and the cost of the change."""
        return self._summary.copy()

    def _repr_html_(self) -> str:
        state = "applied" if self.applied else "not applied"
        head = (f"<b>Plan</b>: {len(self._operations)} operation(s), "
                f"{len(self.changes)} ledger row(s), {state}")
        return head + self._summary.to_html(index=False, float_format=lambda v: f"{v:,.4g}")

    def __repr__(self) -> str:
        return (f"<Plan {len(self._operations)} operations, {len(self.changes)} ledger rows"
                f"{', applied' if self.applied else ''}>")

    # -- apply ------------------------------------------------------------------------------
    def apply(self) -> pd.DataFrame:
        """Replay in a fresh workspace; commit only if the ledger rows match the preview.

        Returns the committed ledger rows. Raises StalePlanError (``.diff``) if the data
        moved, PlanAlreadyAppliedError the second time.
        """
        if self.applied:
            raise PlanAlreadyAppliedError("this plan has already been applied")
        with self.bakery.session() as ws:
            step = 0
            try:
                for step, op in enumerate(self._operations, start=1):  # noqa: B007
                    area = getattr(ws, op.area)
                    getattr(area, op.method)(*_decode(op.args), **_decode(op.kwargs))
            except BakekitError as exc:
                diff = validate(pd.DataFrame([{
                    "step": step, "status": "failed", "message": f"{type(exc).__name__}: {exc}",
                }]).reindex(columns=list(DIFF.columns)), DIFF)
                raise StalePlanError(
                    f"the plan no longer applies: step {step} "
                    f"({self._operations[step - 1].area}.{self._operations[step - 1].method}) "
                    f"failed: {exc}", diff) from exc
            replay = _ledger_rows(ws, ws._operations)
            diff = _diff(self.changes, replay)
            if not diff.empty:
                raise StalePlanError(
                    f"the data moved since the preview: {len(diff)} ledger row(s) differ; "
                    "nothing was committed (see .diff)", diff)
            ws.commit()
        self.applied = True
        return replay

    # -- saving -----------------------------------------------------------------------------
    def to_json(self) -> str:
        """The plan as JSON text, to review and apply later (``Plan.from_json``)."""
        return json.dumps({
            "format": "bakekit-plan", "version": FORMAT_VERSION, "applied": self.applied,
            "operations": [{"area": o.area, "method": o.method, "args": o.args,
                            "kwargs": o.kwargs} for o in self._operations],
            "changes": json.loads(self.changes.to_json(orient="records")),
            "summary": json.loads(self._summary.to_json(orient="records")),
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
        plan = cls(bakery, operations, validate(pd.DataFrame(data["changes"]), CHANGES),
                   validate(pd.DataFrame(data["summary"]), SUMMARY))
        plan.applied = bool(data.get("applied"))
        return plan


def _diff(preview: pd.DataFrame, replay: pd.DataFrame) -> pd.DataFrame:
    """Rows that differ between preview and replay (by step and position)."""
    keys = ["step", "position"]
    merged = preview.merge(replay, on=keys, how="outer", suffixes=("_preview", "_now"),
                           indicator=True)
    rows = []
    for r in merged.to_dict("records"):
        if r["_merge"] == "left_only":
            status, message = "missing", "previewed but not written now"
        elif r["_merge"] == "right_only":
            status, message = "extra", "written now but not in the preview"
        else:
            same = (r["lot_preview"] == r["lot_now"] and r["item_preview"] == r["item_now"]
                    and abs(r["quantity_preview"] - r["quantity_now"]) <= TOLERANCE
                    and _same_cost(r["cost_preview"], r["cost_now"]))
            if same:
                continue
            status, message = "changed", "lot, quantity or cost differs"
        rows.append({
            "step": r["step"], "position": r["position"], "status": status,
            "item": r.get("item_preview") if isinstance(r.get("item_preview"), str)
            else r.get("item_now"),
            "lot": r.get("lot_preview") if isinstance(r.get("lot_preview"), str)
            else r.get("lot_now"),
            "quantity_preview": r.get("quantity_preview"), "quantity_now": r.get("quantity_now"),
            "cost_preview": r.get("cost_preview"), "cost_now": r.get("cost_now"),
            "message": message,
        })
    return validate(pd.DataFrame(rows), DIFF)


def _same_cost(a: Any, b: Any) -> bool:
    if pd.isna(a) and pd.isna(b):
        return True
    if pd.isna(a) or pd.isna(b):
        return False
    return abs(float(a) - float(b)) <= TOLERANCE
