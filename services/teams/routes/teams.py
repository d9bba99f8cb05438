"""Team endpoints: mine, create, join by invite, read, update, disband, statistics, invite code, password."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from services.kit.cache import respond
from services.kit.clients import address
from services.kit.idempotency import idempotent
from services.kit.openapi import documented
from services.kit.responses import json, no_content
from services.kit.tokens import authenticate
from services.kit.validation import parse_body, parse_query

from .. import milestones, teams
from ..access import host, member
from ..schemas import InvitePreview, Join, MyTeamsQuery, PasswordChange, TeamCreate, TeamUpdate


@documented(query=MyTeamsQuery)
async def my_teams(request: Request) -> Response:
    """List the teams I belong to."""
    principal = await authenticate(request)
    query = parse_query(request, MyTeamsQuery)
    state = request.app.state
    key = ("mine", principal.user_id, query.page, query.page_size)
    tag = await teams.mine_versions(db=state.db, user_id=principal.user_id)
    cached = state.answers.get(key, tag)
    if cached is None:
        cached = state.answers.put(key, tag, await teams.mine(db=state.db, user_id=principal.user_id, query=query))
    return respond(request, cached)


@documented(body=TeamCreate)
@idempotent
async def create_team(request: Request) -> JSONResponse:
    """Create a team; I become its host."""
    principal = await authenticate(request)
    body = await parse_body(request, TeamCreate)
    state = request.app.state
    return json(await teams.create(db=state.db, passwords=state.passwords, user_id=principal.user_id, body=body), 201)


@documented(body=InvitePreview)
async def preview(request: Request) -> JSONResponse:
    """Show the team an invite code leads to."""
    principal = await authenticate(request)
    body = await parse_body(request, InvitePreview)
    state = request.app.state
    return json(
        await teams.preview(
            db=state.db,
            users=state.users,
            limiter=state.join_limiter,
            user_id=principal.user_id,
            code=body.invite_code,
            address=address(request, ""),
        )
    )


@documented(body=Join)
@idempotent
async def join(request: Request) -> JSONResponse:
    """Join a team with its invite code and password."""
    principal = await authenticate(request)
    body = await parse_body(request, Join)
    state = request.app.state
    return json(
        await teams.join(
            db=state.db,
            bus=state.events,
            passwords=state.passwords,
            limiter=state.join_limiter,
            user_id=principal.user_id,
            body=body,
            address=address(request, ""),
        ),
        201,
    )


async def read_team(request: Request) -> Response:
    """Read one of my teams."""
    caller = await member(request)
    state = request.app.state
    key = ("team", caller.team_id, caller.is_host)  # the answer differs by role only (my_role)
    cached = state.answers.get(key, caller.version)
    if cached is None:
        answer = await teams.read(db=state.db, team_id=caller.team_id, user_id=caller.user_id)
        cached = state.answers.put(key, caller.version, answer)
    return respond(request, cached)


@documented(body=TeamUpdate)
async def update_team(request: Request) -> JSONResponse:
    """Change the team's name, description, capacity or time zone (host)."""
    caller = await host(request)
    body = await parse_body(request, TeamUpdate)
    state = request.app.state
    return json(await teams.update(db=state.db, bus=state.events, caller=caller, changes=body.changes()))


async def disband_team(request: Request) -> Response:
    """Disband the team, deleting its data and files (host)."""
    caller = await host(request)
    state = request.app.state
    await teams.disband(db=state.db, bus=state.events, caller=caller)
    await state.storage.remove_team(caller.team_id)
    return no_content()


async def statistics(request: Request) -> JSONResponse:
    """Milestones by status, today's milestone and days left, todo counts."""
    caller = await member(request)
    return json(await milestones.statistics(db=request.app.state.db, caller=caller))


async def rotate_invite_code(request: Request) -> JSONResponse:
    """Replace the invite code (host)."""
    caller = await host(request)
    state = request.app.state
    return json(await teams.rotate_invite_code(db=state.db, bus=state.events, caller=caller))


@documented(body=PasswordChange)
async def change_password(request: Request) -> Response:
    """Set a new join password (host)."""
    caller = await host(request)
    body = await parse_body(request, PasswordChange)
    state = request.app.state
    await teams.change_password(db=state.db, passwords=state.passwords, caller=caller, password=body.password)
    return no_content()
