"""The bakekit exception hierarchy: every error the library raises is a BakekitError."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


class BakekitError(Exception):
    """Base of every error bakekit raises."""


class NotFoundError(BakekitError, LookupError):
    """A slug, name or id names nothing in the database."""

    def __init__(self, kind: str, key: Any):
        self.kind = kind
        self.key = key
        super().__init__(f"{kind} {key!r} not found")


class ValidationError(BakekitError, ValueError):
    """An argument or input value is not acceptable.

    ``field`` and ``value`` name what was wrong; ``row`` is set for tabular input.
    """

    def __init__(self, message: str, *, field: str | None = None, value: Any = None,
                 row: int | None = None):
        self.field = field
        self.value = value
        self.row = row
        super().__init__(message)


class InUseError(ValidationError):
    """A delete or change was refused because other records still use the thing."""


class ImportValidationError(ValidationError):
    """An import found problems; ``errors`` is a DataFrame (row, field, value, reason)."""

    def __init__(self, message: str, errors: pd.DataFrame):
        self.errors = errors
        super().__init__(message)


class InsufficientStockError(BakekitError):
    """Not enough stock for a consumption, production or assembly.

    ``availability`` is the :class:`bakekit.results.Availability` that shows what is short
    (item, needed, available, shortfall, unit); for ``consume`` and ``preview_consume``,
    ``consumption`` also holds the lot-by-lot breakdown of what could be taken.
    """

    def __init__(self, message: str, availability: Any, consumption: Any = None):
        self.availability = availability
        self.consumption = consumption
        super().__init__(message)


class UnitConversionError(BakekitError, ValueError):
    """A quantity cannot be converted (unknown unit, or volume to weight without density)."""

    def __init__(self, message: str, *, item: str | None = None, from_unit: str | None = None,
                 to_unit: str | None = None):
        self.item = item
        self.from_unit = from_unit
        self.to_unit = to_unit
        super().__init__(message)


class RecipeCycleError(ValidationError):
    """A recipe (or finished good) would contain itself; ``path`` lists the cycle."""

    def __init__(self, path: list[str]):
        self.path = path
        super().__init__("components: cycle " + " -> ".join(path), field="components",
                         value=path)


class DryRunError(BakekitError):
    """``commit()`` was called in a what-if workspace, which is always rolled back."""


class ReadOnlyError(BakekitError):
    """A write was attempted through a read-only bakery or role."""


class WorkspaceClosedError(BakekitError):
    """The workspace's block has ended; open a new one with ``bakery.session()``."""


class StalePlanError(BakekitError):
    """The data moved since the plan was previewed; ``diff`` shows what differs."""

    def __init__(self, message: str, diff: pd.DataFrame):
        self.diff = diff
        super().__init__(message)


class PlanAlreadyAppliedError(BakekitError):
    """A plan applies once: the database remembers the plans it has applied (by the plan's
    id), so a second apply is refused in any process, from any copy of the plan file.

    ``plan_id`` and ``applied_at`` (a naive UTC datetime, None if only this object knows)
    say which plan and when.
    """

    def __init__(self, message: str, *, plan_id: str | None = None,
                 applied_at: Any = None):
        self.plan_id = plan_id
        self.applied_at = applied_at
        super().__init__(message)


class InvalidPlanError(ValidationError):
    """A saved plan is refused as it is read: not a plan, edited after it was saved, an
    operation that is not one of bakekit's write operations, or an argument that is not a
    value a plan records. ``operation`` is the 1-based index of the operation at fault
    (None for the file as a whole); ``field`` and ``value`` name what was wrong."""

    def __init__(self, message: str, *, operation: int | None = None,
                 field: str | None = None, value: Any = None):
        self.operation = operation
        super().__init__(message, field=field, value=value)


class WrongDatabaseError(BakekitError):
    """A plan was made on another database than the one it is applied to.

    ``plan_database`` and ``database`` are ``(id, label)`` pairs: where the plan was made,
    and the database it was applied to (labels are URLs with any password masked).
    """

    def __init__(self, message: str, *, plan_database: tuple[str, str],
                 database: tuple[str, str]):
        self.plan_database = plan_database
        self.database = database
        super().__init__(message)


class SchemaVersionError(BakekitError):
    """The database's schema is newer than this code, or cannot be migrated here."""


class DatabaseError(BakekitError):
    """A driver error, wrapped with the operation that failed (``__cause__`` is the original)."""

    def __init__(self, operation: str, original: BaseException):
        self.operation = operation
        self.original = original
        super().__init__(f"{operation} failed: {original}")


class ConcurrencyError(DatabaseError):
    """A write kept meeting lock contention (deadlock, lock timeout, serialization failure)
    after bounded retries with backoff."""


__all__ = [
    "BakekitError",
    "ConcurrencyError",
    "DatabaseError",
    "DryRunError",
    "ImportValidationError",
    "InUseError",
    "InsufficientStockError",
    "InvalidPlanError",
    "NotFoundError",
    "PlanAlreadyAppliedError",
    "ReadOnlyError",
    "RecipeCycleError",
    "SchemaVersionError",
    "StalePlanError",
    "UnitConversionError",
    "ValidationError",
    "WorkspaceClosedError",
    "WrongDatabaseError",
]
