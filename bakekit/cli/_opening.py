"""Which database and which files a command uses: opened read-only unless it writes,
never created by a read, removed again when a write that created it fails."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bakekit.cli._errors import plain
from bakekit.cli._output import Out, say, use_color
from bakekit.errors import BakekitError

if TYPE_CHECKING:  # pragma: no cover
    from bakekit.bakery import Bakery


# -- which database ----------------------------------------------------------------------
def given_url(url: str | None) -> str:
    """The URL a command will use (a full URL; the default path is not created)."""
    from bakekit.db.engine import default_path, resolve_url

    given = url or os.environ.get("BAKEKIT_URL")
    return resolve_url(given if given else str(default_path()))


def sqlite_file(url: str) -> Path | None:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or \
            parsed.database == ":memory:" or parsed.database.startswith("file:"):
        return None
    return Path(parsed.database)


def open_read(url: str | None, *, write: bool = False) -> Bakery:
    """An existing database, read-only unless `write`; a SQLite path that is not there is
    refused (and not created)."""
    import bakekit

    full = given_url(url)
    path = sqlite_file(full)
    if path is not None and not path.exists():
        if url or os.environ.get("BAKEKIT_URL"):
            source = "--url" if url else "$BAKEKIT_URL"
            raise BakekitError(
                f"no database at {path} ({source}); nothing was created. Check the path, or "
                "make one with `bakekit import FILE`, `bakekit load FILE` or `bakekit demo "
                "--path PATH`")
        raise BakekitError(
            f"no database yet at the default location {path}; nothing was created. First "
            "time? `bakekit import FILE` or `bakekit load FILE` creates it there; or give "
            "--url PATH, or set BAKEKIT_URL")
    return bakekit.open(full, read_only=not write)


class Writing:
    """A database opened for writing; a SQLite file created here is removed again if the
    command fails (a failed command leaves no new database behind)."""

    def __init__(self, url: str | None, out: Out | None = None):
        self.full = given_url(url)
        self.path = sqlite_file(self.full)
        self.out = out
        self.created = self.path is not None and not self.path.exists()

    def __enter__(self) -> Bakery:
        import bakekit

        if self.created and self.path is not None:
            from bakekit.db.engine import default_path

            if self.path == default_path().resolve():  # the user data folder, made once
                self.path.parent.mkdir(parents=True, exist_ok=True)
            say(f"creating a new database at {self.path}", err=True)
        self.bakery = bakekit.open(self.full)
        return self.bakery

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> None:
        bakery = getattr(self, "bakery", None)
        if bakery is not None:
            bakery.dispose()
        if kind is not None and self.created and self.path is not None:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(str(self.path) + suffix).unlink(missing_ok=True)
            if kind is not KeyboardInterrupt:
                say(f"(the new database {self.path} was removed again)", err=True)


class Working:
    """A spinner on stderr while long work runs, on a terminal only (never in a pipe, a
    file or a test)."""

    def __init__(self, what: str):
        self.what = what
        self.status: Any = None

    def __enter__(self) -> None:
        if sys.stderr.isatty() and os.environ.get("TERM") != "dumb":
            from rich.console import Console

            self.status = Console(stderr=True, no_color=not use_color()).status(self.what)
            self.status.__enter__()

    def __exit__(self, *exc: Any) -> None:
        if self.status is not None:
            self.status.__exit__(*exc)


def database_line(bakery: Bakery, out: Out | None = None) -> None:
    message = f"database: {bakery.database_label}"
    if out is None:
        say(message, err=True)
    else:
        out.say(message)


def check_plan_target(save_plan: Path | None) -> None:
    if save_plan is None:
        return
    if save_plan.is_dir():
        raise BakekitError(f"--save-plan {str(save_plan)!r} is a folder; give a file name")
    if not save_plan.parent.is_dir():
        raise BakekitError(f"--save-plan {str(save_plan)!r}: folder "
                           f"{str(save_plan.parent)!r} does not exist; create it first "
                           "(nothing was done)")


def write_plan(plan: Any, save_plan: Path, bakery: Bakery) -> None:
    try:
        save_plan.write_text(plan.to_json(), encoding="utf-8")
    except OSError as exc:
        raise BakekitError(f"--save-plan {str(save_plan)!r}: cannot write it: "
                           f"{exc.strerror or exc}") from None
    from bakekit.bakery import mask_url

    say(f"plan saved to {save_plan}; apply it with: bakekit apply {save_plan} "
         f"--url {mask_url(bakery.url)}", err=True)



def read_plan_file(file: Path) -> str:
    """A plan file's text, or a one-line error (exit 1) for a missing or unreadable file."""
    try:
        if str(file) == "-":
            return sys.stdin.read()
        if file.is_dir():
            raise BakekitError(f"plan file {str(file)!r} is a folder, not a file")
        return file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BakekitError(f"plan file {str(file)!r} does not exist") from None
    except UnicodeDecodeError as exc:
        raise BakekitError(f"plan file {str(file)!r} is not UTF-8 text ({exc.reason} at byte "
                           f"{exc.start})") from None
    except OSError as exc:
        raise BakekitError(f"plan file {str(file)!r} cannot be read: "
                           f"{exc.strerror or exc}") from None


def existing_database(url: str | None) -> tuple[Bakery | None, str]:
    """The database named by --url or $BAKEKIT_URL, opened read-only, or None and why not
    (never creates a database: a SQLite path that is not there is not opened)."""
    if not (url or os.environ.get("BAKEKIT_URL")):
        return None, "not checked (give --url or set BAKEKIT_URL to look it up)"
    try:
        return open_read(url), ""
    except BakekitError as exc:
        return None, f"not checked ({plain(str(exc))})"


# -- io: thin wrappers over ws.io -----------------------------------------------------
class Input:
    """A file argument ('-' reads stdin into a temporary file of the given suffix)."""

    def __init__(self, file: Path, suffix: str = ".json"):
        self.file, self.suffix = file, suffix
        self.temp: Path | None = None

    def __enter__(self) -> Path:
        if str(self.file) == "-":
            import tempfile

            data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") \
                else sys.stdin.read().encode()
            handle = tempfile.NamedTemporaryFile(suffix=self.suffix, delete=False)
            with handle:
                handle.write(data)
            self.temp = Path(handle.name)
            return self.temp
        if not self.file.exists():
            raise BakekitError(f"file {str(self.file)!r} does not exist")
        if self.file.is_dir():
            raise BakekitError(f"{str(self.file)!r} is a folder, not a file")
        return self.file

    def __exit__(self, *exc: Any) -> None:
        if self.temp is not None:
            self.temp.unlink(missing_ok=True)


