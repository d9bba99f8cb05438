"""The event contract between services: channel names and the event types more than one service acts on.

Writers (teams) publish on a channel after the commit; realtime relays every event to subscribed
sockets; schedule and realtime also act on some of them. Those shared names are defined here once, so a
rename cannot silently break a listener. The full list of events and their data: docs/realtime.md.

Channels:
    team.<team id>      members, todos, milestones, the share board, mind-map list changes, meetings
                        (``meeting.*``, published by the schedule service)
    mindmap.<map id>    nodes, links, comments and votes of one map, each carrying the map's version
"""

from __future__ import annotations

TEAM_PREFIX = "team."
MINDMAP_PREFIX = "mindmap."

# Events that change who is in a team, or whether it exists (schedule drops its cached team; realtime
# re-checks or ends subscriptions).
MEMBER_PREFIX = "member."  # every member.* event
MEMBER_JOINED = "member.joined"
MEMBER_LEFT = "member.left"  # data: {"user_id", ...}: left, or was deactivated
MEMBER_REMOVED = "member.removed"  # data: {"user_id", ...}: removed by the host
MEMBER_ROLE_CHANGED = "member.role_changed"
TEAM_UPDATED = "team.updated"
TEAM_DISBANDED = "team.disbanded"
MINDMAP_CREATED = "mindmap.created"
MINDMAP_DELETED = "mindmap.deleted"  # also on the map's own channel: its subscriptions end
MEMBERSHIP_ENDED = (MEMBER_LEFT, MEMBER_REMOVED)  # for the user named in the data


def team_channel(team_id: int) -> str:
    """The channel of a team's events: ``team.<id>``."""
    return f"{TEAM_PREFIX}{team_id}"


def mindmap_channel(map_id: int) -> str:
    """The channel of one mind map's events: ``mindmap.<id>``."""
    return f"{MINDMAP_PREFIX}{map_id}"
