"""The share board: posts, sanitised Markdown, search, pagination, attachments and downloads."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from services.teams.files import MAX_FILE_BYTES

from .conftest import API, teams_app, types_of

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(name="share")
def fx_share(client, crew):
    """(tid, host, alice, bob, write, call) for the crew's board; write(user, title, body) makes a post."""
    team, host, alice, bob = crew
    tid = team["id"]

    def call(user, method: str, path: str = "", **kwargs):
        return client.request(method, f"{API}{tid}/{path}", headers=user.headers, **kwargs)

    def write(user, title="Post", body=""):
        response = call(user, "POST", "posts/", json={"title": title, "body": body})
        assert response.status_code == 201, response.text
        return response.json()

    return tid, host, alice, bob, write, call


def stored_files(client) -> list:
    root = teams_app(client).state.storage.root
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_a_post_renders_its_markdown_and_names_its_author(share, events):
    _tid, _host, alice, _bob, write, _call = share
    post = write(alice, "Hello", "# Title\n\n**bold** and [link](https://example.com)")
    assert post["author_id"] == alice.id and post["author_nickname"] == alice.nickname
    assert "<h1>Title</h1>" in post["body_html"] and "<strong>bold</strong>" in post["body_html"]
    assert 'href="https://example.com"' in post["body_html"] and 'rel="noopener noreferrer nofollow"' in post["body_html"]
    assert post["files"] == [] and types_of(events) == ["post.created"]


