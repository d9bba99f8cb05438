"""Attachment storage: content sniffing, safe names, download headers."""

from __future__ import annotations

import pytest

from services.teams.files import clean_name, content_disposition, sniff


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\x89PNG\r\n\x1a\n....", "image/png"),
        (b"\xff\xd8\xff\xe0..JFIF", "image/jpeg"),
        (b"GIF89a...", "image/gif"),
        (b"%PDF-1.7\n", "application/pdf"),
        (b"PK\x03\x04\x14\x00", "application/zip"),
        (b"\x1f\x8b\x08\x00", "application/gzip"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"\x00\x00\x00\x18ftypmp42", "video/mp4"),
        (b"ID3\x04\x00", "audio/mpeg"),
        ("plain text, 한국어".encode(), "text/plain; charset=utf-8"),
        ("é".encode() * 300, "text/plain; charset=utf-8"),
        (b"<html><script>alert(1)</script>", "text/plain; charset=utf-8"),
        (b"\x00\x01\x02\x03", "application/octet-stream"),
        (b"", "application/octet-stream"),
        (b"MZ\x90\x00\x03\x00", "application/octet-stream"),
    ],
)
def test_the_content_type_comes_from_the_bytes(head, expected):
    assert sniff(head[:512]) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\notes.txt", "notes.txt"),
        ("bad\x00name\n.txt", "badname.txt"),
        ("..", "file"),
        ("", "file"),
        ("회의록.md", "회의록.md"),
        ("a" * 300 + ".txt", "a" * 251 + ".txt"),
    ],
)
def test_file_names_lose_directories_and_control_characters(raw, expected):
    assert clean_name(raw) == expected


def test_downloads_name_the_file_with_an_rfc5987_fallback():
    assert content_disposition("회의록 v2.md") == (
        "attachment; filename=\"___ v2.md\"; filename*=UTF-8''%ED%9A%8C%EC%9D%98%EB%A1%9D%20v2.md"
    )
    assert content_disposition('a"b;c.txt') == "attachment; filename=\"a_b_c.txt\"; filename*=UTF-8''a%22b%3Bc.txt"
