"""HTTP routes of the mind maps (appended to the teams app): parse, check the caller, call the rules.

Every route starts with ``access.member`` (401 anonymous, 404 outside the team); every lookup below
filters by the team in the URL and the map in the URL.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from services.kit.idempotency import idempotent
from services.kit.nicknames import Nicknames
from services.kit.openapi import documented
from services.kit.peers import require_service
from services.kit.responses import PageQuery, json
from services.kit.validation import parse_body, parse_query, path_int
from services.teams.access import member

from . import comments, links, maps, nodes, votes
from .schemas import CommentIn, LinkIn, MindMapIn, NodeIn, NodeUpdate

MAPS = "/api/v1/teams/{team_id}/mindmaps/"
MAP = MAPS + "{map_id}/"
NODE = MAP + "nodes/{node_id}/"


def _directory(request: Request) -> Nicknames:
    users: Nicknames = request.app.state.users
    return users


def _ids(request: Request, *names: str) -> list[int]:
    return [path_int(request, name) for name in names]


@documented(query=PageQuery)
async def list_maps(request: Request) -> JSONResponse:
    """List the team's mind maps."""
    caller = await member(request)
    query = parse_query(request, PageQuery)
    return json(await maps.list_maps(db=request.app.state.db, caller=caller, query=query))


@documented(body=MindMapIn)
@idempotent
async def create_map(request: Request) -> JSONResponse:
    """Create a mind map (any member)."""
    caller = await member(request)
    data = await parse_body(request, MindMapIn)
    state = request.app.state
    return json(await maps.create_map(db=state.db, bus=state.events, caller=caller, title=data.title), status=201)


async def get_map(request: Request) -> JSONResponse:
    """The whole map: nodes, links, counts and its version."""
    caller = await member(request)
    [map_id] = _ids(request, "map_id")
    return json(
        await maps.snapshot(db=request.app.state.db, caller=caller, map_id=map_id), headers={"Cache-Control": "no-store"}
    )


async def delete_map(request: Request) -> Response:
    """Delete a mind map (the host or its creator)."""
    caller = await member(request)
    [map_id] = _ids(request, "map_id")
    state = request.app.state
    await maps.delete_map(db=state.db, bus=state.events, caller=caller, map_id=map_id)
    return Response(status_code=204)


@documented(body=NodeIn)
@idempotent
async def create_node(request: Request) -> JSONResponse:
    """Add a node."""
    caller = await member(request)
    [map_id] = _ids(request, "map_id")
    data = await parse_body(request, NodeIn)
    state = request.app.state
    node = await nodes.create_node(db=state.db, bus=state.events, caller=caller, map_id=map_id, data=data)
    return json(node, status=201)


async def get_node(request: Request) -> JSONResponse:
    """One node with its counts."""
    caller = await member(request)
    map_id, node_id = _ids(request, "map_id", "node_id")
    db = request.app.state.db
    await maps.require_map(db, caller=caller, map_id=map_id)
    row = await nodes.load_node(db, map_id=map_id, node_id=node_id)
    return json(await nodes.node_view(db, row, user_id=caller.user_id))


@documented(body=NodeUpdate)
async def update_node(request: Request) -> JSONResponse:
    """Edit or move a node; send its ``version`` to refuse overwriting someone else's edit."""
    caller = await member(request)
    map_id, node_id = _ids(request, "map_id", "node_id")
    data = await parse_body(request, NodeUpdate)
    state = request.app.state
    return json(
        await nodes.update_node(db=state.db, bus=state.events, caller=caller, map_id=map_id, node_id=node_id, data=data)
    )


async def delete_node(request: Request) -> Response:
    """Delete a node with its links, comments and votes."""
    caller = await member(request)
    map_id, node_id = _ids(request, "map_id", "node_id")
    state = request.app.state
    await nodes.delete_node(db=state.db, bus=state.events, caller=caller, map_id=map_id, node_id=node_id)
    return Response(status_code=204)


@documented(body=LinkIn)
@idempotent
async def create_link(request: Request) -> JSONResponse:
    """Link two nodes of the map."""
    caller = await member(request)
    [map_id] = _ids(request, "map_id")
    data = await parse_body(request, LinkIn)
    state = request.app.state
    link = await links.create_link(db=state.db, bus=state.events, caller=caller, map_id=map_id, data=data)
    return json(link, status=201)


