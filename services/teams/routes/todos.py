"""Todo endpoints: exactly the board's moves, no generic update (rules in ``todos.py``)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from services.kit.cache import respond
from services.kit.idempotency import idempotent
from services.kit.openapi import documented
from services.kit.responses import json, no_content
from services.kit.validation import parse_body, parse_query, path_int

from .. import todos
from ..access import member
from ..schemas import TodoAssign, TodoComplete, TodoCreate, TodoEdit, TodoMilestone, TodoReorder, TodosQuery


@documented(query=TodosQuery)
async def list_todos(request: Request) -> Response:
    """List the team's todos in board order."""
    caller = await member(request)
    query = parse_query(request, TodosQuery)
    state = request.app.state
    key = ("todos", caller.team_id, query.page, query.page_size, query.state, query.assignee_id, query.milestone_id)
    cached = state.answers.get(key, caller.version)
    if cached is None:
        cached = state.answers.put(key, caller.version, await todos.listing(db=state.db, caller=caller, query=query))
    return respond(request, cached)


@documented(body=TodoCreate)
@idempotent
async def create_todo(request: Request) -> JSONResponse:
    """Add a todo to the backlog."""
    caller = await member(request)
    body = await parse_body(request, TodoCreate)
    state = request.app.state
    return json(
        await todos.create(
            db=state.db, bus=state.events, caller=caller, content=body.content, milestone_id=body.milestone_id
        ),
        201,
    )


async def read_todo(request: Request) -> JSONResponse:
    """Read one todo."""
    caller = await member(request)
    return json(await todos.read(db=request.app.state.db, caller=caller, todo_id=path_int(request, "todo_id")))


@documented(body=TodoEdit)
async def edit_todo(request: Request) -> JSONResponse:
    """Change a todo's content."""
    caller = await member(request)
    todo_id = path_int(request, "todo_id")
    body = await parse_body(request, TodoEdit)
    state = request.app.state
    return json(await todos.edit(db=state.db, bus=state.events, caller=caller, todo_id=todo_id, content=body.content))


async def delete_todo(request: Request) -> Response:
    """Delete a todo (host or assignee)."""
    caller = await member(request)
    state = request.app.state
    await todos.delete(db=state.db, bus=state.events, caller=caller, todo_id=path_int(request, "todo_id"))
    return no_content()


@documented(body=TodoAssign)
async def assign_todo(request: Request) -> JSONResponse:
    """Assign a todo (host: to anyone; member: an unassigned one to myself)."""
    caller = await member(request)
    todo_id = path_int(request, "todo_id")
    body = await parse_body(request, TodoAssign)
    state = request.app.state
    return json(await todos.assign(db=state.db, bus=state.events, caller=caller, todo_id=todo_id, user_id=body.user_id))


@documented(body=TodoComplete)
async def complete_todo(request: Request) -> JSONResponse:
    """Complete or reopen a todo (host or assignee)."""
    caller = await member(request)
    todo_id = path_int(request, "todo_id")
    body = await parse_body(request, TodoComplete)
    state = request.app.state
    return json(
        await todos.complete(db=state.db, bus=state.events, caller=caller, todo_id=todo_id, completed=body.completed)
    )


async def move_to_todo(request: Request) -> JSONResponse:
    """Move a todo back to the backlog: unassigned and open."""
    caller = await member(request)
    state = request.app.state
    return json(
        await todos.move(db=state.db, bus=state.events, caller=caller, todo_id=path_int(request, "todo_id"), to="backlog")
    )


async def move_to_done(request: Request) -> JSONResponse:
    """Move a todo to done."""
    caller = await member(request)
    state = request.app.state
    return json(
        await todos.move(db=state.db, bus=state.events, caller=caller, todo_id=path_int(request, "todo_id"), to="done")
    )


@documented(body=TodoReorder)
async def reorder_todo(request: Request) -> JSONResponse:
    """Move a todo to a position within its column."""
    caller = await member(request)
    todo_id = path_int(request, "todo_id")
    body = await parse_body(request, TodoReorder)
    state = request.app.state
    return json(await todos.reorder(db=state.db, bus=state.events, caller=caller, todo_id=todo_id, position=body.position))


@documented(body=TodoMilestone)
async def assign_milestone(request: Request) -> JSONResponse:
    """Link a todo to a milestone of the team, or unlink it (null)."""
    caller = await member(request)
    todo_id = path_int(request, "todo_id")
    body = await parse_body(request, TodoMilestone)
    state = request.app.state
    return json(
        await todos.link(db=state.db, bus=state.events, caller=caller, todo_id=todo_id, milestone_id=body.milestone_id)
    )
