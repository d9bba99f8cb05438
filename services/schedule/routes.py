"""HTTP routes of the schedule service: parse input, check the caller, call the rules, respond."""

from __future__ import annotations

import datetime as dt
from email.utils import formatdate, parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from services.kit.bodies import allow_body
from services.kit.cache import respond
from services.kit.errors import InvalidInput, PayloadTooLarge
from services.kit.events import availability_key, members_key
from services.kit.openapi import documented
from services.kit.responses import iso, json
from services.kit.tokens import authenticate
from services.kit.validation import parse_body, parse_query, path_int

from . import feed, meetings, mine, planning, reminders
from .directory import Team
from .schemas import (
    AnswerBody,
    ConflictQuery,
    IcsQuery,
    MeetingBody,
    MeetingChange,
    RangeQuery,
    ReminderBody,
    SuggestionQuery,
    WeekBody,
    WeekQuery,
)
from .timeline import RangeError, date_range, parse_instant, parse_week, zone_of

PREFIX = "/api/v1/teams/{team_id}/schedules"
MAX_CSV_BYTES = 512 * 1024  # a personal calendar; years of rows fit well below this


async def _caller(request: Request) -> tuple[int, Team]:
    """The signed-in caller and the team in the path, which they must belong to (404 otherwise)."""
    user_id, team, _ = await _caller_and_versions(request)
    return user_id, team


async def _caller_and_versions(request: Request) -> tuple[int, Team, tuple[int, int] | None]:
    """The caller, their team, and the team's (members, availability) versions (None: unreadable)."""
    principal = await authenticate(request)
    team_id = path_int(request, "team_id")
    state = request.app.state
    versions = await state.events.versions(members_key(team_id), availability_key(team_id))
    team = await state.directory.member_team(team_id, principal.user_id, versions[0] if versions else None)
    return principal.user_id, team, (versions[0], versions[1]) if versions else None


async def _availability_changed(request: Request, team: Team) -> None:
    """After the commit, before the answer: every instance's cached views of the team are stale now."""
    state = request.app.state
    if await state.events.bump(availability_key(team.id)) is None:
        state.views.clear()  # the broker is down: at least this instance forgets (the others cannot read versions)


def _range_error(exc: RangeError) -> InvalidInput:
    return InvalidInput.field(exc.field, str(exc))


def _dates(query: RangeQuery, team: Team) -> list[dt.date]:
    try:
        return date_range(query.start, query.end, zone=zone_of(team.time_zone))
    except RangeError as exc:
        raise _range_error(exc) from None


@documented(query=WeekQuery, body=WeekBody)
async def my_week(request: Request) -> JSONResponse:
    """Read (GET) or replace (PUT) my availability for the seven days from a week start."""
    user_id, team = await _caller(request)
    db = request.app.state.db
    if request.method == "PUT":
        body = await parse_body(request, WeekBody)
        week = await mine.save_week(db=db, team=team, user_id=user_id, start=body.week_start, slots=body.days())
        await _availability_changed(request, team)
        return json(week)
    query = parse_query(request, WeekQuery)
    try:
        start = parse_week(query.week) if query.week else mine.default_week(team)
    except RangeError as exc:
        raise _range_error(exc) from None
    return json(await mine.read_week(db=db, team=team, user_id=user_id, start=start))


@documented(query=RangeQuery)
async def team_view(request: Request) -> Response:
    """Show, per slot of a date range (≤ 62 days), how many members are free and who."""
    _, team, versions = await _caller_and_versions(request)
    dates = _dates(parse_query(request, RangeQuery), team)
    state = request.app.state
    key = (team.id, dates[0], dates[-1])
    tag = (versions, team) if versions else None  # the team facts too: an event may have refreshed them
    cached = state.views.get(key, tag) if tag else None
    if cached is None:
        view = await planning.team_view(db=state.db, directory=state.directory, team=team, dates=dates)
        cached = state.views.put(key, tag, view)
    return respond(request, cached)


@documented(query=SuggestionQuery)
async def suggestions(request: Request) -> JSONResponse:
    """Suggest the best meeting windows of a length, ranked by attendance and then start."""
    _, team = await _caller(request)
    query = parse_query(request, SuggestionQuery)
    dates = _dates(query, team)
    state = request.app.state
    return json(
        await planning.suggestions(
            db=state.db,
            directory=state.directory,
            team=team,
            dates=dates,
            duration_minutes=query.duration_minutes,
            min_attendance=query.min_attendance,
            limit=query.limit,
        )
    )


