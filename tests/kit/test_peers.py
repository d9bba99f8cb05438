"""Peer calls retry only where nothing can be applied twice."""

import httpx
import pytest

from services.kit.peers import send

pytestmark = pytest.mark.anyio


def _flaky(failures: list[Exception]):
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        if failures:
            raise failures.pop(0)
        return httpx.Response(200, json={"ok": True})

    return httpx.MockTransport(handler), calls


async def test_a_get_whose_kept_alive_connection_died_is_sent_again_once():
    transport, calls = _flaky([httpx.ReadError("closed")])
    async with httpx.AsyncClient(transport=transport, base_url="http://peer") as client:
        assert (await send(client, "GET", "/health")).status_code == 200
    assert calls == ["GET", "GET"]


async def test_a_post_on_a_dead_connection_is_not_sent_again():
    transport, calls = _flaky([httpx.RemoteProtocolError("closed")])
    async with httpx.AsyncClient(transport=transport, base_url="http://peer") as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await send(client, "POST", "/internal/x")
    assert calls == ["POST"]


async def test_connect_errors_are_retried_then_given_up():
    transport, calls = _flaky([httpx.ConnectError("refused")] * 5)
    async with httpx.AsyncClient(transport=transport, base_url="http://peer") as client:
        with pytest.raises(httpx.ConnectError):
            await send(client, "POST", "/internal/x")
    assert len(calls) == 3  # first try plus CONNECT_RETRIES
