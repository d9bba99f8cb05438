"""The realtime service's routes: the WebSocket at ``/ws/`` and an internal statistics endpoint."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from services.kit.peers import require_service
from services.kit.responses import json

from . import channels, protocol
from .service import Realtime


async def socket(ws: WebSocket) -> None:
    """One browser tab's socket: authenticated by cookie, Origin checked, then frames until it closes."""
    rt: Realtime = ws.app.state.realtime
    admitted = await rt.admit(ws)
    if admitted is None:
        return
    user, expires_at = admitted
    await ws.accept()
    if not rt.accepting:
        await ws.close(protocol.TRY_AGAIN_LATER, "not accepting sockets right now")
        return
    if not rt.has_room_for(user):
        await ws.close(protocol.POLICY_VIOLATION, "too many sockets for this user")
        return
    conn = rt.open(ws, user, expires_at=expires_at)
    try:
        await conn.serve(lambda conn, text: channels.handle(rt, conn, text))
    finally:
        await rt.forget(conn)


async def stats(request: Request) -> JSONResponse:
    """This instance's sockets, channels and counters (service credential required)."""
    require_service(request)
    return json(request.app.state.realtime.snapshot_stats())


routes = [
    WebSocketRoute("/ws/", socket),
    Route("/internal/realtime/stats/", stats, methods=["GET"]),
]
