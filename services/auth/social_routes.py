"""HTTP routes of provider sign-in (OpenID Connect and GitHub) and of the profile's connected accounts.

The browser navigates to ``…/oauth/<provider>/start/`` (sign-in or sign-up) or asks ``…/connect/`` (signed in,
CSRF-checked) for the provider's URL; the provider sends it back to ``…/oauth/<provider>/callback/``, the one
redirect URI registered with it, built from TEAMMOA_SITE_URL (never from the request's Host). The callback
answers with a redirect to a page of the UI: signed in, a sign-up to complete, a connected account, or an
error code the page explains. No provider failure is a 500.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from services.kit.clients import address
from services.kit.errors import NotFound, RateLimited, Unavailable
from services.kit.openapi import documented
from services.kit.tokens import authenticate
from services.kit.validation import parse_body, path_int

from . import accounts, sessions, social
from .keys import ACCESS_TOKEN_TTL_S
from .provider_clients import ProviderClient, ProviderRejected, ProviderUnavailable
from .routes import _charge_availability  # the same budget as registration's "taken" answers
from .schemas import ProviderSignupIn, SetPasswordIn

log = logging.getLogger("teammoa.auth.social")

AFTER_SIGN_IN = "/teams"
STARTS_PER_MINUTE = 30  # provider flows one address may begin (each is a row until it expires)
SIGNUP_PAGE = "/signup/provider"


def _client(request: Request) -> ProviderClient:
    clients: dict[str, ProviderClient] = request.app.state.provider_clients
    client = clients.get(request.path_params["provider"])
    if client is None:
        raise NotFound("This sign-in provider is not configured.", code="unknown_provider")
    return client


async def _count_start(request: Request) -> None:
    """RateLimited once this address began STARTS_PER_MINUTE flows in the last minute."""
    limiter = request.app.state.signin_start_limiter
    key = f"oauth-start:{address(request)}"
    await limiter.check({key: STARTS_PER_MINUTE}, "Too many sign-ins begun. Try again in a minute.")
    await limiter.fail(key)


def _labels(request: Request) -> dict[str, str]:
    return {name: config.label for name, config in request.app.state.providers.items()}


def _set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=social.COOKIE_PATH,
        httponly=True,
        secure=request.app.state.settings.cookie_secure,
        samesite="lax",  # sent on the provider's top-level redirect back to us, never on cross-site posts
    )


def _clear_cookie(request: Request, response: Response, name: str) -> None:
    secure = request.app.state.settings.cookie_secure
    response.delete_cookie(name, path=social.COOKIE_PATH, secure=secure, httponly=True, samesite="lax")


def _to(page: str, **query: str) -> RedirectResponse:
    return RedirectResponse(page + ("?" + urlencode(query) if query else ""), status_code=303)


async def providers(request: Request) -> JSONResponse:
    """The configured sign-in providers (the buttons on the sign-in and sign-up pages)."""
    return JSONResponse({"providers": [config.public() for config in request.app.state.providers.values()]})


@documented(redirects=True)
async def start(request: Request) -> Response:
    """Go to the provider to sign in or sign up (a browser navigation; answers with a redirect)."""
    client = _client(request)
    state = request.app.state
    try:
        await _count_start(request)
    except RateLimited:
        return _to("/login", oauth_error="too_many_attempts", provider=client.config.name)
    try:
        url, cookie = await social.start(db=state.db, keys=state.keys, client=client, purpose="signin")
    except ProviderUnavailable as exc:
        log.warning("sign-in provider %s unavailable: %s", client.config.name, exc)
        return _to("/login", oauth_error="provider_unavailable", provider=client.config.name)
    response = RedirectResponse(url, status_code=302)
    _set_cookie(request, response, social.FLOW_COOKIE, cookie, int(social.FLOW_TTL.total_seconds()))
    return response


async def connect(request: Request) -> JSONResponse:
    """Start connecting a provider to my account: the provider's URL to go to (signed in, CSRF-checked)."""
    principal = await authenticate(request)
    client = _client(request)
    state = request.app.state
    await _count_start(request)
    try:
        url, cookie = await social.start(
            db=state.db, keys=state.keys, client=client, purpose="connect", user_id=principal.user_id
        )
    except ProviderUnavailable as exc:
        log.warning("sign-in provider %s unavailable: %s", client.config.name, exc)
        raise Unavailable(f"{client.config.label} is not answering. Try again later.", code="provider_unavailable") from None
    response = JSONResponse({"authorize_url": url})
    _set_cookie(request, response, social.FLOW_COOKIE, cookie, int(social.FLOW_TTL.total_seconds()))
    return response