async def _upload(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > MAX_CSV_BYTES + 64 * 1024:
        raise PayloadTooLarge("The CSV file is too large.")
    allow_body(request, MAX_CSV_BYTES + 64 * 1024)  # kit.bodies stops the stream (and the form parser) past it
    if request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        async with request.form(max_files=1, max_fields=5) as form:
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                raise InvalidInput.field("file", "Attach the CSV file as the form field 'file'.")
            raw = await upload.read(MAX_CSV_BYTES + 1)
    else:
        buffer = bytearray()
        async for chunk in request.stream():
            buffer += chunk
            if len(buffer) > MAX_CSV_BYTES:
                break
        raw = bytes(buffer)
    if len(raw) > MAX_CSV_BYTES:
        raise PayloadTooLarge("The CSV file is too large.")
    return raw


async def import_csv(request: Request) -> JSONResponse:
    """Import my availability from CSV rows date,start,end (text/csv body or multipart field 'file')."""
    user_id, team = await _caller(request)
    raw = await _upload(request)
    imported = await mine.import_csv(db=request.app.state.db, team=team, user_id=user_id, raw=raw)
    await _availability_changed(request, team)
    return json(imported)


@documented(query=RangeQuery)
async def export_csv(request: Request) -> Response:
    """Export my availability as CSV rows date,start,end (optionally between two dates)."""
    user_id, team = await _caller(request)
    query = parse_query(request, RangeQuery)
    if query.start and query.end and query.end < query.start:
        raise InvalidInput.field("end", "end must not be before start.")
    text = await mine.export_csv(db=request.app.state.db, team=team, user_id=user_id, start=query.start, end=query.end)
    return Response(
        text,
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="availability-team-{team.id}.csv"'},
    )


@documented(query=IcsQuery)
async def ics_export(request: Request) -> Response:
    """Download a chosen window as an iCalendar (.ics) event."""
    _, team = await _caller(request)
    query = parse_query(request, IcsQuery)
    zone = zone_of(team.time_zone)
    try:
        start = parse_instant(query.start, "start", zone)
        end = parse_instant(query.end, "end", zone)
    except RangeError as exc:
        raise _range_error(exc) from None
    if end <= start:
        raise InvalidInput.field("end", "end must be after start.")
    if end - start > planning.MAX_EVENT:
        raise InvalidInput.field("end", "An event may last at most 7 days.")
    host = urlsplit(request.app.state.settings.site_url).hostname or "teammoa"
    text = planning.calendar_file(team=team, start=start, end=end, title=query.title, host=host)
    return Response(
        text, media_type="text/calendar", headers={"Content-Disposition": 'attachment; filename="teammoa-meeting.ics"'}
    )


async def _actor(request: Request) -> meetings.Actor:
    user_id, team = await _caller(request)
    state = request.app.state
    host = urlsplit(state.settings.site_url).hostname or "teammoa"
    return meetings.Actor(
        db=state.db,
        events=state.events,
        directory=state.directory,
        team=team,
        user_id=user_id,
        host=host,
        mailer=state.mailer,
        peers=state.peers,
        site=state.settings.site_url.rstrip("/"),
    )


def _respond(actor: meetings.Actor, body: dict[str, Any], status_code: int = 200) -> JSONResponse:
    """The JSON answer; invitations the call queued are mailed after it is sent."""
    background = BackgroundTask(meetings.deliver, actor) if actor.outgoing else None
    return json(body, status_code, background=background)


@documented(body=MeetingBody)
async def meeting_list(request: Request) -> JSONResponse:
    """List the team's upcoming meetings (GET), or book one (POST: the host books, a member proposes)."""
    actor = await _actor(request)
    if request.method == "POST":
        body = await parse_body(request, MeetingBody)
        return _respond(actor, await meetings.create(actor, body), 201)
    return json(await meetings.upcoming(actor))


@documented(body=MeetingChange)
async def meeting_detail(request: Request) -> JSONResponse:
    """Read (GET) or change (PATCH: the host, or the proposer of their own proposal) one meeting."""
    actor = await _actor(request)
    meeting_id = path_int(request, "meeting_id")
    if request.method == "PATCH":
        body = await parse_body(request, MeetingChange)
        return _respond(actor, await meetings.change(actor, meeting_id, body))
    return json(await meetings.read(actor, meeting_id))


async def meeting_confirm(request: Request) -> JSONResponse:
    """The host confirms a member's proposal."""
    actor = await _actor(request)
    return _respond(actor, await meetings.confirm(actor, path_int(request, "meeting_id")))


async def meeting_cancel(request: Request) -> JSONResponse:
    """Cancel a meeting (the host, or the proposer of their own proposal)."""
    actor = await _actor(request)
    return _respond(actor, await meetings.cancel(actor, path_int(request, "meeting_id")))


@documented(body=AnswerBody)
async def meeting_answer(request: Request) -> JSONResponse:
    """Answer a meeting: going, maybe or not_going."""
    actor = await _actor(request)
    body = await parse_body(request, AnswerBody)
    return json(await meetings.answer(actor, path_int(request, "meeting_id"), body.answer))


@documented(query=ConflictQuery)
async def meeting_conflicts(request: Request) -> JSONResponse:
    """Name the members whose saved availability does not cover a window being considered."""
    actor = await _actor(request)
    query = parse_query(request, ConflictQuery)
    return json(await meetings.conflicts(actor, start=query.start, duration_minutes=query.duration_minutes))


async def my_feed(request: Request) -> Response:
    """My private calendar feed: status (GET), a new secret URL replacing the old (POST), revoke (DELETE)."""
    principal = await authenticate(request)
    db = request.app.state.db
    if request.method == "POST":
        token, made = await feed.issue(db, principal.user_id)
        url = f"{request.app.state.settings.site_url.rstrip('/')}/api/v1/schedules/feed/{token}.ics"
        webcal = "webcal://" + url.split("://", 1)[1]
        return json({"active": True, "created_at": iso(made), "url": url, "webcal_url": webcal}, 201)
    if request.method == "DELETE":
        await feed.revoke(db, principal.user_id)
        return Response(status_code=204)
    return json(await feed.status(db, principal.user_id))


def _not_modified(request: Request, etag: str, last_modified: dt.datetime) -> bool:
    tags = request.headers.get("if-none-match")
    if tags is not None:
        given = {tag.strip().removeprefix("W/").strip('"') for tag in tags.split(",")}
        return etag in given or "*" in given
    since = request.headers.get("if-modified-since")
    if since:
        try:
            stamp = parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=dt.UTC)
        return last_modified.replace(tzinfo=dt.UTC) <= stamp
    return False


