"""The reference's load-test mix against a running TeamMoa (the local stack behind Nginx).

Each simulated user signs in once (its own request name, ``sign in``), then every 2–5 s does one of:

    home page 25 · my teams 20 · one team 15 · its todo list 15 · board page 10 · team availability 10 · /health/ 5

Users take the seeded accounts ``loaduser1`` … ``loaduser300`` round-robin (``tools/seed.py``
creates them) and act in their own team: the first hundred accounts in the first team, and so on.
The team ids come from ``TEAMMOA_LOAD_TEAM_IDS`` (``1,2,3`` or the seeder's ``{"team_ids": [...]}``
line); without it each user looks its team up once after signing in (``sign in: find team``).

Run it from the separate load venv (gevent must never enter the test venv; pytest never collects
this folder):

    .venv-load/bin/python -m locust -f tests/load/locustfile.py --host http://127.0.0.1:8080 --headless -u 50 -r 10 -t 30s

``tools/bench/run.py`` drives it as a library for ``make bench``.
"""

from __future__ import annotations

import itertools
import json
import os
import random

import gevent
from locust import between, events, task
from locust.contrib.fasthttp import FastHttpUser
from locust.exception import StopUser

from tools.common import LOAD_PASSWORD  # run from the repository root (python -m adds it to the path)

ACCOUNTS = 300
PER_TEAM = 100
PASSWORD = LOAD_PASSWORD
SIGN_IN = "sign in"
_numbers = itertools.count()  # one locust process: users take the accounts in turn
signed_in = 0  # users that finished signing in (tools/bench/run.py waits for all of them)


def team_ids_from_env() -> list[int]:
    raw = os.environ.get("TEAMMOA_LOAD_TEAM_IDS", "").strip()
    if not raw:
        return []
    if raw.startswith("{"):
        return [int(i) for i in json.loads(raw)["team_ids"]]
    return [int(part) for part in raw.split(",") if part.strip()]


TEAM_IDS = team_ids_from_env()


@events.init_command_line_parser.add_listener
def _options(parser) -> None:
    parser.add_argument("--team-ids", default="", help="the seeded team ids, comma-separated (or TEAMMOA_LOAD_TEAM_IDS)")


@events.test_start.add_listener
def _team_ids_option(environment, **_kwargs) -> None:
    option = getattr(environment.parsed_options, "team_ids", "") if environment.parsed_options else ""
    if option:
        TEAM_IDS[:] = [int(part) for part in option.split(",") if part.strip()]


class TeamMoaUser(FastHttpUser):
    """A signed-in member browsing their team."""

    wait_time = between(2, 5)
    connection_timeout = 10.0
    network_timeout = 60.0  # sign-ins queue behind Argon2 during a fast ramp: measure them, do not drop them

    def on_start(self) -> None:
        global signed_in
        self.account = next(_numbers) % ACCOUNTS + 1
        self.sign_in()
        block = (self.account - 1) // PER_TEAM
        if TEAM_IDS:
            self.team_id = TEAM_IDS[block]
        else:
            with self.client.get(
                "/api/v1/teams/", headers=self.auth, name="sign in: find team", catch_response=True
            ) as response:
                mine = response.json()["items"] if response.status_code == 200 else []
                if not mine:
                    response.failure(f"loaduser{self.account} is in no team: run `make seed-load` first")
                    raise StopUser()
            self.team_id = mine[0]["id"]
        signed_in += 1

    def sign_in(self) -> None:
        """Sign in; refused as overloaded (503 + Retry-After), wait as told and try again, as a client should.

        The refusal still counts as a failed request: the figures show how many there were.
        """
        body = {"login": f"loaduser{self.account}", "password": PASSWORD}
        while True:
            with self.client.post("/api/v1/users/login/", json=body, name=SIGN_IN, catch_response=True) as response:
                if response.status_code == 503 and response.headers.get("Retry-After"):
                    response.failure("sign-in refused: HTTP 503 (overloaded)")
                    retry_after = float(response.headers["Retry-After"])
                elif response.status_code != 200:
                    response.failure(f"sign-in failed: HTTP {response.status_code} {(response.text or '')[:200]}")
                    raise StopUser()
                else:
                    self.auth = {"Authorization": f"Bearer {response.json()['access_token']}"}
                    break
            gevent.sleep(retry_after + random.uniform(0, retry_after))
        self.client.cookiejar.clear()  # act as an API client: the Bearer token, no cookies

    def api(self, path: str, name: str, params: dict | None = None) -> None:
        """GET a team page's data; sign in again once if the access token expired (15 min)."""
        with self.client.get(path, headers=self.auth, params=params, name=name, catch_response=True) as response:
            if response.status_code == 401 and b"token_expired" in (response.content or b""):
                response.success()
                self.sign_in()
                self.client.get(path, headers=self.auth, params=params, name=name)
            elif response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")

    @task(25)
    def home_page(self) -> None:
        self.client.get("/", name="home page")

    @task(20)
    def my_teams(self) -> None:
        self.api("/api/v1/teams/", "my teams", {"page": 1, "page_size": 24})

    @task(15)
    def one_team(self) -> None:
        self.api(f"/api/v1/teams/{self.team_id}/", "one team")

    @task(15)
    def todo_list(self) -> None:
        self.api(f"/api/v1/teams/{self.team_id}/todos/", "todo list", {"page": 1, "page_size": 100})

    @task(10)
    def board_page(self) -> None:
        self.api(f"/api/v1/teams/{self.team_id}/posts/", "board page", {"q": "", "page": 1, "page_size": 10})

    @task(10)
    def team_availability(self) -> None:
        self.api(f"/api/v1/teams/{self.team_id}/schedules/", "team availability")

    @task(5)
    def health(self) -> None:
        self.client.get("/health/", name="/health/")
