"""HTTP routes of the auth service: parse, check the caller, call the rules, shape the answer."""

from __future__ import annotations

import logging
from datetime import timedelta

from starlette.background import BackgroundTask
from starlette.datastructures import State
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from services.kit.clients import address
from services.kit.errors import MethodNotAllowed, NotAuthenticated, NotFound, envelope
from services.kit.openapi import documented
from services.kit.peers import require_service
from services.kit.responses import json
from services.kit.tokens import REFRESH_COOKIE, authenticate, check_csrf, check_origin
from services.kit.validation import parse_body, parse_query

from . import accounts, sessions
from .keys import ACCESS_TOKEN_TTL_S
from .schemas import (
    AvailabilityQuery,
    BatchIn,
    ChangePasswordIn,
    DeactivateIn,
    EmailIn,
    LoginIn,
    LogoutIn,
    ProfileUpdate,
    RefreshIn,
    RegisterIn,
    ResetConfirmIn,
    TokenIn,
)

log = logging.getLogger("teammoa.auth")
AVAILABILITY_CHECKS_PER_MINUTE = 60


def _session_response(request: Request, session: sessions.Session) -> JSONResponse:
    response = json(
        {
            "user": accounts.public(session.user),
            "access_token": session.access_token,
            "token_type": "Bearer",
            "expires_in": ACCESS_TOKEN_TTL_S,
        }
    )
    settings = request.app.state.settings
    sessions.set_cookies(response, session, secure=settings.cookie_secure, secret=str(settings.service_token))
    return response


@documented(body=RegisterIn)
async def register(request: Request) -> JSONResponse:
    """Create an account; a verification mail follows."""
    data = await parse_body(request, RegisterIn)
    state = request.app.state
    user = await accounts.register(
        db=state.db,
        passwords=state.passwords,
        mailer=state.mailer,
        site=state.settings.site_url,
        data=data,
        on_taken=lambda: _charge_availability(request),
    )
    return json({"user": user}, status=201)


async def _charge_availability(request: Request) -> None:
    """One answer that tells whether a name or address is taken: at most 60 a minute per address."""
    limiter = request.app.state.availability_limiter
    key = f"avail:{address(request)}"
    await limiter.check({key: AVAILABILITY_CHECKS_PER_MINUTE}, "Too many checks. Try again in a minute.")
    await limiter.fail(key)


@documented(query=AvailabilityQuery)
async def check_availability(request: Request) -> JSONResponse:
    """Tell whether a username, e-mail or nickname is free."""
    query = parse_query(request, AvailabilityQuery)
    state = request.app.state
    await _charge_availability(request)
    return json(await accounts.availability(db=state.db, query=query))


@documented(body=TokenIn)
async def verify_email(request: Request) -> JSONResponse:
    """Confirm an e-mail address with the token from the mail (does not sign in)."""
    data = await parse_body(request, TokenIn)
    await accounts.verify_email(db=request.app.state.db, token=data.token)
    return json({"verified": True})


@documented(body=EmailIn)
async def resend_verification(request: Request) -> JSONResponse:
    """Send the verification mail again (at most once per 5 minutes)."""
    data = await parse_body(request, EmailIn)
    state = request.app.state
    await accounts.resend_verification(db=state.db, mailer=state.mailer, site=state.settings.site_url, email=data.email)
    return json(
        {
            "message": "If the account exists and is not verified, a new link is on its way. "
            "You can ask again after 5 minutes."
        },
        status=202,
    )


@documented(body=LoginIn)
async def login(request: Request) -> JSONResponse:
    """Sign in with a username or e-mail and a password (JSON or form body)."""
    check_origin(request)  # login CSRF: another site must not sign a browser in to an account of its choosing
    data = await parse_body(request, LoginIn, allow_form=True)
    state = request.app.state
    session = await sessions.login(
        db=state.db,
        keys=state.keys,
        passwords=state.passwords,
        limiter=state.login_limiter,
        login_name=data.login,
        password=data.password,
        address=address(request),
    )
    return _session_response(request, session)


async def _refresh_token(request: Request, body_token: str | None) -> str | None:
    """The refresh token from the body (API clients) or the cookie (browsers, CSRF-checked against its session)."""
    if body_token:
        return body_token
    cookie = request.cookies.get(REFRESH_COOKIE)
    if cookie:
        check_csrf(request, await sessions.family_of(request.app.state.db, cookie))
    return cookie


@documented(body=RefreshIn)
async def refresh(request: Request) -> JSONResponse:
    """Rotate the refresh token and mint a new access token."""
    data = await parse_body(request, RefreshIn)
    token = await _refresh_token(request, data.refresh_token)
    if not token:
        raise NotAuthenticated("Sign in to continue.", code="session_ended")
    state = request.app.state
    try:
        session = await sessions.rotate(db=state.db, keys=state.keys, token=token)
    except NotAuthenticated as exc:
        response = envelope(exc.status, exc.code, exc.message)
        sessions.clear_cookies(response, secure=state.settings.cookie_secure)
        return response
    return _session_response(request, session)


@documented(body=LogoutIn)
async def logout(request: Request) -> Response:
    """End this session and clear the cookies."""
    data = await parse_body(request, LogoutIn)
    token = await _refresh_token(request, data.refresh_token)
    state = request.app.state
    if token:
        await sessions.revoke_token(state.db, token)
    response = Response(status_code=204)
    sessions.clear_cookies(response, secure=state.settings.cookie_secure)
    return response


