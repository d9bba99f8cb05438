"""The socket is authenticated by the access cookie at the handshake, with its Origin checked; anything
else is refused before the socket is accepted (HTTP 403)."""

import pytest
from websockets.exceptions import InvalidStatus

from services.auth import keys
from services.realtime.protocol import SESSION_EXPIRED
from services.realtime.service import EXPIRY_SWEEP_S

from .harness import Peer, eventually

pytestmark = pytest.mark.anyio


async def _refused(host: str, user, **options) -> int:
    with pytest.raises(InvalidStatus) as refused:
        await Peer.open(host, user, **options)
    return refused.value.response.status_code


async def test_a_socket_with_a_valid_cookie_and_origin_is_accepted(stack, crew):
    peer = await stack.connect(crew.alice)
    await peer.send(op="ping")
    assert (await peer.wait_for(lambda f: f["op"] == "pong"))["op"] == "pong"
    await peer.close()


async def test_a_socket_without_the_cookie_is_refused(stack):
    assert await _refused(stack.socket_hosts[0], None) == 403


async def test_a_socket_with_a_forged_token_is_refused(stack, crew):
    forged = crew.alice.token[:-6] + "AAAAAA"
    assert await _refused(stack.socket_hosts[0], crew.alice, token=forged) == 403
    assert await _refused(stack.socket_hosts[0], crew.alice, token="not-a-jwt") == 403


async def test_a_socket_from_another_origin_is_refused(stack, crew):
    assert await _refused(stack.socket_hosts[0], crew.alice, origin="https://evil.example") == 403


async def test_a_token_in_the_query_string_is_not_accepted(stack, crew):
    host = stack.socket_hosts[0]
    assert await _refused(host, crew.alice, token="", path=f"/ws/?token={crew.alice.token}") == 403
    assert stack.realtime().stats["accepted"] == 0
    assert stack.realtime().stats["refused"] == 1


async def test_a_socket_closes_with_4001_when_its_access_token_runs_out(stack, monkeypatch):
    monkeypatch.setattr(keys, "ACCESS_TOKEN_TTL_S", 2)  # the tokens signed from here on live 2 s
    shortlived = await stack.signup("shortlived")
    peer = await stack.connect(shortlived)
    await peer.send(op="ping")
    assert (await peer.wait_for(lambda f: f["op"] == "pong"))["op"] == "pong"
    assert await peer.wait_closed(timeout=2 + EXPIRY_SWEEP_S + 3) == SESSION_EXPIRED
    await eventually(lambda: not stack.realtime().connections)
