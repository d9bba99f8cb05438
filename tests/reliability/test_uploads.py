"""Hostile input 11: uploads through the gateway of the stack.

A file over the limit is refused with 413 while it streams (Nginx above 21 MB, the teams service above
20 MB) and the teams processes' memory stays flat; HTML and SVG come back as attachments with nosniff
and a harmless type; a path-traversal file name is neutralised.
"""

from __future__ import annotations

import httpx
import pytest

from .test_soak import rss_bytes

pytestmark = pytest.mark.stack
MB = 1024 * 1024
FLAT_BYTES = 8 * MB  # a streamed upload never holds the file: far less than the 20 MB it carries


@pytest.fixture(name="board", scope="module")
def fx_board(rstack):
    author = rstack.account("upload")
    team = rstack.team(author)
    with rstack.http() as http:
        post = http.post(f"/api/v1/teams/{team['id']}/posts/", json={"title": "Files"}, headers=author.headers)
        assert post.status_code == 201, post.text
    return author, team, post.json()


def _chunks(size: int, piece: bytes = b"A" * 65536):
    sent = 0
    while sent < size:
        chunk = piece[: min(len(piece), size - sent)]
        sent += len(chunk)
        yield chunk


def _multipart(name: str, size: int, boundary: str = "reliabilityboundary"):
    yield (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    yield from _chunks(size)
    yield f"\r\n--{boundary}--\r\n".encode()


def _upload_stream(rstack, author, url: str, size: int) -> httpx.Response:
    headers = {**author.headers, "Content-Type": "multipart/form-data; boundary=reliabilityboundary"}
    with rstack.http(timeout=60) as http:
        try:
            return http.post(url, content=_multipart("big.bin", size), headers=headers)
        except httpx.HTTPError as exc:  # nginx may answer and close while the body still streams
            pytest.fail(f"no answer to an oversized upload: {exc!r}")


@pytest.mark.parametrize("size", [21 * MB, 20 * MB + 512 * 1024], ids=["21MB-gateway", "20.5MB-service"])
def test_an_oversized_upload_is_refused_with_413_while_memory_stays_flat(rstack, board, size):
    author, team, post = board
    pids = {name: pid for name, pid in rstack.pids().items() if name.startswith("teams-")}
    before = {name: rss_bytes(pid) for name, pid in pids.items()}
    answer = _upload_stream(rstack, author, f"/api/v1/teams/{team['id']}/posts/{post['id']}/files/", size)
    after = {name: rss_bytes(pid) for name, pid in pids.items()}
    assert answer.status_code == 413, answer.text[:300]
    assert answer.json()["error"]["code"] == "payload_too_large"
    grown = {name: (after[name] - before[name]) / MB for name in pids if after[name] - before[name] > FLAT_BYTES}
    assert not grown, grown
    leftovers = list((rstack.data_dir / "files").glob("tmp/*.part"))
    assert not leftovers, leftovers
    with rstack.http() as http:
        files = http.get(f"/api/v1/teams/{team['id']}/posts/{post['id']}/", headers=author.headers).json()["files"]
    assert files == []


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("page.html", b"<!doctype html><html><body><script>window.__xss=1</script></body></html>"),
        (
            "image.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg" onload="window.__xss=1"><script>window.__xss=1</script></svg>',
        ),
    ],
)
def test_html_and_svg_come_back_as_inert_attachments(rstack, board, name, content):
    author, team, _ = board
    with rstack.http() as http:
        post = http.post(f"/api/v1/teams/{team['id']}/posts/", json={"title": "Inert"}, headers=author.headers).json()
        r = http.post(
            f"/api/v1/teams/{team['id']}/posts/{post['id']}/files/",
            files={"file": (name, content, "text/html")},
            headers=author.headers,
        )
        assert r.status_code == 201, r.text
        stored = next(f for f in r.json()["files"] if f["name"] == name)
        download = http.get(f"/api/v1/teams/{team['id']}/files/{stored['id']}/", headers=author.headers)
    assert download.status_code == 200 and download.content == content
    assert download.headers["content-disposition"].startswith("attachment;")
    # Fetch reads the first value; the service and the gateway both send it (hence "nosniff, nosniff")
    assert {v.strip() for v in download.headers["x-content-type-options"].split(",")} == {"nosniff"}
    kind = download.headers["content-type"].split(";")[0]
    assert kind not in ("text/html", "image/svg+xml", "application/xhtml+xml", "text/xml"), kind
    assert "sandbox" in download.headers.get("content-security-policy", "")


@pytest.mark.parametrize(
    "raw", ["../../../../etc/passwd", "..\\..\\windows\\win.ini", "/abs/path/evil.sh", "a/../../b.txt", "\x00evil.txt", ".."]
)
def test_a_path_traversal_file_name_is_neutralised(rstack, board, raw):
    author, team, _ = board
    with rstack.http() as http:
        post = http.post(f"/api/v1/teams/{team['id']}/posts/", json={"title": "Names"}, headers=author.headers).json()
        r = http.post(
            f"/api/v1/teams/{team['id']}/posts/{post['id']}/files/", files={"file": (raw, b"hello")}, headers=author.headers
        )
        if r.status_code == 201:
            stored = r.json()["files"][-1]
            download = http.get(f"/api/v1/teams/{team['id']}/files/{stored['id']}/", headers=author.headers)
    assert r.status_code in (201, 422), r.text
    if r.status_code == 201:
        assert "/" not in stored["name"] and "\\" not in stored["name"] and stored["name"] not in ("", ".", "..")
        assert "/" not in download.headers["content-disposition"].split("filename=")[1].split(";")[0]
        assert download.content == b"hello"
    files_root = (rstack.data_dir / "files").resolve()
    for folder in (files_root.parent, files_root.parent.parent, files_root / "tmp"):
        leaked = [folder / n for n in ("passwd", "win.ini", "evil.sh", "b.txt", "evil.txt") if (folder / n).exists()]
        assert not leaked, leaked
