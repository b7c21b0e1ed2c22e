"""The Piccolo engine built from the settings, and the one way to open a write transaction.

SQLite is the embedded default: WAL, ``synchronous=FULL`` (a tip whose receipt was
shown must survive power loss), a busy timeout, and every write transaction
opened ``IMMEDIATE`` so two writers queue instead of failing; inside one process
the writers queue on an asyncio lock and reuse long-lived connections
(:class:`TiplineSQLiteEngine`). PostgreSQL runs with a connection pool. Both pools
are opened and closed by :func:`open_pool`/:func:`close_pool` in the application's
lifespan and around CLI commands.

All table classes are bound to the engine by :func:`bind`, so one process can
serve one database chosen by its settings (and each test its own).

Hand-written SQL (the section of that name below) is the exception, and it goes through
this module only: :func:`fetch` (one statement, rows as dicts), :func:`insert_values`
(one multi-row ``INSERT``) and :func:`read_snapshot` (large reads in one snapshot,
rows as tuples), never ``Table.raw`` or a connection of one's own. It is allowed only
where Piccolo's query builder cannot say the statement (an aggregate over a join, a
PostgreSQL advisory lock) or where a measured speed needs it, with the measurement (a
``bench`` module, or the figures) named in a comment at the call site. One placeholder
style: ``{}``, as in Piccolo's ``raw``, translated once per statement to the driver's
``?`` or ``$n``; values are always parameters, only names from the code (tables,
columns) are put into the text. Nothing opens the SQLite file behind the engine's back
except :mod:`tipline.reliability.backup`, which copies it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import logging
import sqlite3
import threading
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable, Sequence
from types import TracebackType
from typing import Any, TypeVar

import aiosqlite
import asyncpg
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory
from piccolo.table import Table

from tipline import faults
from tipline.errors import StorageFull
from tipline.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")

BUSY_TIMEOUT_SECONDS = 30
# PostgreSQL: a statement waits at most this long for a row lock (the ledger head) before
# it fails (the writer gets an error, not an endless wait), and a session left inside a
# transaction doing nothing for longer is ended by the server, releasing its locks, even
# if the process that opened it is gone or lost track of it.
LOCK_TIMEOUT_MS = BUSY_TIMEOUT_SECONDS * 1000
IDLE_IN_TRANSACTION_TIMEOUT_MS = 60_000
POSTGRES_SERVER_SETTINGS = {
    "lock_timeout": str(LOCK_TIMEOUT_MS),
    "idle_in_transaction_session_timeout": str(IDLE_IN_TRANSACTION_TIMEOUT_MS),
}
# Read connections per event loop: enough for the pages and API reads of one worker
# on a small machine while a write transaction runs on its own connection.
READ_CONNECTIONS = 4
_WRITE_STATEMENTS = frozenset({"INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER"})


def _is_write(sql: str) -> bool:
    """True for a statement that takes SQLite's write lock (a ``WITH`` counts as a read)."""
    words = sql.lstrip().split(None, 1)
    return bool(words) and words[0].upper() in _WRITE_STATEMENTS


class _LoopState:
    """What binds to an event loop: the queue of writers and the read slots.

    asyncio locks belong to the loop that first waits on them, and the test suite
    (and the test client) runs several loops against one engine, so each loop has
    its own. Within a loop, writers queue in FIFO order on ``write_lock`` instead of
    polling SQLite's lock in the busy handler (where some starve for seconds).
    """

    def __init__(self) -> None:
        self.write_lock = asyncio.Lock()
        self.read_slots = asyncio.Semaphore(READ_CONNECTIONS)
        self.inline: sqlite3.Connection | None = None


class _Lease:
    """A connection handed out for one query or one transaction."""

    __slots__ = ("connection", "generation", "state", "write")

    def __init__(
        self, connection: aiosqlite.Connection, state: _LoopState, write: bool, generation: int
    ) -> None:
        self.connection = connection
        self.state = state
        self.write = write
        self.generation = generation


