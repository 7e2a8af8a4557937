"""Files bakekit writes: whole or not at all (a temporary file beside the target, flushed
to disk, then renamed into place), and never over the database in use.

>>> from bakekit.files import write_atomic
>>> write_atomic(tmp / "levels.csv", "item,on_hand\\n")
>>> (tmp / "levels.csv").read_text()
'item,on_hand\\n'
"""

from __future__ import annotations

import errno
import glob
import os
import secrets
import stat
from collections.abc import Iterable
from pathlib import Path

from bakekit.errors import BakekitError

#: the files a SQLite database is made of, besides the database file itself
SQLITE_SUFFIXES = ("", "-wal", "-shm", "-journal")


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for another backend, memory or a ``file:`` URI).

    >>> sqlite_path("sqlite+pysqlite:////data/bakery.db")
    PosixPath('/data/bakery.db')
    >>> sqlite_path("postgresql+psycopg://me@db/bakery") is None
    True
    """
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - not a URL: no file of ours
        return None
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:" \
            or database.startswith("file:"):
        return None
    return Path(database)


def _same(a: Path, b: Path) -> bool:
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)  # a hard link to it
    except OSError:
        return False


def database_file(path: str | os.PathLike[str], urls: Iterable[str]) -> Path | None:
    """The database file (or one of its -wal, -shm, -journal files) that ``path`` names,
    among the SQLite databases of ``urls``; None when it names none of them.

    >>> database_file(tmp / "bakery.db-wal", [f"sqlite:///{tmp}/bakery.db"]).name
    'bakery.db-wal'
    """
    target = Path(path)
    for url in urls:
        db = sqlite_path(url)
        if db is None:
            continue
        for suffix in SQLITE_SUFFIXES:
            part = Path(str(db) + suffix)
            if _same(target, part):
                return part
    return None


def temporary_beside(path: Path, tag: str = "tmp") -> Path:
    """A new, unused hidden name in ``path``'s folder (same file system: a rename is atomic)."""
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.{tag}")


def _alive(pid: int) -> bool:
    """Whether a process with this id runs (on this machine)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def remove_leftovers(path: Path, tag: str = "tmp") -> list[Path]:
    """Remove what ``temporary_beside(path, tag)`` files of processes that no longer run
    left beside ``path`` (a ``kill -9`` mid-write; with a SQLite database's -wal, -shm and
    -journal); a live process's files are left alone. Returns the files removed.

    >>> stale = tmp / ".new.db.999999999.0a1b2c3d.new"; stale.touch()
    >>> [p.name for p in remove_leftovers(tmp / "new.db", "new")]
    ['.new.db.999999999.0a1b2c3d.new']
    """
    removed = []
    prefix = f".{path.name}."
    for found in path.parent.glob(f".{glob.escape(path.name)}.*.*.{tag}*"):
        rest = found.name[len(prefix):]
        pid, _, rest = rest.partition(".")
        token, _, suffix = rest.partition(".")
        if (not pid.isdigit() or len(token) != 8 or
                suffix not in [tag + s for s in SQLITE_SUFFIXES] or _alive(int(pid))):
            continue
        try:
            found.unlink()
        except FileNotFoundError:  # another process removed it first
            continue
        removed.append(found)
    return sorted(removed)


def write_atomic(path: str | os.PathLike[str], data: str | bytes, *,
                 databases: Iterable[str] = (), what: str = "output") -> None:
    """Write ``data`` to ``path`` whole or not at all: into a temporary file beside it,
    flushed to disk (fsync), then renamed over ``path``, so that a full disk, a kill or a
    crash leaves the old file as it was. Refused (``BakekitError``, nothing written) when
    ``path`` is the file of one of the ``databases`` (URLs). A symbolic link is followed
    (the file it points at is replaced); the file keeps its permissions. ``OSError`` (a
    folder, a missing folder, a full disk) is raised as it comes, for the caller to name."""
    target = Path(path)
    hit = database_file(target, databases)
    if hit is not None:
        raise BakekitError(f"{what} {str(path)!r} is the database in use ({hit}); give "
                           "another file name (nothing was written)")
    if target.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a folder; give a file name", str(path))
    target = target.resolve()
    raw = data.encode("utf-8") if isinstance(data, str) else data
    temp = temporary_beside(target)
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        try:
            view = memoryview(raw)
            while view:
                view = view[os.write(fd, view):]
            if target.exists():
                os.fchmod(fd, stat.S_IMODE(target.stat().st_mode))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _sync_folder(target.parent)


def _sync_folder(folder: Path) -> None:
    """Flush the folder's entry of a renamed file to disk (where the system allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