@documented(redirects=True)
async def callback(request: Request) -> Response:
    """Where the provider sends the browser back (the registered redirect URI)."""
    client = _client(request)
    state = request.app.state
    query = request.query_params
    address_key = f"login:addr:{address(request)}"
    purpose = "signin"
    try:
        await state.login_limiter.check({address_key: sessions.LOGIN_FAILS_PER_ADDRESS}, "Too many failed sign-ins.")
        if query.get("iss") and query.get("iss") != client.config.issuer:  # RFC 9207: a mix-up of providers
            raise social.FlowFailed("provider_rejected", "authorization response from another issuer")
        purpose, outcome = await social.finish(
            db=state.db,
            keys=state.keys,
            client=client,
            cookie=request.cookies.get(social.FLOW_COOKIE),
            state=query.get("state"),
            code=query.get("code"),
            error=query.get("error"),
        )
    except RateLimited:
        return _failed(request, "signin", "too_many_attempts", client)
    except social.FlowFailed as exc:
        if exc.code in ("state_mismatch", "provider_rejected"):
            await state.login_limiter.fail(address_key)
        log.warning("sign-in with %s refused: %s", client.config.name, exc.args[0])
        return _failed(request, exc.purpose, exc.code, client)
    except ProviderRejected as exc:
        await state.login_limiter.fail(address_key)
        log.warning("sign-in with %s refused: %s", client.config.name, exc)
        return _failed(request, purpose, "provider_rejected", client)
    except ProviderUnavailable as exc:
        log.warning("sign-in provider %s unavailable: %s", client.config.name, exc)
        return _failed(request, purpose, "provider_unavailable", client)
    if outcome.kind == "connected":
        response: Response = _to("/profile", connected=client.config.name)
    elif outcome.kind == "signup":
        response = _to(SIGNUP_PAGE)
        _set_cookie(request, response, social.SIGNUP_COOKIE, outcome.signup_cookie or "", 1800)
    else:
        assert outcome.user_id is not None
        session = await sessions.begin(
            db=state.db,
            keys=state.keys,
            user_id=outcome.user_id,
            method=f"provider:{client.config.name}",
            address=address(request),
        )
        response = _to(AFTER_SIGN_IN)
        sessions.set_cookies(
            response, session, secure=state.settings.cookie_secure, secret=str(state.settings.service_token)
        )
    _clear_cookie(request, response, social.FLOW_COOKIE)
    return response


def _failed(request: Request, purpose: str, code: str, client: ProviderClient) -> Response:
    page = "/profile" if purpose == "connect" else "/login"
    response = _to(page, oauth_error=code, provider=client.config.name)
    _clear_cookie(request, response, social.FLOW_COOKIE)
    return response


@documented(body=ProviderSignupIn)
async def provider_signup(request: Request) -> Response:
    """The sign-up after a first provider sign-in: GET the proposal, POST the chosen names to create the account."""
    state = request.app.state
    cookie = request.cookies.get(social.SIGNUP_COOKIE)
    if request.method == "GET":
        return JSONResponse(await social.pending(db=state.db, keys=state.keys, cookie=cookie, labels=_labels(request)))
    data = await parse_body(request, ProviderSignupIn)
    user_id, verified, provider = await social.complete_signup(
        db=state.db,
        keys=state.keys,
        mailer=state.mailer,
        site=state.settings.site_url,
        cookie=cookie,
        data=data,
        on_taken=lambda: _charge_availability(request),
    )
    if not verified:
        response: Response = JSONResponse({"verification_sent": True, "signed_in": False}, status_code=201)
    else:
        session = await sessions.begin(
            db=state.db, keys=state.keys, user_id=user_id, method=f"provider:{provider}", address=address(request)
        )
        response = JSONResponse(
            {
                "user": accounts.public(session.user),
                "access_token": session.access_token,
                "token_type": "Bearer",
                "expires_in": ACCESS_TOKEN_TTL_S,
                "signed_in": True,
            },
            status_code=201,
        )
        sessions.set_cookies(
            response, session, secure=state.settings.cookie_secure, secret=str(state.settings.service_token)
        )
    _clear_cookie(request, response, social.SIGNUP_COOKIE)
    return response


async def my_identities(request: Request) -> JSONResponse:
    """My connected accounts, whether I have a password, and the providers I could connect."""
    principal = await authenticate(request)
    state = request.app.state
    answer = await social.connected(db=state.db, user_id=principal.user_id, labels=_labels(request))
    answer["providers"] = [config.public() for config in state.providers.values()]
    return JSONResponse(answer)


async def disconnect(request: Request) -> Response:
    """Remove a connected account (never the last way to sign in)."""
    principal = await authenticate(request)
    identity_id = path_int(request, "identity_id")
    await social.disconnect(db=request.app.state.db, user_id=principal.user_id, identity_id=identity_id)
    return Response(status_code=204)


@documented(body=SetPasswordIn)
async def set_password(request: Request) -> JSONResponse:
    """Give an account created with a provider a password (then it can also sign in with it)."""
    principal = await authenticate(request)
    data = await parse_body(request, SetPasswordIn)
    state = request.app.state
    await social.set_password(db=state.db, passwords=state.passwords, user_id=principal.user_id, new=data.new_password)
    return JSONResponse({"changed": True})


routes = [
    Route("/api/v1/users/oauth/providers/", providers, methods=["GET"]),
    Route("/api/v1/users/oauth/signup/", provider_signup, methods=["GET", "POST"]),
    Route("/api/v1/users/oauth/{provider}/start/", start, methods=["GET"]),
    Route("/api/v1/users/oauth/{provider}/connect/", connect, methods=["POST"]),
    Route("/api/v1/users/oauth/{provider}/callback/", callback, methods=["GET"]),
    Route("/api/v1/users/me/identities/", my_identities, methods=["GET"]),
    Route("/api/v1/users/me/identities/{identity_id}/", disconnect, methods=["DELETE"]),
    Route("/api/v1/users/me/password/", set_password, methods=["POST"]),
]
