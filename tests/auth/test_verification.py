"""E-mail verification: single-use, 24-hour tokens that never sign anyone in; resending is limited
to once per 5 minutes per account, on the server."""

from __future__ import annotations

import sqlalchemy as sa

from services.auth.accounts import purge_unverified
from services.auth.tables import email_tokens, users
from services.kit.tokens import ACCESS_COOKIE
from tests.auth.conftest import API, ago, error_code, register
from tests.conftest import PASSWORD, mails, token_from_mail


def _verify(client, token: str):
    return client.post(f"{API}/verify-email/", json={"token": token})


def test_the_mailed_token_verifies_the_account_without_signing_in(client, auth_db, data_dir):
    register(client, "alice")
    token = token_from_mail(data_dir, "alice@example.com")

    response = _verify(client, token)

    assert response.status_code == 200
    assert response.json() == {"verified": True}
    assert not response.headers.get_list("set-cookie")
    assert ACCESS_COOKIE not in client.cookies
    assert auth_db.one(sa.select(users.c.is_verified)).is_verified
    assert client.post(f"{API}/login/", json={"login": "alice", "password": PASSWORD}).status_code == 200


def test_a_verification_token_works_only_once(client, data_dir):
    register(client, "alice")
    token = token_from_mail(data_dir, "alice@example.com")
    assert _verify(client, token).status_code == 200

    again = _verify(client, token)

    assert again.status_code == 400
    assert error_code(again) == "invalid_token"


def test_verification_tokens_are_stored_hashed(client, auth_db, data_dir):
    register(client, "alice")
    token = token_from_mail(data_dir, "alice@example.com")

    assert token not in auth_db.dump()


def test_a_verification_token_expires_after_24_hours(client, auth_db, data_dir):
    register(client, "alice")
    token = token_from_mail(data_dir, "alice@example.com")
    [row] = auth_db.all(email_tokens.select())
    assert abs((row["expires_at"] - row["created_at"]).total_seconds() - 24 * 3600) < 2
    auth_db.execute(email_tokens.update().values(created_at=ago(hours=24, seconds=1), expires_at=ago(seconds=1)))

    response = _verify(client, token)

    assert response.status_code == 400
    assert error_code(response) == "token_expired"
    assert not auth_db.one(sa.select(users.c.is_verified)).is_verified


def test_a_verification_token_just_short_of_24_hours_still_works(client, auth_db, data_dir):
    register(client, "alice")
    token = token_from_mail(data_dir, "alice@example.com")
    auth_db.execute(email_tokens.update().values(created_at=ago(hours=23, minutes=59), expires_at=ago(minutes=-1)))

    assert _verify(client, token).status_code == 200


def test_an_unknown_token_is_refused(client):
    response = _verify(client, "not-a-token-we-ever-sent")

    assert response.status_code == 400
    assert error_code(response) == "invalid_token"


def test_a_reset_token_cannot_verify_an_account(client, signup, auth_db, data_dir):
    user = signup("alice")
    auth_db.execute(users.update().where(users.c.id == user.id).values(is_verified=False))
    assert client.post(f"{API}/password-reset/", json={"email": user.email}).status_code == 202
    reset = token_from_mail(data_dir, user.email, "reset-password")

    assert _verify(client, reset).status_code == 400
    assert not auth_db.user(user.id)["is_verified"]


def test_an_unverified_account_cannot_sign_in_until_verified(client, data_dir):
    register(client, "alice")

    refused = client.post(f"{API}/login/", json={"login": "alice", "password": PASSWORD})
    assert refused.status_code == 403
    assert error_code(refused) == "email_not_verified"

    assert _verify(client, token_from_mail(data_dir, "alice@example.com")).status_code == 200
    assert client.post(f"{API}/login/", json={"login": "alice", "password": PASSWORD}).status_code == 200


def _resend(client, email: str = "alice@example.com"):
    return client.post(f"{API}/resend-verification/", json={"email": email})


def test_resending_within_5_minutes_of_the_last_mail_sends_nothing(client, data_dir):
    register(client, "alice")

    response = _resend(client)

    assert response.status_code == 202
    assert len(mails(data_dir)) == 1


def test_resending_sends_a_new_working_link_once_per_5_minutes(client, auth_db, data_dir):
    register(client, "alice")
    auth_db.execute(users.update().values(verification_sent_at=ago(minutes=5, seconds=1)))

    first = _resend(client)
    second = _resend(client)

    assert (first.status_code, second.status_code) == (202, 202)
    assert len(mails(data_dir)) == 2, "the second resend within 5 minutes sends no new mail"
    assert _verify(client, token_from_mail(data_dir, "alice@example.com")).status_code == 200


def test_resending_answers_the_same_for_unknown_and_verified_addresses_and_mails_nobody(client, signup, data_dir):
    signup("alice")
    sent = len(mails(data_dir))

    unknown = _resend(client, "nobody@example.com")
    verified = _resend(client, "alice@example.com")

    assert unknown.status_code == verified.status_code == 202
    assert unknown.json() == verified.json()
    assert len(mails(data_dir)) == sent


def test_resending_matches_the_address_in_any_case(client, auth_db, data_dir):
    register(client, "alice")
    auth_db.execute(users.update().values(verification_sent_at=ago(minutes=6)))

    assert _resend(client, "ALICE@example.COM").status_code == 202
    assert len(mails(data_dir)) == 2


def test_accounts_left_unverified_for_3_days_are_purged_and_no_others(client, app, signup, auth_db, data_dir):
    old_verified = signup("veteran")
    register(client, "stale")
    register(client, "fresh")
    auth_db.execute(
        users.update().where(users.c.username.in_(["veteran", "stale"])).values(date_joined=ago(days=3, minutes=1))
    )
    auth_db.execute(users.update().where(users.c.username == "fresh").values(date_joined=ago(days=2, hours=23)))

    purged = client.portal.call(lambda: purge_unverified(db=app.apps["auth"].state.db))

    assert purged == 1
    assert {row.username for row in auth_db.all(sa.select(users.c.username))} == {"veteran", "fresh"}
    assert auth_db.count(email_tokens) == 2, "the stale account's token went with it"
    assert client.get(f"{API}/check_availability/", params={"username": "stale"}).json()["username"]["available"]
    assert old_verified.id in {row.id for row in auth_db.all(sa.select(users.c.id))}
