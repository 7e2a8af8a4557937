"""Plan: the write calls a what-if recorded, their previewed ledger rows, and a safe apply."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import insert, select
from sqlalchemy.exc import DBAPIError, IntegrityError

from bakekit import frames
from bakekit.checks import as_datetime
from bakekit.db import tables
from bakekit.db.models.base import utcnow
from bakekit.db.reading import read_identity
from bakekit.display import frame_html
from bakekit.errors import (
    BakekitError,
    InvalidPlanError,
    PlanAlreadyAppliedError,
    ReadOnlyError,
    StalePlanError,
    WrongDatabaseError,
)
from bakekit.frames import build, validate
from bakekit.operations import translate
from bakekit.plan.arguments import (
    FORMAT_VERSION,
    MAX_OPERATIONS,
    TOLERANCE,
    PlanFileArgument,
    RecordedOperation,
    check_operation,
    file_digest,
    operation_record,
)
from bakekit.plan.document import (
    CHANGE_FIELDS,
    SUMMARY_FIELDS,
    canonical_digest,
    check_rows,
    read_document,
)
from bakekit.plan.ledger import (
    captured_stock,
    diff_frame,
    in_words,
    ledger_diff,
    read_ledger_rows,
    recorded_ledger,
    same_rows,
    stock_after,
    summary_rows,
    written_rows,
)

if TYPE_CHECKING:  # pragma: no cover
    from bakekit.operations import BakeryLike, Workspace

#: a plan's ledger rows and its summary rows
_Rows = tuple[list[dict[str, Any]], list[dict[str, Any]]]


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

    def __init__(self, bakery: BakeryLike | None, operations: list[RecordedOperation],
                 changes: list[dict[str, Any]], summary: list[dict[str, Any]], *,
                 plan_id: str | None = None, database_id: str | None = None,
                 database_label: str | None = None, made_at: str | None = None,
                 limits: bool = True, _checked: bool | str = False,
                 _rows: Callable[[], tuple[list[dict[str, Any]], list[dict[str, Any]]]]
                 | None = None):
        self.bakery = bakery
        #: size bounds on arguments (True for plans read from files; a what-if's own
        #: record is checked for what it calls and holds, without them)
        self._limits = limits
        #: whether the operations still need their check (a what-if's own record: checked
        #: when the plan is saved; apply and preview_again check every operation anyway)
        self._unchecked = _checked == "later"
        if not _checked:
            for index, op in enumerate(operations, start=1):  # every operation is checked
                check_operation(index, _raw(op), limits=limits)
        self._operations = operations
        #: the ledger rows and the summary, or (``_rows``: a what-if's plan) what builds
        #: them from what its block captured, when they are first needed
        self._rows: _Rows | Callable[[], _Rows] = (changes, summary) if _rows is None else _rows
        self._frames: dict[str, pd.DataFrame] = {}
        self.applied = False
        #: this plan's own id: the database records it when it applies the plan
        self.plan_id: str = plan_id or str(uuid.uuid4())
        #: the identity and label (URL, password masked) of the database it was made on
        if bakery is None and (database_id is None or database_label is None):
            raise BakekitError("a new plan needs the bakery it is made on")
        self.database_id: str = (database_id if database_id is not None
                                 else bakery.database_id)  # type: ignore[union-attr]
        # (a what-if's plan takes its bakery's label when first asked: masking the URL
        # is no work for the end of the block)
        self._database_label = database_label
        #: when the plan was made (UTC, ISO text)
        self.made_at: str = made_at or dt.datetime.now(dt.UTC).isoformat(timespec="seconds")

    def _built_rows(self) -> _Rows:
        if callable(self._rows):
            self._rows = self._rows()
        return self._rows

    @property
    def _change_rows(self) -> list[dict[str, Any]]:
        return self._built_rows()[0]

    @property
    def _summary_rows(self) -> list[dict[str, Any]]:
        return self._built_rows()[1]

    @property
    def database_label(self) -> str:
        """The label (URL, password masked) of the database the plan was made on."""
        if self._database_label is None:
            self._database_label = self._bound().database_label
        return self._database_label

    @classmethod
    def from_workspace(cls, ws: Workspace) -> Plan:
        """Record a what-if's operations and their ledger rows (called as its block ends:
        no statement when the rows' writers recorded them, else one: see
        ``plan.ledger.recorded_ledger``; the rows, the summary and the frames are built
        when first needed, from what was captured here)."""
        steps = list(ws.recording.operations)
        recorded = [operation_record(op) for op in steps]
        # the ledger rows, the stock they leave and the database as this workspace sees it
        written = recorded_ledger(ws, steps)
        after, here = captured_stock(steps, written)
        if not written:
            here = read_identity(ws.connection)

        def rows() -> _Rows:
            changes = written_rows(steps, written)
            return changes, summary_rows(changes, after)
        return cls(ws.bakery, recorded, [], [], limits=False,
                   database_id=here if here is not None else ws.bakery.database_id,
                   _checked="later", _rows=rows)

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
        return head + frame_html(self.summary())

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
        calls = [check_operation(i, _raw(op), limits=self._limits)
                 for i, op in enumerate(self._operations, start=1)]
        bakery = self._bound()
        _check_files(calls)
        with bakery.what_if() as ws:
            for op, fn, args, kwargs in calls:
                fn(getattr(ws, op.area), *[_replayed(a) for a in args],
                   **{k: _replayed(v) for k, v in kwargs.items()})
        again: Plan = ws.plan
        return again

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

    def _bound(self) -> BakeryLike:
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
        calls = [check_operation(i, _raw(op), limits=self._limits)
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
            replay = read_ledger_rows(ws, ws.recording.operations)
            # stock before the plan, now: read after the replay, in the same transaction
            # (what the replay itself wrote taken off), so a change committed by another
            # workspace while the replay ran is seen too
            drift = self._drift_rows(ws, replay, tolerant=failure is not None)
            if failure is not None:
                op = self._operations[step - 1]
                moved = "".join(f"; {d['message']}" for d in drift)
                diff = diff_frame([{  # one row, saying what moved under it
                    "step": step, "status": "failed",
                    "message": f"{type(failure).__name__}: {failure}{moved}"}])
                raise StalePlanError(
                    f"the plan no longer applies: step {step} ({op.area}.{op.method}) "
                    f"failed: {failure}", diff) from failure
            if not same_rows(self._change_rows, replay):
                moved = ledger_diff(self.changes, build(replay, frames.PLAN_CHANGES))
                if not moved.empty:  # (the same rows in another order are the same rows)
                    diff = diff_frame(moved.to_dict("records") + drift)
                    raise StalePlanError(
                        f"the data moved since the preview: {len(moved)} stock change(s) "
                        f"differ; nothing was committed", diff)
            if drift and not allow_drift:
                words = "; ".join(d["message"] for d in drift)
                raise StalePlanError(
                    f"stock moved since the preview ({words}); nothing was committed "
                    "(apply(allow_drift=True) applies anyway)", diff_frame(drift))
            ws.commit()
        self.applied = True
        return build(replay, frames.PLAN_CHANGES)

    def _drift_rows(self, ws: Workspace, replay: list[dict[str, Any]], *,
                    tolerant: bool) -> list[dict[str, Any]]:
        """A ``drift`` row per touched item whose stock before the plan differs now from the
        preview's ``before`` (one statement)."""
        ids = {(c["item"], c["kind"], c["unit"]): c["item_id"] for c in self._change_rows}
        try:
            now = stock_after(ws, self._change_rows)
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
                "message": (f"{s['item']}: {in_words(before)} {s['unit']} on hand at the "
                            f"preview, {in_words(before_now)} {s['unit']} now")})
        return rows

    def _claim(self, ws: Workspace, bakery: BakeryLike) -> None:
        """In the apply's own transaction: the database must be the plan's, and must not have
        applied it; then record it as applied (committed with the replay, or not at all)."""
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
        except DBAPIError as exc:  # a role that may not write: ReadOnlyError, no raw SQL
            raise translate(f"recording plan {self.plan_id} as applied", exc) from exc

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
        if self._unchecked:  # a file holds only what from_json will accept
            for index, op in enumerate(self._operations, start=1):
                check_operation(index, _raw(op), limits=self._limits)
            self._unchecked = False
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
        document["digest"] = canonical_digest(document)
        return json.dumps(document, indent=2)

    @classmethod
    def from_json(cls, text: str | bytes, bakery: BakeryLike | None) -> Plan:
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
        document = read_document(text)
        operations = document["operations"]
        if not isinstance(operations, list) or len(operations) > MAX_OPERATIONS:
            raise InvalidPlanError(f"plan operations must be a list of at most "
                                   f"{MAX_OPERATIONS:,}; the plan was refused, nothing was "
                                   "written", field="operations",
                                   value=type(operations).__name__)
        checked = [check_operation(i, raw)[0] for i, raw in enumerate(operations, start=1)]
        changes = check_rows(document["changes"], CHANGE_FIELDS, "changes")
        summary = check_rows(document["summary"], SUMMARY_FIELDS, "summary")
        database = document["database"]
        plan = cls(bakery, checked, changes, summary, plan_id=document["plan_id"],
                   database_id=database["id"], database_label=database["label"],
                   made_at=document["made_at"], _checked=True)
        plan.applied = document["applied"]
        return plan



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
            now = file_digest(value.path)
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
    return None if when is None else as_datetime(when)


def _already_applied(plan: Plan, bakery: BakeryLike, when: Any) -> PlanAlreadyAppliedError:
    shown = when.isoformat(sep=" ", timespec="seconds") if isinstance(
        when, dt.datetime) else str(when)
    return PlanAlreadyAppliedError(
        f"plan {plan.plan_id} was already applied to this database "
        f"({bakery.database_label}) at {shown} UTC; a plan applies once. Nothing "
        "was written", plan_id=plan.plan_id, applied_at=when)
