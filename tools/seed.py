"""Seed the load-test data set into a running TeamMoa (the local stack), through its public APIs.

    python -m tools.seed [--url http://127.0.0.1:8080] [--data-dir var/stack]   # or `make seed-load`

The data set of the reference's load test: accounts ``loaduser1`` … ``loaduser300`` (password
``LoadTest2024!``, e-mail ``loaduserN@example.com``), three teams of 100 members (``loaduser1``–``100``
in the first, ``101``–``200`` in the second, ``201``–``300`` in the third; hosts ``loaduser1``,
``loaduser101``, ``loaduser201``), and per team 60 todos (20 on the backlog, 25 assigned, 15 done; 40
linked to one of 8 milestones), 8 milestones, 30 posts by various members, a week of availability per
member (the current week in the team's zone) and one mind map of 40 nodes and 40 links.

Everything goes through the services' own endpoints, as a user would: register, verify the e-mail
with the token the auth service wrote to the stack's outbox (``<data dir>/mail/*.eml``), sign in,
create and join the teams, and so on. It is idempotent: each step first reads what exists (an
account that signs in, a team of that name hosted by that user, a member already listed, a todo,
milestone, post, node or link of that title, a week already filled) and does only what is missing,
so a second run changes nothing. Argon2 at production cost makes sign-ups and sign-ins the slow part:
they run concurrently (``--concurrency``). Progress goes to stderr; the last line on stdout is
``{"team_ids": [..]}``.

``--url`` defaults to the URL in ``<data dir>/stack.json``; ``--data-dir`` to ``TEAMMOA_DATA_DIR``
(``var/stack``), as for ``python -m tools.stack``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import re
import sys
import time
import zoneinfo
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tools.common import LOAD_PASSWORD, ROOT

USERS = 300
TEAMS = 3
PER_TEAM = USERS // TEAMS  # 100 = the largest capacity a team may have
PASSWORD = LOAD_PASSWORD
JOIN_PASSWORD = "LoadTeam2024!"
TIME_ZONE = "Asia/Seoul"  # the reference's users are Korean
TODOS, MILESTONES, POSTS, NODES, LINKS = 60, 8, 30, 40, 40
BACKLOG_TODOS, ASSIGNED_TODOS = 20, 25  # the other 15 are done
LINKED_TODOS = 40
MAP_TITLE = "Load map"
MAIL_WAIT_S = 15.0
UNAVAILABLE_RETRIES = 10
TIMEOUT = httpx.Timeout(60.0, connect=5.0)  # sign-ups queue behind Argon2 at production cost
TOKEN_RE = re.compile(r"/verify-email\?token=([A-Za-z0-9_\-]+)")
API = "/api/v1"


def username(n: int) -> str:
    return f"loaduser{n}"


def team_name(k: int) -> str:
    return f"Load team {k + 1}"


def host_number(k: int) -> int:
    return k * PER_TEAM + 1


class SeedError(RuntimeError):
    """The stack answered something the seeding cannot go on from."""


# Progress ----------------------------------------------------------------------------------------


class Progress:
    """A plain progress bar on stderr (one line per tenth when stderr is not a terminal)."""

    WIDTH = 30

    def __init__(self, label: str, total: int) -> None:
        self.label, self.total, self.done = label, max(total, 1), 0
        self.started = time.perf_counter()
        self._tty = sys.stderr.isatty()
        self._last_tenth = -1
        self._draw()

    def step(self, n: int = 1) -> None:
        self.done += n
        self._draw()

    def _draw(self) -> None:
        share = min(self.done / self.total, 1.0)
        tenth = int(share * 10)
        if not self._tty and tenth == self._last_tenth and self.done < self.total:
            return
        self._last_tenth = tenth
        filled = int(share * self.WIDTH)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        line = f"{self.label:<13} [{bar}] {self.done:>4}/{self.total:<4} {time.perf_counter() - self.started:5.1f}s"
        sys.stderr.write(("\r" + line) if self._tty else (line + "\n"))
        sys.stderr.flush()

    def close(self, note: str = "") -> None:
        self.done = self.total
        self._draw()
        sys.stderr.write((f"  {note}" if note else "") + ("\n" if self._tty else ("\n" if note else "")))
        sys.stderr.flush()


async def each(label: str, items: Iterable, work: Callable[..., Awaitable[object]], limit: int) -> list:
    """Run ``work(item)`` for every item, at most ``limit`` at once, with a progress bar."""
    items = list(items)
    bar = Progress(label, len(items))
    gate = asyncio.Semaphore(limit)

    async def one(item):
        async with gate:
            result = await work(item)
        bar.step()
        return result

    results = await asyncio.gather(*(one(item) for item in items))
    bar.close()
    return results


# The outbox --------------------------------------------------------------------------------------


class Outbox:
    """Verification tokens from the ``.eml`` files the auth service writes (newest per address)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._seen: set[str] = set()
        self._tokens: dict[str, tuple[str, str]] = {}  # address -> (file name, token)

    def _scan(self) -> None:
        if not self.folder.is_dir():
            return
        for path in sorted(self.folder.glob("*.eml")):
            if path.name in self._seen:
                continue
            text = path.read_text(errors="replace").replace("=\n", "")
            to = re.search(r"^To: *(.+)$", text, re.MULTILINE)
            token = TOKEN_RE.search(text)
            if to and token:  # else still being written, or not a verification mail: look again next time
                self._seen.add(path.name)
                address = to.group(1).strip().lower()
                if address not in self._tokens or self._tokens[address][0] < path.name:
                    self._tokens[address] = (path.name, token.group(1))

    async def token(self, address: str, *, newer_than: str = "") -> str | None:
        """The newest verification token sent to ``address``, waiting briefly for the mail to land."""
        deadline = time.monotonic() + MAIL_WAIT_S
        while True:
            self._scan()
            found = self._tokens.get(address.lower())
            if found and found[0] > newer_than:
                return found[1]
            if time.monotonic() > deadline:
                return None
            await asyncio.sleep(0.2)

    def newest_name(self) -> str:
        names = sorted(p.name for p in self.folder.glob("*.eml")) if self.folder.is_dir() else []
        return names[-1] if names else ""