async def delete_link(request: Request) -> Response:
    """Remove a link."""
    caller = await member(request)
    map_id, link_id = _ids(request, "map_id", "link_id")
    state = request.app.state
    await links.delete_link(db=state.db, bus=state.events, caller=caller, map_id=map_id, link_id=link_id)
    return Response(status_code=204)


@documented(query=PageQuery)
async def list_comments(request: Request) -> JSONResponse:
    """List a node's comments, oldest first."""
    caller = await member(request)
    map_id, node_id = _ids(request, "map_id", "node_id")
    query = parse_query(request, PageQuery)
    state = request.app.state
    return json(
        await comments.list_comments(
            db=state.db, directory=_directory(request), caller=caller, map_id=map_id, node_id=node_id, query=query
        )
    )


@documented(body=CommentIn)
@idempotent
async def create_comment(request: Request) -> JSONResponse:
    """Comment on a node."""
    caller = await member(request)
    map_id, node_id = _ids(request, "map_id", "node_id")
    data = await parse_body(request, CommentIn)
    state = request.app.state
    comment = await comments.create_comment(
        db=state.db,
        bus=state.events,
        directory=_directory(request),
        caller=caller,
        map_id=map_id,
        node_id=node_id,
        body=data.body,
    )
    return json(comment, status=201)


@documented(body=CommentIn)
async def update_comment(request: Request) -> JSONResponse:
    """Edit one's own comment."""
    caller = await member(request)
    map_id, node_id, comment_id = _ids(request, "map_id", "node_id", "comment_id")
    data = await parse_body(request, CommentIn)
    state = request.app.state
    return json(
        await comments.update_comment(
            db=state.db,
            bus=state.events,
            directory=_directory(request),
            caller=caller,
            map_id=map_id,
            node_id=node_id,
            comment_id=comment_id,
            body=data.body,
        )
    )


async def delete_comment(request: Request) -> Response:
    """Delete a comment (its author or the host)."""
    caller = await member(request)
    map_id, node_id, comment_id = _ids(request, "map_id", "node_id", "comment_id")
    state = request.app.state
    await comments.delete_comment(
        db=state.db, bus=state.events, caller=caller, map_id=map_id, node_id=node_id, comment_id=comment_id
    )
    return Response(status_code=204)


async def put_vote(request: Request) -> JSONResponse:
    """Vote for a node (once per member; repeating changes nothing)."""
    return await _vote(request, voted=True)


async def delete_vote(request: Request) -> JSONResponse:
    """Withdraw one's vote from a node."""
    return await _vote(request, voted=False)


async def _vote(request: Request, *, voted: bool) -> JSONResponse:
    caller = await member(request)
    map_id, node_id = _ids(request, "map_id", "node_id")
    state = request.app.state
    return json(await votes.vote(db=state.db, bus=state.events, caller=caller, map_id=map_id, node_id=node_id, voted=voted))


async def internal_map(request: Request) -> JSONResponse:
    """A map's team and version, for the realtime service (service credential required)."""
    require_service(request)
    [map_id] = _ids(request, "map_id")
    return json(await maps.lookup(db=request.app.state.db, map_id=map_id))


routes = [
    Route(MAPS, list_maps, methods=["GET"]),
    Route(MAPS, create_map, methods=["POST"]),
    Route(MAP, get_map, methods=["GET"]),
    Route(MAP, delete_map, methods=["DELETE"]),
    Route(MAP + "nodes/", create_node, methods=["POST"]),
    Route(NODE, get_node, methods=["GET"]),
    Route(NODE, update_node, methods=["PATCH"]),
    Route(NODE, delete_node, methods=["DELETE"]),
    Route(MAP + "links/", create_link, methods=["POST"]),
    Route(MAP + "links/{link_id}/", delete_link, methods=["DELETE"]),
    Route(NODE + "comments/", list_comments, methods=["GET"]),
    Route(NODE + "comments/", create_comment, methods=["POST"]),
    Route(NODE + "comments/{comment_id}/", update_comment, methods=["PATCH"]),
    Route(NODE + "comments/{comment_id}/", delete_comment, methods=["DELETE"]),
    Route(NODE + "vote/", put_vote, methods=["PUT"]),
    Route(NODE + "vote/", delete_vote, methods=["DELETE"]),
    Route("/internal/mindmaps/{map_id}/", internal_map, methods=["GET"]),
    Route("/internal/mindmaps/{map_id}", internal_map, methods=["GET"]),  # peers do not follow redirects
]
