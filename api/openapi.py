"""The OpenAPI 3.1 description, generated from the code.

Litestar builds it from the routes; the request and response bodies are then described by
msgspec's own JSON Schema of the same Structs, which is exact where Litestar's generator is not:
patterns of list items, constraints inside optional fields, and `additionalProperties: false` for
bodies that refuse unknown fields. (The fuzz test found each of these as a valid-by-schema request
the API refused.)
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from typing import Any

import msgspec
from litestar import Litestar
from litestar._openapi.plugin import OpenAPIPlugin
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityRequirement, SecurityScheme, Server

import slotoptim.api.schemas
from slotoptim.api.errors import Problem
from slotoptim.api.schema_ui import OfflineSwaggerPlugin

# What every /v1 operation accepts; webhooks and health checks declare none.
API_SECURITY: list[SecurityRequirement] = [{"apiKey": []}, {"bearer": []}]


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="SlotOptim API",
        version="1",
        description=(
            "Appointment gaps, the waitlist and the fill engine of one organisation. Authenticate with an "
            "API key (`Authorization: Bearer so_...` or `X-API-Key: so_...`) or an OIDC bearer token. "
            "400: the request does not match this description (the field is named); 422: it does, but "
            "its values cannot be accepted (the field or the rule is named); 404: no such thing in your "
            "organisation; 409: it conflicts with the calendar or the record's state."
        ),
        path="/schema",
        servers=[Server(url="/")],
        components=Components(
            security_schemes={
                "apiKey": SecurityScheme(type="apiKey", name="X-API-Key", security_scheme_in="header"),
                "bearer": SecurityScheme(
                    type="http", scheme="bearer", description="an API key (so_...) or an OIDC access token (JWT)"
                ),
            }
        ),
        use_handler_docstrings=True,
        render_plugins=[OfflineSwaggerPlugin()],
    )


def _structs() -> list[type[msgspec.Struct]]:
    found: dict[str, type[msgspec.Struct]] = {}
    for info in pkgutil.iter_modules(slotoptim.api.schemas.__path__, "slotoptim.api.schemas."):
        module = importlib.import_module(info.name)
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, msgspec.Struct) and value is not msgspec.Struct and value.__module__ == info.name:
                found[value.__name__] = value
    found["Problem"] = Problem
    return list(found.values())


def refine(document: dict[str, Any]) -> None:
    """Replaces the body schemas in place with msgspec's exact ones."""
    _, components = msgspec.json.schema_components(_structs(), ref_template="#/components/schemas/{name}")
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in components.items():
        if name in schemas:
            schemas[name] = schema


def document(app: Litestar) -> dict[str, Any]:
    """The description /schema/openapi.json serves, refined once (Litestar caches the dict it serves)."""
    plugin = app.plugins.get(OpenAPIPlugin)
    served = plugin.provide_openapi_schema()
    if not served.get("x-slotoptim-refined"):
        refine(served)
        served["x-slotoptim-refined"] = True
    return served
