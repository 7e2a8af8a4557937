"""Plan: the write calls a what-if recorded, their previewed ledger rows, and a safe apply.

``plan.apply()`` replays the operations in a fresh workspace and commits only if the
replay writes the same ledger rows as the preview (lot, item, quantity, cost; lots the plan
itself creates are matched by the order in which it created them) and every item the plan
touches still has the stock it had at the preview. Otherwise nothing is committed and
StalePlanError shows what moved.
"""

from bakekit.plan.arguments import (
    FORMAT_VERSION,
    TOLERANCE,
    PlanFileArgument,
    RecordedOperation,
    write_methods,
)
from bakekit.plan.core import Plan
from bakekit.plan.document import canonical_digest
from bakekit.plan.ledger import ledger_diff

__all__ = ["FORMAT_VERSION", "TOLERANCE", "Plan", "PlanFileArgument", "RecordedOperation",
           "canonical_digest", "ledger_diff", "write_methods"]
