"""The share board: posts with Markdown bodies rendered to sanitised HTML, search, attachments.

The author edits a post and manages its files; the author or the host deletes it (moderation).
Search matches the title, the body, or the author's nickname; newest first. Files are removed from
disk once the rows that name them are gone.
"""

from __future__ import annotations

from typing import Any

import nh3
import sqlalchemy as sa
from databases import Database
from databases.interfaces import Record
from markdown_it import MarkdownIt
from starlette.requests import Request

from services.kit.db import cell
from services.kit.errors import Conflict, NotFound, PermissionDenied
from services.kit.events import EventBus
from services.kit.nicknames import Nicknames
from services.kit.responses import iso, page, utcnow

from .access import Caller
from .changes import team_change
from .files import MAX_FILES_PER_POST, Storage
from .purge import delete_rows
from .schemas import PostCreate, PostsQuery
from .tables import post_files, posts
from .uploads import QuotaExceeded, receive

_markdown = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
ALLOWED_TAGS = {
    "a",
    "b",
    "blockquote",
    "br",
    "code",
    "del",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "kbd",
    "li",
    "mark",
    "ol",
    "p",
    "pre",
    "s",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "code": {"class"},
    "th": {"style"},
    "td": {"style"},
}


def render(body: str) -> str:
    """Markdown (inline HTML allowed) to HTML that is safe to insert, through an allow-list sanitiser."""
    return nh3.clean(
        _markdown.render(body),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        filter_style_properties={"text-align"},
    )


def file_out(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "size": row.size,
        "content_type": row.content_type,
        "created_at": iso(row.created_at),
        "url": f"/api/v1/teams/{row.team_id}/files/{row.id}/",
    }


def post_out(row: Any, nickname: str | None, files: list[Any]) -> dict[str, Any]:
    return {
        "id": row.id,
        "title": row.title,
        "body": row.body,
        "body_html": row.body_html,
        "author_id": row.author_id,
        "author_nickname": nickname,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
        "files": [file_out(f) for f in files],
    }


def _like(text: str) -> str:
    escaped = text.lower().replace("!", "!!").replace("%", "!%").replace("_", "!_")
    return f"%{escaped}%"


async def _files_of(db: Database, post_ids: list[int]) -> dict[int, list[Any]]:
    by_post: dict[int, list[Any]] = {pid: [] for pid in post_ids}
    if post_ids:
        rows = await db.fetch_all(sa.select(post_files).where(post_files.c.post_id.in_(post_ids)).order_by(post_files.c.id))
        for row in rows:
            by_post[cell(row, "post_id", int)].append(row)
    return by_post


async def _get(db: Database, team_id: int, post_id: int) -> Record:
    row = await db.fetch_one(sa.select(posts).where(posts.c.id == post_id, posts.c.team_id == team_id))
    if row is None:
        raise NotFound()
    return row


async def _out(db: Database, nickname: str | None, row: Any) -> dict[str, Any]:
    files = await _files_of(db, [row.id])
    return post_out(row, nickname, files[row.id])


async def listing(*, db: Database, users: Nicknames, caller: Caller, query: PostsQuery, quota_bytes: int) -> dict[str, Any]:
    """The team's posts, newest first, optionally matching ``q`` in title, body or author nickname."""
    where = [posts.c.team_id == caller.team_id]
    if query.q:
        pattern = _like(query.q)
        authors = await db.fetch_all(sa.select(posts.c.author_id).distinct().where(posts.c.team_id == caller.team_id))
        names = await users.nicknames(cell(row, "author_id", int) for row in authors)
        matching = [uid for uid, name in names.items() if name and query.q.lower() in name.lower()]
        where.append(
            sa.or_(
                sa.func.lower(posts.c.title).like(pattern, escape="!"),
                sa.func.lower(posts.c.body).like(pattern, escape="!"),
                posts.c.author_id.in_(matching),
            )
        )
    total = await db.fetch_val(sa.select(sa.func.count()).select_from(posts).where(*where))
    rows = await db.fetch_all(
        sa.select(posts)
        .where(*where)
        .order_by(posts.c.created_at.desc(), posts.c.id.desc())
        .limit(query.page_size)
        .offset(query.offset)
    )
    files = await _files_of(db, [cell(row, "id", int) for row in rows])
    names = await users.nicknames(cell(row, "author_id", int) for row in rows)
    out = page(
        [post_out(row, names[cell(row, "author_id", int)], files[cell(row, "id", int)]) for row in rows], query, total
    )
    out["storage"] = {"used_bytes": await storage_used(db, caller.team_id), "quota_bytes": quota_bytes}
    return out


async def storage_used(db: Database, team_id: int) -> int:
    """Bytes the team's attachments take (counted against its quota)."""
    used = await db.fetch_val(
        sa.select(sa.func.coalesce(sa.func.sum(post_files.c.size), 0)).where(post_files.c.team_id == team_id)
    )
    return int(used or 0)


async def read(*, db: Database, users: Nicknames, caller: Caller, post_id: int) -> dict[str, Any]:
    """One post of the team with its files."""
    row = await _get(db, caller.team_id, post_id)
    return await _out(db, await users.nickname(cell(row, "author_id", int)), row)


