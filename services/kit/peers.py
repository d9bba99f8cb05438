"""Service-to-service calls over httpx: short timeouts, retries only where nothing can apply twice.

In embedded mode every peer is reached in-process through an ASGI transport; otherwise over HTTP at
``TEAMMOA_<SERVICE>_URL``. Calls carry the service credential and the current request id.
"""

from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

import httpx
from starlette.requests import HTTPConnection

from .errors import NotAuthenticated, Unavailable
from .observability import request_id_var
from .settings import Settings

SERVICE_TOKEN_HEADER = "x-teammoa-service-token"  # noqa: S105 - a header name
# Fail fast: a peer that is overloaded refuses at once (kit.admission), so an answer slower than this
# means it is stuck; the caller answers 503 + Retry-After well inside the 2 s a client should wait.
TIMEOUT = httpx.Timeout(1.5, connect=0.5)
CONNECT_RETRIES = 2
RETRY_DELAY_S = 0.1


LOST_CONNECTION = (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


async def send(client: httpx.AsyncClient, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """One call with the retries that cannot apply anything twice.

    Connect failures are retried (nothing was sent); a kept-alive connection that the other side closed
    under an idempotent request (a proxy reload does that) is retried once on a fresh connection.
    """
    lost_retried = False
    attempt = 0
    while True:
        try:
            return await client.request(method, path, **kwargs)
        except httpx.ConnectError:
            if attempt == CONNECT_RETRIES:
                raise
            attempt += 1
            await asyncio.sleep(RETRY_DELAY_S * attempt)
        except LOST_CONNECTION:
            if lost_retried or method.upper() not in IDEMPOTENT:
                raise
            lost_retried = True


K = TypeVar("K")
V = TypeVar("V")


class Peers:
    """One httpx client per peer service."""

    def __init__(self, settings: Settings, transports: Mapping[str, httpx.AsyncBaseTransport] | None = None) -> None:
        self._token = str(settings.service_token)
        self._clients: dict[str, httpx.AsyncClient] = {}
        for name, url in settings.peer_urls.items():
            transport = (transports or {}).get(name)
            base = "http://embedded" if transport is not None else url
            limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)
            self._clients[name] = httpx.AsyncClient(base_url=base, transport=transport, timeout=TIMEOUT, limits=limits)

    async def request(self, service: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Call a peer; connect failures are retried, then reported as Unavailable."""
        headers = {SERVICE_TOKEN_HEADER: self._token, **kwargs.pop("headers", {})}
        if rid := request_id_var.get():
            headers["x-request-id"] = rid
        try:
            return await send(self._clients[service], method, path, headers=headers, **kwargs)
        except httpx.TimeoutException:
            raise Unavailable(f"The {service} service did not answer in time.") from None
        except httpx.TransportError:
            raise Unavailable(f"The {service} service cannot be reached.") from None

    async def get_json(self, service: str, path: str, **kwargs: Any) -> Any:
        response = await self.request(service, "GET", path, **kwargs)
        if response.status_code >= 500:
            raise Unavailable(f"The {service} service failed.")
        response.raise_for_status()
        return response.json()

    async def aclose(self) -> None:
        await asyncio.gather(*(client.aclose() for client in self._clients.values()))


def require_service(conn: HTTPConnection) -> None:
    """Internal endpoints accept only callers holding the service credential."""
    given = conn.headers.get(SERVICE_TOKEN_HEADER, "")
    expected = str(conn.app.state.settings.service_token)
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise NotAuthenticated("Service credential required.")


class TTLCache(Generic[K, V]):
    """A small time-bounded cache for read-mostly peer answers (membership, profiles)."""

    def __init__(self, ttl_s: float, max_items: int = 10_000) -> None:
        self.ttl_s, self.max_items = ttl_s, max_items
        self._items: dict[K, tuple[float, V]] = {}

    def get(self, key: K) -> V | None:
        hit = self._items.get(key)
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1]

    def set(self, key: K, value: V) -> None:
        if len(self._items) >= self.max_items:
            now = time.monotonic()
            self._items = {k: v for k, v in self._items.items() if v[0] >= now}
            if len(self._items) >= self.max_items:
                self._items.clear()
        self._items[key] = (time.monotonic() + self.ttl_s, value)

    def drop(self, key: K) -> None:
        self._items.pop(key, None)

    def drop_where(self, predicate: Callable[[K], bool]) -> None:
        self._items = {k: v for k, v in self._items.items() if not predicate(k)}
