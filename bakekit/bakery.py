"""Bakery: one database (URL resolution, engine, read-only mode) and the workspaces on it."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from bakekit.db.engine import (
    create_bakery_engine,
    mask_url,
    open_schema,
    read_identity,
    resolve_url,
)
from bakekit.errors import BakekitError, DatabaseError

if TYPE_CHECKING:  # pragma: no cover
    from bakekit.workspace import Workspace

__all__ = ["Bakery", "mask_url", "open", "read_identity"]


class Bakery:
    """A bakekit database. Open it with :func:`bakekit.open`.

    >>> import bakekit
    >>> bakery = bakekit.open(":memory:")
    >>> with bakery.session() as ws:
    ...     ws.inventory.levels().empty
    True
    """

    def __init__(self, url: str | os.PathLike[str] | None = None, *, read_only: bool = False):
        self.url: str = resolve_url(url)
        self.read_only = read_only
        self.engine: Engine = create_bakery_engine(self.url, read_only=read_only)
        try:
            # one statement for a database at head (its revision and identity); Alembic,
            # the models and the workspace's modules load only when they are needed
            self.schema_revision, identity = open_schema(self.engine, read_only=read_only)
            if not read_only and identity is None:
                _ensure_identity(self.engine)
        except BaseException:
            self.engine.dispose()
            raise

    @property
    def database_id(self) -> str:
        """This database's identity: a uuid it got once (when created, or when first
        migrated to schema 0002), kept through migrations; a database made by ``io.load``
        has its own, not its source's. Saved plans name it and apply only here.

        >>> import bakekit
        >>> len(bakekit.open(":memory:").database_id)
        36
        """
        try:
            with self.engine.connect() as conn:
                found = read_identity(conn)
                conn.rollback()
        except DBAPIError as exc:
            raise DatabaseError("reading the database identity", exc) from exc
        if found is None:
            raise BakekitError(f"the database {self.database_label} has no identity yet; "
                               "open it once for writing (bakekit.open(url))")
        return found

    @property
    def database_label(self) -> str:
        """The database's URL with any password masked (for messages and plan files).

        >>> import bakekit
        >>> bakekit.open(":memory:").database_label.startswith("sqlite")
        True
        """
        return mask_url(self.url)

    def session(self) -> Workspace:
        """A workspace whose writes persist only through ``ws.commit()``."""
        from bakekit.workspace import Workspace

        return Workspace(self)

    def what_if(self) -> Workspace:
        """A dry-run workspace: always rolled back; leaves ``ws.plan`` to apply later."""
        from bakekit.workspace import Workspace

        return Workspace(self, what_if=True)

    def dispose(self) -> None:
        """Close the bakery's pooled connections."""
        self.engine.dispose()

    def __repr__(self) -> str:
        mode = " read-only" if self.read_only else ""
        return f"<Bakery{mode} {self.database_label}>"


def _ensure_identity(engine: Engine) -> str:
    """The database's identity, giving it one if its row is missing (migration 0002 fills
    it; an emptied table, e.g. after a TRUNCATE, gets a new one: plans made before then
    no longer apply). One read when present."""
    try:
        with engine.connect() as conn:
            found = read_identity(conn)
            if found is not None:
                conn.rollback()
                return found
            from sqlalchemy.dialects import postgresql, sqlite

            from bakekit.db import tables
            from bakekit.db.dialect import is_postgresql

            dialect: Any = postgresql if is_postgresql(conn) else sqlite
            t = tables.bakery_identity
            conn.execute(dialect.insert(t).values(id=1)
                         .on_conflict_do_nothing(index_elements=["id"]))
            found = read_identity(conn)
            conn.commit()
    except DBAPIError as exc:
        raise DatabaseError("opening the database (its identity)", exc) from exc
    assert found is not None
    return found


def open(url: str | os.PathLike[str] | None = None, *, read_only: bool = False) -> Bakery:  # noqa: A001
    """Open (creating or migrating) a bakekit database.

    ``url`` is a SQLAlchemy URL, a SQLite file path or ``":memory:"``; ``None`` means
    ``$BAKEKIT_URL``, else bakery.db in the user's data folder.

    >>> import bakekit
    >>> bakery = bakekit.open(":memory:")
    """
    return Bakery(url, read_only=read_only)
