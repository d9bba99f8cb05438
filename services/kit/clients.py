"""The client's address: the peer's, unless the peer is a configured proxy (``TEAMMOA_TRUSTED_PROXIES``).

Only then does ``X-Forwarded-For`` count, read from the right: the first address that is not itself a
trusted proxy is the client. A client that sets the header itself, straight to a service or to the
embedded server, changes nothing. Entries are addresses or networks (``10.0.0.0/8``); the default is
none, and the stack, compose and Kubernetes configure the address of their Nginx.

``ForwardedMiddleware`` rewrites ``scope["client"]`` once, so every limit per address (sign-in,
availability checks, join guesses) sees the same address in every mode.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_proxies(entries: Iterable[str]) -> tuple[Network, ...]:
    networks = []
    for entry in entries:
        entry = entry.strip()
        if entry:
            networks.append(ipaddress.ip_network(entry, strict=False))
    return tuple(networks)


def _trusted(address: str, proxies: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def client_of(peer: str, forwarded_for: str | None, proxies: tuple[Network, ...]) -> str:
    """The client address of a request from ``peer`` carrying ``X-Forwarded-For``."""
    if not proxies or not forwarded_for or not _trusted(peer, proxies):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, proxies):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # garbage from the proxy's own client: keep the proxy's view
    return hops[0] if hops else peer


def address(connection: HTTPConnection, default: str = "unknown") -> str:
    """The client's address as ``ForwardedMiddleware`` left it (the key of every per-address limit)."""
    return connection.client.host if connection.client else default


class ForwardedMiddleware:
    """Set ``scope["client"]`` to the real client when the peer is a trusted proxy; else leave the peer."""

    def __init__(self, app: ASGIApp, *, proxies: Iterable[str]) -> None:
        self.app, self.proxies = app, parse_proxies(proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and scope.get("client"):
            host, port = scope["client"]
            forwarded = None
            for key, value in scope.get("headers", []):
                if key == b"x-forwarded-for":
                    forwarded = value.decode("latin-1") if forwarded is None else f"{forwarded},{value.decode('latin-1')}"
            client = client_of(host, forwarded, self.proxies)
            if client != host:
                scope = dict(scope, client=(client, port))
        await self.app(scope, receive, send)
