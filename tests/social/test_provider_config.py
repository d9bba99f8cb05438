"""Provider configuration: what is offered, what production refuses, and that secrets never show."""

from __future__ import annotations

import logging

import pytest

from services.auth.providers import configured
from services.kit.settings import ConfigurationError, Settings

SECRET = "very-secret-client-secret-never-logged-0123"


def _settings(mode: str, **extra: str) -> Settings:
    env = {"TEAMMOA_MODE": mode, "TEAMMOA_SITE_URL": "https://teammoa.example"}
    env.update(extra)
    return Settings("auth", env)


def test_a_complete_provider_is_offered_with_the_exact_redirect_uri():
    providers = configured(
        _settings(
            "embedded",
            TEAMMOA_OIDC_GOOGLE_ISSUER="https://accounts.google.com",
            TEAMMOA_OIDC_GOOGLE_CLIENT_ID="id.apps.googleusercontent.com",
            TEAMMOA_OIDC_GOOGLE_CLIENT_SECRET=SECRET,
            TEAMMOA_GITHUB_CLIENT_ID="gh-id",
            TEAMMOA_GITHUB_CLIENT_SECRET=SECRET,
        )
    )
    assert sorted(providers) == ["github", "google"]
    assert providers["google"].label == "Google" and providers["google"].issuer == "https://accounts.google.com"
    assert providers["google"].redirect_uri == "https://teammoa.example/api/v1/users/oauth/google/callback/"
    assert providers["github"].redirect_uri == "https://teammoa.example/api/v1/users/oauth/github/callback/"
    assert providers["github"].issuer == "https://github.com" and providers["github"].api_url == "https://api.github.com"
    assert SECRET not in repr(providers) and SECRET not in str(providers["google"].public())


@pytest.mark.parametrize(
    "extra",
    [
        {"TEAMMOA_OIDC_GOOGLE_ISSUER": "https://accounts.google.com", "TEAMMOA_OIDC_GOOGLE_CLIENT_ID": "id"},
        {"TEAMMOA_OIDC_GOOGLE_CLIENT_SECRET": SECRET},
        {"TEAMMOA_GITHUB_CLIENT_ID": "gh-id"},
        {"TEAMMOA_GITHUB_CLIENT_SECRET": SECRET},
    ],
)
def test_production_refuses_a_half_configured_provider_and_embedded_mode_skips_it(extra, caplog):
    with pytest.raises(ConfigurationError) as refused:
        configured(_settings("production", **extra))
    assert SECRET not in str(refused.value)
    with caplog.at_level(logging.WARNING, logger="teammoa.auth.providers"):
        assert configured(_settings("embedded", **extra)) == {}
    assert "missing" in caplog.text and SECRET not in caplog.text


def test_production_refuses_a_provider_without_https():
    with pytest.raises(ConfigurationError, match="https"):
        configured(
            _settings(
                "production",
                TEAMMOA_OIDC_CORP_ISSUER="http://sso.corp.example",
                TEAMMOA_OIDC_CORP_CLIENT_ID="id",
                TEAMMOA_OIDC_CORP_CLIENT_SECRET=SECRET,
            )
        )


def test_nothing_configured_offers_nothing():
    assert configured(_settings("production")) == {}


def test_a_whole_sign_in_logs_no_secret_and_no_code(op, social_client, provider_login, caplog):
    from tests.social.providers import CLIENT_SECRET

    with caplog.at_level(logging.DEBUG):
        op.add_account("logged-sub", email="logged@example.org")
        back = provider_login(social_client, "local", "logged-sub")
        op.tamper_next_token("aud")
        refused = provider_login(social_client, "local", "logged-sub")
    assert back.status_code == 303 and refused.status_code == 303
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "sign-in with local refused" in text  # the refusal is logged…
    assert CLIENT_SECRET not in text  # …without the secret
    assert "id_token" not in text and "eyJ" not in text  # nor tokens


def test_production_accepts_plain_http_on_the_loopback_only():
    loopback = {
        "TEAMMOA_OIDC_LOCAL_ISSUER": "http://127.0.0.1:9000",
        "TEAMMOA_OIDC_LOCAL_CLIENT_ID": "id",
        "TEAMMOA_OIDC_LOCAL_CLIENT_SECRET": SECRET,
    }
    assert list(configured(_settings("production", **loopback))) == ["local"]
    with pytest.raises(ConfigurationError, match="https"):
        configured(_settings("production", **{**loopback, "TEAMMOA_OIDC_LOCAL_ISSUER": "http://127.0.0.1.evil.example"}))
