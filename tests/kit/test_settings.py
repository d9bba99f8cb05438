import pytest

from services.kit.settings import DEV_SERVICE_TOKEN, ConfigurationError, Settings


def test_embedded_defaults_need_nothing_installed(tmp_path):
    settings = Settings("auth", {"TEAMMOA_DATA_DIR": str(tmp_path)})
    assert settings.embedded
    assert settings.database_url == f"sqlite:///{tmp_path / 'auth.db'}"
    assert settings.redis_url == ""
    assert settings.auto_migrate is True
    settings.check()


def test_production_refuses_the_default_service_token(tmp_path):
    settings = Settings(
        "teams", {"TEAMMOA_MODE": "production", "TEAMMOA_TEAMS_DATABASE_URL": "mysql://root@db/teammoa_teams"}
    )
    assert str(settings.service_token) == DEV_SERVICE_TOKEN
    with pytest.raises(ConfigurationError, match="TEAMMOA_SERVICE_TOKEN"):
        settings.check()


def test_production_refuses_a_short_secret_and_sqlite():
    short = Settings(
        "auth",
        {"TEAMMOA_MODE": "production", "TEAMMOA_SERVICE_TOKEN": "short", "TEAMMOA_AUTH_DATABASE_URL": "mysql://root@db/a"},
    )
    with pytest.raises(ConfigurationError):
        short.check()
    sqlite = Settings("auth", {"TEAMMOA_MODE": "production", "TEAMMOA_SERVICE_TOKEN": "x" * 40})
    with pytest.raises(ConfigurationError, match="DATABASE_URL"):
        sqlite.check()


def test_production_starts_with_real_secrets():
    settings = Settings(
        "auth",
        {"TEAMMOA_MODE": "production", "TEAMMOA_SERVICE_TOKEN": "x" * 40, "TEAMMOA_AUTH_DATABASE_URL": "mysql://root@db/a"},
    )
    settings.check()
    assert settings.auto_migrate is False
    assert settings.cookie_secure is True


def test_an_unknown_mode_is_refused():
    with pytest.raises(ConfigurationError):
        Settings("auth", {"TEAMMOA_MODE": "staging"})


def test_realtime_needs_redis_but_no_database_in_production():
    base = {"TEAMMOA_MODE": "production", "TEAMMOA_SERVICE_TOKEN": "x" * 40}
    with pytest.raises(ConfigurationError, match="REDIS_URL"):
        Settings("realtime", base).check()
    Settings("realtime", base | {"TEAMMOA_REDIS_URL": "redis://cache:6379/0"}).check()
