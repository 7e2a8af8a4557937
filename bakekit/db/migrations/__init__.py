"""Alembic migrations of the bakekit schema (``versions/``), and the head revision read
from the revision files themselves, so that opening a database already at head never
loads Alembic (``bakekit.db.engine.migrate``)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources

#: a revision file's ``revision = ...`` and ``down_revision = ...`` lines (script.py.mako)
_LINE = re.compile(r"^(revision|down_revision)\s*(?::[^=]*)?=\s*(.+?)\s*$", re.MULTILINE)


@lru_cache(maxsize=1)
def head() -> str | None:
    """The head revision of bakekit's migrations, as the files under ``versions/``
    declare it (read as text: Alembic imports every revision module to find it). None
    when they do not name exactly one head: Alembic then decides.

    >>> head() is not None
    True
    """
    folder = resources.files(__name__).joinpath("versions")
    return head_of(entry.read_text(encoding="utf-8") for entry in folder.iterdir()
                   if entry.name.endswith(".py") and not entry.name.startswith("_"))


def head_of(sources: Iterable[str]) -> str | None:
    r"""The one revision no other revises, from the source text of revision files; None
    for a branch, no files, or a file whose ``revision``/``down_revision`` lines are not
    written as the template writes them.

    >>> head_of(["revision = '0001'\ndown_revision = None",
    ...          "revision = '0002'\ndown_revision = '0001'"])
    '0002'
    """
    revisions: set[str] = set()
    revised: set[str] = set()
    for source in sources:
        found = dict(_LINE.findall(source))
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
        elif isinstance(down, tuple | list):
            revised.update(str(d) for d in down)
        elif down is not None:
            return None
    heads = revisions - revised
    return heads.pop() if len(heads) == 1 else None
