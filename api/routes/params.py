"""Query and path parameters shared by the routes (their constraints appear in OpenAPI)."""

from __future__ import annotations

from typing import Annotated

from litestar.params import PathParameter, QueryParameter

from slotoptim.api.schemas.common import MAX_ID

KEY = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$"
CUSTOMER_KEY = r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$"

ProviderQuery = Annotated[str, QueryParameter(name="provider", pattern=KEY, description="provider key")]
ProviderFilter = Annotated[str | None, QueryParameter(name="provider", pattern=KEY, description="provider key")]
ServiceFilter = Annotated[str | None, QueryParameter(name="service", pattern=KEY, description="service key")]
CustomerFilter = Annotated[
    str | None, QueryParameter(name="customer", pattern=CUSTOMER_KEY, description="customer key")
]
ProviderPath = Annotated[str, PathParameter(pattern=KEY, description="provider key")]
ServicePath = Annotated[str, PathParameter(pattern=KEY, description="service key")]


def id_path(what: str) -> PathParameter:
    return PathParameter(ge=1, le=MAX_ID, description=f"{what} id")