# The API client ----------------------------------------------------------------------------------


@dataclass
class Account:
    number: int
    user_id: int = 0
    token: str = ""

    @property
    def username(self) -> str:
        return username(self.number)

    @property
    def email(self) -> str:
        return f"{self.username}@example.com"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Seeder:
    client: httpx.AsyncClient
    outbox: Outbox
    concurrency: int
    accounts: dict[int, Account] = field(default_factory=dict)
    created: dict[str, int] = field(default_factory=dict)
    retried: int = 0  # answers 503 (e.g. a deadlock the service reported), tried again
    seeded_before: bool = False  # loaduser1 signs in: the accounts most likely exist already

    def count(self, what: str, n: int = 1) -> None:
        self.created[what] = self.created.get(what, 0) + n

    async def call(
        self, method: str, path: str, *, who: Account | None = None, ok: Iterable[int] = (200, 201, 204), **kwargs
    ) -> httpx.Response:
        """One API call; an unexpected status stops the seeding with the answer's error."""
        headers = who.headers if who else {}
        response = await self.send(method, path, headers=headers, **kwargs)
        if response.status_code not in tuple(ok):
            raise SeedError(f"{method} {path} -> {response.status_code}: {response.text[:400]}")
        return response

    async def send(self, method: str, path: str, **kwargs) -> httpx.Response:
        """A request, tried again after a 503 (a deadlock the service reported, or an overload refusal:
        then after its ``Retry-After``), as a well-behaved client does."""
        for attempt in range(UNAVAILABLE_RETRIES + 1):
            response = await self.client.request(method, API + path, **kwargs)
            if response.status_code != 503 or attempt == UNAVAILABLE_RETRIES:
                break
            self.retried += 1
            retry_after = float(response.headers.get("Retry-After", "0") or 0)
            await asyncio.sleep(max(retry_after, 0.2 * (attempt + 1)))
        return response

    async def items(self, path: str, who: Account) -> list[dict]:
        """Every item of a paginated list."""
        out, page = [], 1
        while True:
            body = (await self.call("GET", path, who=who, params={"page": page, "page_size": 100})).json()
            out += body["items"]
            if len(out) >= body["total"] or not body["items"]:
                return out
            page += 1

    # Accounts ----------------------------------------------------------------------------------

    async def _login(self, account: Account) -> httpx.Response:
        return await self.send("POST", "/users/login/", json={"login": account.username, "password": PASSWORD})

    async def _verify(self, account: Account, *, newer_than: str = "") -> None:
        token = await self.outbox.token(account.email, newer_than=newer_than)
        if token is None:
            mark = self.outbox.newest_name()
            await self.call("POST", "/users/resend-verification/", json={"email": account.email}, ok=(202,))
            token = await self.outbox.token(account.email, newer_than=mark)
        if token is None:
            raise SeedError(f"no verification mail for {account.email} in {self.outbox.folder}")
        await self.call("POST", "/users/verify-email/", json={"token": token})

    async def account(self, number: int) -> Account:
        """Sign in as loaduser<number>, registering and verifying the account first when needed.

        Registration is tried first: a taken username answers 409 at no Argon2 cost, whereas a
        sign-in to a missing account would count against the address's failed-sign-in limit. But a
        taken name counts against the address's 60 availability answers a minute, so when the data set
        was seeded before (loaduser1 signs in) each account signs in first and registers only if that fails.
        """
        account = Account(number)
        if self.seeded_before:
            response = await self._login(account)
            if response.status_code == 200:
                return self._signed_in(account, response)
        mark = self.outbox.newest_name()
        response = await self.send(
            "POST",
            "/users/register/",
            json={
                "username": account.username,
                "email": account.email,
                "nickname": f"Load User {number}",
                "password": PASSWORD,
                "profile": "An account of the load test.",
            },
        )
        if response.status_code == 201:
            self.count("accounts")
            await self._verify(account, newer_than=mark)
        elif response.status_code != 409:
            raise SeedError(f"cannot register {account.username}: {response.status_code} {response.text[:300]}")
        response = await self._login(account)
        if response.status_code == 403 and response.json()["error"]["code"] == "email_not_verified":
            await self._verify(account)
            response = await self._login(account)
        if response.status_code != 200:
            raise SeedError(f"cannot sign in as {account.username}: {response.status_code} {response.text[:300]}")
        return self._signed_in(account, response)

    def _signed_in(self, account: Account, response: httpx.Response) -> Account:
        body = response.json()
        account.user_id, account.token = body["user"]["id"], body["access_token"]
        self.accounts[account.number] = account
        return account

    # Teams and members -------------------------------------------------------------------------

    async def team(self, k: int) -> dict:
        """The k-th team, hosted by its host; created when missing."""
        host = self.accounts[host_number(k)]
        for team in await self.items("/teams/", host):
            if team["name"] == team_name(k) and team["host_id"] == host.user_id:
                return team
        self.count("teams")
        return (
            await self.call(
                "POST",
                "/teams/",
                who=host,
                json={
                    "name": team_name(k),
                    "description": "A team of the load test: 100 members.",
                    "capacity": PER_TEAM,
                    "join_password": JOIN_PASSWORD,
                    "time_zone": TIME_ZONE,
                },
            )
        ).json()

    async def members(self, k: int, team: dict) -> None:
        """Join every account of the k-th block that is not a member yet."""
        host = self.accounts[host_number(k)]
        present = {m["user_id"] for m in await self.items(f"/teams/{team['id']}/members/", host)}
        missing = [
            self.accounts[n]
            for n in range(host_number(k), host_number(k) + PER_TEAM)
            if self.accounts[n].user_id not in present
        ]

        async def join(account: Account) -> None:
            await self.call(
                "POST",
                "/teams/join/",
                who=account,
                ok=(201,),
                json={"invite_code": team["invite_code"], "password": JOIN_PASSWORD},
            )
            self.count("memberships")

        await each(f"members {k + 1}", missing, join, self.concurrency)

    # Team content ------------------------------------------------------------------------------

    async def milestones(self, team_id: int, host: Account, today: dt.date) -> dict[str, int]:
        """Eight milestones around today (titles ``Milestone 1`` … ``8``); their ids by title."""
        existing = {m["title"]: m["id"] for m in await self.items(f"/teams/{team_id}/milestones/", host)}
        priorities = ("critical", "high", "medium", "low", "minimal")
        for n in range(1, MILESTONES + 1):
            title = f"Milestone {n}"
            if title in existing:
                continue
            start = today + dt.timedelta(days=(n - 4) * 7)
            body = {
                "title": title,
                "description": f"Phase {n} of the load-test project.",
                "start_date": start.isoformat(),
                "end_date": (start + dt.timedelta(days=10)).isoformat(),
                "priority": priorities[n % len(priorities)],
            }
            existing[title] = (await self.call("POST", f"/teams/{team_id}/milestones/", who=host, json=body)).json()["id"]
            self.count("milestones")
        return existing

    async def todos(self, k: int, team_id: int, host: Account, milestone_ids: dict[str, int]) -> None:
        """Sixty todos converged to their planned column and milestone (backlog, a member's, done)."""
        base = f"/teams/{team_id}/todos/"
        by_content = {t["content"]: t for t in await self.items(base, host)}
        for n in range(1, TODOS + 1):
            content = f"Load todo {n}"
            if content not in by_content:
                by_content[content] = (await self.call("POST", base, who=host, json={"content": content})).json()
                self.count("todos")
            todo = by_content[content]
            want_milestone = milestone_ids[f"Milestone {(n - 1) % MILESTONES + 1}"] if n <= LINKED_TODOS else None
            if todo["milestone_id"] != want_milestone:
                await self.call(
                    "POST", f"{base}{todo['id']}/assign-milestone/", who=host, json={"milestone_id": want_milestone}
                )
            if n > BACKLOG_TODOS + ASSIGNED_TODOS:
                if not todo["is_completed"]:
                    await self.call("POST", f"{base}{todo['id']}/move-to-done/", who=host)
            elif n > BACKLOG_TODOS:
                assignee = self.accounts[host_number(k) + 1 + (n - BACKLOG_TODOS) * 3].user_id
                if todo["assignee_id"] != assignee or todo["is_completed"]:
                    await self.call("POST", f"{base}{todo['id']}/assign/", who=host, json={"user_id": assignee})
            elif todo["assignee_id"] is not None or todo["is_completed"]:
                await self.call("POST", f"{base}{todo['id']}/move-to-todo/", who=host)

    async def posts(self, k: int, team_id: int, host: Account) -> None:
        """Thirty posts by various members (titles ``Load post 1`` … ``30``)."""
        existing = {p["title"] for p in await self.items(f"/teams/{team_id}/posts/", host)}
        for n in range(1, POSTS + 1):
            title = f"Load post {n}"
            if title in existing:
                continue
            author = self.accounts[host_number(k) + (n * 7) % PER_TEAM]
            body = (
                f"## Notes {n}\n\nWhat we agreed on in meeting {n}:\n\n- finish the draft of part {n}\n"
                f"- review **todo {n}** and its milestone\n- next meeting: see the availability heat-map\n\n"
                + "Lorem ipsum dolor sit amet, consectetur adipiscing elit. "
                * 4
            )
            await self.call("POST", f"/teams/{team_id}/posts/", who=author, json={"title": title, "body": body})
            self.count("posts")

    async def mind_map(self, team_id: int, host: Account) -> None:
        """One map of 40 nodes (``Idea 1`` … ``40``) and 40 links (a binary tree plus one cross link)."""
        maps = f"/teams/{team_id}/mindmaps/"
        found = [m for m in await self.items(maps, host) if m["title"] == MAP_TITLE]
        if found:
            map_id = found[0]["id"]
        else:
            map_id = (await self.call("POST", maps, who=host, json={"title": MAP_TITLE})).json()["id"]
            self.count("mind maps")
        snapshot = (await self.call("GET", f"{maps}{map_id}/", who=host)).json()
        nodes = {n["title"]: n["id"] for n in snapshot["nodes"]}
        for i in range(1, NODES + 1):
            title = f"Idea {i}"
            if title not in nodes:
                body = {
                    "title": title,
                    "content": f"Idea number {i} of the load test.",
                    "x": 200 + (i - 1) % 8 * 220,
                    "y": 150 + (i - 1) // 8 * 180,
                }
                nodes[title] = (await self.call("POST", f"{maps}{map_id}/nodes/", who=host, json=body)).json()["id"]
                self.count("nodes")
        pairs = [(i, i // 2) for i in range(2, NODES + 1)] + [(NODES - 1, NODES)]
        assert len(pairs) == LINKS
        linked = {frozenset((link["source_id"], link["target_id"])) for link in snapshot["links"]}
        for a, b in pairs:
            source, target = nodes[f"Idea {a}"], nodes[f"Idea {b}"]
            if frozenset((source, target)) not in linked:
                await self.call("POST", f"{maps}{map_id}/links/", who=host, json={"source_id": source, "target_id": target})
                self.count("links")

    async def availability(self, account: Account, team_id: int, week_start: dt.date) -> None:
        """A week of free slots for one member (the current week), unless the week has some already."""
        path = f"/teams/{team_id}/schedules/me/"
        mine = (await self.call("GET", path, who=account, params={"week": week_start.isoformat()})).json()
        if any(mine.get("slots", {}).values()):
            return
        rng = random.Random(account.number)
        slots = {}
        for day in range(7):
            start = rng.randint(16, 22) if day < 5 else rng.randint(20, 28)  # 8:00-11:00 weekdays, later at weekends
            length = rng.randint(8, 20) if day < 5 else rng.randint(0, 10)
            taken = sorted({s for s in range(start, min(start + length, 48)) if rng.random() > 0.15})
            slots[(week_start + dt.timedelta(days=day)).isoformat()] = taken
        await self.call("PUT", path, who=account, json={"week_start": week_start.isoformat(), "slots": slots})
        self.count("weeks of availability")


def monday(zone: str) -> dt.date:
    today = dt.datetime.now(zoneinfo.ZoneInfo(zone)).date()
    return today - dt.timedelta(days=today.weekday())


async def seed(url: str, data_dir: Path, concurrency: int) -> list[int]:
    """Create whatever of the data set is missing; the three team ids."""
    limits = httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency * 2)
    async with httpx.AsyncClient(base_url=url, timeout=TIMEOUT, limits=limits) as client:
        seeder = Seeder(client, Outbox(data_dir / "mail"), concurrency)
        seeder.seeded_before = (await seeder._login(Account(1))).status_code == 200
        await each("accounts", range(1, USERS + 1), seeder.account, concurrency)
        teams = [await seeder.team(k) for k in range(TEAMS)]
        for k, team in enumerate(teams):
            await seeder.members(k, team)
        bar = Progress("team content", TEAMS * 4)
        today = dt.datetime.now(zoneinfo.ZoneInfo(TIME_ZONE)).date()
        for k, team in enumerate(teams):
            host = seeder.accounts[host_number(k)]
            milestone_ids = await seeder.milestones(team["id"], host, today)
            bar.step()
            await seeder.todos(k, team["id"], host, milestone_ids)
            bar.step()
            await seeder.posts(k, team["id"], host)
            bar.step()
            await seeder.mind_map(team["id"], host)
            bar.step()
        bar.close()
        week = monday(TIME_ZONE)
        pairs = [(seeder.accounts[n], teams[(n - 1) // PER_TEAM]["id"]) for n in range(1, USERS + 1)]
        await each("availability", pairs, lambda pair: seeder.availability(pair[0], pair[1], week), concurrency)
        made = ", ".join(f"{n} {what}" for what, n in seeder.created.items()) or "nothing: the data set was complete"
        retried = f"; {seeder.retried} requests answered 503 and were tried again" if seeder.retried else ""
        print(f"created {made}{retried}", file=sys.stderr)
        return [team["id"] for team in teams]


def stack_url(data_dir: Path) -> str:
    try:
        return json.loads((data_dir / "stack.json").read_text())["url"]
    except (OSError, ValueError, KeyError):
        return f"http://127.0.0.1:{os.environ.get('TEAMMOA_GATEWAY_PORT', '8080')}"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(os.environ.get("TEAMMOA_DATA_DIR", "var/stack")),
        help="the stack's data directory (its outbox and stack.json)",
    )
    parser.add_argument("--url", help="the gateway (default: the URL stack.json records)")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight at once (8)")
    args = parser.parse_args(argv)
    data_dir = (ROOT / args.data_dir).resolve()
    url = (args.url or stack_url(data_dir)).rstrip("/")
    started = time.perf_counter()
    try:
        team_ids = asyncio.run(seed(url, data_dir, args.concurrency))
    except (SeedError, httpx.HTTPError) as exc:
        print(f"\nseeding failed: {exc}", file=sys.stderr)
        return 1
    print(f"seeded {url} in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    print(json.dumps({"team_ids": team_ids}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