async def feed_calendar(request: Request) -> Response:
    """The private calendar feed of the token's owner (no sign-in: the URL is the secret)."""
    state = request.app.state
    row = await feed.owner(state.db, str(request.path_params["token"]))
    host = urlsplit(state.settings.site_url).hostname or "teammoa"
    built = await feed.build(db=state.db, peers=state.peers, row=row, host=host)
    headers = {
        "ETag": f'"{built.etag}"',
        "Last-Modified": formatdate(built.last_modified.replace(tzinfo=dt.UTC).timestamp(), usegmt=True),
        "Cache-Control": "private, no-cache",
        "Referrer-Policy": "no-referrer",
    }
    if _not_modified(request, built.etag, built.last_modified):
        return Response(status_code=304, headers=headers)
    return Response(built.body, media_type="text/calendar; charset=utf-8", headers=headers)


@documented(body=ReminderBody)
async def meeting_settings(request: Request) -> JSONResponse:
    """The team's reminder offset: read (GET, members) or choose (PUT, the host): none, 1 hour or 1 day."""
    user_id, team = await _caller(request)
    db = request.app.state.db
    if request.method == "PUT":
        body = await parse_body(request, ReminderBody)
        return json(await reminders.save_setting(db, team, user_id, body.reminder_minutes))
    return json(await reminders.read_setting(db, team))


MEETING = f"{PREFIX}/meetings/{{meeting_id}}"

routes = [
    Route(f"{PREFIX}/", team_view, methods=["GET"]),
    Route(f"{PREFIX}/me/", my_week, methods=["GET", "PUT"]),
    Route(f"{PREFIX}/me/import/", import_csv, methods=["POST"]),
    Route(f"{PREFIX}/me/export/", export_csv, methods=["GET"]),
    Route(f"{PREFIX}/suggestions/", suggestions, methods=["GET"]),
    Route(f"{PREFIX}/ics/", ics_export, methods=["GET"]),
    Route(f"{PREFIX}/meetings/", meeting_list, methods=["GET", "POST"]),
    Route(f"{PREFIX}/meetings/conflicts/", meeting_conflicts, methods=["GET"]),
    Route(f"{PREFIX}/meetings/settings/", meeting_settings, methods=["GET", "PUT"]),
    Route(f"{MEETING}/", meeting_detail, methods=["GET", "PATCH"]),
    Route(f"{MEETING}/confirm/", meeting_confirm, methods=["POST"]),
    Route(f"{MEETING}/cancel/", meeting_cancel, methods=["POST"]),
    Route(f"{MEETING}/answer/", meeting_answer, methods=["PUT"]),
    Route("/api/v1/schedules/feed/", my_feed, methods=["GET", "POST", "DELETE"]),
    Route("/api/v1/schedules/feed/{token}.ics", feed_calendar, methods=["GET"]),
]
