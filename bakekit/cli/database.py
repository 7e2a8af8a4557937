"""`bakekit levels` and `info`: what is in the database."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from bakekit.cli._app import FormatOption, OutOption, UrlOption
from bakekit.cli._errors import command
from bakekit.cli._opening import database_line, given_url, open_read
from bakekit.cli._output import Out, Rows


@command
def levels(url: UrlOption = None, fmt: FormatOption = None, output: OutOption = None,
           as_of: Annotated[str | None, typer.Option(
               "--as-of", help="stock at the end of this date (YYYY-MM-DD), from the "
               "ledger")] = None) -> None:
    """Stock on hand per item, with value at cost (today, or at the end of --as-of)."""
    out = Out(fmt, output)
    bakery = open_read(url)
    database_line(bakery, out)
    with bakery.session() as ws:
        frame = ws.inventory.levels(as_of=as_of)
    out.frame(frame, "Stock levels" if as_of is None else f"Stock levels at the end of {as_of}")
    out.close()


@command
def info(url: UrlOption = None, fmt: FormatOption = None,
         output: OutOption = None) -> None:
    """The database in use (password masked), its schema version and row counts."""
    from sqlalchemy import func, select, table

    from bakekit.db.engine import head_revision
    from bakekit.db.names import TABLE_NAMES

    out = Out(fmt, output)
    full = given_url(url)
    source = "--url" if url else "$BAKEKIT_URL" if os.environ.get("BAKEKIT_URL") \
        else "default (no --url, no $BAKEKIT_URL)"
    bakery = open_read(url)
    counts = []
    # a read-only bakery's one connection (not a workspace: its areas, pandas and the
    # models are not needed to count rows)
    with bakery.engine.connect() as conn:
        for name in TABLE_NAMES:
            count = conn.scalar(select(func.count()).select_from(table(name)))
            counts.append((name, int(count or 0)))
        conn.rollback()
    del full
    out.say(f"database: {bakery.database_label}")
    out.say(f"  chosen by: {source}")
    out.say(f"  schema revision: {bakery.schema_revision} (this bakekit: {head_revision()})")
    out.say(f"  database id: {bakery.database_id}\n")
    out.frame(Rows(("table", "rows"), counts), "Rows per table",
              database=bakery.database_label, schema_revision=bakery.schema_revision,
              database_id=bakery.database_id)
    out.close()
