"""The sign-in providers the social sign-in tests talk to, on 127.0.0.1.

- ``OpenIdProvider``: the certified ``oidc-provider`` npm package (tests/oidc_provider/provider.mjs) in a Node
  process — a real, standards-conformant OpenID Connect provider, not a stub.
- ``GitHubContract``: GitHub's OAuth web flow and REST endpoints as GitHub documents them (github_contract.py):
  no local product implements GitHub, so this is a contract server, and only that.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlparse

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
PROVIDER_DIR = ROOT / "tests" / "oidc_provider"
CLIENT_ID = "teammoa-test-client"
CLIENT_SECRET = "teammoa-test-secret-0123456789abcdef"
STARTUP_TIMEOUT_S = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _missing(reason: str) -> None:
    """Without Node the provider tests skip on a laptop (like Chromium's); in CI it is a failure."""
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@dataclass
class OpenIdProvider:
    """A running oidc-provider; ``issuer`` is its URL, ``control`` its test-only /__test/ API."""

    issuer: str
    process: subprocess.Popen
    control: httpx.Client = field(repr=False)

    @classmethod
    def start(cls, redirect_uris: list[str]) -> OpenIdProvider:
        node = shutil.which("node")
        if node is None:
            _missing("Node.js is needed for the OpenID provider (apt-get install nodejs npm)")
        elif not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
            _missing("run `npm ci --prefix tests/oidc_provider` first (make test does when npm is there)")
        assert node is not None
        port = free_port()
        client = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uris": redirect_uris}
        process = subprocess.Popen(
            [node, str(PROVIDER_DIR / "provider.mjs"), str(port), json.dumps(client)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert process.stdout is not None
        line = process.stdout.readline()  # blocks until "ready <issuer>" (or EOF when it died)
        if not line.startswith("ready "):
            process.kill()
            process.stdout.close()
            raise RuntimeError(f"the OpenID provider did not start: {line!r}")
        issuer = line.split()[1]
        return cls(issuer=issuer, process=process, control=httpx.Client(base_url=issuer, timeout=10))

    def stop(self) -> None:
        self.control.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        if self.process.stdout is not None:
            self.process.stdout.close()

    def add_account(self, sub: str, *, email: str | None, email_verified: bool = True, name: str = "") -> None:
        body = {"sub": sub, "email": email, "email_verified": email_verified, "name": name, "preferred_username": sub}
        assert self.control.post("/__test/accounts", json=body).status_code == 201

    def tamper_next_token(self, mode: str) -> None:
        assert self.control.post("/__test/tamper", json={"mode": mode}).status_code == 200

    def publish_rotated_key(self) -> None:
        assert self.control.post("/__test/rotate", json={}).status_code == 200

    def jwks_fetches(self) -> int:
        return int(self.control.get("/__test/stats").json()["jwks_fetches"])

    def sign_in(self, authorize_url: str, account: str, *, until: str) -> str:
        """Play the browser at the provider: its sign-in form as ``account``; the URL it sends us back to.

        ``until`` is the start of our redirect URI: the first redirect there is returned, not followed.
        """
        with httpx.Client(timeout=10) as browser:
            url = authorize_url
            for _ in range(10):
                if url.startswith(until):
                    return url
                response = browser.get(url)
                if response.status_code == 200 and "/interaction/" in url:
                    action = re.search(r'action="([^"]+)"', response.text)
                    assert action, response.text
                    response = browser.post(urljoin(url, action.group(1)), data={"login": account})
                if response.status_code not in (302, 303):
                    return f"provider-error:{response.status_code}:{response.text[:300]}"
                url = urljoin(url, response.headers["location"])
        raise AssertionError("the provider kept redirecting")


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlparse(url).query).items()}
