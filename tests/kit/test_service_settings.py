"""Each service's own settings (services/<svc>/settings.py): every TEAMMOA_* variable of that service
read in one typed place, the SMTP password kept secret."""

from __future__ import annotations

import logging

import pytest

from services.auth.settings import AuthSettings
from services.kit.mail import Mailer
from services.kit.settings import Settings, service_settings
from services.realtime.settings import RealtimeSettings
from services.schedule.settings import ScheduleSettings
from services.teams.settings import TeamsSettings

SMTP_PASSWORD = "smtp-pass-never-shown-42"


def test_the_smtp_password_is_a_secret_that_neither_repr_nor_logs_show(tmp_path, caplog):
    # mail settings are the kit's (auth and schedule send mail)
    settings = AuthSettings({"TEAMMOA_DATA_DIR": str(tmp_path), "TEAMMOA_SMTP_PASSWORD": SMTP_PASSWORD})
    assert str(settings.smtp_password) == SMTP_PASSWORD  # usable where it is sent
    mailer = Mailer(settings)
    shown = [repr(settings.smtp_password), repr(vars(settings)), repr(vars(mailer)), f"{settings.smtp_password!r}"]
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("teammoa.test").info("settings %r mailer %r", vars(settings), vars(mailer))
    assert not any(SMTP_PASSWORD in text for text in [*shown, caplog.text])


def test_each_service_reads_its_own_variables_with_their_types(tmp_path):
    base = {"TEAMMOA_DATA_DIR": str(tmp_path)}
    auth = AuthSettings(base | {"TEAMMOA_SMTP_PORT": "2525", "TEAMMOA_MODE": "production", "TEAMMOA_DEV_OUTBOX": "true"})
    assert auth.smtp_port == 2525 and auth.dev_outbox is True and auth.smtp_host == "" and auth.reset_interval_s == 60
    assert AuthSettings(base | {"TEAMMOA_MODE": "production"}).dev_outbox is False
    assert AuthSettings(base).dev_outbox is True  # embedded mode always shows the outbox
    assert TeamsSettings(base).files_dir == (tmp_path / "files").resolve()
    assert TeamsSettings(base | {"TEAMMOA_FILES_DIR": str(tmp_path / "up")}).files_dir == tmp_path / "up"
    realtime = RealtimeSettings(base | {"TEAMMOA_PRESENCE_TTL_S": "1.5", "TEAMMOA_REALTIME_OUTBOX_MAX": "8"})
    assert (realtime.presence_ttl_s, realtime.outbox_max) == (1.5, 8)
    assert ScheduleSettings(base).service == "schedule"


def test_the_kit_settings_a_caller_holds_become_the_service_settings_of_the_same_environment(tmp_path):
    kit = Settings("realtime", {"TEAMMOA_DATA_DIR": str(tmp_path), "TEAMMOA_PRESENCE_TTL_S": "2"})
    own = service_settings(RealtimeSettings, kit)
    assert isinstance(own, RealtimeSettings) and own.presence_ttl_s == 2.0 and own.data_dir == kit.data_dir
    assert service_settings(RealtimeSettings, own) is own
    with pytest.raises(NotImplementedError):
        Settings.from_environ({})
