"""The local multi-process stack: every service as its own uvicorn process behind the real Nginx,
on the machine's MariaDB and Redis, in production mode.

    python -m tools.stack up        migrate, start everything, wait until /health/ is 200
    python -m tools.stack status    which processes run, and each part's health
    python -m tools.stack down      stop exactly the processes ``up`` started
    python -m tools.stack migrate   create the databases and apply the migrations only
    python -m tools.stack stop SVC  stop every instance of one service (auth, teams, schedule, realtime, health)
    python -m tools.stack start SVC start the stopped instances of one service again, wait until they are healthy

A rolling restart of the running stack, one instance at a time without a failed request, is
``python -m tools.stack.rolling_restart``.

Two teams and two realtime instances run behind the gateway; teams instances share one files
directory. Migrations are a separate step (``python -m services.kit.migrate``), never run by the
instances (``TEAMMOA_AUTO_MIGRATE=false``). Everything lives in the data directory: the service
credential (``service-token``), ``stack.json`` (ports, pids), ``logs/``, ``mail/`` (the outbox,
unless ``TEAMMOA_SMTP_HOST`` is set), ``files/`` and the rendered ``nginx/``.

Environment: TEAMMOA_GATEWAY_PORT (8080), TEAMMOA_DATA_DIR (var/stack), TEAMMOA_STACK_BASE_PORT
(gateway port + 1; the stack uses 19 ports from there: 11, a spare port for each
single-instance process, which a rolling restart moves to and back, Nginx's status page for its
exporter, and 4 for the optional monitoring), TEAMMOA_STACK_MONITORING (false: true also starts
Prometheus and the exporters, tools/monitor.py), TEAMMOA_STACK_DATABASE_URL
(mysql://root@127.0.0.1:3306), TEAMMOA_STACK_DB_PREFIX (teammoa_stack_), TEAMMOA_STACK_REDIS_URL
(redis://127.0.0.1:6379/0), TEAMMOA_REDIS_PREFIX (teammoa-stack:); any other TEAMMOA_* variable is
passed to the services as it is.
"""

from __future__ import annotations

import os
import sys

from .config import UPSTREAMS, Config
from .lifecycle import down, migrate, start_group, status, stop_group, up


def main(argv: list[str]) -> int:
    commands_with_group = ("stop", "start")
    if not (
        (len(argv) == 1 and argv[0] in ("up", "down", "status", "migrate"))
        or (len(argv) == 2 and argv[0] in commands_with_group and argv[1] in UPSTREAMS)
    ):
        print(__doc__)
        return 2
    environ = dict(os.environ)
    config = Config.from_env(environ)
    command = argv[0]
    if command == "stop":
        return stop_group(config, argv[1])
    if command == "start":
        return start_group(config, environ, argv[1])
    if command == "up":
        return up(config, environ)
    if command == "down":
        return down(config)
    if command == "status":
        return status(config)
    migrate(config, environ)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