class _Markup(HTMLParser):
    """The elements and attributes of an HTML fragment, as a browser would see them."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes += [(name, value or "") for name, value in attrs]


HOSTILE_BODIES = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[click](javascript:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    "![x](javascript:alert(1))",
    '<svg onload="alert(1)"></svg>',
    "<iframe src='https://evil.example'></iframe>",
    '[x](https://ok.example "title" onmouseover=alert(1))',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    "<style>body{display:none}</style>",
    '<div onclick="x()">hi</div>',
    "<math><mi xlink:href=javascript:alert(1)>x</mi></math>",
    "<object data=evil.swf></object>",
]


def test_markup_that_could_run_script_never_survives(share, subtests):
    _tid, _host, alice, _bob, write, _call = share
    for body in HOSTILE_BODIES:
        with subtests.test(body=body):
            html = write(alice, "XSS", body)["body_html"]
            assert "<script" not in html.lower() and "onerror=" not in html.lower()
            markup = _Markup(html)
            assert not {"script", "iframe", "svg", "style", "math", "object", "div"} & set(markup.tags)
            assert not [name for name, _value in markup.attributes if name.startswith("on")]
            assert not [v for name, v in markup.attributes if name in ("href", "src") and "script" in v.lower()]


def test_safe_inline_html_and_markdown_are_kept(share):
    _tid, _host, alice, _bob, write, _call = share
    html = write(alice, "Fine", 'Press <kbd>Ctrl</kbd>, see `<script>` and <img src="https://x.example/a.png">')["body_html"]
    assert "<kbd>Ctrl</kbd>" in html and "<code>&lt;script&gt;</code>" in html
    assert '<img src="https://x.example/a.png">' in html


def test_posts_are_listed_newest_first_and_paged(share):
    _tid, _host, alice, bob, write, call = share
    for i in range(5):
        write(alice if i % 2 else bob, f"P{i}")
    first = call(alice, "GET", "posts/?page_size=2").json()
    assert [p["title"] for p in first["items"]] == ["P4", "P3"] and first["total"] == 5
    last = call(alice, "GET", "posts/?page=3&page_size=2").json()
    assert [p["title"] for p in last["items"]] == ["P0"]


def test_search_matches_title_body_or_author_nickname(share):
    _tid, _host, alice, bob, write, call = share
    write(alice, "Release plan", "nothing here")
    write(bob, "Lunch", "We ship the RELEASE on Friday")
    write(bob, "Other", "100% sure_thing")

    def titles(q):
        return sorted(p["title"] for p in call(alice, "GET", "posts/", params={"q": q}).json()["items"])

    assert titles("release") == ["Lunch", "Release plan"]
    assert titles(alice.nickname.upper()) == ["Release plan"]
    assert titles("100%") == ["Other"] and titles("%") == ["Other"] and titles("oth_r") == [] and titles("e_t") == ["Other"]
    assert titles("absent") == []


def test_invalid_posts_are_refused_with_the_field_named(share):
    _tid, _host, alice, _bob, _write, call = share
    for body, field in (
        ({"title": "x" * 101}, "title"),
        ({"title": ""}, "title"),
        ({"body": "b"}, "title"),
        ({"title": "t", "body": "b" * 20_001}, "body"),
        ({"title": "t", "author_id": 1}, "author_id"),
    ):
        response = call(alice, "POST", "posts/", json=body)
        assert response.status_code == 422 and field in [d["field"] for d in response.json()["error"]["details"]]
    assert call(alice, "GET", "posts/").json()["total"] == 0


def test_only_the_author_edits_a_post(share):
    _tid, host, alice, _bob, write, call = share
    post = write(alice, "Draft", "v1")
    assert call(host, "PATCH", f"posts/{post['id']}/", json={"title": "Hijacked"}).status_code == 403
    edited = call(alice, "PATCH", f"posts/{post['id']}/", json={"body": "**v2**"}).json()
    assert (edited["title"], edited["body"], edited["body_html"]) == ("Draft", "**v2**", "<p><strong>v2</strong></p>\n")


def test_the_author_or_the_host_deletes_a_post_with_its_files(client, share):
    _tid, host, alice, bob, write, call = share
    post = write(alice, "Mine")
    call(alice, "POST", f"posts/{post['id']}/files/", files={"file": ("a.txt", b"aaa")})
    assert len(stored_files(client)) == 1
    assert call(bob, "DELETE", f"posts/{post['id']}/").status_code == 403
    assert call(host, "DELETE", f"posts/{post['id']}/").status_code == 204
    assert call(alice, "GET", f"posts/{post['id']}/").status_code == 404
    assert stored_files(client) == []
    own = write(bob, "Bob's")
    assert call(bob, "DELETE", f"posts/{own['id']}/").status_code == 204


def test_attachments_keep_their_name_and_get_a_sniffed_type(client, share):
    _tid, _host, alice, bob, write, call = share
    post = write(alice)
    upload = call(
        alice,
        "POST",
        f"posts/{post['id']}/files/",
        files=[("file", ("../../évil.html", PNG, "text/html")), ("file", ("data.bin", b"\x00\x01\x02"))],
    )
    assert upload.status_code == 201
    files = upload.json()["files"]
    assert [(f["name"], f["size"], f["content_type"]) for f in files] == [
        ("évil.html", len(PNG), "image/png"),
        ("data.bin", 3, "application/octet-stream"),
    ]
    download = call(bob, "GET", f"files/{files[0]['id']}/")
    assert download.status_code == 200 and download.content == PNG
    assert download.headers["content-type"] == "image/png"
    assert download.headers["content-disposition"] == "attachment; filename=\"_vil.html\"; filename*=UTF-8''%C3%A9vil.html"
    assert "nosniff" in download.headers["x-content-type-options"]


def test_only_members_download_and_only_through_their_team(client, share, signup, make_team):
    tid, _host, alice, _bob, write, call = share
    post = write(alice)
    file_id = call(alice, "POST", f"posts/{post['id']}/files/", files={"file": ("a.txt", b"x")}).json()["files"][0]["id"]
    outsider = signup("outsider")
    other = make_team(outsider, name="Other")
    assert client.get(f"{API}{tid}/files/{file_id}/", headers=outsider.headers).status_code == 404
    assert client.get(f"{API}{other['id']}/files/{file_id}/", headers=outsider.headers).status_code == 404
    assert client.get(f"{API}{tid}/files/{file_id}/").status_code == 401


def test_a_post_holds_at_most_five_files(client, share):
    _tid, _host, alice, _bob, write, call = share
    post = write(alice)
    four = [("file", (f"f{i}.txt", b"x")) for i in range(4)]
    assert call(alice, "POST", f"posts/{post['id']}/files/", files=four).status_code == 201
    two = [("file", (f"g{i}.txt", b"x")) for i in range(2)]
    too_many = call(alice, "POST", f"posts/{post['id']}/files/", files=two)
    assert too_many.status_code == 409 and too_many.json()["error"]["code"] == "too_many_files"
    assert call(alice, "POST", f"posts/{post['id']}/files/", files={"file": ("h.txt", b"x")}).status_code == 201
    assert call(alice, "POST", f"posts/{post['id']}/files/", files={"file": ("i.txt", b"x")}).status_code == 409
    assert len(call(alice, "GET", f"posts/{post['id']}/").json()["files"]) == 5
    assert len(stored_files(client)) == 5


def test_an_oversized_upload_is_refused_with_413_and_leaves_nothing(client, share):
    _tid, _host, alice, _bob, write, call = share
    post = write(alice)
    response = call(alice, "POST", f"posts/{post['id']}/files/", files={"file": ("big.bin", b"\x00" * (MAX_FILE_BYTES + 1))})
    assert response.status_code == 413
    assert call(alice, "GET", f"posts/{post['id']}/").json()["files"] == []
    assert stored_files(client) == []
    exact = call(alice, "POST", f"posts/{post['id']}/files/", files={"file": ("ok.bin", b"\x00" * MAX_FILE_BYTES)})
    assert exact.status_code == 201 and exact.json()["files"][0]["size"] == MAX_FILE_BYTES


def test_only_the_author_attaches_and_detaches_files(client, share):
    _tid, host, alice, _bob, write, call = share
    post = write(alice)
    assert call(host, "POST", f"posts/{post['id']}/files/", files={"file": ("a.txt", b"x")}).status_code == 403
    file_id = call(alice, "POST", f"posts/{post['id']}/files/", files={"file": ("a.txt", b"x")}).json()["files"][0]["id"]
    assert call(host, "DELETE", f"posts/{post['id']}/files/{file_id}/").status_code == 403
    assert call(alice, "DELETE", f"posts/{post['id']}/files/{file_id}/").json()["files"] == []
    assert stored_files(client) == []
    assert call(alice, "GET", f"files/{file_id}/").status_code == 404


@pytest.mark.parametrize(
    ("content", "headers"),
    [
        (b'{"file": "x"}', {"content-type": "application/json"}),
        (
            b'--b\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nabc',
            {"content-type": "multipart/form-data; boundary=b"},
        ),
        (
            b'--b\r\nContent-Disposition: form-data; name="other"\r\n\r\nabc\r\n--b--\r\n',
            {"content-type": "multipart/form-data; boundary=b"},
        ),
        (b"", {"content-type": "multipart/form-data"}),
    ],
)
def test_malformed_or_empty_uploads_are_refused(client, share, content, headers):
    tid, _host, alice, _bob, write, _call = share
    post = write(alice)
    response = client.post(f"{API}{tid}/posts/{post['id']}/files/", content=content, headers={**alice.headers, **headers})
    assert response.status_code == 422 and response.json()["error"]["details"][0]["field"] == "file"
    assert stored_files(client) == []


def test_a_board_page_without_its_authors_names_is_not_kept(share, client, monkeypatch):
    _tid, _host, alice, _bob, write, call = share
    write(alice, "Hello")
    users = teams_app(client).state.users
    real = users.nicknames

    async def auth_down(ids):
        return dict.fromkeys(ids)  # what the lookup answers while auth cannot

    monkeypatch.setattr(users, "nicknames", auth_down)
    assert call(alice, "GET", "posts/").json()["items"][0]["author_nickname"] is None
    monkeypatch.setattr(users, "nicknames", real)
    assert call(alice, "GET", "posts/").json()["items"][0]["author_nickname"] == alice.nickname  # asked again
