"""Database access over ``databases`` (SQLite embedded, MySQL/MariaDB in production) and Alembic.

Traps handled here (docs/dependencies.md): SQLite needs a file and a busy timeout; MySQL pools need a
bound and ``pool_recycle``; migrations run on their own connection before the pool opens;
``disconnect()`` is bounded by a timeout.
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
import weakref
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import aiosqlite
import sqlalchemy as sa
from databases import Database
from databases.interfaces import Record
from sqlalchemy.sql import ClauseElement

log = logging.getLogger("teammoa.db")
DISCONNECT_TIMEOUT_S = 5  # disconnect() can hang on MySQL after implicit DDL commits
SQLITE_WORKER_JOIN_S = 10
SQLITE_BUSY_TIMEOUT_S = 30
T = TypeVar("T")


def _scheme(url: str) -> str:
    return urlsplit(url).scheme.split("+")[0]


def is_sqlite(url: str) -> bool:
    return _scheme(url) == "sqlite"


def _with_scheme(url: str, scheme: str) -> str:
    return scheme + url[url.index(":") :]


ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "mysql": "mysql+aiomysql"}
KEPT_ASYNC_DRIVERS = ("mysql+asyncmy",)  # named explicitly in a URL: Cython, ~3x cheaper per row (docs/performance.md)


def async_url(url: str) -> str:
    """The URL ``databases`` connects with (aiosqlite / aiomysql, or asyncmy when the URL names it)."""
    scheme = urlsplit(url).scheme
    if scheme in KEPT_ASYNC_DRIVERS:
        return url
    return _with_scheme(url, ASYNC_DRIVERS.get(_scheme(url), _scheme(url)))


def sync_url(url: str) -> str:
    """The URL Alembic and admin tasks use (sqlite3 / PyMySQL)."""
    return _with_scheme(url, {"sqlite": "sqlite", "mysql": "mysql+pymysql"}.get(_scheme(url), _scheme(url)))


def _sqlite_file(url: str) -> Path:
    return Path(url[url.index(":///") + 3 :])


def make_database(url: str, *, pool_max: int = 10, force_rollback: bool = False) -> Database:
    """A ``databases`` handle with the right options for the backend."""
    if is_sqlite(url):
        _sqlite_file(url).parent.mkdir(parents=True, exist_ok=True)
        database = Database(async_url(url), force_rollback=force_rollback, timeout=SQLITE_BUSY_TIMEOUT_S)
        _track_sqlite_workers(database)
        return database
    return Database(
        async_url(url),
        force_rollback=force_rollback,
        minsize=1,
        maxsize=pool_max,
        pool_recycle=3600,
        charset="utf8mb4",
        connect_timeout=5,
    )


class _SQLiteWorkers:
    """Every aiosqlite connection a ``databases`` SQLite pool opened and has not seen closed.

    Each aiosqlite connection runs a worker thread that hands results back with
    ``loop.call_soon_threadsafe``. When a task is cancelled while it waits for a query (or for the
    connection's close, which anyio's level-triggered cancellation also cancels), the thread goes on
    and later reports to the loop — if that loop has been closed meanwhile, the thread dies with
    "Event loop is closed" (aiosqlite issue #241). ``join`` stops what is still open and waits for
    every worker, so no thread outlives the database's lifespan.
    """

    def __init__(self) -> None:
        self.open: set[aiosqlite.Connection] = set()

    async def join(self) -> None:
        threads: list[threading.Thread] = []
        for connection in list(self.open):
            if connection._connection is not None and connection._running:  # never closed: stop it
                connection.stop()
            threads.append(connection._thread)
        self.open.clear()

        def wait() -> None:
            for thread in threads:
                if thread.is_alive():
                    thread.join(SQLITE_WORKER_JOIN_S)

        await asyncio.to_thread(wait)


_SQLITE_WORKERS: weakref.WeakKeyDictionary[Database, _SQLiteWorkers] = weakref.WeakKeyDictionary()


def _track_sqlite_workers(database: Database) -> None:
    """Route the SQLite pool's acquire/release through ``_SQLiteWorkers`` (databases 0.9's SQLitePool)."""
    pool = database._backend._pool  # databases builds its backend dynamically: Any
    workers = _SQLiteWorkers()

    async def acquire() -> aiosqlite.Connection:
        connection = aiosqlite.connect(database=pool._database, isolation_level=None, **pool._options)
        workers.open.add(connection)  # before its thread starts: a cancelled connect is tracked too
        await connection.__aenter__()
        return connection

    async def release(connection: aiosqlite.Connection) -> None:
        await connection.close()
        workers.open.discard(connection)

    pool.acquire, pool.release = acquire, release
    _SQLITE_WORKERS[database] = workers


def ensure_database(url: str) -> None:
    """Create the MySQL database named in the URL when it is missing (SQLite creates its file)."""
    if is_sqlite(url):
        _sqlite_file(url).parent.mkdir(parents=True, exist_ok=True)
        return
    parts = urlsplit(sync_url(url))
    name = parts.path.lstrip("/")
    server = sa.create_engine(urlunsplit(parts._replace(path="/")))
    with server.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
    server.dispose()


def migrate(url: str, script_location: Path) -> None:
    """Bring the database to the newest revision of the service's own Alembic history."""
    from alembic import command
    from alembic.config import Config

    ensure_database(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    cfg.set_main_option("sqlalchemy.url", sync_url(url).replace("%", "%%"))
    command.upgrade(cfg, "head")


def run_migrations_env(target_metadata: sa.MetaData) -> None:
    """The body of every service's ``migrations/env.py`` (online mode only)."""
    from alembic import context

    url = context.config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("the Alembic configuration names no sqlalchemy.url (run migrations through kit.db.migrate)")
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=connection.dialect.name == "sqlite"
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


async def connect(url: str, *, script_location: Path | None, auto_migrate: bool, pool_max: int) -> Database:
    """Migrate (when asked) on a separate connection, then open the pool."""
    if auto_migrate and script_location is not None:
        await asyncio.to_thread(migrate, url, script_location)
    database = make_database(url, pool_max=pool_max)
    await database.connect()
    if is_sqlite(url):
        await database.execute("PRAGMA journal_mode=WAL")
    return database


async def disconnect(database: Database) -> None:
    try:
        await asyncio.wait_for(database.disconnect(), DISCONNECT_TIMEOUT_S)
    except (TimeoutError, Exception) as exc:  # shutting down: log, never hang
        log.warning("database disconnect did not finish cleanly: %r", exc)
    workers = _SQLITE_WORKERS.get(database)
    if workers is not None:
        await workers.join()


async def ping(database: Database) -> None:
    await database.fetch_val("SELECT 1")


def cell(row: Record, column: str, kind: type[T]) -> T:
    """One column of a result row, checked to be a ``kind``: ``databases`` rows are untyped.

    Reads the processed value from the row's mapping (what attribute access returns, without the
    per-read column lookup); a value of another type is a schema mismatch and raises TypeError.
    """
    value = row._mapping[column]
    if not isinstance(value, kind):
        raise TypeError(f"column {column!r} holds {type(value).__name__}, not {kind.__name__}")
    return value


async def one_row(database: Database, query: ClauseElement) -> Record:
    """The row of a query that always yields one (an aggregate without GROUP BY, a row just written)."""
    row = await database.fetch_one(query)
    if row is None:
        raise LookupError("the query yielded no row")
    return row


def cell_or_none(row: Record, column: str, kind: type[T]) -> T | None:
    """A nullable column of a result row: None, or checked to be a ``kind``."""
    value = row._mapping[column]
    if value is not None and not isinstance(value, kind):
        raise TypeError(f"column {column!r} holds {type(value).__name__}, not {kind.__name__}")
    return value


MYSQL_DEADLOCK = 1213  # ER_LOCK_DEADLOCK: InnoDB rolled the transaction back; running it again is safe
DEADLOCK_ATTEMPTS = 4


def is_deadlock(exc: BaseException) -> bool:
    return bool(getattr(exc, "args", None)) and exc.args[0] == MYSQL_DEADLOCK


async def in_transaction(database: Database, work: Callable[[], Awaitable[T]], *, attempts: int = DEADLOCK_ATTEMPTS) -> T:
    """Run ``work()`` in one transaction, again when InnoDB picked it as a deadlock victim."""
    for attempt in range(1, attempts + 1):
        try:
            async with database.transaction():
                return await work()
        except Exception as exc:
            if not is_deadlock(exc) or attempt == attempts:
                raise
            await asyncio.sleep(random.uniform(0, 0.02 * attempt))  # jitter, not a secret
    raise AssertionError("unreachable")


class Prepared:
    """A Core SELECT compiled once per dialect and run on the driver's own cursor: rows as plain tuples.

    ``databases`` compiles every statement on every call (~0.1 ms) and wraps each row in a Record;
    for the few statements every request runs (the membership check) that is most of their cost. The
    statement's parameters are ``sa.bindparam`` names given as keywords to ``fetch_one``/``fetch_all``.
    Values come back as SQLAlchemy would give them (its result processors are applied: SQLite's dates,
    MySQL's booleans). Inside a transaction the transaction's connection is used, as with ``databases``.
    """

    def __init__(self, statement: sa.Select[Any]) -> None:
        self.statement = statement
        self._compiled: dict[int, tuple[str, tuple[str, ...] | None, dict[str, Any], list[Any]]] = {}

    def _compile(self, db: Database) -> tuple[str, tuple[str, ...] | None, dict[str, Any], list[Any]]:
        dialect = db._backend._dialect  # the dialect (and paramstyle) databases itself compiles for
        found = self._compiled.get(id(dialect))
        if found is None:
            compiled = self.statement.compile(dialect=dialect)
            positions = tuple(compiled.positiontup) if compiled.positiontup else None
            binds = {name: proc for name, proc in compiled._bind_processors.items() if proc is not None}
            results = [col.type._cached_result_processor(dialect, None) for col in self.statement.selected_columns]
            found = self._compiled[id(dialect)] = (compiled.string, positions, binds, results)
        return found

    async def fetch_all(self, db: Database, **params: Any) -> list[tuple[Any, ...]]:
        sql, positions, binds, results = self._compile(db)
        values = {name: (binds[name](value) if name in binds else value) for name, value in params.items()}
        args: Any = [values[name] for name in positions] if positions is not None else values
        async with db.connection() as connection:
            raw = connection.raw_connection
            if is_sqlite(str(db.url)):
                async with raw.execute(sql, args) as cursor:
                    rows = await cursor.fetchall()
            else:
                async with raw.cursor() as cursor:
                    await cursor.execute(sql, args)
                    rows = await cursor.fetchall()
        if any(results):
            return [tuple(p(v) if p else v for p, v in zip(results, row, strict=True)) for row in rows]
        return [tuple(row) for row in rows]

    async def fetch_one(self, db: Database, **params: Any) -> tuple[Any, ...] | None:
        rows = await self.fetch_all(db, **params)
        return rows[0] if rows else None
