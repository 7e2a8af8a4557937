"""Alembic migrations of the bakekit schema (``versions/``), and the head revision read
from the revision files themselves, so that opening a database already at head never
loads Alembic (``bakekit.db.engine.migrate``)."""

from __future__ import annotations

import ast
import re
from functools import lru_cache
from importlib import resources

#: a revision file's ``revision = ...`` and ``down_revision = ...`` lines (script.py.mako)
_LINE = re.compile(r"^(revision|down_revision)\s*(?::[^=]*)?=\s*(.+?)\s*$", re.MULTILINE)


@lru_cache(maxsize=1)
def head() -> str | None:
    """The head revision of bakekit's migrations: the one revision no other revises, as
    the files under ``versions/`` declare them (read as text: Alembic imports every
    revision module to find it). None when the files do not name exactly one head (a
    branch, a line not written as the template writes it): Alembic then decides.

    >>> head() is not None
    True
    """
    revisions: set[str] = set()
    revised: set[str] = set()
    for entry in resources.files(__name__).joinpath("versions").iterdir():
        if not entry.name.endswith(".py") or entry.name.startswith("_"):
            continue
        found = dict(_LINE.findall(entry.read_text(encoding="utf-8")))
        try:
            revision = ast.literal_eval(found["revision"])
            down = ast.literal_eval(found.get("down_revision", "None"))
        except (KeyError, ValueError, SyntaxError):
            return None
        if not isinstance(revision, str):
            return None
        revisions.add(revision)
        if isinstance(down, str):
            revised.add(down)
        elif isinstance(down, (tuple, list)):
            revised.update(str(d) for d in down)
        elif down is not None:
            return None
    heads = revisions - revised
    return heads.pop() if len(heads) == 1 else None