class TiplineSQLiteEngine(SQLiteEngine):
    """SQLite with long-lived connections and one queue of writers per process.

    Piccolo's engine opens a new aiosqlite connection (a new thread, and here four
    pragmas) for every query outside a transaction and for every transaction, and
    lets concurrent writers fight over SQLite's write lock with busy-handler sleeps:
    ~70 one-insert requests/s with a p99 of seconds at 64 connections, and a burst
    long enough would end in "database is locked" (a lost tip). Here:

    * write transactions (``IMMEDIATE``/``EXCLUSIVE``) and single write statements
      wait in FIFO order on an asyncio lock, then run on the writer connection;
      reads (single queries, ``DEFERRED`` transactions) run beside them on up to
      :data:`READ_CONNECTIONS` read connections (WAL lets readers and one writer
      work at once). SQLite's busy timeout still covers other processes (a CLI
      command next to the server).
    * with :meth:`open_pool` (the app's lifespan, the CLI), connections stay open
      and are reused; the pragmas run once per connection. Without it (the default,
      as for Piccolo's PostgreSQL engine without a pool, and for the engine Piccolo's
      migration commands build from ``piccolo_conf``), each lease opens a connection
      and closes it afterwards: the same queueing, nothing left open.
    * transactions are :class:`PooledSQLiteTransaction`, which overrides Piccolo's
      ``__aenter__``/``__aexit__`` (Piccolo's close the connection at the end) rather
      than wrapping the connection in a proxy whose ``close()`` returns it: a proxy
      would still leave a cancelled ``__aexit__`` (a client that disconnects during
      COMMIT) with its transaction open and the connection lost, while owning the
      exit lets a connection go back to the pool only once it is out of any
      transaction, rolled back in a task of its own when the caller was cancelled.
    * a query inside a transaction is one call to the connection's thread
      (``execute_fetchall``) instead of four (Piccolo re-runs ``PRAGMA foreign_keys``
      and opens, reads and closes a cursor each time).

    Connections are aiosqlite threads, which serve any event loop; only the locks
    are per loop (:class:`_LoopState`).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._mutex = threading.Lock()  # the idle lists are shared by every loop's thread
        self._idle_readers: list[aiosqlite.Connection] = []
        self._idle_writers: list[aiosqlite.Connection] = []
        self._pooling = False
        self._generation = 0
        self._states: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopState] = (
            weakref.WeakKeyDictionary()
        )
        self._background: set[asyncio.Task[None]] = set()
        self._committer: concurrent.futures.ThreadPoolExecutor | None = None
        self.open_connections = 0

    # --- connections ------------------------------------------------------------------

    async def _connect(self) -> aiosqlite.Connection:
        connection = aiosqlite.connect(**self.connection_kwargs)
        # A safety net: a connection left open (a loop torn down mid-cleanup) must not
        # keep the interpreter from exiting; SQLite's journal makes that a crash at
        # worst, never a half-written transaction.
        connection._thread.daemon = True
        await connection
        try:
            connection.row_factory = dict_factory  # type: ignore[assignment]
            await connection.execute("PRAGMA foreign_keys = 1")
            await connection.execute("PRAGMA synchronous = FULL")
            await connection.execute("PRAGMA secure_delete = ON")
            await connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_SECONDS * 1000}")
        except BaseException:
            self._spawn(connection.close())
            raise
        return connection

    def _count(self, change: int) -> None:
        with self._mutex:
            self.open_connections += change

    async def _close(self, connection: aiosqlite.Connection) -> None:
        """Close a leased connection (counted in :attr:`open_connections`)."""
        try:
            await connection.close()
        finally:
            self._count(-1)

    async def get_connection(self) -> aiosqlite.Connection:
        """A connection of its own for the caller to close (Piccolo's ``batch``)."""
        return await self._connect()

    def _state(self) -> _LoopState:
        loop = asyncio.get_running_loop()
        with self._mutex:
            state = self._states.get(loop)
            if state is None:
                state = self._states[loop] = _LoopState()
            return state

    def _spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run ``work`` to its end even if the task that needed it is cancelled."""
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background_done)
        return task

    def _background_done(self, task: asyncio.Task[None]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("closing a database connection failed", exc_info=task.exception())

    async def lease(self, write: bool) -> _Lease:
        """A connection for one query or transaction; the caller must :meth:`give_back`."""
        state = self._state()
        gate: asyncio.Lock | asyncio.Semaphore = state.write_lock if write else state.read_slots
        await gate.acquire()
        try:
            with self._mutex:
                idle = self._idle_writers if write else self._idle_readers
                connection = idle.pop() if idle else None
                generation = self._generation
            if connection is None:
                connection = await self._connect()
                self._count(+1)
        except BaseException:
            gate.release()
            raise
        return _Lease(connection, state, write, generation)

    def _release_gate(self, lease: _Lease) -> None:
        if lease.write:
            lease.state.write_lock.release()
        else:
            lease.state.read_slots.release()

    async def give_back(self, lease: _Lease, *, clean: bool) -> None:
        """Return the leased connection; ``clean=False`` after an error or cancellation.

        A connection that may be inside a transaction is rolled back first (the
        rollback queues behind whatever its thread is still running, so a cancelled
        COMMIT finishes or fails before it), in a task of its own, and the writers'
        lock is released only after that: the next writer gets a clean connection.
        """
        if clean:
            self._finish(lease)
            return
        await asyncio.shield(self._spawn(self._roll_back_and_finish(lease)))

    async def _roll_back_and_finish(self, lease: _Lease) -> None:
        try:
            await lease.connection.rollback()  # a no-op outside a transaction
        except BaseException as error:
            # Not reusable: closing it ends its transaction, whatever state it is in.
            self._release_gate(lease)
            await self._close(lease.connection)
            if not isinstance(error, Exception):
                raise
            log.warning("rollback failed; connection closed", exc_info=error)
            return
        self._finish(lease)

    def _finish(self, lease: _Lease) -> None:
        with self._mutex:
            keep = self._pooling and lease.generation == self._generation
            if keep:
                (self._idle_writers if lease.write else self._idle_readers).append(lease.connection)
        self._release_gate(lease)
        if not keep:
            self._spawn(self._close(lease.connection))

    async def open_pool(self) -> None:
        """Keep connections open for reuse until :meth:`close_pool`."""
        with self._mutex:
            self._pooling = True

    async def close_pool(self) -> None:
        """Close the idle connections; those in use are closed when given back."""
        with self._mutex:
            self._pooling = False
            self._generation += 1
            idle = self._idle_readers + self._idle_writers
            self._idle_readers, self._idle_writers = [], []
            inline = [state.inline for state in self._states.values() if state.inline is not None]
            for state in self._states.values():
                state.inline = None
        for raw in inline:
            raw.close()
        for connection in idle:
            await self._close(connection)
        loop = asyncio.get_running_loop()
        pending = [task for task in list(self._background) if task.get_loop() is loop]
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    # --- queries ----------------------------------------------------------------------

    async def _run_in_new_connection(
        self,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: type[Table] | None = None,
    ) -> Any:
        """A query outside a transaction, on a leased connection in autocommit mode."""
        lease = await self.lease(write=_is_write(query))
        clean = False
        try:
            rows = await self._run_in_existing_connection(
                lease.connection, query, args, query_type, table
            )
            clean = True
            return rows
        finally:
            await self.give_back(lease, clean=clean)

    async def _run_in_existing_connection(
        self,
        connection: aiosqlite.Connection,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: type[Table] | None = None,
    ) -> Any:
        if query_type == "insert" and self.get_version_sync() < 3.35:  # no RETURNING
            return await super()._run_in_existing_connection(
                connection, query, args, query_type, table
            )
        return list(await connection.execute_fetchall(query, args or []))

    def transaction(
        self,
        transaction_type: TransactionType = TransactionType.deferred,
        allow_nested: bool = True,
    ) -> PooledSQLiteTransaction:
        return PooledSQLiteTransaction(
            engine=self, transaction_type=transaction_type, allow_nested=allow_nested
        )

    # --- inline write transactions ----------------------------------------------------

    @property
    def inline_available(self) -> bool:
        """Inline transactions need the pool (a running server or CLI command)."""
        return self._pooling

    def _inline_connection(self, state: _LoopState) -> sqlite3.Connection:
        if state.inline is None:
            raw = sqlite3.connect(**{**self.connection_kwargs, "check_same_thread": False})
            raw.row_factory = dict_factory
            for pragma in (
                "foreign_keys = 1",
                "synchronous = FULL",
                "secure_delete = ON",
                "busy_timeout = 0",
            ):
                raw.execute(f"PRAGMA {pragma}")
            with self._mutex:
                state.inline = raw
        return state.inline

    @contextlib.asynccontextmanager
    async def inline_write_transaction(self) -> AsyncIterator[None]:
        """A write transaction whose statements run on the event loop's own thread.

        Why: under load, every ``await`` inside an ordinary transaction (one per
        statement, a dozen and more for a tip) lets the event loop run other requests'
        CPU work (parsing, sealing, rendering) before the transaction resumes, so a
        transaction of a few milliseconds holds the writers' lock for hundreds, and the
        lock, not the CPU, sets the rate. Here the queries go to a plain ``sqlite3``
        connection whose async methods finish without yielding, so the whole body
        (Piccolo queries, the custody event, the hooks) runs as one step of the loop.
        Only COMMIT, whose fsync may take milliseconds on a busy disk, runs on a
        thread of its own, and the writers' lock is released once it is done, even
        if the caller is cancelled meanwhile.

        Waiting for the writers' lock and for another *process* holding SQLite's
        write lock (``BEGIN IMMEDIATE`` is retried with short sleeps, never blocking
        the loop, for up to :data:`BUSY_TIMEOUT_SECONDS`) yields too. A body that
        awaits real I/O still works; it just holds the lock while it waits.
        """
        state = self._state()
        await state.write_lock.acquire()
        handed_over = False
        try:
            raw = self._inline_connection(state)
            await _begin_immediate(raw)
            transaction = InlineSQLiteTransaction(self, raw)
            token = self.current_transaction.set(transaction)
            try:
                yield
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    raw.execute("ROLLBACK")
                raise
            finally:
                self.current_transaction.reset(token)
            ending = self._spawn_result(self._commit_and_release(raw, state))
            handed_over = True
            await asyncio.shield(ending)
        finally:
            if not handed_over:
                state.write_lock.release()

    def _spawn_result(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    async def _commit_and_release(self, raw: sqlite3.Connection, state: _LoopState) -> None:
        try:
            if self._committer is None:
                self._committer = concurrent.futures.ThreadPoolExecutor(
                    max_workers=1, thread_name_prefix="tipline-sqlite-commit"
                )
            loop = asyncio.get_running_loop()
            try:
                await loop.run_in_executor(self._committer, raw.execute, "COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    raw.execute("ROLLBACK")
                raise
        finally:
            state.write_lock.release()


async def _begin_immediate(raw: sqlite3.Connection) -> None:
    """``BEGIN IMMEDIATE`` without a busy handler: when another process writes, sleep
    (yielding to the loop) and retry, as SQLite's busy timeout would, but without
    blocking the event loop."""
    deadline = asyncio.get_running_loop().time() + BUSY_TIMEOUT_SECONDS
    pause = 0.001
    while True:
        try:
            raw.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) and "busy" not in str(error):
                raise
            if asyncio.get_running_loop().time() >= deadline:
                raise
        await asyncio.sleep(pause)
        pause = min(pause * 2, 0.05)


class _InlineConnection:
    """The part of aiosqlite's connection that Piccolo's transactions and
    :class:`TiplineSQLiteEngine` call, over a ``sqlite3`` connection: every method is a
    coroutine that returns without suspending, so awaiting it never yields."""

    __slots__ = ("raw",)

    def __init__(self, raw: sqlite3.Connection) -> None:
        self.raw = raw

    async def execute(self, sql: str, parameters: Any = None) -> sqlite3.Cursor:
        return self.raw.execute(sql, parameters or [])

    async def execute_fetchall(self, sql: str, parameters: Any = None) -> list[Any]:
        return self.raw.execute(sql, parameters or []).fetchall()


class InlineSQLiteTransaction(SQLiteTransaction):
    """The current transaction inside :meth:`TiplineSQLiteEngine.inline_write_transaction`:
    nested transactions join it, savepoints work; begin and end belong to the engine."""

    def __init__(self, engine: TiplineSQLiteEngine, raw: sqlite3.Connection) -> None:
        super().__init__(engine=engine, transaction_type=TransactionType.immediate)
        self.connection = _InlineConnection(raw)


class PooledSQLiteTransaction(SQLiteTransaction):
    """Piccolo's transaction on a leased connection (see :class:`TiplineSQLiteEngine`).

    ``IMMEDIATE`` and ``EXCLUSIVE`` transactions are writers (queued on the writers'
    lock); ``DEFERRED`` ones are readers. Savepoints, nesting and manual
    commit/rollback are Piccolo's.
    """

    __slots__ = ("_lease",)
    engine: TiplineSQLiteEngine

    async def __aenter__(self) -> SQLiteTransaction:
        if self._parent is not None:
            return self._parent
        lease = await self.engine.lease(write=self.transaction_type is not TransactionType.deferred)
        try:
            self.connection = lease.connection
            await self.begin()
        except BaseException:
            await self.engine.give_back(lease, clean=False)
            raise
        self._lease = lease
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(
        self,
        exception_type: type[BaseException] | None,
        exception: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        if self._parent:
            return exception is None
        self.engine.current_transaction.reset(self.context)
        clean = False
        try:
            if exception is None and not self._committed and not self._rolled_back:
                await self.commit()
            elif exception is not None and not self._rolled_back:
                await self.rollback()
            clean = True
        finally:
            await self.engine.give_back(self._lease, clean=clean)
        return exception is None


class TiplinePostgresEngine(PostgresEngine):
    """PostgreSQL whose transactions always end: committed, or rolled back and the
    connection given back (or closed) even when the task that opened them is cancelled.

    Piccolo's ``PostgresTransaction`` releases its connection only after a rollback or
    commit that is itself cancellable: a request cancelled inside it (a client that
    went away, a timeout) could leave the connection checked out and "idle in
    transaction", still holding the ledger head's row lock, and every later writer
    then waited for ever. Here the end of a transaction runs in a task of its own that
    cancellation cannot interrupt (:class:`SafePostgresTransaction`), and every
    connection carries ``lock_timeout`` and ``idle_in_transaction_session_timeout``
    (:data:`POSTGRES_SERVER_SETTINGS`) so the server itself ends what a lost process
    left behind.
    """

    def __init__(self, config: dict[str, Any], **kwargs: Any) -> None:
        server_settings = {**POSTGRES_SERVER_SETTINGS, **config.get("server_settings", {})}
        super().__init__(config={**config, "server_settings": server_settings}, **kwargs)
        self._background: set[asyncio.Task[None]] = set()
        self._writer: PostgresWriter | None = None
        self._writer_mutex = threading.Lock()

    def writer(self) -> PostgresWriter | None:
        """The writer thread while the pool is open (a running server), else ``None``."""
        if self.pool is None:
            return None
        with self._writer_mutex:
            if self._writer is None:
                self._writer = PostgresWriter(self)
            return self._writer

    def close_writer(self) -> None:
        with self._writer_mutex:
            writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()

    def transaction(self, allow_nested: bool = True) -> SafePostgresTransaction:
        return SafePostgresTransaction(engine=self, allow_nested=allow_nested)

    def spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run ``work`` to its end even if the task that needed it is cancelled."""
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task


class PostgresWriter:
    """A thread with an event loop and a connection of its own, running hot write
    transactions (a tip's submission) one after another.

    Why: inside a worker's event loop, every statement of a transaction waits not only
    for PostgreSQL but for the loop to come back to it, after the CPU work of every
    other request that became ready meanwhile; a tip's transaction holds the ledger
    number's and the ledger head's row locks across a dozen such waits, so under load
    those locks, held for hundreds of milliseconds, set the rate for all workers. On
    this loop nothing else runs, so the locks are held for the round trips only.
    The caller's context variables do not cross over: the work gets its arguments
    through its closure.
    """

    def __init__(self, engine: TiplinePostgresEngine) -> None:
        self.engine = engine
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="tipline-postgres-writer", daemon=True
        )
        self.thread.start()
        self.connection: asyncpg.Connection | None = None
        self._lock: asyncio.Lock | None = None

    async def _connect(self) -> asyncpg.Connection:
        config = self.engine.config
        return await asyncpg.connect(
            config["dsn"], server_settings=config.get("server_settings", {})
        )

    async def _run(self, work: Callable[[], Awaitable[Any]]) -> Any:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self.connection is None or self.connection.is_closed():
                self.connection = await self._connect()
            connection = self.connection
            transaction = PostgresTransaction(engine=self.engine)
            transaction.connection = connection
            token = self.engine.current_transaction.set(transaction)
            try:
                async with connection.transaction():
                    return await work()
            except (asyncpg.InterfaceError, OSError, asyncpg.ConnectionDoesNotExistError):
                self.connection = None
                with contextlib.suppress(Exception):
                    connection.terminate()
                raise
            finally:
                self.engine.current_transaction.reset(token)

    async def run(self, work: Callable[[], Awaitable[Any]]) -> Any:
        """``work()`` in one transaction on the writer's loop; a cancelled caller does
        not cancel it (the transaction commits or rolls back on its own)."""
        future = asyncio.run_coroutine_threadsafe(self._run(work), self.loop)
        return await asyncio.shield(asyncio.wrap_future(future))

    def close(self) -> None:
        async def close_connection() -> None:
            if self.connection is not None and not self.connection.is_closed():
                with contextlib.suppress(Exception):
                    await self.connection.close(timeout=5)
            self.connection = None

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(close_connection(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        if not self.thread.is_alive():
            self.loop.close()


class SafePostgresTransaction(PostgresTransaction):
    """A transaction whose end (commit or rollback, then release) cannot be abandoned."""

    engine: TiplinePostgresEngine

    async def __aenter__(self) -> PostgresTransaction:
        if self._parent is not None:
            return self._parent
        self.connection = await self.get_connection()
        try:
            self.transaction = self.connection.transaction()
            await self.begin()
        except BaseException:
            await asyncio.shield(self.engine.spawn(self._discard()))
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(
        self,
        exception_type: type[BaseException] | None,
        exception: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        if self._parent:
            return exception is None
        self.engine.current_transaction.reset(self.context)
        if exception is None and not self._committed and not self._rolled_back:
            try:
                await self.commit()
            except BaseException:
                # A failed or interrupted COMMIT: whatever the server did, the connection
                # must not go back to the pool inside a transaction.
                await asyncio.shield(self.engine.spawn(self._discard()))
                raise
            await asyncio.shield(self.engine.spawn(self._release()))
        elif exception is not None and not self._rolled_back:
            await asyncio.shield(self.engine.spawn(self._roll_back_and_release()))
        else:
            await asyncio.shield(self.engine.spawn(self._release()))
        return exception is None

    async def _release(self) -> None:
        if self.engine.pool is not None:
            await self.engine.pool.release(self.connection)
        else:
            await self.connection.close()

    async def _roll_back_and_release(self) -> None:
        try:
            await self.rollback()
        except BaseException as error:
            self._terminate()
            await self._release()
            if not isinstance(error, Exception):
                raise
            log.warning("rollback failed; connection closed", exc_info=error)
            return
        await self._release()

    async def _discard(self) -> None:
        """Close the connection (the server rolls back whatever it was inside)."""
        self._terminate()
        await self._release()

    def _terminate(self) -> None:
        # A connection the server dropped is already detached from its pool proxy.
        with contextlib.suppress(asyncpg.InterfaceError):
            self.connection.terminate()


def make_engine(settings: Settings) -> Engine[Any]:
    """The engine the settings ask for (a SQLite file in the data dir by default).

    Every process that serves or changes the data comes through here, so this is where
    a test-only fault switch without ``TIPLINE_TESTING`` stops it (see ``faults``).
    """
    faults.check()
    if settings.is_sqlite:
        path = settings.sqlite_path
        path.parent.mkdir(parents=True, exist_ok=True)
        _enable_wal(str(path))
        return TiplineSQLiteEngine(path=str(path), timeout=BUSY_TIMEOUT_SECONDS)
    assert settings.database_url is not None
    return TiplinePostgresEngine(config={"dsn": settings.database_url})


def _enable_wal(path: str) -> None:
    """WAL persists in the file, so setting it once per start is enough."""
    connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
    finally:
        connection.close()


_current: Engine[Any] | None = None


def bind(engine: Engine[Any], tables: Iterable[type[Table]] | None = None) -> None:
    """Make every table class (of all Piccolo apps) use ``engine``."""
    global _current
    _current = engine
    for table in tables if tables is not None else all_tables():
        table._meta.db = engine


def engine() -> Engine[Any]:
    """The engine bound by :func:`bind`."""
    if _current is None:
        raise RuntimeError("no database bound: call tipline.db.bind(make_engine(settings)) first")
    return _current


def is_postgres() -> bool:
    return isinstance(engine(), PostgresEngine)


@contextlib.asynccontextmanager
async def write_transaction(*, inline: bool = False) -> AsyncIterator[None]:
    """One atomic write: everything inside commits together or not at all.

    On SQLite the transaction is ``IMMEDIATE`` (it takes the write lock at once, so a
    read that later writes cannot fail with "database is locked"). Nested calls join
    the outer transaction. A full disk is :class:`~tipline.errors.StorageFull`
    (a 503), after the rollback.

    ``inline=True`` is for short, hot write transactions (a tip's submission): on a
    pooled SQLite engine the body runs without yielding to the event loop
    (:meth:`TiplineSQLiteEngine.inline_write_transaction`); PostgreSQL and unpooled
    engines take the ordinary path. The body must not wait on other requests.
    """
    current = engine()
    if current.current_transaction.get() is not None:
        yield
        return
    transaction: Any
    if inline and isinstance(current, TiplineSQLiteEngine) and current.inline_available:
        transaction = current.inline_write_transaction()
    elif isinstance(current, SQLiteEngine):
        transaction = current.transaction(transaction_type=TransactionType.immediate)
    else:
        transaction = current.transaction()
    try:
        async with transaction:
            yield
    except Exception as error:
        if is_disk_full(error):
            log.error("the disk is full: a write transaction was rolled back")
            raise StorageFull() from error
        raise


async def run_write_transaction(work: Callable[[], Awaitable[T]]) -> T:
    """``await work()`` as one write transaction on the fastest path the engine has.

    For hot, short transactions (a tip's submission) whose body needs nothing from the
    caller's context but its closure: on a pooled SQLite engine the body runs inline
    (:meth:`TiplineSQLiteEngine.inline_write_transaction`), on PostgreSQL with an open
    pool on the writer thread (:class:`PostgresWriter`), otherwise as an ordinary
    :func:`write_transaction`. Inside an open transaction it simply joins it.
    """
    current = engine()
    if current.current_transaction.get() is None and isinstance(current, TiplinePostgresEngine):
        writer = current.writer()
        if writer is not None:
            try:
                result: T = await writer.run(work)
            except Exception as error:
                if is_disk_full(error):
                    log.error("the disk is full: a write transaction was rolled back")
                    raise StorageFull() from error
                raise
            return result
    async with write_transaction(inline=True):
        return await work()


# --- hand-written SQL (see the module's docstring for when) ------------------------------


@functools.cache
def _placeholders(sql: str, postgres: bool) -> str:
    """``sql`` with Piccolo's ``{}`` placeholders as the driver's own (``?`` or ``$n``)."""
    if not postgres:
        return sql.replace("{}", "?")
    first, *rest = sql.split("{}")
    return first + "".join(f"${number}{piece}" for number, piece in enumerate(rest, start=1))


async def fetch(table: type[Table], sql: str, *args: Any) -> list[dict[str, Any]]:
    """Run one fixed statement (``{}`` placeholders, as in Piccolo's ``raw``) and return
    its rows as dicts.

    Why not ``table.raw``: a tip's submission runs a dozen such statements while the
    ledger's write lock is held, and Piccolo's query objects cost several times what
    SQLite takes to run them. Inside a hot transaction (SQLite inline, the PostgreSQL
    writer) the statement goes straight to the transaction's connection, its SQL
    translated once; anywhere else it is ``table.raw``.
    """
    transaction = engine().current_transaction.get()
    if isinstance(transaction, InlineSQLiteTransaction):
        cursor = transaction.connection.raw.execute(_placeholders(sql, False), args)
        return cursor.fetchall()
    if isinstance(transaction, PostgresTransaction) and isinstance(
        transaction.connection, asyncpg.Connection
    ):
        records = await transaction.connection.fetch(_placeholders(sql, True), *args)
        return [dict(record) for record in records]
    return list(await table.raw(sql, *args))


@functools.cache
def _insert_sql(tablename: str, columns: tuple[str, ...], rows: int) -> str:
    one = "(" + ", ".join("{}" for _ in columns) + ")"
    return (
        f"INSERT INTO {tablename} ({', '.join(columns)}) VALUES "  # noqa: S608
        + ", ".join(one for _ in range(rows))
    )


async def insert_values(
    table: type[Table], columns: tuple[str, ...], rows: Sequence[Sequence[Any]]
) -> None:
    """One multi-row ``INSERT`` of plain values (column names from the code, never from
    input), through :func:`fetch`, so it joins the current transaction.

    For the statements of a tip's submission: Piccolo builds an ``insert`` from table
    instances in about ten times the time SQLite takes to run it, and that time is
    spent while the ledger's write lock is held. Every column without a database
    default must be named.
    """
    if not rows:
        return
    sql = _insert_sql(table._meta.tablename, columns, len(rows))
    await fetch(table, sql, *(value for row in rows for value in row))


Read = Callable[..., Awaitable[list[tuple[Any, ...]]]]


@contextlib.asynccontextmanager
async def read_snapshot() -> AsyncIterator[Read]:
    """``read(sql, *args)``: fixed statements (``{}`` placeholders) whose rows come back
    as plain tuples, all reading one snapshot of the database, for reads too large for
    Piccolo's per-row processing (``verify`` over a million events).

    SQLite: one read transaction on a read connection leased from the engine (it
    counts against :data:`READ_CONNECTIONS` and queues like any read), its rows without
    Piccolo's row factory; columns come back converted by their declared types as on
    every engine connection, so a caller that wants SQLite's stored text selects an
    expression (``+occurred_at``). PostgreSQL: a read-only ``REPEATABLE READ``
    transaction on a connection of the pool (or a new one). A ``read`` may be awaited
    while the caller works on the rows of the previous one; it must be done before the
    block ends.
    """
    current = engine()
    if isinstance(current, TiplineSQLiteEngine):
        lease = await current.lease(write=False)
        connection = lease.connection
        clean = False
        try:
            connection.row_factory = None
            await connection.execute("BEGIN")

            async def read_sqlite(sql: str, *args: Any) -> list[tuple[Any, ...]]:
                rows = await connection.execute_fetchall(_placeholders(sql, False), args)
                return rows  # type: ignore[return-value]

            yield read_sqlite
            await connection.execute("COMMIT")
            clean = True
        finally:
            connection.row_factory = dict_factory  # type: ignore[assignment]
            await current.give_back(lease, clean=clean)
        return
    if not isinstance(current, PostgresEngine):
        raise TypeError(f"read_snapshot does not know {type(current).__name__}")
    pool = current.pool
    pg = await (pool.acquire() if pool is not None else current.get_new_connection())
    try:
        async with pg.transaction(isolation="repeatable_read", readonly=True):

            async def read_postgres(sql: str, *args: Any) -> list[tuple[Any, ...]]:
                return [tuple(row) for row in await pg.fetch(_placeholders(sql, True), *args)]

            yield read_postgres
    finally:
        if pool is not None:
            await pool.release(pg)
        else:
            await pg.close()


def is_disk_full(error: BaseException) -> bool:
    """SQLite's SQLITE_FULL ("database or disk is full"), or an I/O error from a full
    disk, and PostgreSQL's disk_full (53100)."""
    text = str(error)
    return (
        "database or disk is full" in text
        or "No space left on device" in text
        or getattr(error, "sqlstate", None) == "53100"
        or getattr(error, "errno", None) == 28  # ENOSPC
    )


async def open_pool() -> None:
    """Keep database connections open for reuse (the app's lifespan, CLI commands)."""
    current = engine()
    if isinstance(current, PostgresEngine):
        await current.start_connection_pool(max_size=20)
    elif isinstance(current, TiplineSQLiteEngine):
        await current.open_pool()


async def close_pool() -> None:
    """Close the pool if one is open (tests close it early; closing twice is harmless)."""
    current = engine()
    if isinstance(current, TiplinePostgresEngine):
        await asyncio.to_thread(current.close_writer)
    if isinstance(current, PostgresEngine) and current.pool is not None:
        await current.close_connection_pool()
    elif isinstance(current, TiplineSQLiteEngine):
        await current.close_pool()


def is_missing_table(error: BaseException) -> bool:
    """True for "no such table" (SQLite) and undefined_table (PostgreSQL 42P01)."""
    return "no such table" in str(error) or getattr(error, "sqlstate", None) == "42P01"


async def check_database() -> bool:
    """True when a trivial query answers: what ``/health`` reports."""
    try:
        await engine().run_ddl("SELECT 1")
    except Exception:
        return False
    return True


def all_tables() -> list[type[Table]]:
    """Every table class of every Piccolo app, in dependency order."""
    from tipline.registry import APP_REGISTRY

    tables: list[type[Table]] = []
    for app_config in APP_REGISTRY.app_configs.values():
        tables.extend(app_config.table_classes)
    return tables


async def create_all_tables() -> None:
    """Create the schema directly (tests); production uses ``tipline migrate``."""
    from piccolo.table import create_db_tables

    await create_db_tables(*sort_by_dependency(all_tables()), if_not_exists=True)


def sort_by_dependency(tables: list[type[Table]]) -> list[type[Table]]:
    from piccolo.table import sort_table_classes

    return sort_table_classes(tables)
