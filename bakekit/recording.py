"""The operation log of a workspace: which write calls ran, and the ledger rows and lots
each one wrote. Plans read it (``log.operations``); fifo and io note what they write."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

#: a ledger writer: (workspace, the rows' parameters, the (item, unit) of each) -> ids
LedgerWriter = Callable[[Any, Sequence[dict[str, Any]], Sequence[Any]], list[int]]


class WrittenMovement(NamedTuple):
    """A ledger row as its writer knew it (a plan's row without reading it back): the lot,
    its item (slug, kind, id) and unit as stored, the reason, and the quantity and cost as
    the database returns them (floats; cost None when the lot is uncosted); and, as its
    INSERT returned them, the stock then on hand of the item in that unit and the
    database's identity."""

    lot_id: int
    item: str
    kind: str
    item_id: int
    unit: str
    reason: str
    quantity: float
    cost: float | None
    on_hand: float | None = None
    database_id: str | None = None


@dataclass
class Operation:
    """One write call: area, method, arguments, and what it wrote (ids, in order); the
    ledger rows whose writer said what they hold are in ``written`` too (by id)."""

    area: str
    method: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    movement_ids: list[int] = field(default_factory=list)
    created_lot_ids: list[int] = field(default_factory=list)
    written: dict[int, WrittenMovement] = field(default_factory=dict)


class OperationLog:
    """The write operations of one workspace, and the ledger rows they wrote.

    >>> log = OperationLog()
    >>> op = log.begin("inventory", "consume", ("flour", 2, "cup"), {"reason": "test"})
    >>> log.note_movements([7, 8])
    >>> log.finish(op)
    >>> [o.method for o in log.operations], log.movement_ids
    (['consume'], [7, 8])
    """

    def __init__(self) -> None:
        #: the operation running now (None between operations)
        self.current: Operation | None = None
        #: the finished operations, in order
        self.operations: list[Operation] = []
        #: every ledger row written, in order (inside operations or not)
        self.movement_ids: list[int] = []
        #: a what-if's ledger writer (``bakekit.plan.capture.insert_ledger``, installed by
        #: the workspace): ``stock.ledger`` hands it the rows whose items it knows, as
        #: (workspace, row parameters, (item, unit) of each); None outside a what-if
        self.capture: LedgerWriter | None = None

    def begin(self, area: str, method: str, args: tuple[Any, ...],
              kwargs: dict[str, Any]) -> Operation:
        """Start recording one write call (a retry begins it afresh)."""
        self.current = Operation(area, method, args, dict(kwargs))
        return self.current

    def abandon(self) -> None:
        """The running operation ended without a result (failed, or about to be retried)."""
        self.current = None

    def finish(self, op: Operation) -> None:
        """The operation committed its SAVEPOINT: keep it and its ledger rows."""
        self.current = None
        self.movement_ids.extend(op.movement_ids)
        self.operations.append(op)

    def note_movements(self, ids: Sequence[int],
                       written: Sequence[WrittenMovement] | None = None) -> None:
        """Ledger rows just written (by the running operation, if any); ``written``: what
        each of them holds, when the writer knows it (one per id)."""
        if self.current is not None:
            self.current.movement_ids.extend(ids)
            if written is not None:
                self.current.written.update(zip(ids, written, strict=True))
        else:
            self.movement_ids.extend(ids)

    def note_created_lot(self, lot_id: int) -> None:
        """A lot the running operation created (plans match such lots by creation order)."""
        if self.current is not None:
            self.current.created_lot_ids.append(lot_id)

    def mark(self) -> tuple[int, int]:
        """Where the log stands now, to rewind to (a scenario's start)."""
        return len(self.movement_ids), len(self.operations)

    def rewind(self, mark: tuple[int, int]) -> None:
        """Forget what was recorded since ``mark`` (its SAVEPOINT was rolled back)."""
        del self.movement_ids[mark[0]:]
        del self.operations[mark[1]:]

    def clear(self) -> None:
        """Forget everything (the transaction was rolled back)."""
        self.movement_ids.clear()
        self.operations.clear()
