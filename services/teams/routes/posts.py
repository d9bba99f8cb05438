"""Share-board endpoints: posts, attachments (multipart field ``file``) and downloads (members only)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from services.kit.cache import respond
from services.kit.db import cell
from services.kit.errors import NotFound
from services.kit.idempotency import idempotent
from services.kit.openapi import documented
from services.kit.responses import json, no_content
from services.kit.validation import parse_body, parse_query, path_int

from .. import posts
from ..access import member
from ..files import content_disposition
from ..schemas import PostCreate, PostsQuery, PostUpdate


@documented(query=PostsQuery)
async def list_posts(request: Request) -> Response:
    """List the team's posts, newest first; ``q`` searches title, body and author."""
    caller = await member(request)
    query = parse_query(request, PostsQuery)
    state = request.app.state

    async def build() -> dict[str, Any]:
        return await posts.listing(
            db=state.db, users=state.users, caller=caller, query=query, quota_bytes=state.storage.quota_bytes
        )

    if query.q:  # a search: asked once, not worth a cache entry (nor letting arbitrary strings evict pages)
        return json(await build())
    key = ("posts", caller.team_id, query.page, query.page_size)
    cached = state.board_answers.get(key, caller.version)
    if cached is None:
        data = await build()
        if any(post["author_nickname"] is None for post in data["items"]):
            return json(data)  # auth did not answer for some names: show them missing once, keep nothing
        cached = state.board_answers.put(key, caller.version, data)
    return respond(request, cached)


@documented(body=PostCreate)
@idempotent
async def create_post(request: Request) -> JSONResponse:
    """Write a post (Markdown body)."""
    caller = await member(request)
    body = await parse_body(request, PostCreate)
    state = request.app.state
    return json(await posts.create(db=state.db, bus=state.events, users=state.users, caller=caller, body=body), 201)


async def read_post(request: Request) -> JSONResponse:
    """Read one post with its files."""
    caller = await member(request)
    state = request.app.state
    return json(await posts.read(db=state.db, users=state.users, caller=caller, post_id=path_int(request, "post_id")))


@documented(body=PostUpdate)
async def update_post(request: Request) -> JSONResponse:
    """Edit a post (author)."""
    caller = await member(request)
    post_id = path_int(request, "post_id")
    body = await parse_body(request, PostUpdate)
    state = request.app.state
    return json(
        await posts.update(
            db=state.db, bus=state.events, users=state.users, caller=caller, post_id=post_id, changes=body.changes()
        )
    )


async def delete_post(request: Request) -> Response:
    """Delete a post and its files (author or host)."""
    caller = await member(request)
    state = request.app.state
    await posts.delete(
        db=state.db, bus=state.events, storage=state.storage, caller=caller, post_id=path_int(request, "post_id")
    )
    return no_content()


async def upload_files(request: Request) -> JSONResponse:
    """Attach files to a post (author; multipart field ``file``, at most 5 files of 20 MB)."""
    caller = await member(request)
    state = request.app.state
    return json(
        await posts.attach(
            db=state.db,
            bus=state.events,
            users=state.users,
            storage=state.storage,
            caller=caller,
            post_id=path_int(request, "post_id"),
            request=request,
        ),
        201,
    )


async def delete_file(request: Request) -> JSONResponse:
    """Remove an attachment from a post (author)."""
    caller = await member(request)
    state = request.app.state
    return json(
        await posts.detach(
            db=state.db,
            bus=state.events,
            users=state.users,
            storage=state.storage,
            caller=caller,
            post_id=path_int(request, "post_id"),
            file_id=path_int(request, "file_id"),
        )
    )


async def download_file(request: Request) -> Response:
    """Download an attachment, streamed, under its original name (members only)."""
    caller = await member(request)
    state = request.app.state
    row = await posts.stored_file(db=state.db, caller=caller, file_id=path_int(request, "file_id"))
    path = state.storage.path(caller.team_id, cell(row, "storage_key", str))
    if not path.is_file():
        raise NotFound("The file is missing from storage.")
    return FileResponse(
        path,
        media_type=cell(row, "content_type", str),
        headers={
            "Content-Disposition": content_disposition(cell(row, "name", str)),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
            "Content-Security-Policy": "sandbox",
        },
    )