@documented(body=ProfileUpdate)
async def me(request: Request) -> Response:
    """Read (GET), update (PATCH) or deactivate (DELETE, with the password) my account."""
    if request.method not in ("GET", "HEAD", "PATCH", "DELETE"):  # dispatch on exact methods, never a fallthrough
        raise MethodNotAllowed()
    principal = await authenticate(request)
    state = request.app.state
    if request.method in ("GET", "HEAD"):
        return json(accounts.public(await accounts.get_active(state.db, principal.user_id)))
    if request.method == "PATCH":
        update = await parse_body(request, ProfileUpdate)
        return json(await accounts.update_profile(db=state.db, user_id=principal.user_id, data=update))
    deactivation = await parse_body(request, DeactivateIn)
    await accounts.deactivate(
        db=state.db, passwords=state.passwords, user_id=principal.user_id, password=deactivation.password
    )
    await state.revocations.revoke(principal.user_id, state.events)  # its access tokens stop everywhere now
    state.deactivation_relay.wake()
    response = Response(status_code=204)
    sessions.clear_cookies(response, secure=state.settings.cookie_secure)
    return response


@documented(body=ChangePasswordIn)
async def change_password(request: Request) -> JSONResponse:
    """Change my password; this session stays signed in, the others end."""
    principal = await authenticate(request)
    data = await parse_body(request, ChangePasswordIn)
    state = request.app.state
    family = await sessions.family_of(state.db, request.cookies.get(REFRESH_COOKIE))
    await accounts.change_password(
        db=state.db,
        passwords=state.passwords,
        user_id=principal.user_id,
        current=data.current_password,
        new=data.new_password,
        keep_family=family,
    )
    return json({"changed": True})


@documented(body=EmailIn)
async def password_reset(request: Request) -> JSONResponse:
    """Mail a password-reset link (always 202: nobody learns whether the address exists)."""
    data = await parse_body(request, EmailIn)
    state = request.app.state
    # The lookup and the mail run after the answer is sent: known and unknown addresses answer alike, at once.
    work = BackgroundTask(_request_reset, state, data.email)
    return json({"message": "If an account uses this address, a reset link is on its way."}, status=202, background=work)


async def _request_reset(state: State, email: str) -> None:
    try:
        interval = timedelta(seconds=state.settings.reset_interval_s)
        await accounts.request_reset(
            db=state.db, mailer=state.mailer, site=state.settings.site_url, email=email, interval=interval
        )
    except Exception:  # nobody is waiting for this answer any more: log it
        log.exception("password reset for a requested address failed")


@documented(body=ResetConfirmIn)
async def password_reset_confirm(request: Request) -> JSONResponse:
    """Set a new password with the token from the reset mail."""
    data = await parse_body(request, ResetConfirmIn)
    state = request.app.state
    await accounts.confirm_reset(db=state.db, passwords=state.passwords, token=data.token, new=data.new_password)
    return json({"changed": True})


async def jwks(request: Request) -> JSONResponse:
    """The public keys that verify access tokens."""
    return json(request.app.state.keys.jwks, headers={"Cache-Control": "public, max-age=300"})


async def dev_outbox(request: Request) -> JSONResponse:
    """The development outbox: mails written instead of sent (embedded mode or no SMTP only)."""
    state = request.app.state
    if not state.outbox_visible:
        raise NotFound()
    return json({"items": state.mailer.list_outbox()})


async def internal_users_batch(request: Request) -> JSONResponse:
    """Names of many users at once (for teams' member lists)."""
    require_service(request)
    data = await parse_body(request, BatchIn)
    return json({"users": await accounts.profiles(db=request.app.state.db, ids=data.ids)})


async def internal_users_contacts(request: Request) -> JSONResponse:
    """Mail addresses of many users at once (for the schedule service's invitations)."""
    require_service(request)
    data = await parse_body(request, BatchIn)
    return JSONResponse({"users": await accounts.contacts(db=request.app.state.db, ids=data.ids)})


routes = [
    Route("/api/v1/users/register/", register, methods=["POST"]),
    Route("/api/v1/users/check_availability/", check_availability, methods=["GET"]),
    Route("/api/v1/users/verify-email/", verify_email, methods=["POST"]),
    Route("/api/v1/users/resend-verification/", resend_verification, methods=["POST"]),
    Route("/api/v1/users/login/", login, methods=["POST"]),
    Route("/api/v1/users/refresh/", refresh, methods=["POST"]),
    Route("/api/v1/users/logout/", logout, methods=["POST"]),
    Route("/api/v1/users/me/", me, methods=["GET", "PATCH", "DELETE"]),
    Route("/api/v1/users/change_password/", change_password, methods=["POST"]),
    Route("/api/v1/users/password-reset/", password_reset, methods=["POST"]),
    Route("/api/v1/users/password-reset/confirm/", password_reset_confirm, methods=["POST"]),
    Route("/api/v1/users/dev/outbox/", dev_outbox, methods=["GET"]),
    Route("/.well-known/jwks.json", jwks, methods=["GET"]),
    Route("/internal/users/batch", internal_users_batch, methods=["POST"]),
    Route("/internal/users/contacts", internal_users_contacts, methods=["POST"]),
]
