"""`bakekit reconcile`: review a price list, purchases or a stock count; apply it or save
it as a plan."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bakekit.cli._app import KINDS, FormatOption, OutOption, UrlOption
from bakekit.cli._errors import command
from bakekit.cli._opening import (
    Input,
    Working,
    check_plan_target,
    database_line,
    open_read,
    write_plan,
)
from bakekit.cli._output import Format, Out, cell
from bakekit.errors import ValidationError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


def complete_kind(incomplete: str) -> list[str]:
    return [k for k in KINDS if k.startswith(incomplete)]


def _review_frame(frame: pd.DataFrame, file: Path) -> tuple[pd.DataFrame, str]:
    """The review with row numbers that match the file: CSV line (data line 1 is line 2),
    else the record's 1-based position."""
    frame = frame.copy()
    if "row" not in frame.columns:
        return frame, ""
    csv_like = str(file) == "-" or file.suffix.lower() in (".csv", ".tsv", ".txt")
    name = "line" if csv_like else "record"
    numbers = frame.pop("row")
    frame.insert(0, name, (numbers + (2 if csv_like else 1)).astype("Int64"))
    return frame, name


def _for_people(frame: pd.DataFrame, out: Out) -> pd.DataFrame:
    """In a table, leave out database ids and columns with no value (csv/json keep all)."""
    if out.format is not Format.table:
        return frame
    keep = [c for c in frame.columns
            if not str(c).endswith("_id") and frame[c].notna().any()]
    return frame[keep]


def _status_summary(counts: dict[str, int]) -> str:
    order = ["new", "changed", "unchanged", "missing", "conflict", "invalid"]
    keys = sorted(counts, key=lambda k: order.index(k) if k in order else len(order))
    return ", ".join(f"{counts[k]} {k}" for k in keys)


def _skipped_lines(frame: pd.DataFrame, where: str, limit: int = 10) -> list[str]:
    skipped = frame[~frame["status"].isin(["new", "changed", "unchanged"])]
    lines = []
    for record in skipped.head(limit).to_dict("records"):
        at = f"{where} {record[where]}: " if where else ""
        lines.append(f"  {at}{record['status']}: {cell(record.get('message'))}")
    if len(skipped) > limit:
        lines.append(f"  ... and {len(skipped) - limit} more (--format csv lists them all)")
    return lines


@command
def reconcile_file(file: Annotated[Path, typer.Argument(help="a CSV, JSON or Excel file, or "
                                                          "'-' for CSV on stdin")],
                   kind: Annotated[str | None, typer.Option(
                       "--kind", help="prices, purchases, inventory_count or products; "
                       "read from bake-tracker views and bt_mobile files (default for "
                       "others: prices)", autocompletion=complete_kind)] = None,
                   apply: Annotated[bool, typer.Option("--apply", help="write and commit "
                                                       "the new and changed rows")] = False,
                   save_plan: Annotated[Path | None, typer.Option(
                       help="save what --apply would write as a plan (nothing is written; "
                       "`bakekit apply` applies it later, once)")] = None,
                   url: UrlOption = None,
                   fmt: FormatOption = None, output: OutOption = None) -> None:
    """Review a price list, purchases, a stock count, or a bake-tracker view or bt_mobile
    file; --apply commits it, --save-plan saves it as a plan."""
    if kind is not None and kind not in KINDS:
        raise ValidationError(f"--kind {kind!r}: use one of {', '.join(KINDS)}")
    if apply and save_plan is not None:
        raise typer.BadParameter("give --apply or --save-plan, not both",
                                 param_hint="--save-plan")
    check_plan_target(save_plan)
    out = Out(fmt, output)
    bakery = open_read(url, write=apply or save_plan is not None)
    database_line(bakery, out)
    if save_plan is not None:
        with Input(file, ".csv") as path, bakery.what_if() as ws:
            review = ws.io.reconcile(path, kind=kind)
            frame, where = _review_frame(review.frame, file)
            out.frame(_for_people(frame, out), f"Reconciliation ({review.kind})")
            out.close()
            out.say(f"{len(frame)} row(s): {_status_summary(review.counts())}", bold=True)
            review.apply()
        write_plan(ws.plan, save_plan, bakery)
        return
    with Input(file, ".csv") as path, bakery.session() as ws:
        with Working(f"reviewing {file}"):
            review = ws.io.reconcile(path, kind=kind)
        frame, where = _review_frame(review.frame, file)
        what = f" from a {review.source_format} file" if review.source_format else ""
        out.frame(_for_people(frame, out), f"Reconciliation ({review.kind}{what})")
        counts = review.counts()
        writes = counts.get("new", 0) + counts.get("changed", 0)
        skipped = len(frame) - writes - counts.get("unchanged", 0)
        out.close()
        if review.unknown_fields:
            out.say(f"not used from the records: {', '.join(review.unknown_fields)}")
        out.say(f"{len(frame)} row(s): {_status_summary(counts)}", bold=True)
        if not apply:
            if writes:
                out.say(f"nothing written; run again with --apply to write {writes} new or "
                        f"changed {review.kind}" + (f" ({skipped} row(s) would be skipped)"
                                                     if skipped else ""))
            else:
                out.say("nothing to write")
            return
        with Working("writing"):
            report = review.apply()
            ws.commit()
    r = report.frame.iloc[0] if len(report.frame) else None
    if r is not None:
        out.say(f"applied to {bakery.database_label}: {int(r['created'])} created, "
                f"{int(r['updated'])} updated, {int(r['unchanged'])} unchanged, "
                f"{int(r['skipped'])} skipped", fg="green")
    for line in _skipped_lines(frame, where):
        out.say(line)
