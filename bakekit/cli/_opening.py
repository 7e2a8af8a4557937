"""Which database and which files a command uses: opened read-only unless it writes,
never created by a read, removed again when a write that created it fails."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bakekit.cli._errors import plain
from bakekit.cli._files import opened, using, will_write, write_output
from bakekit.cli._output import Out, say, use_color
from bakekit.errors import BakekitError
from bakekit.files import SQLITE_SUFFIXES

if TYPE_CHECKING:  # pragma: no cover
    from bakekit.bakery import Bakery


# -- which database ----------------------------------------------------------------------
def mask_url(url: str) -> str:
    from bakekit.db.engine import mask_url as mask

    return mask(url)


def resolve_url(url: str) -> str:
    from bakekit.db.engine import resolve_url as resolve

    return resolve(url)


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
    using(full)
    return opened(bakekit.open(full, read_only=not write))


class Writing:
    """A database opened for writing. A new SQLite file is built under a temporary name
    beside its path and renamed into place only when the command succeeds, and only if
    nothing appeared at the path meanwhile: a failed command leaves no new database behind
    and never removes one it did not make."""

    def __init__(self, url: str | None, out: Out | None = None):
        self.full = given_url(url)
        self.path = sqlite_file(self.full)
        self.out = out
        self.created = self.path is not None and not self.path.exists()
        self.label = mask_url(self.full)
        self.temp: Path | None = None

    def __enter__(self) -> Bakery:
        import bakekit
        from bakekit.files import remove_leftovers, temporary_beside

        using(self.full)
        target = self.full
        if self.created and self.path is not None:
            from bakekit.db.engine import default_path

            if self.path == default_path().resolve():  # the user data folder, made once
                self.path.parent.mkdir(parents=True, exist_ok=True)
            left = remove_leftovers(self.path.absolute(), "new")
            if left:
                say(f"removed {len(left)} file(s) left beside {self.path} by an earlier "
                    "command that was killed: " + ", ".join(p.name for p in left), err=True)
            say(f"creating a new database at {self.path}", err=True)
            self.temp = temporary_beside(self.path.absolute(), "new")
            target = resolve_url(str(self.temp))
            using(target)
        self.bakery = bakekit.open(target)
        return self.bakery

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> None:
        bakery = getattr(self, "bakery", None)
        if bakery is not None:
            bakery.dispose()
        if self.temp is None or self.path is None:
            return
        try:
            if kind is None:
                _put_in_place(self.temp, self.path)
        finally:
            for suffix in SQLITE_SUFFIXES:
                Path(str(self.temp) + suffix).unlink(missing_ok=True)
        if kind is not None and kind is not KeyboardInterrupt:
            say(f"(no database was created at {self.path})", err=True)


def _put_in_place(temp: Path, path: Path) -> None:
    """Move a finished new database to its path; refused if a file appeared there."""
    import sqlite3

    appeared = BakekitError(
        f"{path} appeared while this command ran (another process made it); it was left "
        "as it is, and what this command wrote was not kept")
    conn = sqlite3.connect(temp)  # the whole database in its one file, no -wal beside it
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    try:
        os.link(temp, path)  # fails if the path exists: never replaces a file
    except FileExistsError:
        raise appeared from None
    except OSError:  # no hard links on this file system: rename, after one more look
        if path.exists():
            raise appeared from None
        os.replace(temp, path)


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
    if save_plan is not None:
        will_write(save_plan, "--save-plan")


def write_plan(plan: Any, save_plan: Path, bakery: Bakery) -> None:
    write_output(save_plan, plan.to_json(), "--save-plan")
    say(f"plan saved to {save_plan}; apply it with: bakekit apply {save_plan} "
        f"--url {bakery.database_label}", err=True)


def read_plan_file(file: Path) -> str:
    """A plan file's text, or a one-line error (exit 1) for a missing or unreadable file."""
    try:
        if str(file) == "-":
            if sys.stdin is None:
                raise BakekitError("'-' reads standard input, which is closed; give a file")
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

            if sys.stdin is None:
                raise BakekitError("'-' reads standard input, which is closed; give a file")
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


