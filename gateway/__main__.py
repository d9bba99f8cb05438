"""``python -m gateway``: run the embedded TeamMoa (what ``make run`` does)."""

from __future__ import annotations

import argparse
import os
from typing import Any

import uvicorn

from services.kit import serve


def main() -> None:
    parser = argparse.ArgumentParser(description="Run TeamMoa in one process (SQLite, in-memory broker).")
    parser.add_argument("--host", default=os.environ.get("TEAMMOA_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("TEAMMOA_PORT", "8000")))
    args = parser.parse_args()
    os.environ.setdefault("TEAMMOA_SITE_URL", f"http://{args.host}:{args.port}")
    if args.host == "127.0.0.1":
        origins = {f"http://127.0.0.1:{args.port}", f"http://localhost:{args.port}"}
        os.environ.setdefault("TEAMMOA_ALLOWED_ORIGINS", ",".join(sorted(origins)))
    print(
        f"TeamMoa is starting on http://{args.host}:{args.port}/  (data in {os.environ.get('TEAMMOA_DATA_DIR', 'var')}/)",
        flush=True,
    )
    uvicorn.run("gateway.embedded:create_app", factory=True, host=args.host, port=args.port, **server_options())


def server_options() -> dict[str, Any]:
    """How the embedded server runs: the images' settings (services/kit/serve.py), shared with the tests
    that serve it over real sockets."""
    return {
        "log_level": "warning",
        "timeout_graceful_shutdown": serve.GRACEFUL_SHUTDOWN_S,
        "timeout_keep_alive": serve.KEEP_ALIVE_S,
        "ws_max_size": serve.WS_MAX_SIZE,
        "ws_per_message_deflate": serve.WS_PER_MESSAGE_DEFLATE,
        # No proxy in front: X-Forwarded-* never counts here. TEAMMOA_TRUSTED_PROXIES (kit.clients)
        # decides, in every mode, whose forwarded headers are believed.
        "proxy_headers": False,
    }


if __name__ == "__main__":
    main()
