"""`bakekit demo`, `what-if produce`, `plan show` and `apply`: what-if plans."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bakekit.cli._app import FormatOption, OutOption, UrlOption
from bakekit.cli._errors import command
from bakekit.cli._files import opened, using
from bakekit.cli._opening import (
    check_plan_target,
    database_line,
    existing_database,
    mask_url,
    open_read,
    read_plan_file,
    resolve_url,
    write_plan,
)
from bakekit.cli._output import Out, number, render_table, say
from bakekit.errors import BakekitError


@command
def demo(
    path: Annotated[Path | None, typer.Option(help="where to create the demo database "
                                              "(default: demo.db in the user data folder, "
                                              "built afresh each run)")] = None,
    finished_unit: Annotated[str, typer.Option(help="what the what-if produces")] =
    "chocolate-chip-cookie",
    batches: Annotated[float, typer.Option(help="batches in the what-if")] = 2,
    commit: Annotated[bool, typer.Option("--commit", help="apply the what-if for real")]
    = False,
    save_plan: Annotated[Path | None, typer.Option(help="save the plan as JSON")] = None,
) -> None:
    """Build a demo database from the packaged sample data, show stock, preview a run;
    --commit applies it to that database (kept: its path is printed)."""
    from bakekit.display import money_text
    from bakekit.sample import build_demo, demo_path

    check_plan_target(save_plan)
    if path is not None and path.exists():
        raise BakekitError(f"--path {str(path)!r} exists already; give a new file name")
    if path is not None and not path.parent.is_dir():
        raise BakekitError(f"--path {str(path)!r}: folder {str(path.parent)!r} does not "
                           "exist; create it first (nothing was done)")
    target = path if path is not None else demo_path()
    using(resolve_url(str(target)))  # --save-plan may not be the demo database
    bakery = opened(build_demo(target, progress=True, replace=path is None))
    say(f"demo database: {target} (kept; look again with --url {target})", fg="green")
    with bakery.session() as ws:
        render_table(ws.inventory.valuation(), "Stock value at cost")
        render_table(ws.production.stock(), "Finished units on hand")
        check = ws.production.check(finished_unit, batches=batches)
        render_table(check.frame[["item", "needed", "available", "shortfall", "unit"]],
                      f"Can we make {batches:g} batch(es) of {finished_unit}? "
                      f"{'yes' if check.ok else 'no'}")
    with bakery.what_if() as ws:
        result = ws.production.record(finished_unit, batches=batches)
        say(f"what-if: {result.quantity:g} x {finished_unit} at "
            f"{money_text(result.per_unit_cost)} each (total "
            f"{money_text(result.total_cost)})\n")
    plan = ws.plan
    render_table(plan.summary(), "What-if plan (nothing written yet)")
    if save_plan:
        write_plan(plan, save_plan, bakery)
    if commit:
        rows = plan.apply()
        say(f"committed: {len(rows)} ledger rows into {target}", fg="green")
    else:
        say("nothing committed (use --commit to apply the plan)")


@command
def what_if_produce(
    finished_unit: Annotated[str, typer.Argument(help="the finished unit's slug")],
    batches: Annotated[float, typer.Option(help="how many batches")] = 1,
    save_plan: Annotated[Path | None, typer.Option(
        help="save the plan as JSON, to apply later with `bakekit apply`")] = None,
    url: UrlOption = None,
    fmt: FormatOption = None, output: OutOption = None,
) -> None:
    """Preview producing FINISHED_UNIT (nothing is written); --save-plan saves the plan."""
    check_plan_target(save_plan)
    out = Out(fmt, output)
    writer = open_read(url, write=True)  # what-ifs need a writable bakery (rolled back)
    database_line(writer, out)
    with writer.what_if() as ws:
        result = ws.production.record(finished_unit, batches=batches)
    plan = ws.plan
    out.say(f"what-if: {number(result.quantity)} x {finished_unit} at "
            f"{number(result.per_unit_cost)} each (total {number(result.total_cost)}); "
            "nothing was written")
    out.frame(plan.summary(), "What-if plan", plan_id=plan.plan_id)
    out.close()
    if save_plan:
        write_plan(plan, save_plan, writer)


@command
def plan_show(file: Path, url: UrlOption = None, fmt: FormatOption = None,
              output: OutOption = None) -> None:
    """Show a saved plan: where it was made, what it will do, its summary, whether applied."""
    import bakekit

    out = Out(fmt, output)
    text = read_plan_file(file)
    bakery, why_not = existing_database(url)
    plan = bakekit.Plan.from_json(text, bakery)
    out.say(f"Plan {plan.plan_id}", bold=True)
    made_on = mask_url(plan.database_label)  # a plan file from before every form was masked
    out.say(f"  made {plan.made_at} on database {made_on}")
    out.say(f"  database id {plan.database_id}\n")
    lines = plan.describe()
    out.say(f"What it will do ({len(lines)} operation(s))", bold=True)
    for n, line in enumerate(lines, start=1):
        out.say(f"  {n}. {line}")
    out.say()
    applied: str
    if bakery is None:
        applied = why_not
    elif bakery.database_id != plan.database_id:
        applied = (f"not checked ({bakery.database_label}, id {bakery.database_id}, is not "
                   "the database the plan was made on)")
    else:
        when = plan.applied_at()
        applied = (f"yes, at {when:%Y-%m-%d %H:%M:%S} UTC to {bakery.database_label}"
                   if when is not None
                   else f"no (not yet applied to {bakery.database_label})")
    out.frame(plan.summary(), "Summary (as previewed)", plan_id=plan.plan_id,
              made_at=str(plan.made_at), database=made_on,
              operations=lines, applied=applied)
    out.close()
    out.say(f"applied: {applied}")


@command
def apply_plan(file: Path, url: UrlOption = None,
               allow_drift: Annotated[bool, typer.Option(
                   "--allow-drift", help="apply even if the stock of an item the plan "
                   "touches moved since the preview, as long as the plan writes the same "
                   "stock changes")] = False) -> None:
    """Apply a saved plan, once, on the database it was made on; refused, with nothing
    written, if the data moved since (--allow-drift waives moved stock alone). Exit codes:
    3 already applied, 4 another database, 5 stale, 6 an invalid plan file, 1 any other
    error."""
    import bakekit

    text = read_plan_file(file)
    writer = open_read(url, write=True)
    plan = bakekit.Plan.from_json(text, writer)
    rows = plan.apply(allow_drift=allow_drift)
    say(f"applied: plan {plan.plan_id} ({len(plan.describe())} operation(s), {len(rows)} "
         f"ledger row(s)) committed to {writer.database_label}", fg="green")