async def create(*, db: Database, bus: EventBus, users: Nicknames, caller: Caller, body: PostCreate) -> dict[str, Any]:
    """Write a post on the team's board."""
    now = utcnow()
    nickname = await users.nickname(caller.user_id)  # before the lock: no peer call while holding it
    async with team_change(db, bus, caller.team_id) as change:
        post_id = await db.execute(
            posts.insert().values(
                team_id=caller.team_id,
                author_id=caller.user_id,
                title=body.title,
                body=body.body,
                body_html=render(body.body),
                created_at=now,
                updated_at=now,
            )
        )
        out = await _out(db, nickname, await _get(db, caller.team_id, post_id))
        change.publish("post.created", out)
    return out


async def _own(db: Database, caller: Caller, post_id: int) -> Record:
    row = await _get(db, caller.team_id, post_id)
    if cell(row, "author_id", int) != caller.user_id:
        raise PermissionDenied("Only the author can change this post.")
    return row


async def update(
    *, db: Database, bus: EventBus, users: Nicknames, caller: Caller, post_id: int, changes: dict[str, Any]
) -> dict[str, Any]:
    """Edit a post's title or body (author)."""
    nickname = await users.nickname(caller.user_id)
    async with team_change(db, bus, caller.team_id) as change:
        await _own(db, caller, post_id)
        if "body" in changes:
            changes["body_html"] = render(changes["body"])
        await db.execute(posts.update().where(posts.c.id == post_id).values(**changes, updated_at=utcnow()))
        out = await _out(db, nickname, await _get(db, caller.team_id, post_id))
        change.publish("post.updated", out)
    return out


async def delete(*, db: Database, bus: EventBus, storage: Storage, caller: Caller, post_id: int) -> None:
    """Delete a post and its files (author, or the host as moderator)."""
    async with team_change(db, bus, caller.team_id) as change:
        row = await _get(db, caller.team_id, post_id)
        if cell(row, "author_id", int) != caller.user_id and cell(change.team, "host_id", int) != caller.user_id:
            raise PermissionDenied("Only the author or the host can delete this post.")
        stored = (await _files_of(db, [post_id]))[post_id]
        await delete_rows(db, posts, posts.c.id == post_id)
        change.publish("post.deleted", {"id": post_id})
    await storage.remove([storage.path(caller.team_id, f.storage_key) for f in stored])


async def attach(
    *, db: Database, bus: EventBus, users: Nicknames, storage: Storage, caller: Caller, post_id: int, request: Request
) -> dict[str, Any]:
    """Add up to five attachments to a post (author); the bytes are streamed to disk."""
    await _own(db, caller, post_id)
    count = await db.fetch_val(sa.select(sa.func.count()).where(post_files.c.post_id == post_id))
    if count >= MAX_FILES_PER_POST:
        raise Conflict(f"A post holds at most {MAX_FILES_PER_POST} files.", code="too_many_files")
    room = storage.quota_bytes - await storage_used(db, caller.team_id)
    if room <= 0:
        raise QuotaExceeded()
    uploads = await receive(request, storage=storage, max_files=MAX_FILES_PER_POST - count, max_total=room)
    nickname = await users.nickname(caller.user_id)
    kept = []
    try:
        async with team_change(db, bus, caller.team_id) as change:
            await _own(db, caller, post_id)
            count = await db.fetch_val(sa.select(sa.func.count()).where(post_files.c.post_id == post_id))
            if count + len(uploads) > MAX_FILES_PER_POST:
                raise Conflict(f"A post holds at most {MAX_FILES_PER_POST} files.", code="too_many_files")
            if await storage_used(db, caller.team_id) + sum(u.size for u in uploads) > storage.quota_bytes:
                raise QuotaExceeded()
            for upload in uploads:
                key = await storage.keep(upload.temp, caller.team_id)
                kept.append(storage.path(caller.team_id, key))
                await db.execute(
                    post_files.insert().values(
                        team_id=caller.team_id,
                        post_id=post_id,
                        name=upload.name,
                        size=upload.size,
                        content_type=upload.content_type,
                        storage_key=key,
                        uploaded_by=caller.user_id,
                        created_at=utcnow(),
                    )
                )
            out = await _out(db, nickname, await _get(db, caller.team_id, post_id))
            change.publish("post.updated", out)
    except BaseException:
        await storage.remove(kept + [upload.temp for upload in uploads])
        raise
    return out


async def detach(
    *, db: Database, bus: EventBus, users: Nicknames, storage: Storage, caller: Caller, post_id: int, file_id: int
) -> dict[str, Any]:
    """Remove one attachment from a post (author)."""
    nickname = await users.nickname(caller.user_id)
    async with team_change(db, bus, caller.team_id) as change:
        await _own(db, caller, post_id)
        row = await db.fetch_one(sa.select(post_files).where(post_files.c.id == file_id, post_files.c.post_id == post_id))
        if row is None:
            raise NotFound()
        await db.execute(post_files.delete().where(post_files.c.id == file_id))
        out = await _out(db, nickname, await _get(db, caller.team_id, post_id))
        change.publish("post.updated", out)
    await storage.remove([storage.path(caller.team_id, cell(row, "storage_key", str))])
    return out


async def stored_file(*, db: Database, caller: Caller, file_id: int) -> Record:
    """The row of one of the team's files (members only)."""
    row = await db.fetch_one(sa.select(post_files).where(post_files.c.id == file_id, post_files.c.team_id == caller.team_id))
    if row is None:
        raise NotFound()
    return row
