"""Engine setup for SQLite (pragmas, pysqlite SAVEPOINT recipe) and PostgreSQL, and migration."""

from __future__ import annotations

import os
import re
import sqlite3
import uuid
import warnings
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from sqlalchemy import Connection, Engine, column, create_engine, event, select, table
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SAWarning
from sqlalchemy.pool import StaticPool

from bakekit.db import migrations
from bakekit.errors import BakekitError, DatabaseError, SchemaVersionError

if TYPE_CHECKING:  # pragma: no cover
    from alembic.config import Config

#: Alembic's script location as a package resource ("package:folder"), resolved through
#: importlib.resources wherever bakekit is installed, never through a repository path
MIGRATIONS = "bakekit.db:migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000
SUPPORTED_BACKENDS = ("sqlite", "postgresql")

# Quantities and money are exact on SQLite (db.exact.Exact: scaled integers); a plain
# Numeric expression there (a literal factor, a number() product) is a REAL converted to
# Decimal, which SQLAlchemy warns about once per type: known and accepted.
warnings.filterwarnings("ignore", message=".*does \\*not\\* support Decimal objects natively",
                        category=SAWarning)


def default_url() -> str:
    """The URL used when none is given: ``BAKEKIT_URL``, else bakery.db in the user data dir."""
    env = os.environ.get("BAKEKIT_URL")
    if env:
        return resolve_url(env)
    path = default_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    return resolve_url(str(path))


def default_path() -> Path:
    """Where the default SQLite database lives: bakery.db in the user's data folder
    (``platformdirs.user_data_dir("bakekit")``); nothing is created by asking.

    >>> default_path().name
    'bakery.db'
    """
    import platformdirs

    return Path(platformdirs.user_data_dir("bakekit", appauthor=False)) / "bakery.db"


#: a URL's ``user:password@``, as SQLAlchemy reads it (the password runs to the first @)
_USERINFO = re.compile(r"^([A-Za-z][\w+.-]*://[^:/?#@]*):[^@]*@")
#: query parameters that carry a secret (password, sslpassword, passwd, pwd, a token)
_SECRET_PARAM = re.compile(r"pass|pwd|secret|token", re.IGNORECASE)


def mask_url(url: str) -> str:
    """A database URL with every password masked (``***``): the ``user:password@`` form
    and query parameters such as ``?password=``, also in a URL that does not parse. The
    one rule for every URL bakekit prints or stores (messages, plan files, reprs).

    >>> mask_url("postgresql+psycopg://me:s3cret@db.example/bakery")
    'postgresql+psycopg://me:***@db.example/bakery'
    >>> mask_url("postgresql://me@db/bakery?sslmode=require&password=s3cret")
    'postgresql://me@db/bakery?sslmode=require&password=***'
    """
    text = _USERINFO.sub(r"\1:***@", str(url), count=1)
    base, mark, query = text.partition("?")
    if not mark:
        return text
    params = []
    for param in query.split("&"):
        key, equals, _ = param.partition("=")
        params.append(f"{key}=***" if equals and _SECRET_PARAM.search(key) else param)
    return f"{base}?{'&'.join(params)}"


def resolve_url(url: str | os.PathLike[str] | None) -> str:
    """Turn a SQLAlchemy URL, a SQLite path or ``":memory:"`` into a full URL string.

    ``":memory:"`` becomes a named, shared in-memory database, so that a second
    ``bakekit.open(bakery.url)`` in the same process reaches the same data.

    >>> resolve_url(":memory:").startswith("sqlite+pysqlite:///file:bakekit-")
    True
    """
    if url is None:
        return default_url()
    text = os.fspath(url)
    if text == ":memory:":
        return (f"sqlite+pysqlite:///file:bakekit-{uuid.uuid4().hex}"
                "?mode=memory&cache=shared&uri=true")
    if "://" not in text:
        path = Path(text).expanduser().resolve()
        return f"sqlite+pysqlite:///{path}"
    try:
        parsed = make_url(text)
    except (ArgumentError, ValueError):  # ValueError: a port that is no number, "[::1"
        raise BakekitError(f"url {mask_url(text)!r} is not a database URL (expected "
                           "sqlite:///PATH, postgresql://USER@HOST/DB or a file path)"
                           ) from None
    if parsed.drivername.split("+")[0] == "postgres":  # the form many hosts hand out
        driver = parsed.drivername.partition("+")[2] or "psycopg"
        parsed = parsed.set(drivername=f"postgresql+{driver}")
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED_BACKENDS:
        raise BakekitError(
            f"url {mask_url(text)!r}: unsupported database {backend!r} (use sqlite or "
            "postgresql)"
        )
    if backend == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _sqlite_path(url: URL) -> str | None:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return database


