"""The agents' web inbox: server-rendered pages served by the same Litestar app
as the JSON API (sign-in, list, conversation, live updates, metrics).

The service includes it with::

    from copilot.web import web_app_parts
    Litestar(route_handlers=[*api_handlers, *web_app_parts()["route_handlers"]], ...)

It needs ``app.state.service`` (the service's :class:`~copilot.service.state.ServiceState`).
"""

from __future__ import annotations

from typing import Any


def web_router():
    """The Litestar router of the web inbox, mounted at ``/``."""
    from copilot.web.routes import web_router as build

    return build()


def web_app_parts() -> dict[str, Any]:
    """Keyword arguments for ``Litestar(...)``: the web inbox's route handlers. The
    pages render their templates themselves, so no app-level template config is needed."""
    return {"route_handlers": [web_router()]}


__all__ = ["web_app_parts", "web_router"]
