"""Swagger UI served from this origin (the pinned swagger-ui-bundle-v2 wheel), not from a CDN: it works offline
and under the Content-Security-Policy of every answer (scripts and styles from 'self' only, no inline script)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from litestar import Request, Router
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.static_files import create_static_files_router
from swagger_ui_bundle import swagger_ui_path

ASSETS = "/swagger-ui"
OWN_ASSETS = Path(__file__).with_name("swagger_assets")


class SelfHostedSwagger(OpenAPIRenderPlugin):
    def __init__(self) -> None:
        super().__init__(path="/swagger")

    def receive_router(self, router: Router) -> None:
        router.register(
            create_static_files_router(
                path=ASSETS, directories=[OWN_ASSETS, Path(str(swagger_ui_path))], include_in_schema=False
            )
        )

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        assets = f"{request.app.openapi_config.path}{ASSETS}"
        title = html.escape(openapi_schema["info"]["title"])
        openapi_url = html.escape(self.get_openapi_json_route(request))
        return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="{assets}/favicon-32x32.png">
<link rel="stylesheet" href="{assets}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi="{openapi_url}"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{assets}/swagger-ui-standalone-preset.js"></script>
<script src="{assets}/start.js"></script>
</body>
</html>
""".encode()
