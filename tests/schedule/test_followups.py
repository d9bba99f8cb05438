"""Team events and meetings: a deleted team's meetings are cancelled (CANCEL mailed), a leaving member is
taken out of future meetings (CANCEL mailed to them, answer gone), each once even when heard twice."""

from __future__ import annotations

import time

import sqlalchemy as sa

from services.schedule import followups
from services.schedule.tables import meeting_answers, meetings
from tests.conftest import calendars_from_mail

WAIT_S = 30.0  # an upper bound for a background follow-up on a loaded machine, not a speed requirement


def _methods(data_dir: str, to: str) -> list[str]:
    return [str(c["METHOD"]) for c in calendars_from_mail(data_dir, to)]


def _wait_for(check) -> None:
    deadline = time.monotonic() + WAIT_S
    while not check():
        assert time.monotonic() < deadline, "the follow-up never happened"
        time.sleep(0.05)


def _schedule_db(client):
    return client.app.apps["schedule"].state.db


def _run(client, coro):
    async def run():
        return await coro

    return client.portal.call(run)


def test_a_leaving_member_gets_a_cancel_and_loses_their_answer(client, environ, signup, make_team):
    alice, bob, carol = signup("alice"), signup("bob"), signup("carol")
    team = make_team(alice, bob, carol)
    meeting = client.post(
        f"{team.api}/meetings/", headers=alice.headers, json={"title": "Sync", "start": "2027-03-08T10:00:00"}
    ).json()
    client.put(f"{team.api}/meetings/{meeting['id']}/answer/", headers=bob.headers, json={"answer": "going"})
    data_dir = environ["TEAMMOA_DATA_DIR"]
    assert _methods(data_dir, "bob@example.com") == ["REQUEST"]
    assert client.delete(f"/api/v1/teams/{team.id}/members/{bob.id}/", headers=bob.headers).status_code in (200, 204)
    _wait_for(lambda: _methods(data_dir, "bob@example.com") == ["REQUEST", "CANCEL"])
    (event,) = calendars_from_mail(data_dir, "bob@example.com")[-1].walk("VEVENT")
    assert str(event["UID"]) == meeting["uid"] and [str(a) for a in [event["ATTENDEE"]]] == ["mailto:bob@example.com"]
    db = _schedule_db(client)
    query = sa.select(meeting_answers).where(meeting_answers.c.user_id == bob.id)
    assert _run(client, db.fetch_all(query)) == []
    assert _methods(data_dir, "carol@example.com") == ["REQUEST"]  # the others keep their invitation
    # Heard again (a second instance, a replayed event): nothing more is mailed.
    again = followups.member_left(
        db=db,
        mailer=client.app.apps["schedule"].state.mailer,
        peers=client.app.apps["schedule"].state.peers,
        site="http://x",
        team_id=team.id,
        user_id=bob.id,
    )
    assert _run(client, again) == 0
    assert _methods(data_dir, "bob@example.com") == ["REQUEST", "CANCEL"]


def test_deleting_the_team_cancels_its_meetings_once(client, environ, signup, make_team):
    alice, bob = signup("alice"), signup("bob")
    team = make_team(alice, bob)
    booked = client.post(
        f"{team.api}/meetings/", headers=alice.headers, json={"title": "Sync", "start": "2027-03-08T10:00:00"}
    ).json()
    proposed = client.post(
        f"{team.api}/meetings/", headers=bob.headers, json={"title": "Idea", "start": "2027-03-09T10:00:00"}
    ).json()
    data_dir = environ["TEAMMOA_DATA_DIR"]
    assert client.delete(f"/api/v1/teams/{team.id}/", headers=alice.headers).status_code == 204
    db = _schedule_db(client)
    query = sa.select(meetings.c.id, meetings.c.status).order_by(meetings.c.id)
    cancelled = [(booked["id"], "cancelled"), (proposed["id"], "cancelled")]
    _wait_for(lambda: [(r.id, r.status) for r in _run(client, db.fetch_all(query))] == cancelled)
    _wait_for(lambda: _methods(data_dir, "bob@example.com") == ["REQUEST", "CANCEL"])
    assert _methods(data_dir, "alice@example.com") == ["REQUEST", "CANCEL"]
    (event,) = calendars_from_mail(data_dir, "bob@example.com")[-1].walk("VEVENT")
    assert (str(event["UID"]), int(event["SEQUENCE"]), str(event["STATUS"])) == (booked["uid"], 1, "CANCELLED")
    state = client.app.apps["schedule"].state
    again = followups.team_disbanded(db=db, mailer=state.mailer, peers=state.peers, site="http://x", team_id=team.id)
    assert _run(client, again) == 0


def test_a_claim_is_taken_once(client):
    db = _schedule_db(client)
    assert _run(client, followups.claim(db, 7, "left:1:0")) is True
    assert _run(client, followups.claim(db, 7, "left:1:0")) is False
    assert _run(client, followups.claim(db, 7, "left:1:1")) is True
