"""The teams API's URL table (handlers in the modules of this package, rules one level up).

Public paths are those of docs/spec.md "The API at a glance"; ``{team_id}`` is checked by ``access.member``
before anything else, so every nested id is looked up within that team only.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import internal, members, milestones, posts, teams, todos

T = "/api/v1/teams/{team_id}"


def _internal(path: str, endpoint: Callable[[Request], Awaitable[Response]], methods: list[str]) -> list[Route]:
    """An internal route with and without its trailing slash (peers do not follow redirects)."""
    bare = path.rstrip("/")
    return [Route(bare, endpoint, methods=methods), Route(bare + "/", endpoint, methods=methods)]


routes = [
    Route("/api/v1/teams/", teams.my_teams, methods=["GET"]),
    Route("/api/v1/teams/", teams.create_team, methods=["POST"]),
    Route("/api/v1/teams/join/preview/", teams.preview, methods=["POST"]),
    Route("/api/v1/teams/join/", teams.join, methods=["POST"]),
    Route(f"{T}/", teams.read_team, methods=["GET"]),
    Route(f"{T}/", teams.update_team, methods=["PATCH"]),
    Route(f"{T}/", teams.disband_team, methods=["DELETE"]),
    Route(f"{T}/statistics/", teams.statistics, methods=["GET"]),
    Route(f"{T}/invite-code/", teams.rotate_invite_code, methods=["POST"]),
    Route(f"{T}/password/", teams.change_password, methods=["PUT"]),
    Route(f"{T}/members/", members.list_members, methods=["GET"]),
    Route(f"{T}/members/{{user_id}}/", members.remove_member, methods=["DELETE"]),
    Route(f"{T}/host/", members.transfer_host, methods=["PUT"]),
    Route(f"{T}/milestones/", milestones.list_milestones, methods=["GET"]),
    Route(f"{T}/milestones/", milestones.create_milestone, methods=["POST"]),
    Route(f"{T}/milestones/{{milestone_id}}/", milestones.read_milestone, methods=["GET"]),
    Route(f"{T}/milestones/{{milestone_id}}/", milestones.update_milestone, methods=["PATCH"]),
    Route(f"{T}/milestones/{{milestone_id}}/", milestones.delete_milestone, methods=["DELETE"]),
    Route(f"{T}/todos/", todos.list_todos, methods=["GET"]),
    Route(f"{T}/todos/", todos.create_todo, methods=["POST"]),
    Route(f"{T}/todos/{{todo_id}}/", todos.read_todo, methods=["GET"]),
    Route(f"{T}/todos/{{todo_id}}/", todos.edit_todo, methods=["PATCH"]),
    Route(f"{T}/todos/{{todo_id}}/", todos.delete_todo, methods=["DELETE"]),
    Route(f"{T}/todos/{{todo_id}}/assign/", todos.assign_todo, methods=["POST"]),
    Route(f"{T}/todos/{{todo_id}}/complete/", todos.complete_todo, methods=["POST"]),
    Route(f"{T}/todos/{{todo_id}}/move-to-todo/", todos.move_to_todo, methods=["POST"]),
    Route(f"{T}/todos/{{todo_id}}/move-to-done/", todos.move_to_done, methods=["POST"]),
    Route(f"{T}/todos/{{todo_id}}/reorder/", todos.reorder_todo, methods=["POST"]),
    Route(f"{T}/todos/{{todo_id}}/assign-milestone/", todos.assign_milestone, methods=["POST"]),
    Route(f"{T}/posts/", posts.list_posts, methods=["GET"]),
    Route(f"{T}/posts/", posts.create_post, methods=["POST"]),
    Route(f"{T}/posts/{{post_id}}/", posts.read_post, methods=["GET"]),
    Route(f"{T}/posts/{{post_id}}/", posts.update_post, methods=["PATCH"]),
    Route(f"{T}/posts/{{post_id}}/", posts.delete_post, methods=["DELETE"]),
    Route(f"{T}/posts/{{post_id}}/files/", posts.upload_files, methods=["POST"]),
    Route(f"{T}/posts/{{post_id}}/files/{{file_id}}/", posts.delete_file, methods=["DELETE"]),
    Route(f"{T}/files/{{file_id}}/", posts.download_file, methods=["GET"]),
    *_internal("/internal/users/{user_id}/deactivated", internal.user_deactivated, ["POST"]),
    *_internal("/internal/teams/{team_id}/members/", internal.team_members, ["GET"]),
    *_internal("/internal/teams/{team_id}/members/{user_id}/", internal.team_membership, ["GET"]),
]
