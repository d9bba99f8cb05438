"""Reminders: mailed to those going or maybe at the team's offset, once even with several instances."""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
from pathlib import Path

from services.schedule import reminders


def _reminders(data_dir: str) -> list[tuple[str, str]]:
    found = []
    for path in sorted((Path(data_dir) / "mail").glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if str(message["Subject"]).startswith("Reminder:"):
            found.append((str(message["To"]), str(message["Subject"])))
    return sorted(found)


def _scan(client, now: dt.datetime, instances: int = 1) -> list[int]:
    state = client.app.apps["schedule"].state

    async def scan() -> list[int]:
        runs = [
            reminders.run_once(db=state.db, mailer=state.mailer, peers=state.peers, site="http://moa", now=now)
            for _ in range(instances)
        ]
        return list(await asyncio.gather(*runs))

    return client.portal.call(scan)


def _naive(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC).replace(tzinfo=None)


def test_a_reminder_goes_once_to_those_going_or_maybe(client, environ, signup, make_team):
    alice, bob, carol, dave = signup("alice"), signup("bob"), signup("carol"), signup("dave")
    team = make_team(alice, bob, carol, dave)
    start = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).replace(second=0, microsecond=0)
    r = client.post(f"{team.api}/meetings/", headers=alice.headers, json={"title": "Demo", "start": start.isoformat()})
    meeting = r.json()
    for user, answer in ((bob, "going"), (carol, "maybe"), (dave, "not_going")):
        client.put(f"{team.api}/meetings/{meeting['id']}/answer/", headers=user.headers, json={"answer": answer})
    data_dir = environ["TEAMMOA_DATA_DIR"]
    assert _scan(client, _naive(start - dt.timedelta(hours=2))) == [0]  # default: 1 hour before
    assert sorted(_scan(client, _naive(start - dt.timedelta(minutes=59)), instances=3)) == [0, 0, 1]  # one claims it
    assert _reminders(data_dir) == [("bob@example.com", "Reminder: Demo"), ("carol@example.com", "Reminder: Demo")]
    assert _scan(client, _naive(start - dt.timedelta(minutes=30)), instances=2) == [0, 0]  # never twice
    assert len(_reminders(data_dir)) == 2


def test_the_host_chooses_the_offset_and_none_means_none(client, environ, signup, make_team):
    alice, bob = signup("alice"), signup("bob")
    team = make_team(alice, bob)
    url = f"{team.api}/meetings/settings/"
    assert client.get(url, headers=bob.headers).json()["reminder_minutes"] == 60
    assert client.put(url, headers=bob.headers, json={"reminder_minutes": 0}).status_code == 403
    r = client.put(url, headers=alice.headers, json={"reminder_minutes": 30})
    assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid")
    assert client.put(url, headers=alice.headers, json={"reminder_minutes": 1440}).json()["reminder_minutes"] == 1440
    start = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).replace(second=0, microsecond=0)
    meeting = client.post(
        f"{team.api}/meetings/", headers=alice.headers, json={"title": "A", "start": start.isoformat()}
    ).json()
    client.put(f"{team.api}/meetings/{meeting['id']}/answer/", headers=bob.headers, json={"answer": "going"})
    assert _scan(client, _naive(start - dt.timedelta(hours=25))) == [0]
    assert _scan(client, _naive(start - dt.timedelta(hours=23))) == [1]  # a day before
    assert _reminders(environ["TEAMMOA_DATA_DIR"]) == [("bob@example.com", "Reminder: A")]
    client.put(url, headers=alice.headers, json={"reminder_minutes": 0})
    later = client.post(
        f"{team.api}/meetings/", headers=alice.headers, json={"title": "B", "start": start.isoformat()}
    ).json()
    client.put(f"{team.api}/meetings/{later['id']}/answer/", headers=bob.headers, json={"answer": "going"})
    assert _scan(client, _naive(start - dt.timedelta(minutes=5))) == [0]
    assert len(_reminders(environ["TEAMMOA_DATA_DIR"])) == 1
    assert client.get(url, headers=signup("eve").headers).status_code == 404
