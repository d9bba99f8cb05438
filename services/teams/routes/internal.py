"""Internal endpoints for the other services (service credential required; never routed publicly)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from services.kit.peers import require_service
from services.kit.responses import json
from services.kit.validation import path_int

from .. import members


async def user_deactivated(request: Request) -> JSONResponse:
    """Auth tells us a user is deactivated: end their memberships, hand on or disband their teams."""
    require_service(request)
    user_id = path_int(request, "user_id")
    state = request.app.state
    disbanded = await members.deactivate(db=state.db, bus=state.events, user_id=user_id)
    for team_id in disbanded:
        await state.storage.remove_team(team_id)
    state.users.forget(user_id)
    return json({"user_id": user_id, "disbanded_team_ids": disbanded})


async def team_members(request: Request) -> JSONResponse:
    """Every member of a team with the team's time zone (schedule service)."""
    require_service(request)
    return json(await members.roster(db=request.app.state.db, team_id=path_int(request, "team_id")))


async def team_membership(request: Request) -> JSONResponse:
    """Whether a user is a member of a team, and as what (realtime service)."""
    require_service(request)
    return json(
        await members.membership(
            db=request.app.state.db, team_id=path_int(request, "team_id"), user_id=path_int(request, "user_id")
        )
    )


async def user_calendar(request: Request) -> JSONResponse:
    """A user's teams and milestone deadlines (schedule service: the private calendar feed)."""
    require_service(request)
    return json(await members.calendar_of(db=request.app.state.db, user_id=path_int(request, "user_id")))
