"""The one uvicorn command line every TeamMoa process runs with: the images, the local stack, benchmarks.

    python -m services.kit.serve [SERVICE] [--host 0.0.0.0] [--port 8000] [uvicorn option ...]

SERVICE is auth, teams, schedule, realtime or health (the health aggregator); without it, the
environment variable ``SERVICE`` names it (each image sets it from its build argument). The process
replaces itself with uvicorn (``exec``), so the container's stop signal reaches uvicorn directly.
Options after the service go to uvicorn as they are and win over the defaults below (e.g.
``--log-level warning``).

Why each flag:

- ``--proxy-headers``: the client address and scheme come from the gateway's ``X-Forwarded-*``;
  uvicorn trusts them only from ``FORWARDED_ALLOW_IPS`` (the gateway's address, set by compose/the stack).
- ``--timeout-graceful-shutdown 5``: on SIGTERM, finish in-flight requests, then close WebSockets with
  1012 (clients reconnect and resume), 5 s at most.
- ``--timeout-keep-alive 75``: longer than Nginx's upstream ``keepalive_timeout`` (60 s), so Nginx always
  closes an idle upstream connection first and never sends a request on one uvicorn is closing.
- ``--ws-max-size 65536``: the largest WebSocket frame a client may send.
- ``--ws-per-message-deflate false``: frames are small JSON; each socket's zlib state costs ~32 KiB and
  a compression per frame per subscriber (tools/bench/realtime_fanout.py: 69 → 37 KiB per idle socket).
- ``--ws services.kit.websocket:LeanWebSocketProtocol``: uvicorn's ``websockets-sansio``, which runs no
  protocol tasks per socket (the legacy ``websockets`` implementation runs three, and uvicorn deprecates
  it: 51 → 43 KiB per idle subscribed socket), minus the handshake it keeps for the socket's life
  (services/kit/websocket.py; tools/bench/realtime_fanout.py measures both).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

APPS = {
    "auth": "services.auth.app:create_app",
    "teams": "services.teams.app:create_app",
    "schedule": "services.schedule.app:create_app",
    "realtime": "services.realtime.app:create_app",
    "health": "gateway.health_aggregator:create_app",
}
PORT = 8000
GRACEFUL_SHUTDOWN_S = 5
KEEP_ALIVE_S = 75
WS_MAX_SIZE = 64 * 1024
WS_PER_MESSAGE_DEFLATE = False
WS_IMPLEMENTATION = "services.kit.websocket:LeanWebSocketProtocol"


def uvicorn_args(service: str, *, host: str = "0.0.0.0", port: int = PORT, extra: Sequence[str] = ()) -> list[str]:
    """uvicorn's arguments (after ``uvicorn``) for one process of ``service``; ``extra`` wins over the defaults."""
    if service not in APPS:
        raise ValueError(f"unknown service {service!r}: one of {', '.join(APPS)}")
    return [
        APPS[service],
        "--factory",
        "--host",
        host,
        "--port",
        str(port),
        "--proxy-headers",
        "--timeout-graceful-shutdown",
        str(GRACEFUL_SHUTDOWN_S),
        "--timeout-keep-alive",
        str(KEEP_ALIVE_S),
        "--no-access-log",
        "--ws-max-size",
        str(WS_MAX_SIZE),
        "--ws-per-message-deflate",
        str(WS_PER_MESSAGE_DEFLATE).lower(),
        "--ws",
        WS_IMPLEMENTATION,
        *extra,
    ]


def uvicorn_command(service: str, *, host: str = "0.0.0.0", port: int = PORT, extra: Sequence[str] = ()) -> list[str]:
    """The whole command line, with this interpreter (``python -m uvicorn ...``)."""
    return [sys.executable, "-m", "uvicorn", *uvicorn_args(service, host=host, port=port, extra=extra)]


def main(argv: Sequence[str]) -> None:
    args = list(argv)
    service = args.pop(0) if args and not args[0].startswith("-") else os.environ.get("SERVICE", "")
    if service not in APPS:
        raise SystemExit(__doc__)
    command = uvicorn_command(service, extra=args)
    os.execv(command[0], command)  # noqa: S606 - a fixed program: this interpreter running uvicorn


if __name__ == "__main__":
    main(sys.argv[1:])
