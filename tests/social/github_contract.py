"""A contract server for GitHub's OAuth web flow and REST API — NOT GitHub, and not a general OAuth server.

No local product implements GitHub, and the tests have no internet, so this serves exactly the responses
GitHub documents for the calls TeamMoa makes, and nothing more:

- ``GET  /login/oauth/authorize`` — "Authorizing OAuth apps", web application flow, step 1: the user (here:
  whoever the test chose with ``sign_in_as``) approves and is redirected to ``redirect_uri?code=…&state=…``;
  an unknown ``client_id`` or a ``redirect_uri`` that is not the registered callback is refused (GitHub shows
  an error page; here a 400 with its error name, ``redirect_uri_mismatch``).
- ``POST /login/oauth/access_token`` — step 2: ``client_id``, ``client_secret``, ``code``, ``redirect_uri`` and
  PKCE's ``code_verifier`` in the form body; with ``Accept: application/json`` the answer is
  ``{"access_token", "scope", "token_type": "bearer"}``, and a bad code is a 200 with
  ``{"error": "bad_verification_code", "error_description", "error_uri"}`` as GitHub answers it.
- ``GET  /user`` — "Get the authenticated user": ``login``, ``id`` (numeric, stable), ``name``, ``email``…;
  401 ``{"message": "Bad credentials"}`` without a valid token.
- ``GET  /user/emails`` — "List email addresses for the authenticated user": ``[{email, primary, verified,
  visibility}]``.

Codes are single-use and expire; tokens are opaque. The API is served on the same origin (as GitHub
Enterprise Server does under /api/v3, here at the root).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

DOCS = "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors"


@dataclass
class GitHubUser:
    id: int
    login: str
    name: str | None
    emails: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Grant:
    user: GitHubUser
    redirect_uri: str
    challenge: str | None


class GitHubContract:
    def __init__(self, client_id: str, client_secret: str, callback: str) -> None:
        self.client_id, self.client_secret, self.callback = client_id, client_secret, callback
        self.user: GitHubUser | None = None
        self.codes: dict[str, _Grant] = {}
        self.tokens: dict[str, GitHubUser] = {}
        self.down = False
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> GitHubContract:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def sign_in_as(self, user: GitHubUser) -> None:
        self.user = user

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        contract = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode() if not isinstance(body, bytes) else body
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if contract.down:
                    self._send(503, {"message": "Service unavailable"})
                    return
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/login/oauth/authorize":
                    self._authorize(query)
                elif url.path in ("/user", "/user/emails"):
                    self._api(url.path)
                else:
                    self._send(404, {"message": "Not Found"})

            def _authorize(self, query: dict[str, str]) -> None:
                if query.get("client_id") != contract.client_id:
                    self._send(404, {"message": "Not Found"})
                    return
                if query.get("redirect_uri", contract.callback) != contract.callback:
                    self._send(400, {"error": "redirect_uri_mismatch"})
                    return
                assert contract.user is not None, "the test did not choose a GitHub user"
                code = secrets.token_hex(10)
                contract.codes[code] = _Grant(contract.user, contract.callback, query.get("code_challenge"))
                target = contract.callback + "?" + urlencode({"code": code, "state": query.get("state", "")})
                self.send_response(302)
                self.send_header("Location", target)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _api(self, path: str) -> None:
                scheme, _, token = self.headers.get("Authorization", "").partition(" ")
                user = contract.tokens.get(token) if scheme.lower() in ("bearer", "token") else None
                if user is None:
                    self._send(401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"})
                    return
                if path == "/user":
                    email = next((e["email"] for e in user.emails if e.get("primary") and e.get("visibility")), None)
                    self._send(200, {"login": user.login, "id": user.id, "name": user.name, "email": email, "type": "User"})
                else:
                    self._send(200, user.emails)

            def do_POST(self) -> None:
                if contract.down:
                    self._send(503, {"message": "Service unavailable"})
                    return
                if urlparse(self.path).path != "/login/oauth/access_token":
                    self._send(404, {"message": "Not Found"})
                    return
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if form.get("client_id") != contract.client_id or form.get("client_secret") != contract.client_secret:
                    self._send(
                        200,
                        {
                            "error": "incorrect_client_credentials",
                            "error_description": "The client_id and/or client_secret passed are incorrect.",
                            "error_uri": DOCS,
                        },
                    )
                    return
                grant = contract.codes.pop(form.get("code", ""), None)
                verifier = form.get("code_verifier", "")
                challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
                if (
                    grant is None
                    or form.get("redirect_uri", grant.redirect_uri) != grant.redirect_uri
                    or (grant.challenge is not None and challenge != grant.challenge)
                ):
                    self._send(
                        200,
                        {
                            "error": "bad_verification_code",
                            "error_description": "The code passed is incorrect or expired.",
                            "error_uri": DOCS,
                        },
                    )
                    return
                token = "gho_" + secrets.token_hex(18)
                contract.tokens[token] = grant.user
                self._send(200, {"access_token": token, "scope": "read:user,user:email", "token_type": "bearer"})

        return Handler