def create_bakery_engine(url: str, *, read_only: bool = False) -> Engine:
    """An Engine with bakekit's connection settings for the URL's backend."""
    parsed = make_url(url)
    try:
        if parsed.get_backend_name() == "sqlite":
            return _sqlite_engine(parsed, read_only=read_only)
        return _postgresql_engine(parsed, read_only=read_only)
    except NoSuchModuleError as exc:
        raise BakekitError(f"url {mask_url(url)!r}: no driver for it ({exc})") from None


def _read_only_file_system(folder: Path) -> bool:
    """Whether the folder is on a file system mounted read-only."""
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # no statvfs here
        return False


def _sqlite_engine(url: URL, *, read_only: bool) -> Engine:
    path = _sqlite_path(url)
    if path is not None:
        folder = Path(path).parent
        if not folder.is_dir():
            raise BakekitError(f"SQLite path {path!r}: folder {str(folder)!r} does not exist")
        if Path(path).exists() and not os.access(path, os.R_OK):
            raise BakekitError(f"SQLite path {path!r} is not readable")
        if Path(path).is_dir():
            raise BakekitError(f"SQLite path {path!r} is a folder, not a database file")
        if not read_only and _read_only_file_system(folder):
            raise BakekitError(f"SQLite path {path!r} is on a read-only file system: it can "
                               "be read (read_only=True; a read command) but not written")
        if read_only and Path(path).exists() and _read_only_file_system(folder):
            # a WAL database needs its -shm file beside it, which a read-only file system
            # cannot hold: read it as immutable (nothing can change it there)
            uri = f"file:{quote(str(Path(path).resolve()))}?mode=ro&immutable=1"
            engine = create_engine(url, creator=lambda: sqlite3.connect(
                uri, uri=True, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000, check_same_thread=False))
        else:
            engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
    else:
        engine = create_engine(url, poolclass=StaticPool,
                               connect_args={"check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        # pysqlite recipe: let SQLAlchemy, not the driver, emit BEGIN, so SAVEPOINTs work
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        if path is not None and not read_only:
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        if read_only:
            cursor.execute("PRAGMA query_only = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: object) -> None:
        # write transactions take the write lock up front; read-only ones don't need it
        wants_lock = not read_only and not conn.get_execution_options().get(  # type: ignore[attr-defined]
            "bakekit_read", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if wants_lock else "BEGIN")  # type: ignore[attr-defined]

    return engine


def _postgresql_engine(url: URL, *, read_only: bool) -> Engine:
    engine = create_engine(url, pool_pre_ping=True)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: object, _record: object) -> None:
        cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
        # a waiter gives up as SQLite's does (lock_not_available: retried, then
        # ConcurrencyError), never blocks without end
        cursor.execute(f"SET SESSION lock_timeout = {int(SQLITE_BUSY_TIMEOUT_MS)}")
        if read_only:
            cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        cursor.close()
        dbapi_connection.commit()  # type: ignore[attr-defined]

    return engine


def alembic_config(connection: object | None = None) -> Config:
    """The Alembic configuration of bakekit's migrations (bound to a connection if given)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest schema revision this bakekit knows (read from its revision files, or
    from Alembic where they do not name one head).

    >>> head_revision() == migrations.head()
    True
    """
    head = migrations.head()
    if head is None:
        from alembic.script import ScriptDirectory

        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


#: Alembic's version table and the identity row, by name: opening a database reads both
#: in one statement without importing the models (``tables.bakery_identity`` is the same
#: table; tests/test_startup.py checks that they agree)
_VERSION = table("alembic_version", column("version_num"))
_IDENTITY = table("bakery_identity", column("id"), column("database_id"))
_IDENTITY_ROW = select(_IDENTITY.c.database_id).where(_IDENTITY.c.id == 1)


def read_identity(conn: Connection) -> str | None:
    """The database id stored in ``bakery_identity`` (None if the row is missing)."""
    value = conn.execute(_IDENTITY_ROW).scalar()
    return None if value is None else str(value)


def read_schema(conn: Connection) -> tuple[str, str | None] | None:
    """The schema revision and the database identity in one statement, or None when the
    database is not plainly at one revision with the identity table in place (no schema
    yet, an old one, several version rows): the caller then asks Alembic. Leaves the
    connection outside any transaction."""
    statement = select(_VERSION.c.version_num,
                       _IDENTITY_ROW.scalar_subquery().label("database_id"))
    try:
        rows = conn.execute(statement).all()
    except DBAPIError:  # no such table yet; the transaction is rolled back below
        rows = []
    finally:
        conn.rollback()
    if len(rows) != 1 or rows[0][0] is None:
        return None
    revision, identity = rows[0]
    return str(revision), None if identity is None else str(identity)


def open_schema(engine: Engine, *, read_only: bool = False) -> tuple[str, str | None]:
    """Bring the schema to head (or check it, read-only); return the revision in force and
    the database identity as found (None when its row is missing or was not read).

    A database at head costs one statement and never loads Alembic; anything else (a new
    database, an older schema to upgrade, a newer one to refuse) goes through Alembic."""
    head = migrations.head()
    try:
        with engine.connect() as conn:
            found = read_schema(conn)
            if found is not None and head is not None and found[0] == head:
                return found
            return _migrate_with_alembic(conn, read_only=read_only), None
    except DBAPIError as exc:
        raise DatabaseError("opening the database (schema check and migration)", exc) from exc


def _migrate_with_alembic(conn: Connection, *, read_only: bool) -> str:
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    head = script.get_current_head()
    if conn.dialect.name == "postgresql" and not read_only:
        # one migrator at a time across processes; a migration waits for its
        # locks as long as it takes (no lock_timeout: it is not a write that retries)
        conn.exec_driver_sql("SET LOCAL lock_timeout = 0")
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(727274)")
    current = MigrationContext.configure(conn).get_current_revision()
    if current is not None and current != head:
        try:
            script.get_revision(current)
        except Exception:
            raise SchemaVersionError(
                f"the database is at schema revision {current!r}, newer than this "
                f"bakekit (head {head!r}): upgrade bakekit"
            ) from None
    if current == head:
        conn.rollback()
        return str(current)
    if read_only:
        state = ("has no bakekit schema yet" if current is None
                 else f"is at schema revision {current!r}, not {head!r}")
        raise SchemaVersionError(
            f"the database {state}; it cannot be created or migrated through a "
            "read-only bakery: open it once for writing (bakekit.open(url))"
        )
    if conn.dialect.name == "sqlite":
        _upgrade_sqlite(conn)
    else:
        command.upgrade(alembic_config(conn), "head")
    conn.commit()
    return head or ""


def _upgrade_sqlite(conn: Connection) -> None:
    """Upgrade a SQLite database with foreign-key enforcement off, as Alembic's batch mode
    needs: it copies a table, drops the old one and renames the copy, and with enforcement
    on, dropping a table that others point at (lots, ingredients) fails on a database that
    holds rows. The keys are checked once the schema is at head (PRAGMA foreign_key_check);
    any violation, or any error, rolls the whole migration back."""
    from alembic import command

    raw = conn.connection.dbapi_connection
    assert raw is not None
    conn.rollback()  # the pragma works only outside a transaction
    raw.execute("PRAGMA foreign_keys = OFF")
    try:
        command.upgrade(alembic_config(conn), "head")
        broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise SchemaVersionError(
                f"migrating to head would break {len(broken)} foreign key(s) (first: table "
                f"{broken[0][0]}, row {broken[0][1]} -> {broken[0][2]}); nothing was changed")
        conn.commit()
    except BaseException:
        if conn.in_transaction():
            conn.rollback()
        raise
    finally:
        raw.execute("PRAGMA foreign_keys = ON")
