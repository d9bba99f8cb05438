"""Password hashing runs in at most HASHING_THREADS threads at once, so the event loop keeps its share."""

import os
import threading
import time

import anyio
import anyio.to_thread
import pytest

from services.kit import passwords
from services.kit.errors import Overloaded
from services.kit.passwords import PasswordHasher
from services.kit.settings import Settings

pytestmark = pytest.mark.anyio


@pytest.fixture(name="hasher")
def fx_hasher():
    return PasswordHasher(memory_kib=1024, time_cost=1, parallelism=1)


class Watched:
    """Argon2 that notes the most hashes that ran at once."""

    def __init__(self, real) -> None:
        self.real, self.running, self.peak, self.lock = real, 0, 0, threading.Lock()

    def hash(self, password):
        with self.lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
        time.sleep(0.02)
        with self.lock:
            self.running -= 1
        return self.real.hash(password)

    def verify(self, stored, password):
        return self.real.verify(stored, password)


def watched(hasher: PasswordHasher, monkeypatch) -> Watched:
    watch = Watched(hasher._argon2)
    monkeypatch.setattr(hasher, "_argon2", watch)
    return watch


async def test_no_more_hashes_run_at_once_than_the_limit(hasher, monkeypatch):
    monkeypatch.setattr(passwords, "HASHING_THREADS", 2)
    watch = watched(hasher, monkeypatch)
    hashes = []

    async def one(n):
        hashes.append((n, await hasher.hash(f"password-{n}")))

    async with anyio.create_task_group() as group:
        for n in range(8):
            group.start_soon(one, n)
    assert watch.peak == 2
    assert all([await hasher.verify(stored, f"password-{n}") for n, stored in hashes])


async def test_a_wrong_password_and_an_unknown_user_are_refused(hasher):
    stored = await hasher.hash("right-password")
    assert not await hasher.verify(stored, "wrong-password")
    assert not await hasher.verify(None, "right-password")


async def test_a_sign_in_beyond_the_bounded_hash_queue_is_refused_at_once(monkeypatch):
    """Every hashing thread busy and the queue full: the next hash is refused (503 + Retry-After), not queued."""
    monkeypatch.setattr(passwords, "HASHING_THREADS", 1)
    hasher = PasswordHasher(memory_kib=1024, time_cost=1, parallelism=1, max_waiting=0, max_wait_s=30)
    release, started = threading.Event(), threading.Event()
    real = hasher._argon2

    class Held:
        def hash(self, password):
            started.set()
            release.wait(30)
            return real.hash(password)

    monkeypatch.setattr(hasher, "_argon2", Held())
    async with anyio.create_task_group() as group:
        group.start_soon(hasher.hash, "first")
        await anyio.to_thread.run_sync(started.wait, 10)
        with pytest.raises(Overloaded) as refused:
            await hasher.hash("second")
        release.set()
    assert refused.value.headers == {"Retry-After": "1"}
    assert hasher.gate is not None and hasher.gate.active == 0


async def test_the_configured_number_of_threads_bounds_the_hashes_at_once(monkeypatch):
    monkeypatch.setattr(passwords, "HASHING_THREADS", 4)  # the default would allow four
    hasher = PasswordHasher(memory_kib=1024, time_cost=1, parallelism=1, threads=1)
    watch = watched(hasher, monkeypatch)
    async with anyio.create_task_group() as group:
        for n in range(6):
            group.start_soon(hasher.hash, f"password-{n}")
    assert watch.peak == 1


def test_a_sign_in_storm_may_take_half_the_cores_at_most():
    cores = os.cpu_count() or 1
    assert max(1, cores // 2) == passwords.HASHING_THREADS
    assert Settings("auth", {"TEAMMOA_HASH_THREADS": "3"}).hash_threads == 3
