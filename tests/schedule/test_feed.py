"""The private calendar feed: a secret URL listing a user's meetings and milestone deadlines across teams,
read back with ``icalendar``; ETag / Last-Modified with 304; wrong or revoked tokens reveal nothing."""

from __future__ import annotations

import datetime as dt
import re

import icalendar

FEED = "/api/v1/schedules/feed/"
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _path(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def _events(text: str) -> dict[str, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(text)
    assert icalendar.Calendar.from_ical(calendar.to_ical()) == calendar  # round-trips
    return {str(e["SUMMARY"]): e for e in calendar.walk("VEVENT")}


def _setup(client, signup, make_team):
    alice, bob = signup("alice"), signup("bob")
    seoul = make_team(alice, bob, time_zone="Asia/Seoul", name="Seoul crew")
    berlin = make_team(bob, alice, time_zone="Europe/Berlin", name="Berlin crew")
    body = {"title": "Seoul sync", "start": "2027-03-08T10:00:00", "place": "Room; 1"}
    assert client.post(f"{seoul.api}/meetings/", headers=alice.headers, json=body).status_code == 201
    body = {"title": "Berlin sync", "start": "2027-03-29T09:00:00"}  # the day after Berlin's DST change
    assert client.post(f"{berlin.api}/meetings/", headers=bob.headers, json=body).status_code == 201
    milestone = {"title": "Ship v1", "start_date": "2027-03-01", "end_date": "2027-03-31"}
    r = client.post(f"/api/v1/teams/{berlin.id}/milestones/", headers=bob.headers, json=milestone)
    assert r.status_code == 201, r.text
    return alice, bob, seoul, berlin


def test_the_feed_lists_meetings_and_deadlines_of_every_team(client, signup, make_team):
    alice, _bob, _, berlin = _setup(client, signup, make_team)
    assert client.get(FEED, headers=alice.headers).json() == {"active": False, "created_at": None}
    r = client.post(FEED, headers=alice.headers)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["webcal_url"].startswith("webcal://") and made["url"].endswith(".ics")
    assert client.get(FEED, headers=alice.headers).json()["active"] is True
    r = client.get(_path(made["url"]))  # no sign-in: the URL is the secret
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/calendar")
    assert not CONTROL.search(r.text.replace("\r\n", ""))
    events = _events(r.text)
    assert sorted(events) == ["Berlin sync", "Deadline: Ship v1", "Seoul sync"]
    assert events["Seoul sync"].decoded("DTSTART") == dt.datetime(2027, 3, 8, 1, 0, tzinfo=dt.UTC)
    assert events["Berlin sync"].decoded("DTSTART") == dt.datetime(2027, 3, 29, 7, 0, tzinfo=dt.UTC)  # 09:00 CEST
    assert str(events["Seoul sync"]["LOCATION"]) == "Room; 1"
    assert events["Deadline: Ship v1"].decoded("DTSTART") == dt.date(2027, 3, 31)
    # Leaving a team takes its meetings and deadlines out of the feed.
    assert client.delete(f"/api/v1/teams/{berlin.id}/members/{alice.id}/", headers=alice.headers).status_code in (200, 204)
    assert sorted(_events(client.get(_path(made["url"])).text)) == ["Seoul sync"]


def test_etag_and_last_modified_answer_304_until_something_changes(client, signup, make_team):
    alice, _bob, seoul, _ = _setup(client, signup, make_team)
    path = _path(client.post(FEED, headers=alice.headers).json()["url"])
    first = client.get(path)
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 304
    assert client.get(path, headers={"If-Modified-Since": modified}).status_code == 304
    assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200
    meeting = client.get(f"{seoul.api}/meetings/", headers=alice.headers).json()["items"][0]
    client.post(f"{seoul.api}/meetings/{meeting['id']}/cancel/", headers=alice.headers)
    r = client.get(path, headers={"If-None-Match": etag})
    assert r.status_code == 200 and r.headers["etag"] != etag
    assert "Seoul sync" not in _events(r.text)


def test_a_wrong_or_revoked_token_reveals_nothing(client, signup, make_team):
    alice, bob, *_ = _setup(client, signup, make_team)
    old = _path(client.post(FEED, headers=alice.headers).json()["url"])
    new = _path(client.post(FEED, headers=alice.headers).json()["url"])  # regenerating revokes the old URL
    bobs = _path(client.post(FEED, headers=bob.headers).json()["url"])
    assert client.get(new).status_code == 200 and client.get(bobs).status_code == 200
    forged = new[:-10] + ("A" if new[-10] != "A" else "B") + new[-9:]
    for path in (old, forged, FEED + "short.ics", FEED + ("x" * 43) + ".ics"):
        r = client.get(path)
        assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found"), path
        assert "etag" not in r.headers
    assert client.delete(FEED, headers=alice.headers).status_code == 204
    assert client.get(new).status_code == 404
    assert client.get(bobs).status_code == 200  # another user's feed is untouched
    assert client.get(FEED).status_code == 401 and client.post(FEED).status_code == 401
