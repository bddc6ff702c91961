"""Bearer-token authentication for the JSON API.

Each agent has a token (stored hashed by the inbox); the bootstrap admin token
comes from ``LEAD_COPILOT_ADMIN_TOKEN`` and acts as the ``admin`` agent. Every
action runs as the authenticated agent: the API never takes an "acting as" id.
The webhook is authenticated by its signature alone (see ``routes/webhooks.py``).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from litestar import Request
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException

from copilot.inbox.access import Actor
from copilot.service.state import ServiceState


@dataclass(frozen=True)
class Principal(Actor):
    """Who is calling: an :class:`~copilot.inbox.access.Actor` (id, role, team)
    with a name, so the inbox's access rule applies to it as is."""

    name: str = ""


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, if any."""
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def authenticate(state: ServiceState, token: str | None) -> Principal | None:
    """The principal holding ``token``, or None."""
    if not token or len(token) > 512:
        return None
    admin = state.settings.admin_token
    if (
        admin
        and state.admin_agent_id is not None
        and hmac.compare_digest(token.encode(), admin.encode())
    ):
        return Principal(agent_id=state.admin_agent_id, role="admin", name="admin")
    agent = state.inbox().authenticate(token)
    if agent is None:
        return None
    return Principal(agent_id=agent.id, role=agent.role, team=agent.team, name=agent.name)


def provide_principal(request: Request) -> Principal:
    """Litestar dependency: the caller, or 401."""
    state: ServiceState = request.app.state.service
    principal = authenticate(state, bearer_token(request))
    if principal is None:
        raise NotAuthorizedException(
            "missing or invalid bearer token (Authorization: Bearer <token>)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return principal


def require_admin(principal: Principal) -> None:
    """Raise 403 unless the caller is an admin."""
    if not principal.is_admin:
        raise PermissionDeniedException("this action needs the admin role")
