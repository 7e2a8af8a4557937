"""Remembered keys of other applications: which local row a bake-tracker id or uuid names.

Every import and reconciliation of a bake-tracker file records the ids and uuids of the rows
it matched or created, so a later file that points at rows by bake-tracker's integer ids
(``product_id``, ``supplier_id``, ``purchase_id``) resolves them.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, bindparam, insert, or_, select, update

from bakekit.db import tables

if TYPE_CHECKING:  # pragma: no cover
    from bakekit.operations import Workspace

BAKE_TRACKER = "bake-tracker"


def external_key(value: Any) -> str | None:
    """An external id as stored: integers and their strings alike ("12", 12, 12.0 -> "12").

    >>> external_key(12.0), external_key(" 7 "), external_key(None)
    ('12', '7', None)
    """
    if type(value) is str:  # the common cases: a key as stored already, an integer id
        return value.strip() or None
    if type(value) is int:
        return str(value)
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


@dataclass
class Remembered:
    """The remembered keys of one entity: external id -> local id, uuid -> local id."""

    by_id: dict[str, int] = field(default_factory=dict)
    by_uuid: dict[str, int] = field(default_factory=dict)

    def find(self, external_id: Any = None, uuid: Any = None) -> int | None:
        """The local id of a row named by uuid (first) or external id; None if unknown."""
        if uuid is not None and str(uuid) in self.by_uuid:
            return self.by_uuid[str(uuid)]
        key = external_key(external_id)
        return None if key is None else self.by_id.get(key)


def remembered(ws: Workspace, entities: Iterable[str], source: str = BAKE_TRACKER
               ) -> dict[str, Remembered]:
    """Every remembered key of ``entities`` (one SELECT), whose local rows still exist."""
    wanted = tuple(dict.fromkeys(entities))
    out = {e: Remembered() for e in wanted}
    if not wanted:
        return out
    for entity, external_id, uuid, local_id in ws.execute(_remembered_statement(wanted,
                                                                                source)):
        if external_id is not None:
            out[entity].by_id[external_id] = int(local_id)
        if uuid is not None:
            out[entity].by_uuid[uuid] = int(local_id)
    return out


#: the entity of a remembered key whose local row was deleted (set aside by a trigger)
DELETED = ":deleted"


def set_aside(ws: Workspace, entities: Iterable[str], source: str = BAKE_TRACKER
              ) -> dict[str, Remembered]:
    """The remembered keys of ``entities`` whose local rows were deleted (migration 0007
    sets them aside): a file naming one is refused, saying so. One SELECT.

    >>> # set_aside(ws, ["products"])["products"].find(7) -> the deleted row's old id
    """
    wanted = tuple(dict.fromkeys(entities))
    out = {e: Remembered() for e in wanted}
    t = tables.external_ids
    for entity, external_id, uuid, local_id in ws.execute(
            select(t.c.entity, t.c.external_id, t.c.uuid, t.c.local_id)
            .where(t.c.source == source, t.c.entity.in_([e + DELETED for e in wanted]))
            .order_by(t.c.id)):
        found = out[entity[: -len(DELETED)]]
        if external_id is not None:
            found.by_id[external_id] = int(local_id)
        if uuid is not None:
            found.by_uuid[uuid] = int(local_id)
    return out


@functools.lru_cache(maxsize=64)
def _remembered_statement(entities: tuple[str, ...], source: str) -> Any:
    """The remembered keys of ``entities`` whose local rows still exist (each entity's
    ``local_id IN (SELECT id FROM <its table>)``), in the order they were remembered: one
    statement, built once per set of entities."""
    t = tables.external_ids
    alive = [and_(t.c.entity == e, t.c.local_id.in_(select(tables.by_name(e).c.id)))
             for e in entities]
    return (select(t.c.entity, t.c.external_id, t.c.uuid, t.c.local_id)
            .where(t.c.source == source, or_(*alive)).order_by(t.c.id))


def remember(ws: Workspace, entity: str, keys: Iterable[tuple[Any, Any, int]],
             source: str = BAKE_TRACKER) -> int:
    """Record (external id, uuid, local id) triples of ``entity``; a key already remembered
    for another local row is moved to this one. Returns how many rows were written."""
    wanted: dict[tuple[str | None, str | None], int] = {}
    for ext, uuid, local in keys:
        k = (external_key(ext), None if uuid is None else str(uuid))
        if k != (None, None):
            wanted[k] = int(local)
    if not wanted:
        return 0
    have = {(ext, uuid): (row_id, int(local)) for row_id, ext, uuid, local in ws.execute(
        _KNOWN, {"b_source": source, "b_entity": entity})}
    new = [{"source": source, "entity": entity, "external_id": k[0], "uuid": k[1],
            "local_id": local} for k, local in wanted.items() if k not in have]
    moved = [{"b_id": have[k][0], "b_local": local} for k, local in wanted.items()
             if k in have and have[k][1] != local]
    if new:
        ws.execute(insert(tables.external_ids), new)
    if moved:
        ws.execute(_MOVE, moved)
    return len(new) + len(moved)


def _statements() -> tuple[Any, Any]:
    t = tables.external_ids
    return (select(t.c.id, t.c.external_id, t.c.uuid, t.c.local_id)
            .where(t.c.source == bindparam("b_source"), t.c.entity == bindparam("b_entity"))
            .order_by(t.c.id),
            update(t).where(t.c.id == bindparam("b_id")).values(local_id=bindparam("b_local")))


#: the keys remembered of one source's entity; move a key (built once)
_KNOWN, _MOVE = _statements()
