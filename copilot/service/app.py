"""The Litestar application: ``create_app(settings)`` and ``create_app_from_env()``.

Thin on purpose: every route translates HTTP to one library call. The agents'
web pages (``copilot.web``) are mounted at ``/`` when that package is present.
"""

from __future__ import annotations

import gc
import logging
from typing import Any

from litestar import Litestar
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

from copilot import __version__
from copilot.service.config import Settings
from copilot.service.docs import assets_router, docs_plugin
from copilot.service.errors import EXCEPTION_HANDLERS
from copilot.service.routes.analyze import analyze
from copilot.service.routes.corrections import CorrectionsController
from copilot.service.routes.deliveries import DeliveriesController
from copilot.service.routes.health import healthz
from copilot.service.routes.inbox import InboxController
from copilot.service.routes.webhooks import receive, verify
from copilot.service.state import ServiceState

log = logging.getLogger(__name__)

API_HANDLERS: list[Any] = [
    healthz,
    verify,
    receive,
    analyze,
    InboxController,
    CorrectionsController,
    DeliveriesController,
]


def _web_parts(state: ServiceState) -> dict[str, Any]:
    """The web inbox's handlers and template config, when ``copilot.web`` exists."""
    try:
        from copilot import web
    except ImportError:
        return {}
    parts = getattr(web, "web_app_parts", None)
    if parts is None:
        return {}
    return dict(parts())


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the service for ``settings`` (default: from the environment).

    Opens (creating and migrating) the database and creates the bootstrap admin
    before the first request; the background runner (webhook deliveries, the
    tick) starts with the app when ``settings.background`` is true.
    """
    settings = settings or Settings.from_env()
    state = ServiceState.build(settings)
    web = _web_parts(state)
    handlers = [*API_HANDLERS, assets_router(), *web.pop("route_handlers", [])]

    def start(app: Litestar) -> None:
        if settings.background:
            state.start_runner()

    def stop(app: Litestar) -> None:
        state.close()

    return Litestar(
        route_handlers=handlers,
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        openapi_config=OpenAPIConfig(
            title="Lead Copilot",
            version=__version__,
            path="/schema",
            render_plugins=[docs_plugin()],
            description="Lead Copilot service: WhatsApp webhook, inbox API and analysis.",
            components=Components(
                security_schemes={
                    "BearerToken": SecurityScheme(
                        type="http", scheme="bearer", description="An agent's token"
                    )
                }
            ),
            security=[{"BearerToken": []}],
        ),
        request_max_body_size=settings.max_body_bytes,
        state=State({"service": state}),
        on_startup=[start],
        on_shutdown=[stop],
        **web,
    )


def create_app_from_env() -> Litestar:
    """The app factory granian's workers call (once per worker process):
    settings from the environment."""
    app = create_app(Settings.from_env())
    # What is loaded by now (profile, lexicons, the intent model, templates) lives
    # as long as the worker: keep it out of every pass of the cyclic collector,
    # which otherwise walks it again and again while messages are analysed. Only
    # here, in the server's own process: an embedding program or a test that
    # builds several apps would keep every frozen one alive.
    gc.collect()
    gc.freeze()
    return app
