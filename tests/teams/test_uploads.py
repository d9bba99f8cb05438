"""Uploads: the size limit enforced while streaming, whole files from small chunks, missing parts."""

from __future__ import annotations

import asyncio

import pytest
from starlette.requests import Request

from services.kit.errors import InvalidInput, PayloadTooLarge
from services.teams.files import MAX_FILE_BYTES, Storage
from services.teams.uploads import receive

MB = 1024 * 1024
HEAD = (
    b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="endless.bin"\r\n'
    b"Content-Type: application/octet-stream\r\n\r\n"
)


def streaming_request(chunks, headers: dict[str, str] | None = None) -> Request:
    """A request whose body arrives chunk by chunk from an iterator, recording how much was read."""
    iterator = iter(chunks)

    async def receive_message():
        try:
            return {"type": "http.request", "body": next(iterator), "more_body": True}
        except StopIteration:
            return {"type": "http.request", "body": b"", "more_body": False}

    raw = {"content-type": "multipart/form-data; boundary=XyZ", **(headers or {})}
    scope = {"type": "http", "method": "POST", "path": "/", "headers": [(k.encode(), v.encode()) for k, v in raw.items()]}
    return Request(scope, receive_message)


def test_an_endless_upload_is_cut_off_just_past_the_limit_without_buffering_it(tmp_path):
    read = {"chunks": 0}

    def endless():
        yield HEAD
        while True:
            read["chunks"] += 1
            yield b"\x00" * MB

    storage = Storage(tmp_path)
    with pytest.raises(PayloadTooLarge):
        asyncio.run(receive(streaming_request(endless()), storage=storage, max_files=5))
    assert read["chunks"] == MAX_FILE_BYTES // MB + 1
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_a_declared_length_beyond_the_limit_is_refused_before_reading(tmp_path):
    def never():
        raise AssertionError("the body must not be read")
        yield b""

    request = streaming_request(never(), {"content-length": str(2 * MAX_FILE_BYTES)})
    with pytest.raises(PayloadTooLarge):
        asyncio.run(receive(request, storage=Storage(tmp_path), max_files=1))


def test_a_file_arriving_in_small_chunks_is_written_whole(tmp_path):
    payload = bytes(range(256)) * 9000
    body = HEAD + payload + b"\r\n--XyZ--\r\n"
    chunks = [body[i : i + 1000] for i in range(0, len(body), 1000)]
    uploads = asyncio.run(receive(streaming_request(chunks), storage=Storage(tmp_path), max_files=5))
    assert [(u.name, u.size) for u in uploads] == [("endless.bin", len(payload))]
    assert uploads[0].temp.read_bytes() == payload


def test_a_request_without_a_file_part_is_invalid(tmp_path):
    body = b'--XyZ\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n--XyZ--\r\n'
    with pytest.raises(InvalidInput):
        asyncio.run(receive(streaming_request([body]), storage=Storage(tmp_path), max_files=5))
