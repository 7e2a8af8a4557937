"""The `bakekit` command: thin wrappers over library calls of the same name (Typer).

Start-up is kept light (``bakekit --help`` imports neither pandas nor SQLAlchemy): the
library is imported inside each command. Output rules, for people and for scripts:

- ``--format table`` (the default) prints for people; ``--format csv|json`` prints only
  the data on stdout (every message goes to stderr), and ``-o FILE`` writes it to a file,
  in the format its extension names (``.csv``, ``.json``, else a table).
- Every error is one or two lines on stderr, naming the file, row and field, and what to
  do; the exit codes are listed in :data:`EXIT_CODES`.
- Ctrl-C prints "interrupted: nothing was written" and exits 130 (every write commits
  whole or not at all).
"""

from __future__ import annotations

# Ctrl-C while this loads: bakekit/__init__ installed bakekit._early first
from bakekit.cli._app import (
    EXIT_ALREADY_APPLIED,
    EXIT_CODES,
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_INVALID,
    EXIT_STALE,
    EXIT_USAGE,
    EXIT_WRONG_DATABASE,
    app,
    plan_app,
    what_if_app,
)
from bakekit.cli._output import number  # noqa: F401 (re-exported)
from bakekit.cli.database import info, levels
from bakekit.cli.plans import apply_plan, demo, plan_show, what_if_produce
from bakekit.cli.reconcile import complete_kind, reconcile_file  # noqa: F401
from bakekit.cli.transfer import export_file, import_file, load_file

# The command table, in the order `bakekit --help` lists them.
app.command()(demo)
what_if_app.command("produce")(what_if_produce)
plan_app.command("show")(plan_show)
app.command("apply")(apply_plan)
app.command()(levels)
app.command()(info)
app.command("import")(import_file)
app.command("load")(load_file)
app.command("export")(export_file)
app.command("reconcile")(reconcile_file)

__all__ = ["EXIT_ALREADY_APPLIED", "EXIT_CODES", "EXIT_ERROR", "EXIT_INTERRUPTED",
           "EXIT_INVALID", "EXIT_STALE", "EXIT_USAGE", "EXIT_WRONG_DATABASE", "app"]
# also importable from here, for tests: complete_kind (--kind completion), number
