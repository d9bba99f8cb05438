"""uvicorn's sans-I/O WebSocket protocol, without the handshake it keeps for the socket's whole life.

uvicorn's ``websockets-sansio`` implementation stores the upgrade request and its 101 response on the
protocol object and never reads them again once the socket is accepted, and websockets' parser keeps
the request in its generator's frame for the socket's life: their headers cost ~5 KiB per socket, for as
long as the socket is open. A realtime instance holds thousands of idle sockets, so this subclass lets
them go once they are used (``tools/bench/realtime_fanout.py``). The ASGI scope keeps its own copy of
the headers for the app. Everything else (frames, keep-alive pings, closing) is uvicorn's;
``services/kit/serve.py`` names this class as uvicorn's ``--ws``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

if TYPE_CHECKING:
    from uvicorn._types import ASGISendEvent
    from websockets.http11 import Request


class LeanWebSocketProtocol(WebSocketsSansIOProtocol):
    """``websockets-sansio`` that forgets the handshake once the socket is accepted or refused."""

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        del self.request  # never read again: the ASGI scope carries what the app reads of it
        event.headers.clear()  # the parser's frame still holds the request; its headers are the weight

    async def send(self, message: ASGISendEvent) -> None:
        await super().send(message)
        if message["type"] == "websocket.accept" and self.handshake_complete:
            del self.response  # sent; uvicorn reads it only to send the 101
