"""Helpers the areas share: argument checks, lookups by slug or name, and "still in use"."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from bakekit.db import tables
from bakekit.db.models import metadata
from bakekit.errors import InUseError, NotFoundError, ValidationError

if TYPE_CHECKING:  # pragma: no cover
    from bakekit.operations import Workspace


def lookup_id(ws: Workspace, table_name: str, key_column: str, key: object, kind: str) -> int:
    """The id of the row whose key column equals ``key``, or NotFoundError."""
    t = tables.by_name(table_name)
    if not isinstance(key, str):
        raise ValidationError(f"{kind}: {key!r} must be a {key_column} (text)", field=kind,
                              value=key)
    found = ws.scalar(select(t.c.id).where(t.c[key_column] == key))
    if found is None:
        raise NotFoundError(kind, key)
    return int(found)


def lookup_row(ws: Workspace, table_name: str, key_column: str, key: object,
               kind: str) -> Any:
    """The whole row whose key column equals ``key``, or NotFoundError."""
    t = tables.by_name(table_name)
    if not isinstance(key, str):
        raise ValidationError(f"{kind}: {key!r} must be a {key_column} (text)", field=kind,
                              value=key)
    row = ws.execute(select(t).where(t.c[key_column] == key)).first()
    if row is None:
        raise NotFoundError(kind, key)
    return row


def usage(ws: Workspace, table_name: str, row_id: int) -> dict[str, int]:
    """How many rows of other tables point at a row, by table (only those that do)."""
    target = tables.by_name(table_name)
    counts: dict[str, int] = {}
    for other in metadata.sorted_tables:
        for fk in other.foreign_keys:
            if fk.column.table is target and fk.parent.table is other:
                if other is target and fk.parent.name == "parent_id":
                    name = "child ingredients"
                else:
                    name = other.name.replace("_", " ")
                n = ws.scalar(select(func.count()).select_from(other).where(fk.parent == row_id))
                if n:
                    counts[name] = counts.get(name, 0) + int(n)
    return counts


def refuse_if_used(ws: Workspace, table_name: str, row_id: int, what: str,
                   ignore: tuple[str, ...] = ()) -> None:
    """Raise InUseError saying what still uses the row, if anything does."""
    used = {k: v for k, v in usage(ws, table_name, row_id).items() if k not in ignore}
    if used:
        detail = ", ".join(f"{n} {name}" for name, n in sorted(used.items()))
        raise InUseError(f"{what} is still used by {detail}; remove those first",
                         field=table_name, value=what)


def known_fields(changes: dict[str, Any], allowed: set[str], what: str) -> None:
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(
            f"{what}: unknown field(s) {sorted(unknown)}; allowed: {sorted(allowed)}",
            field=sorted(unknown)[0], value=changes[sorted(unknown)[0]],
        )


def refuse_duplicate(ws: Workspace, table_name: str, column: str, key: str, kind: str,
                     *, field: str | None = None) -> None:
    """ValidationError naming the field if a row with this key already exists."""
    t = tables.by_name(table_name)
    if ws.scalar(select(t.c.id).where(t.c[column] == key)) is not None:
        name = field or column
        raise ValidationError(f"{name}: {kind} {key!r} already exists", field=name, value=key)


def entries(value: object, field: str, sizes: tuple[int, ...], *, shape: str,
            at_least_one: str | None = None) -> list[tuple[Any, ...]]:
    """A list of tuples such as (slug, quantity) pairs, each of one of ``sizes`` values;
    ``at_least_one`` is the message when an empty list is not allowed."""
    if isinstance(value, (str, bytes, dict)) or not isinstance(value, Iterable):
        raise ValidationError(f"{field}: {value!r} must be a list of {shape}", field=field,
                              value=value)
    items = list(value)
    if at_least_one and not items:
        raise ValidationError(f"{field}: {at_least_one} (got {value!r})", field=field,
                              value=value)
    out = []
    for i, entry in enumerate(items):
        if isinstance(entry, (str, bytes)) or not isinstance(entry, (list, tuple)) or (
                len(entry) not in sizes):
            raise ValidationError(f"{field}[{i}]: {entry!r} must be {shape}", field=field,
                                  value=entry)
        out.append(tuple(entry))
    return out
