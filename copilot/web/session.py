"""Sign-in state of the web inbox: the agent's token in an HTTP-only cookie, and
the CSRF token every form carries.

The cookie holds the agent's bearer token itself (checked on every request with
the service's own :func:`copilot.service.auth.authenticate`, so the API and the
pages share one mechanism and a revoked or rotated token signs the page out at
once). The CSRF token is derived from the session token with HMAC, so it needs
no server-side storage, is the same in every worker process, and cannot be
computed by a page that does not know the (HTTP-only) cookie. Before sign-in the
login form uses a double-submit nonce cookie instead.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from litestar import Request, Response

from copilot.service.auth import Principal, authenticate

SESSION_COOKIE = "lc_session"
LOGIN_NONCE_COOKIE = "lc_login_nonce"
LANG_COOKIE = "lc_lang"
CSRF_FIELD = "csrf"
#: A working day and then some; the agent signs in again after that.
SESSION_MAX_AGE = 12 * 3600


class NotSignedIn(Exception):
    """No valid session cookie: the page redirects to the sign-in form."""


def session_token(request: Request) -> str | None:
    """The token in the session cookie, if any."""
    token = request.cookies.get(SESSION_COOKIE)
    return token if token and len(token) <= 512 else None


def current_principal(request: Request) -> Principal:
    """The signed-in agent, or :class:`NotSignedIn`."""
    state = request.app.state.service
    principal = authenticate(state, session_token(request))
    if principal is None:
        raise NotSignedIn
    return principal


def csrf_for_session(token: str) -> str:
    """The CSRF token of a session (HMAC of a fixed label keyed by the session token)."""
    return hmac.new(token.encode(), b"lead-copilot-web-csrf", hashlib.sha256).hexdigest()


def csrf_token(request: Request) -> str:
    """The CSRF token forms of this (signed-in) request must carry."""
    token = session_token(request)
    return csrf_for_session(token) if token else ""


def check_csrf(request: Request, submitted: str | None) -> bool:
    """True when the form's CSRF token matches the session's, and the request did
    not come from another site (Origin / Sec-Fetch-Site, when the browser sends them)."""
    if not _same_origin(request):
        return False
    token = session_token(request)
    if not token or not submitted:
        return False
    return hmac.compare_digest(csrf_for_session(token), submitted)


def new_login_nonce() -> str:
    """A fresh nonce for the sign-in form (double-submit cookie)."""
    return secrets.token_urlsafe(24)


def check_login_nonce(request: Request, submitted: str | None) -> bool:
    """True when the sign-in form's nonce matches its cookie (and the origin is ours)."""
    cookie = request.cookies.get(LOGIN_NONCE_COOKIE)
    if not _same_origin(request) or not cookie or not submitted:
        return False
    return hmac.compare_digest(cookie, submitted)


def _same_origin(request: Request) -> bool:
    site = request.headers.get("sec-fetch-site")
    if site and site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin and origin != "null":
        host = request.headers.get("host", "")
        return origin.split("://", 1)[-1] == host
    return True


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


def set_session(response: Response, request: Request, token: str) -> None:
    """Put the agent's token in the HTTP-only session cookie."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=SESSION_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path="/",
    )
    response.delete_cookie(LOGIN_NONCE_COOKIE, path="/login")


def clear_session(response: Response) -> None:
    """Forget the session cookie."""
    response.delete_cookie(SESSION_COOKIE, path="/")


def set_login_nonce(response: Response, request: Request, nonce: str) -> None:
    """The sign-in form's nonce cookie (HTTP-only, strict, only sent to /login)."""
    response.set_cookie(
        LOGIN_NONCE_COOKIE,
        nonce,
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/login",
    )
