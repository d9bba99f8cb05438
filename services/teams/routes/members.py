"""Member endpoints: list, remove or leave, transfer the host role."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from services.kit.openapi import documented
from services.kit.responses import json, no_content
from services.kit.validation import parse_body, parse_query, path_int

from .. import members, teams
from ..access import host, member
from ..schemas import HostTransfer, MembersQuery


@documented(query=MembersQuery)
async def list_members(request: Request) -> JSONResponse:
    """List the team's members with nicknames and roles."""
    caller = await member(request)
    query = parse_query(request, MembersQuery)
    state = request.app.state
    return json(await members.listing(db=state.db, users=state.users, caller=caller, query=query))


async def remove_member(request: Request) -> Response:
    """Remove a member (host), or leave the team (my own id)."""
    caller = await member(request)
    user_id = path_int(request, "user_id")
    state = request.app.state
    await members.remove(db=state.db, bus=state.events, caller=caller, user_id=user_id)
    return no_content()


@documented(body=HostTransfer)
async def transfer_host(request: Request) -> JSONResponse:
    """Make another member the host (host)."""
    caller = await host(request)
    body = await parse_body(request, HostTransfer)
    state = request.app.state
    await members.transfer_host(db=state.db, bus=state.events, caller=caller, user_id=body.user_id)
    return json(await teams.read(db=state.db, team_id=caller.team_id, user_id=caller.user_id))
