"""`bakekit import`, `load` and `export`: thin wrappers over ws.io."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bakekit.cli._app import EXIT_USAGE, FormatOption, OutOption, UrlOption
from bakekit.cli._errors import command, fail
from bakekit.cli._files import will_write, write_stdout
from bakekit.cli._opening import Input, Working, Writing, open_read
from bakekit.cli._output import Out, say
from bakekit.errors import ValidationError

if TYPE_CHECKING:  # pragma: no cover
    from bakekit.results import ImportReport


@command
def import_file(file: Annotated[Path, typer.Argument(help="a bake-tracker JSON file, or "
                                                      "'-' for stdin")],
                url: UrlOption = None,
                duplicates: Annotated[str, typer.Option(
                    help="a key given twice with differing rows: refuse, first or last")]
                = "refuse",
                zero_price: Annotated[str, typer.Option(
                    help="a price of 0: unknown (not known yet: uncosted) or zero")]
                = "unknown",
                fmt: FormatOption = None, output: OutOption = None) -> None:
    """Import a bake-tracker export (v3.x or v4.x) or catalog and commit; prints the report,
    every field it did not use, and its notes."""
    from bakekit.io.bake_tracker import DUPLICATES, ZERO_PRICES  # heavy: not for --help

    out = Out(fmt, output)
    for option, value, allowed in (("--duplicates", duplicates, DUPLICATES),
                                   ("--zero-price", zero_price, ZERO_PRICES)):
        if value not in allowed:  # a usage error, before any database is opened
            fail(f"{option} {value}: not one of {', '.join(allowed)}", EXIT_USAGE)
    if file.suffix.lower() in (".csv", ".tsv", ".xlsx", ".xls"):
        raise ValidationError(
            f"{str(file)!r} is a {file.suffix[1:].upper()} file; `import` reads bake-tracker "
            f"JSON. For a price list, purchases or stock count use: bakekit reconcile {file}"
            " --kind prices|purchases|inventory_count")
    writing = Writing(url, out)
    with Input(file) as path, writing as bakery:
        out.say(f"database: {writing.label}")
        with bakery.session() as ws, Working(f"importing {file}"):
            report = ws.io.import_bake_tracker(path, duplicates=duplicates,
                                               zero_price=zero_price)
            ws.commit()
    out.frame(report.frame, f"Imported {file} into {writing.label}")
    out.close()
    _notes(report, out)


def _notes(report: ImportReport, out: Out) -> None:
    """What an import read but did not use, and what it decided for the user."""
    notes = []
    if report.zero_prices:
        notes.append(f"{report.zero_prices} price(s) of 0 read as not known yet "
                     "(--zero-price zero keeps a real zero)")
    if report.uncosted_lots:
        notes.append(f"{report.uncosted_lots} lot(s) without a price (uncosted: a later "
                     "price list or purchases view fills them)")
    if report.identical_rows:
        notes.append(f"{report.identical_rows} row(s) given twice, identically: counted once")
    for entity, fields in report.unknown_fields.items():
        notes.append(f"not used from {entity}: {', '.join(fields)}")
    if notes:
        out.say("Notes", bold=True)
        for note in notes:
            out.say(f"  {note}")
        out.say()


@command
def load_file(file: Annotated[Path, typer.Argument(help="a bakekit JSON export, or '-' "
                                                    "for stdin")],
              url: UrlOption = None, fmt: FormatOption = None,
              output: OutOption = None) -> None:
    """Load bakekit's own export (`bakekit export`) into an empty database and commit."""
    out = Out(fmt, output)
    writing = Writing(url, out)
    with Input(file) as path, writing as bakery:
        out.say(f"database: {writing.label}")
        with bakery.session() as ws, Working(f"loading {file}"):
            report = ws.io.load(path)
            ws.commit()
    out.frame(report.frame, f"Loaded {file} into {writing.label}")
    out.close()


@command
def export_file(file: Annotated[Path, typer.Argument(help="the JSON file to write, or '-' "
                                                      "for stdout")],
                url: UrlOption = None) -> None:
    """Write the whole database to a bakekit JSON file."""
    if str(file) != "-":
        will_write(file, "export:")
    bakery = open_read(url)
    if str(file) == "-":
        import tempfile

        with tempfile.TemporaryDirectory() as folder:
            temp = Path(folder) / "export.json"
            with bakery.session() as ws:
                counts = ws.io.export(temp)
            write_stdout(temp.read_bytes())
        say(f"exported {sum(counts.values()):,} rows from {bakery.database_label}",
            err=True)
        return
    with bakery.session() as ws, Working(f"exporting to {file}"):
        counts = ws.io.export(file)
    say(f"exported {sum(counts.values()):,} rows from {bakery.database_label} to {file}")
