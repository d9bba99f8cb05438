"""Attachment storage: the size limit while streaming, content sniffing, safe names, download headers."""

from __future__ import annotations

import asyncio

import pytest
from starlette.requests import Request

from services.kit.errors import InvalidInput, PayloadTooLarge
from services.teams.files import (
    MAX_FILE_BYTES,
    Storage,
    clean_name,
    content_disposition,
    receive,
    sniff,
)

MB = 1024 * 1024
HEAD = (b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"endless.bin\"\r\n"
        b"Content-Type: application/octet-stream\r\n\r\n")


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
    chunks = [body[i:i + 1000] for i in range(0, len(body), 1000)]
    uploads = asyncio.run(receive(streaming_request(chunks), storage=Storage(tmp_path), max_files=5))
    assert [(u.name, u.size) for u in uploads] == [("endless.bin", len(payload))]
    assert uploads[0].temp.read_bytes() == payload


def test_a_request_without_a_file_part_is_invalid(tmp_path):
    body = b"--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n--XyZ--\r\n"
    with pytest.raises(InvalidInput):
        asyncio.run(receive(streaming_request([body]), storage=Storage(tmp_path), max_files=5))


@pytest.mark.parametrize(("head", "expected"), [
    (b"\x89PNG\r\n\x1a\n....", "image/png"), (b"\xff\xd8\xff\xe0..JFIF", "image/jpeg"), (b"GIF89a...", "image/gif"),
    (b"%PDF-1.7\n", "application/pdf"), (b"PK\x03\x04\x14\x00", "application/zip"),
    (b"\x1f\x8b\x08\x00", "application/gzip"),
    (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"), (b"\x00\x00\x00\x18ftypmp42", "video/mp4"),
    (b"ID3\x04\x00", "audio/mpeg"), ("plain text, 한국어".encode(), "text/plain; charset=utf-8"),
    ("é".encode() * 300, "text/plain; charset=utf-8"), (b"<html><script>alert(1)</script>", "text/plain; charset=utf-8"),
    (b"\x00\x01\x02\x03", "application/octet-stream"), (b"", "application/octet-stream"),
    (b"MZ\x90\x00\x03\x00", "application/octet-stream"),
])
def test_the_content_type_comes_from_the_bytes(head, expected):
    assert sniff(head[:512]) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("report.pdf", "report.pdf"), ("../../etc/passwd", "passwd"), ("C:\\Users\\me\\notes.txt", "notes.txt"),
    ("bad\x00name\n.txt", "badname.txt"), ("..", "file"), ("", "file"), ("회의록.md", "회의록.md"),
    ("a" * 300 + ".txt", "a" * 251 + ".txt"),
])
def test_file_names_lose_directories_and_control_characters(raw, expected):
    assert clean_name(raw) == expected


def test_downloads_name_the_file_with_an_rfc5987_fallback():
    assert content_disposition("회의록 v2.md") == (
        "attachment; filename=\"___ v2.md\"; filename*=UTF-8''%ED%9A%8C%EC%9D%98%EB%A1%9D%20v2.md")
    assert content_disposition('a"b;c.txt') == "attachment; filename=\"a_b_c.txt\"; filename*=UTF-8''a%22b%3Bc.txt"
