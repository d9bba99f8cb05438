"""Which sign-in providers are configured: OpenID Connect providers and GitHub, read from the environment.

- ``TEAMMOA_OIDC_<NAME>_ISSUER``, ``TEAMMOA_OIDC_<NAME>_CLIENT_ID``, ``TEAMMOA_OIDC_<NAME>_CLIENT_SECRET`` (and an
  optional ``TEAMMOA_OIDC_<NAME>_LABEL`` for the button) configure one OpenID Connect provider (Google, Microsoft,
  GitLab, Keycloak…); ``<NAME>`` (letters and digits) becomes the lower-case name in its URLs.
- ``TEAMMOA_GITHUB_CLIENT_ID`` and ``TEAMMOA_GITHUB_CLIENT_SECRET`` configure GitHub (plain OAuth2 + its API);
  ``TEAMMOA_GITHUB_URL`` / ``TEAMMOA_GITHUB_API_URL`` point at GitHub Enterprise Server instead of github.com.

A provider with only some of its variables set is refused in production (ConfigurationError) and skipped
with a warning in embedded mode. Client secrets are kept as ``Secret`` so they never show in a log or repr.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Literal

from starlette.datastructures import Secret

from services.kit.settings import ConfigurationError, Settings

log = logging.getLogger("teammoa.auth.providers")

OIDC_VARIABLE = re.compile(r"^TEAMMOA_OIDC_([A-Z0-9]+)_(ISSUER|CLIENT_ID|CLIENT_SECRET|LABEL)$")
REQUIRED = ("ISSUER", "CLIENT_ID", "CLIENT_SECRET")
KNOWN_LABELS = {
    "google": "Google",
    "microsoft": "Microsoft",
    "gitlab": "GitLab",
    "keycloak": "Keycloak",
    "apple": "Apple",
    "okta": "Okta",
    "auth0": "Auth0",
}
GITHUB = "github"
CALLBACK_PATH = "/api/v1/users/oauth/{name}/callback/"


@dataclass(frozen=True)
class ProviderConfig:
    """One configured provider. ``issuer`` is what identities are keyed by, with the provider's subject."""

    name: str
    label: str
    kind: Literal["oidc", "github"]
    issuer: str
    client_id: str
    client_secret: Secret = field(repr=False)
    redirect_uri: str
    api_url: str = ""

    def public(self) -> dict[str, str]:
        return {"name": self.name, "label": self.label, "kind": self.kind}


def _half(name: str, present: list[str], missing: list[str], production: bool) -> None:
    message = f"sign-in provider {name}: {', '.join(present)} set but {', '.join(missing)} missing"
    if production:
        raise ConfigurationError(message)
    log.warning("%s; the provider is not offered", message)


def _check_url(name: str, url: str, production: bool) -> None:
    if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", url):
        raise ConfigurationError(f"sign-in provider {name}: {url!r} is not an http(s) URL")
    loopback = re.match(r"http://(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(/|$)", url) is not None  # nobody between
    if production and not url.startswith("https://") and not loopback:
        raise ConfigurationError(f"sign-in provider {name}: {url!r} must use https in production")


def _oidc(settings: Settings, environ: dict[str, str], production: bool) -> list[ProviderConfig]:
    names = sorted({m.group(1) for key in environ if (m := OIDC_VARIABLE.match(key))})
    found = []
    for upper in names:
        values = {part: environ.get(f"TEAMMOA_OIDC_{upper}_{part}", "").strip() for part in REQUIRED}
        present = [f"TEAMMOA_OIDC_{upper}_{part}" for part in REQUIRED if values[part]]
        missing = [f"TEAMMOA_OIDC_{upper}_{part}" for part in REQUIRED if not values[part]]
        if not present:
            continue
        if missing:
            _half(upper.lower(), present, missing, production)
            continue
        name = upper.lower()
        if name in ("signup", "providers"):
            raise ConfigurationError(f"TEAMMOA_OIDC_{upper}_*: {name!r} is reserved, choose another name")
        if name == GITHUB:
            raise ConfigurationError("TEAMMOA_OIDC_GITHUB_*: GitHub is configured with TEAMMOA_GITHUB_CLIENT_ID/SECRET")
        issuer = values["ISSUER"]  # exactly as the provider writes it: ID tokens must carry this very string
        _check_url(name, issuer, production)
        label = environ.get(f"TEAMMOA_OIDC_{upper}_LABEL", "").strip() or KNOWN_LABELS.get(name, name.capitalize())
        found.append(
            ProviderConfig(
                name=name,
                label=label,
                kind="oidc",
                issuer=issuer,
                client_id=values["CLIENT_ID"],
                client_secret=Secret(values["CLIENT_SECRET"]),
                redirect_uri=settings.site_url + CALLBACK_PATH.format(name=name),
            )
        )
    return found


def _github(settings: Settings, environ: dict[str, str], production: bool) -> list[ProviderConfig]:
    keys = ("TEAMMOA_GITHUB_CLIENT_ID", "TEAMMOA_GITHUB_CLIENT_SECRET")
    values = {key: environ.get(key, "").strip() for key in keys}
    present = [key for key in keys if values[key]]
    if not present:
        return []
    if len(present) < len(keys):
        _half(GITHUB, present, [key for key in keys if not values[key]], production)
        return []
    web = environ.get("TEAMMOA_GITHUB_URL", "").strip().rstrip("/") or "https://github.com"
    api = environ.get("TEAMMOA_GITHUB_API_URL", "").strip().rstrip("/") or "https://api.github.com"
    _check_url(GITHUB, web, production)
    _check_url(GITHUB, api, production)
    return [
        ProviderConfig(
            name=GITHUB,
            label="GitHub",
            kind="github",
            issuer=web,
            client_id=values["TEAMMOA_GITHUB_CLIENT_ID"],
            client_secret=Secret(values["TEAMMOA_GITHUB_CLIENT_SECRET"]),
            redirect_uri=settings.site_url + CALLBACK_PATH.format(name=GITHUB),
            api_url=api,
        )
    ]


def configured(settings: Settings) -> dict[str, ProviderConfig]:
    """Every fully configured provider by name; half-configured ones refused (production) or skipped."""
    environ = settings.environ()
    production = not settings.embedded
    found = [*_oidc(settings, environ, production), *_github(settings, environ, production)]
    return {provider.name: provider for provider in found}
