"""The API documentation page at ``/schema``, served without any network.

Litestar's pages load their scripts from CDNs, so they stay blank offline or
behind a firewall. This page is Swagger UI from the files the ``swagger-ui-py``
package ships (Apache-2.0, its licence beside them), served by the app itself.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from litestar.datastructures import CacheControlHeader
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.router import Router
from litestar.static_files import create_static_files_router

#: Where the page's scripts, style sheet and icon are served.
ASSETS_PATH = "/schema/assets"


def assets_dir() -> Path:
    """The folder of Swagger UI's files inside the installed ``swagger_ui`` package
    (found without importing it: its handlers import web frameworks we do not use)."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the swagger-ui-py package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


def docs_plugin() -> SwaggerRenderPlugin:
    """Swagger UI at ``/schema`` (and ``/schema/swagger``), every file from the app."""
    return SwaggerRenderPlugin(
        path=["/", "/swagger"],
        js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
        css_url=f"{ASSETS_PATH}/swagger-ui.css",
        standalone_preset_js_url=f"{ASSETS_PATH}/swagger-ui-standalone-preset.js",
        favicon=f"<link rel='icon' type='image/png' href='{ASSETS_PATH}/favicon-32x32.png'>",
    )


def assets_router() -> Router:
    """The route that serves Swagger UI's files (cached by browsers for a day)."""
    return create_static_files_router(
        path=ASSETS_PATH,
        directories=[assets_dir()],
        include_in_schema=False,
        name="schema-assets",
        cache_control=CacheControlHeader(max_age=86400),
    )
