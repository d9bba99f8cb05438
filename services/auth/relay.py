"""Tell the teams service about deactivated accounts, reliably.

Deactivation writes a ``pending_deactivations`` row in the same transaction as the anonymisation;
this relay delivers each row to ``POST /internal/users/{id}/deactivated`` (idempotent on the teams
side) and deletes it only after a 2xx, retrying with backoff otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import sqlalchemy as sa
from starlette.applications import Starlette

from .tables import pending_deactivations

log = logging.getLogger("teammoa.auth.relay")
RETRY_INTERVAL_S = 30.0


class DeactivationRelay:
    def __init__(self, app: Starlette) -> None:
        self.app = app
        self._wake = asyncio.Event()
        self.pending = 0  # after the last round (the backlog metric; an alert when it stays above 0)

    def wake(self) -> None:
        self._wake.set()

    async def deliver_pending(self) -> int:
        """Deliver every pending deactivation once; return how many remain."""
        state = self.app.state
        rows = await state.db.fetch_all(pending_deactivations.select().order_by(pending_deactivations.c.created_at))
        remaining = 0
        for row in rows:
            try:
                response = await state.peers.request("teams", "POST", f"/internal/users/{row['user_id']}/deactivated")
                delivered = response.status_code < 300
            except Exception as exc:  # teams down: keep the row, retry later
                log.warning("deactivation of user %s not delivered yet: %r", row["user_id"], exc)
                delivered = False
            if delivered:
                await state.db.execute(
                    pending_deactivations.delete().where(pending_deactivations.c.user_id == row["user_id"])
                )
            else:
                remaining += 1
                await state.db.execute(
                    pending_deactivations.update()
                    .where(pending_deactivations.c.user_id == row["user_id"])
                    .values(attempts=pending_deactivations.c.attempts + 1)
                )
        self.pending = remaining
        return remaining

    async def run(self) -> None:
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), RETRY_INTERVAL_S)
            self._wake.clear()
            try:
                await self.deliver_pending()
            except Exception as exc:  # the database may be briefly down: try again next round
                log.warning("deactivation relay round failed: %r", exc)

    async def count(self) -> int:
        return int(await self.app.state.db.fetch_val(sa.select(sa.func.count()).select_from(pending_deactivations)))
