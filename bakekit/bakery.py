"""Bakery: one database (URL resolution, engine, read-only mode) and the workspaces on it."""

from __future__ import annotations

import os

from sqlalchemy import Engine

from bakekit.db.engine import create_bakery_engine, migrate, resolve_url
from bakekit.workspace import Workspace


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
            self.schema_revision = migrate(self.engine, read_only=read_only)
        except BaseException:
            self.engine.dispose()
            raise

    def session(self) -> Workspace:
        """A workspace whose writes persist only through ``ws.commit()``."""
        return Workspace(self)

    def what_if(self) -> Workspace:
        """A dry-run workspace: always rolled back; leaves ``ws.plan`` to apply later."""
        return Workspace(self, what_if=True)

    def dispose(self) -> None:
        """Close the bakery's pooled connections."""
        self.engine.dispose()

    def __repr__(self) -> str:
        mode = " read-only" if self.read_only else ""
        return f"<Bakery{mode} {self.engine.url.render_as_string(hide_password=True)}>"


def open(url: str | os.PathLike[str] | None = None, *, read_only: bool = False) -> Bakery:  # noqa: A001
    """Open (creating or migrating) a bakekit database.

    ``url`` is a SQLAlchemy URL, a SQLite file path or ``":memory:"``; ``None`` means
    ``$BAKEKIT_URL``, else bakery.db in the user's data folder.

    >>> import bakekit
    >>> bakery = bakekit.open(":memory:")
    """
    return Bakery(url, read_only=read_only)
