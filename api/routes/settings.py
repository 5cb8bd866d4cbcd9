"""/v1/settings: the organisation's fill-engine knobs."""

from __future__ import annotations

from litestar import Controller, get, patch
from litestar.params import JSONBody

from slotoptim.api.queries import catalogue as q
from slotoptim.api.routes.deps import Ctx, Db
from slotoptim.api.routes.responses import errors
from slotoptim.api.schemas.catalogue import Settings, SettingsPatch


class SettingsController(Controller):
    path = "/v1/settings"
    tags = ("practice",)

    @get(
        "/", operation_id="getSettings", summary="The organisation's settings", sync_to_thread=True, responses=errors()
    )
    def read(self, db: Db, ctx: Ctx) -> Settings:
        with db.transaction(ctx) as conn:
            return q.settings(conn)

    @patch(
        "/",
        operation_id="updateSettings",
        summary="Change settings (admin)",
        opt={"role": "admin"},
        sync_to_thread=True,
        responses=errors(unprocessable=True),
    )
    def update(self, db: Db, ctx: Ctx, data: JSONBody[SettingsPatch]) -> Settings:
        """Strategy, threshold, frequency caps, quiet hours, weights... Only the fields sent change."""
        with db.transaction(ctx) as conn:
            return q.update_settings(conn, data)
