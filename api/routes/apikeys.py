"""/v1/api-keys: create, list and revoke the organisation's API keys (admin)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, post
from litestar.datastructures import State
from litestar.params import JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from slotoptim.api import apikeys
from slotoptim.api.errors import not_found
from slotoptim.api.routes.deps import Ctx, Db, Now
from slotoptim.api.routes.params import id_path
from slotoptim.api.routes.responses import errors
from slotoptim.api.schemas.apikeys import ApiKeyCreate, ApiKeyCreated, ApiKeyInfo

ADMIN = {"role": "admin"}
KeyId = Annotated[int, id_path("API key")]


def _info(key: apikeys.ApiKey) -> ApiKeyInfo:
    return ApiKeyInfo(
        id=key.id, name=key.name, prefix=key.prefix, role=key.role, created_at=key.created_at, revoked_at=key.revoked_at
    )


class ApiKeyController(Controller):
    path = "/v1/api-keys"
    tags = ("access",)

    @get(
        "/",
        operation_id="listApiKeys",
        summary="List API keys (admin)",
        opt=ADMIN,
        sync_to_thread=True,
        responses=errors(),
    )
    def list_keys(self, db: Db, ctx: Ctx) -> list[ApiKeyInfo]:
        with db.transaction(ctx) as conn:
            return [_info(k) for k in apikeys.list_keys(conn, ctx.org_id)]

    @post(
        "/",
        operation_id="createApiKey",
        summary="Create an API key (admin)",
        status_code=HTTP_201_CREATED,
        opt=ADMIN,
        sync_to_thread=True,
        responses=errors(not_found=False),
    )
    def create(self, db: Db, ctx: Ctx, data: JSONBody[ApiKeyCreate]) -> ApiKeyCreated:
        """The answer holds the secret; it is not stored and cannot be shown again."""
        with db.transaction(ctx) as conn:
            created = apikeys.create_key(conn, ctx.org_id, data.name, data.role)
        return ApiKeyCreated(key=_info(created.key), secret=created.token)

    @delete(
        "/{key_id:str}",
        operation_id="revokeApiKey",
        summary="Revoke an API key (admin)",
        status_code=HTTP_204_NO_CONTENT,
        opt=ADMIN,
        sync_to_thread=True,
        responses=errors(),
    )
    def revoke(self, db: Db, ctx: Ctx, now: Now, key_id: KeyId, state: State) -> None:
        with db.transaction(ctx) as conn:
            if apikeys.revoke_key(conn, ctx.org_id, key_id, now) is None:
                raise not_found(f"API key {key_id}")
        # This process forgets the key at once; the others on the commit's notification.
        keys = state.authenticator.keys
        if keys is not None:
            keys.clear()
