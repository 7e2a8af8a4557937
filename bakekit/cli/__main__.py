"""``python -m bakekit.cli``: the `bakekit` command."""

from bakekit.cli import app

app()
