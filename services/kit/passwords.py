"""Argon2id hashing off the event loop, with a dummy hash so unknown users cost the same time.

At most ``HASHING_THREADS`` hashes run at once (half the cores, at least one; ``TEAMMOA_HASH_THREADS``):
Argon2 releases the GIL, so forty threads hashing together (anyio's default pool) would leave the event
loop a fortieth of the CPU and a burst of sign-ins would stall every other request of the process,
accepting connections included. And a sign-in storm must not take the whole machine from the services
beside it: with a hash on every core, the users still signing in after an overload kept both cores
busy and the board page waited 0.5 s in the teams services for 15 s (``make bench``'s overload
stage). One thread hashes 50 sign-ins a second at OWASP's cost on this kind of CPU. Queued hashes wait
their turn instead.

The queue is bounded too (``kit.admission.Gate``): at most ``max_waiting`` hashes wait, none longer
than ``max_wait_s`` counted from when its request reached the gateway; beyond that a sign-in is
refused at once with 503 + ``Retry-After`` (``Overloaded``) instead of joining a queue that would
take a minute to drain.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar, TypeVarTuple

import anyio
import anyio.to_thread
from argon2 import PasswordHasher as _Argon2
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from .admission import Gate, waited_s

if TYPE_CHECKING:
    from .settings import Settings

T = TypeVar("T")
Args = TypeVarTuple("Args")
HASHING_THREADS = max(1, (os.cpu_count() or 1) // 2)
MAX_WAITING = 32  # hashes waiting for a thread (TEAMMOA_HASH_QUEUE)
MAX_WAIT_S = 1.0  # the longest a hash waits for a thread before the request is refused (TEAMMOA_HASH_WAIT_MS)


class PasswordHasher:
    def __init__(
        self,
        *,
        memory_kib: int,
        time_cost: int,
        parallelism: int,
        max_waiting: int = MAX_WAITING,
        max_wait_s: float = MAX_WAIT_S,
        threads: int = 0,
    ) -> None:
        self._argon2 = _Argon2(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=Type.ID)
        self._dummy = self._argon2.hash("teammoa-dummy-password")
        self.max_waiting, self.max_wait_s = max_waiting, max_wait_s
        self.threads = threads  # 0: HASHING_THREADS
        # per event loop: the threads' limiter and the bounded queue in front of it
        self._limiter: tuple[asyncio.AbstractEventLoop, anyio.CapacityLimiter, Gate] | None = None

    async def _run(self, function: Callable[[*Args], T], *args: *Args) -> T:
        loop = asyncio.get_running_loop()
        if self._limiter is None or self._limiter[0] is not loop:
            threads = self.threads or HASHING_THREADS
            gate = Gate(threads, max_waiting=self.max_waiting, max_wait_s=self.max_wait_s)
            self._limiter = (loop, anyio.CapacityLimiter(threads), gate)
        _, limiter, gate = self._limiter
        # Overloaded when the queue is full or the wait runs out, counted from the request's arrival
        async with gate.slot(self.max_wait_s - waited_s()):
            return await anyio.to_thread.run_sync(function, *args, limiter=limiter)

    @property
    def gate(self) -> Gate | None:
        """The bounded queue of the current event loop (None before the first hash)."""
        return self._limiter[2] if self._limiter else None

    @classmethod
    def from_settings(cls, settings: Settings) -> PasswordHasher:
        return cls(
            memory_kib=settings.argon2_memory_kib,
            time_cost=settings.argon2_time_cost,
            parallelism=settings.argon2_parallelism,
            max_waiting=settings.hash_queue,
            max_wait_s=settings.hash_wait_s,
            threads=settings.hash_threads,
        )

    async def hash(self, password: str) -> str:
        """Hash a password in a worker thread."""
        return await self._run(self._argon2.hash, password)

    def _verify(self, stored: str, password: str) -> bool:
        try:
            return self._argon2.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    async def verify(self, stored: str | None, password: str) -> bool:
        """Check a password; with no stored hash, spend the same time and answer no."""
        if stored is None:
            await self._run(self._verify, self._dummy, password + "\0")
            return False
        return await self._run(self._verify, stored, password)
