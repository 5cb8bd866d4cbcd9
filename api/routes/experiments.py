"""/v1/experiments and /v1/pricing-policy: message experiments (template variants, their funnel and
readout) and the last-minute pricing policy (issue 16). As /v1/settings: every role reads, admins change."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post, put
from litestar.concurrency import sync_to_thread
from litestar.params import JSONBody, PathParameter

from slotoptim.api.errors import malformed
from slotoptim.api.queries import experiments as q
from slotoptim.api.routes.deps import Ctx, Db, Now
from slotoptim.api.routes.responses import errors
from slotoptim.api.schemas.experiments import ExperimentIn, ExperimentOut, PricingPolicy, PricingPolicyOut

Key = Annotated[str, PathParameter(max_length=63, description="the experiment's key")]


class ExperimentController(Controller):
    path = "/v1/experiments"
    tags = ("practice",)

    @get(
        "/",
        operation_id="listExperiments",
        summary="Message experiments, newest first, with their variants",
        sync_to_thread=True,
        responses=errors(not_found=False, unprocessable=False),
    )
    def list_experiments(self, db: Db, ctx: Ctx) -> list[ExperimentOut]:
        with db.transaction(ctx) as conn:
            return q.experiments(conn)

    @post(
        "/",
        operation_id="createExperiment",
        summary="Start a message experiment with its template variants (admin)",
        opt={"role": "admin"},
        sync_to_thread=True,
        responses=errors(not_found=False, conflict=True),
    )
    def create(self, db: Db, ctx: Ctx, now: Now, data: JSONBody[ExperimentIn]) -> ExperimentOut:
        """Each variant's SMS must fit one GSM-7 segment at its longest, opt-out sentence included
        (422 naming `variants[i].template` otherwise); one experiment runs at a time (409)."""
        with db.transaction(ctx) as conn:
            return q.create(conn, data, now)

    @get(
        "/{key:str}",
        operation_id="getExperiment",
        summary="An experiment's funnel per variant and readout (no winner below 200 sends per variant)",
        sync_to_thread=True,
        responses=errors(unprocessable=False),
    )
    def read(self, db: Db, ctx: Ctx, key: Key) -> ExperimentOut:
        with db.transaction(ctx) as conn:
            return q.detail(conn, key)

    @post(
        "/{key:str}/stop",
        operation_id="stopExperiment",
        summary="Stop an experiment (admin); offers made from now on carry no variant",
        opt={"role": "admin"},
        sync_to_thread=True,
        status_code=200,
        responses=errors(unprocessable=False, conflict=True),
    )
    def stop(self, db: Db, ctx: Ctx, now: Now, key: Key) -> ExperimentOut:
        with db.transaction(ctx) as conn:
            return q.stop(conn, key, now)


class PricingPolicyController(Controller):
    path = "/v1/pricing-policy"
    tags = ("practice",)

    @get(
        "/",
        operation_id="getPricingPolicy",
        summary="The last-minute pricing policy (configured: false when there is none)",
        sync_to_thread=True,
        responses=errors(not_found=False, unprocessable=False),
    )
    def read(self, db: Db, ctx: Ctx) -> PricingPolicyOut:
        with db.transaction(ctx) as conn:
            return q.pricing_policy(conn)

    @put(
        "/",
        operation_id="putPricingPolicy",
        summary="Set the last-minute pricing policy (admin); offers already made keep their price",
        opt={"role": "admin"},
        responses=errors(not_found=False),
    )
    async def update(
        self, request: Request[Any, Any, Any], db: Db, ctx: Ctx, data: JSONBody[PricingPolicy]
    ) -> PricingPolicyOut:
        _strictly(await request.body())
        return await sync_to_thread(_put_policy, db, ctx, data)


def _put_policy(db: Db, ctx: Ctx, data: PricingPolicy) -> PricingPolicyOut:
    with db.transaction(ctx) as conn:
        return q.put_pricing_policy(conn, data)


def _strictly(raw: bytes) -> None:
    """Litestar converts a body laxly (0 for false, "20" for 20); a policy that switches pricing on
    or off, or sets a percentage, takes the JSON types its schema says, else 400 naming the field."""
    try:
        msgspec.json.decode(raw, type=PricingPolicy, strict=True)
    except msgspec.ValidationError as exc:
        text = str(exc)
        path = text.rpartition("at `$.")[2].rstrip("`") if "at `$." in text else "body"
        field = path.split("[")[0].split(".")[0]
        raise malformed(field, text.partition(" - at ")[0]) from None
