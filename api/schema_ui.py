"""/schema: the browsable OpenAPI description, working offline.

Swagger UI's files come from the `swagger-ui-bundle-v2` Python package and are served by this
service under /assets/swagger-ui/; the page loads them and api/static/schema-init.js, so nothing
is fetched from a CDN and the page needs no inline script.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request, Router
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.static_files import create_static_files_router

STATIC = Path(__file__).parent / "static"
ASSETS = "/assets"
SWAGGER_ASSETS = f"{ASSETS}/swagger-ui"


def swagger_ui_dir() -> Path:
    import swagger_ui_bundle  # type: ignore[import-untyped]

    return Path(swagger_ui_bundle.swagger_ui_path)


class OfflineSwaggerPlugin(OpenAPIRenderPlugin):
    def __init__(self) -> None:
        super().__init__(path="/", favicon=f"<link rel='icon' href='{SWAGGER_ASSETS}/favicon-32x32.png'>", style="")

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        title = str(openapi_schema["info"]["title"]).replace("<", "&lt;")
        return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title}</title>
  {self.favicon}
  <link rel="stylesheet" href="{SWAGGER_ASSETS}/swagger-ui.css">
  <script src="{SWAGGER_ASSETS}/swagger-ui-bundle.js"></script>
  <script src="{SWAGGER_ASSETS}/swagger-ui-standalone-preset.js"></script>
  <script src="{ASSETS}/schema-init.js"></script>
</head>
<body><div id="swagger-ui"></div></body>
</html>""".encode()


def asset_routers() -> list[Router]:
    public = {"exclude_from_auth": True}
    return [
        create_static_files_router(path=SWAGGER_ASSETS, directories=[swagger_ui_dir()], opt=public, name="swagger"),
        create_static_files_router(path=ASSETS, directories=[STATIC], opt=public, name="assets"),
    ]
