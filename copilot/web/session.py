"""Sign-in state of the web inbox: a signed session in an HTTP-only cookie, and
the CSRF token every form carries.

Signing in checks the agent's bearer token with the service's own
:func:`copilot.service.auth.authenticate` (one mechanism for the API and the
pages). The cookie then holds no token: it names the agent, the kind of
credential and the agent's session epoch, signed (HMAC-SHA256) with a secret
kept in the inbox database over those and the hash of the token used. So a
session survives a restart and works in every worker process; rotating or
revoking the token, deactivating the agent or signing out everywhere (which
moves the epoch) ends it at once. The CSRF token is derived from the cookie
with HMAC, so it needs no server-side storage and cannot be computed by a page
that does not know the (HTTP-only) cookie. Before sign-in the login form uses a
double-submit nonce cookie instead.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from litestar import Request, Response

from copilot.inbox.agents import hash_token
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
    """The value of the session cookie, if any."""
    token = request.cookies.get(SESSION_COOKIE)
    return token if token and len(token) <= 512 else None


def _signature(state, agent_id: int, kind: str, epoch: int, token_hash: str) -> str:
    key = state.inbox().secret("web_sessions")
    message = f"{agent_id}|{kind}|{epoch}|{token_hash}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def session_cookie(state, token: str) -> str | None:
    """The session cookie's value for a sign-in with bearer ``token`` (None:
    the token signs nobody in)."""
    principal = authenticate(state, token)
    if principal is None:
        return None
    admin = state.settings.admin_token
    kind = "admin" if admin and hmac.compare_digest(token.encode(), admin.encode()) else "agent"
    found = state.inbox().session_state(principal.agent_id)
    epoch = found[1] if found else 0
    signature = _signature(state, principal.agent_id, kind, epoch, hash_token(token))
    return f"{principal.agent_id}.{kind}.{epoch}.{signature}"


def principal_of_cookie(state, value: str | None) -> Principal | None:
    """Who a session cookie signs in, or None (forged, expired by a new epoch,
    a rotated token, an inactive agent)."""
    if not value:
        return None
    parts = value.split(".")
    if len(parts) != 4 or not parts[0].isdigit() or not parts[2].isdigit():
        return None
    agent_id, kind, epoch, signature = int(parts[0]), parts[1], int(parts[2]), parts[3]
    found = state.inbox().session_state(agent_id)
    if found is None or found[1] != epoch:
        return None
    token_hash, _, active = found
    if kind == "admin":
        admin = state.settings.admin_token
        if not admin or state.admin_agent_id != agent_id:
            return None
        token_hash = hash_token(admin)
    elif kind != "agent" or not active:
        return None
    if not hmac.compare_digest(_signature(state, agent_id, kind, epoch, token_hash), signature):
        return None
    if kind == "admin":
        return Principal(agent_id=agent_id, role="admin", name="admin")
    agent = state.inbox().agent(agent_id)
    return Principal(agent_id=agent.id, role=agent.role, team=agent.team, name=agent.name)


def current_principal(request: Request) -> Principal:
    """The signed-in agent, or :class:`NotSignedIn`."""
    principal = principal_of_cookie(request.app.state.service, session_token(request))
    if principal is None:
        raise NotSignedIn
    return principal


def csrf_for_session(token: str) -> str:
    """The CSRF token of a session (HMAC of a fixed label keyed by the session cookie)."""
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


def set_session(response: Response, request: Request, value: str) -> None:
    """Put the signed session (:func:`session_cookie`) in the HTTP-only cookie."""
    response.set_cookie(
        SESSION_COOKIE,
        value,
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
