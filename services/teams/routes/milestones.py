"""Milestone endpoints (any member)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from services.kit.idempotency import idempotent
from services.kit.openapi import documented
from services.kit.responses import json, no_content
from services.kit.validation import parse_body, parse_query, path_int

from .. import milestones
from ..access import member
from ..schemas import MilestoneCreate, MilestonesQuery, MilestoneUpdate


@documented(query=MilestonesQuery)
async def list_milestones(request: Request) -> JSONResponse:
    """List the team's milestones by priority rank."""
    caller = await member(request)
    query = parse_query(request, MilestonesQuery)
    return json(await milestones.listing(db=request.app.state.db, caller=caller, query=query))


@documented(body=MilestoneCreate)
@idempotent
async def create_milestone(request: Request) -> JSONResponse:
    """Add a milestone."""
    caller = await member(request)
    body = await parse_body(request, MilestoneCreate)
    state = request.app.state
    return json(await milestones.create(db=state.db, bus=state.events, caller=caller, body=body), 201)


async def read_milestone(request: Request) -> JSONResponse:
    """Read a milestone with its todo statistics."""
    caller = await member(request)
    milestone_id = path_int(request, "milestone_id")
    return json(await milestones.read(db=request.app.state.db, caller=caller, milestone_id=milestone_id))


@documented(body=MilestoneUpdate)
async def update_milestone(request: Request) -> JSONResponse:
    """Edit, move or resize a milestone, or set its progress."""
    caller = await member(request)
    milestone_id = path_int(request, "milestone_id")
    body = await parse_body(request, MilestoneUpdate)
    state = request.app.state
    return json(
        await milestones.update(
            db=state.db, bus=state.events, caller=caller, milestone_id=milestone_id, changes=body.changes()
        )
    )


async def delete_milestone(request: Request) -> Response:
    """Delete a milestone; its todos stay, unlinked."""
    caller = await member(request)
    milestone_id = path_int(request, "milestone_id")
    state = request.app.state
    await milestones.delete(db=state.db, bus=state.events, caller=caller, milestone_id=milestone_id)
    return no_content()
