"""Password hashing runs in at most HASHING_THREADS threads at once, so the event loop keeps its share."""

import threading
import time

import anyio
import pytest

from services.kit import passwords
from services.kit.passwords import PasswordHasher

pytestmark = pytest.mark.anyio


@pytest.fixture(name="hasher")
def fx_hasher():
    return PasswordHasher(memory_kib=1024, time_cost=1, parallelism=1)


async def test_no_more_hashes_run_at_once_than_the_limit(hasher, monkeypatch):
    monkeypatch.setattr(passwords, "HASHING_THREADS", 2)
    running, peak, lock = 0, 0, threading.Lock()
    real = hasher._argon2

    class Watched:
        """Argon2 that notes how many hashes run at once."""

        def hash(self, password):
            nonlocal running, peak
            with lock:
                running += 1
                peak = max(peak, running)
            time.sleep(0.02)
            with lock:
                running -= 1
            return real.hash(password)

        def verify(self, stored, password):
            return real.verify(stored, password)

    monkeypatch.setattr(hasher, "_argon2", Watched())
    hashes = []

    async def one(n):
        hashes.append((n, await hasher.hash(f"password-{n}")))

    async with anyio.create_task_group() as group:
        for n in range(8):
            group.start_soon(one, n)
    assert peak == 2
    assert all([await hasher.verify(stored, f"password-{n}") for n, stored in hashes])


async def test_a_wrong_password_and_an_unknown_user_are_refused(hasher):
    stored = await hasher.hash("right-password")
    assert not await hasher.verify(stored, "wrong-password")
    assert not await hasher.verify(None, "right-password")
