"""How long the team view of a 50-member team over 62 days takes, in-process (budget: 50 ms).

    .venv/bin/python -m tools.bench.schedule_team_view [--members 50] [--days 62] [--runs 30]

Prints the median and 95th percentile of three stages:

1. aggregate  — the pure aggregation (``services.schedule.aggregate.team_view``);
2. response   — aggregation plus building and JSON-encoding the response body;
3. http       — one whole ``GET /api/v1/teams/{id}/schedules/?start=&end=`` through the schedule app
                (token check, cached membership, SQLite read of every row, aggregation, JSON), with
                the teams and auth peers faked in-process.

Availability is random with about half the slots free; "all free" repeats stage 1 for the worst case
(everyone free everywhere, so every slot lists all 50 members). Not a test: a figure to watch.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm
from starlette.testclient import TestClient

from services.kit import db as kit_db
from services.kit.app import Shared
from services.kit.settings import Settings
from services.kit.tokens import ISSUER
from services.schedule.aggregate import team_view
from services.schedule.app import MIGRATIONS, create_app
from services.schedule.slots import FULL_DAY
from services.schedule.tables import availability

BUDGET_MS = 50.0
TEAM_ID = 1
START = dt.date(2026, 11, 2)


def _timed(fn, runs: int) -> tuple[float, float]:
    fn()  # warm up
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - began) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.95))]


def _masks(members: list[int], dates: list[dt.date], rnd: random.Random, *, full: bool = False) -> dict:
    return {uid: {day: FULL_DAY if full else rnd.getrandbits(48) for day in dates} for uid in members}


def _response(dates, members, masks) -> bytes:
    days = team_view(dates=dates, members=members, masks=masks)
    body = {
        "days": [
            {
                "date": d.date.isoformat(),
                "slots": [
                    {"slot": k, "count": s.count, "share": s.share, "who": s.who, "everyone": s.everyone}
                    for k, s in enumerate(d.slots)
                ],
            }
            for d in days
        ]
    }
    return json.dumps(body, separators=(",", ":")).encode()


def _peers(members: list[int]):
    private = Ed25519PrivateKey.generate()

    def teams(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json={
                "team_id": TEAM_ID,
                "time_zone": "Asia/Seoul",
                "name": "Bench",
                "members": [{"user_id": u, "role": "member"} for u in members],
            },
        )

    def auth(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/.well-known/jwks.json":
            jwk = json.loads(OKPAlgorithm.to_jwk(private.public_key())) | {"kid": "b1", "alg": "EdDSA"}
            return httpx.Response(200, json={"keys": [jwk]})
        ids = json.loads(request.content)["ids"]
        return httpx.Response(200, json={"users": [{"id": i, "nickname": f"Member {i}", "is_active": True} for i in ids]})

    now = int(time.time())
    token = jwt.encode(
        {"sub": str(members[0]), "aud": ["teammoa:schedule"], "iss": ISSUER, "iat": now, "exp": now + 3600, "typ": "access"},
        private,
        algorithm="EdDSA",
        headers={"kid": "b1"},
    )
    transports = {"teams": httpx.MockTransport(teams), "auth": httpx.MockTransport(auth)}
    return transports, {"Authorization": f"Bearer {token}"}


def _http(members: list[int], dates: list[dt.date], masks: dict, runs: int) -> tuple[float, float, int]:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'schedule.db'}"
        kit_db.migrate(url, MIGRATIONS)

        async def seed() -> None:
            database = await kit_db.connect(url, script_location=None, auto_migrate=False, pool_max=1)
            rows = [
                {"team_id": TEAM_ID, "user_id": uid, "day": day, "mask": mask, "updated_at": dt.datetime(2026, 1, 1)}
                for uid, days in masks.items()
                for day, mask in days.items()
            ]
            await database.execute_many(availability.insert(), rows)
            await kit_db.disconnect(database)

        asyncio.run(seed())
        transports, headers = _peers(members)
        settings = Settings(
            "schedule",
            {
                "TEAMMOA_DATA_DIR": folder,
                "TEAMMOA_SCHEDULE_DATABASE_URL": url,
                "TEAMMOA_LOG_REQUESTS": "false",
                "TEAMMOA_AUTO_MIGRATE": "false",
            },
        )
        app = create_app(settings, Shared(transports=transports))
        path = f"/api/v1/teams/{TEAM_ID}/schedules/?start={dates[0]}&end={dates[-1]}"
        with TestClient(app) as client:
            size = len(client.get(path, headers=headers).content)

            def call() -> None:
                response = client.get(path, headers=headers)
                assert response.status_code == 200, response.text

            median, p95 = _timed(call, runs)
    return median, p95, size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--days", type=int, default=62)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args(argv)
    rnd = random.Random(42)
    members = list(range(1, args.members + 1))
    dates = [START + dt.timedelta(days=n) for n in range(args.days)]
    masks = _masks(members, dates, rnd)
    full = _masks(members, dates, rnd, full=True)
    print(
        f"team view: {args.members} members × {args.days} days × 48 slots, {args.runs} runs "
        f"(Python {sys.version.split()[0]})"
    )
    stages = [
        ("aggregate (random, ~50% free)", lambda: team_view(dates=dates, members=members, masks=masks)),
        ("aggregate (all free, worst)", lambda: team_view(dates=dates, members=members, masks=full)),
        ("response  (aggregate + JSON)", lambda: _response(dates, members, masks)),
    ]
    worst = 0.0
    for name, fn in stages:
        median, p95 = _timed(fn, args.runs)
        worst = max(worst, median)
        print(f"  {name:32s} median {median:6.1f} ms   p95 {p95:6.1f} ms")
    median, p95, size = _http(members, dates, masks, args.runs)
    print(f"  {'http (whole GET, SQLite)':32s} median {median:6.1f} ms   p95 {p95:6.1f} ms   body {size / 1024:.0f} KiB")
    verdict = "within" if worst <= BUDGET_MS else "OVER"
    print(f"computation {verdict} the {BUDGET_MS:.0f} ms budget (slowest computed stage: median {worst:.1f} ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
