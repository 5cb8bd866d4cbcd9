"""/v1/providers, /v1/services and weekly hours: everyone reads, admins change."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, patch, put
from litestar.params import JSONBody, QueryParameter

from slotoptim.api.queries import catalogue as q
from slotoptim.api.routes.deps import Ctx, Db
from slotoptim.api.routes.params import ProviderPath, ServicePath
from slotoptim.api.routes.responses import errors
from slotoptim.api.schemas.catalogue import (
    HoursList,
    Provider,
    ProviderHours,
    ProviderPatch,
    Service,
    ServicePatch,
)

ADMIN = {"role": "admin"}
Active = Annotated[bool | None, QueryParameter(description="only active (true) or inactive (false) ones")]


class ProviderController(Controller):
    path = "/v1/providers"
    tags = ("practice",)

    @get("/", operation_id="listProviders", summary="List providers", sync_to_thread=True, responses=errors())
    def list_providers(self, db: Db, ctx: Ctx, active: Active = None) -> list[Provider]:
        with db.transaction(ctx) as conn:
            return q.providers(conn, active)

    @get("/{key:str}", operation_id="getProvider", summary="Read a provider", sync_to_thread=True, responses=errors())
    def read(self, db: Db, ctx: Ctx, key: ProviderPath) -> Provider:
        with db.transaction(ctx) as conn:
            return q.provider(conn, key)

    @patch(
        "/{key:str}",
        operation_id="updateProvider",
        summary="Change a provider (admin)",
        opt=ADMIN,
        sync_to_thread=True,
        responses=errors(conflict=True, unprocessable=True),
    )
    def update(self, db: Db, ctx: Ctx, key: ProviderPath, data: JSONBody[ProviderPatch]) -> Provider:
        """Name, time zone, active, and the services offered (the list replaces the current one)."""
        with db.transaction(ctx) as conn:
            return q.update_provider(conn, key, data)

    @get(
        "/{key:str}/hours",
        operation_id="getProviderHours",
        summary="A provider's weekly hours",
        sync_to_thread=True,
        responses=errors(),
    )
    def read_hours(self, db: Db, ctx: Ctx, key: ProviderPath) -> ProviderHours:
        with db.transaction(ctx) as conn:
            return q.hours(conn, key)

    @put(
        "/{key:str}/hours",
        operation_id="replaceProviderHours",
        summary="Replace a provider's weekly hours (admin)",
        opt=ADMIN,
        sync_to_thread=True,
        responses=errors(conflict=True, unprocessable=True),
    )
    def replace_hours(self, db: Db, ctx: Ctx, key: ProviderPath, data: JSONBody[HoursList]) -> ProviderHours:
        """The whole week at once, in the provider's local time; spans of one day must not overlap."""
        with db.transaction(ctx) as conn:
            return q.replace_hours(conn, key, data)


class ServiceController(Controller):
    path = "/v1/services"
    tags = ("practice",)

    @get("/", operation_id="listServices", summary="List services", sync_to_thread=True, responses=errors())
    def list_services(self, db: Db, ctx: Ctx, active: Active = None) -> list[Service]:
        with db.transaction(ctx) as conn:
            return q.services(conn, active)

    @get("/{key:str}", operation_id="getService", summary="Read a service", sync_to_thread=True, responses=errors())
    def read(self, db: Db, ctx: Ctx, key: ServicePath) -> Service:
        with db.transaction(ctx) as conn:
            return q.service(conn, key)

    @patch(
        "/{key:str}",
        operation_id="updateService",
        summary="Change a service (admin)",
        opt=ADMIN,
        sync_to_thread=True,
        responses=errors(conflict=True, unprocessable=True),
    )
    def update(self, db: Db, ctx: Ctx, key: ServicePath, data: JSONBody[ServicePatch]) -> Service:
        """Minutes and buffer changes apply to appointments booked from now on."""
        with db.transaction(ctx) as conn:
            return q.update_service(conn, key, data)
