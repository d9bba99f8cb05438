"""No aiosqlite worker thread outlives the database it belongs to.

A task cancelled while it waits for a SQLite query leaves the connection's worker thread running;
when it finished after the event loop had closed, it died with "Event loop is closed" — which the
warnings filter turned into an error of whichever test was running (a flaky ``make test``).
"""

from __future__ import annotations

import asyncio
import threading
import time

import anyio

from services.kit import db as kit_db

# About a second of work for SQLite: the cancelled query is still running when the loop closes.
SLOW_QUERY = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 4000000) SELECT count(*) FROM c"


def test_a_query_cancelled_at_shutdown_does_not_outlive_the_loop(tmp_path, monkeypatch):
    died: list[BaseException | None] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: died.append(args.exc_value))
    before = set(threading.enumerate())

    async def serve_then_shut_down() -> None:
        database = await kit_db.connect(
            f"sqlite:///{tmp_path / 'app.db'}", script_location=None, auto_migrate=False, pool_max=1
        )
        async with anyio.create_task_group() as tasks:  # like a request still running at shutdown
            tasks.start_soon(database.fetch_val, SLOW_QUERY)
            await anyio.sleep(0.05)
            tasks.cancel_scope.cancel()
        await kit_db.disconnect(database)

    asyncio.run(serve_then_shut_down())  # closes the loop
    deadline = time.monotonic() + 30
    for thread in set(threading.enumerate()) - before:
        thread.join(max(0.0, deadline - time.monotonic()))
    assert died == []
    assert not [thread for thread in set(threading.enumerate()) - before if thread.is_alive()]
