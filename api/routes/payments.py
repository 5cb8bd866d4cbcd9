"""No-show protection (issue 13): Stripe's webhook, and the staff side of fees.

POST /webhooks/stripe                      Stripe events (signed; each id once; any order)
GET  /v1/payments/policy                    the organisation's policies
PATCH /v1/payments/policy                   change a policy (admin; ?service=<key> for one service)
GET  /v1/payments/charges                   fees, captures and releases (?attention=true: failed or requires_action)
POST /v1/payments/charges/{id}/waive        waive a fee, with a reason (staff; audited)
GET  /v1/payments/money                     per month: collected, waived, failed, revenue recovered
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

import anyio.to_thread
import msgspec
import redis
from litestar import MediaType, Request, Response, get, patch, post
from litestar.exceptions import HTTPException
from litestar.params import JSONBody, QueryParameter

from slotoptim.api.db import Database
from slotoptim.api.identity import Actor, DbContext
from slotoptim.api.routes.deps import Ctx, Db, Now, RedisClient
from slotoptim.api.routes.params import id_path
from slotoptim.api.routes.responses import errors
from slotoptim.api.schemas.payments import PolicyPatch, Waiver
from slotoptim.listener.payments import signature, stripe_account, webhook

PUBLIC = {"exclude_from_auth": True}
WEBHOOK_RESPONSES = errors(not_found=False, unprocessable=False)


@post(
    "/webhooks/stripe",
    operation_id="stripeWebhook",
    # Like the calendar push webhooks: only Stripe calls it, with a body only Stripe can sign.
    include_in_schema=False,
    summary="Stripe events (Stripe-Signature verified; each event id once; any order)",
    tags=["webhooks"],
    opt=PUBLIC,
    status_code=200,
    media_type=MediaType.JSON,
    responses=WEBHOOK_RESPONSES,
)
async def stripe_webhook(request: Request[Any, Any, Any], db: Db, now: Now, redis_client: RedisClient) -> Response[Any]:
    """400 when the signature is missing, wrong or too old (Stripe retries, and shows the failure
    in its dashboard), or the body is not an event; 200 once processed or recognised as a repeat."""
    payload = await request.body()
    if len(payload) > webhook.MAX_BODY:
        raise HTTPException(status_code=400, detail="body: larger than a Stripe event")
    header = request.headers.get("stripe-signature", "")
    outcome = await anyio.to_thread.run_sync(_receive, db, redis_client, payload, header, now)
    return Response({"received": True, "outcome": outcome}, status_code=200)


def _receive(db: Database, cache: redis.Redis | None, payload: bytes, header: str, now: dt.datetime) -> str:
    with db.owner() as conn:
        accounts = stripe_account.all_accounts(conn)
    try:
        account = webhook.identify(accounts, payload, header, now)
        event = webhook.parse(payload)
    except signature.SignatureError as exc:
        raise HTTPException(status_code=400, detail=f"Stripe-Signature: {exc}") from None
    except webhook.BadEvent as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None
    ctx = DbContext(account.org_id, Actor("system", "stripe-webhook", None))
    with db.session(ctx) as conn:
        return webhook.process(conn, cache, account, event, now)


POLICY_COLUMNS = (
    "p.grace_minutes, p.late_cancel_hours, p.late_cancel_far_percent, p.late_cancel_near_percent, p.no_show_percent,"
    " p.window_days, p.card_after_no_shows, p.deposit_after_no_shows, p.prepay_after_no_shows, p.deposit_percent,"
    " p.card_tiers, p.deposit_tiers, p.card_min_price::float8 as card_min_price,"
    " p.deposit_min_price::float8 as deposit_min_price, p.risk_threshold::float8 as risk_threshold,"
    " p.risk_requirement, p.updated_at"
)


@get(
    "/v1/payments/policy",
    operation_id="listPaymentPolicies",
    summary="The organisation's no-show protection policies (organisation-wide and per service)",
    tags=["payments"],
    sync_to_thread=True,
    responses=errors(not_found=False, unprocessable=False),
)
def read_policies(db: Db, ctx: Ctx) -> list[dict[str, Any]]:
    with db.transaction(ctx) as conn:
        rows = conn.execute(
            f"select s.key as service, {POLICY_COLUMNS} from slotoptim_private.payment_policy as p"
            " left join slotoptim_private.service as s on s.id = p.service_id order by s.key nulls first"
        ).fetchall()
    return [dict(r) for r in rows]


@patch(
    "/v1/payments/policy",
    operation_id="updatePaymentPolicy",
    summary="Create or change a no-show protection policy (admin); only the fields sent change",
    tags=["payments"],
    opt={"role": "admin"},
    sync_to_thread=True,
    responses=errors(),
)
def update_policy(
    db: Db,
    ctx: Ctx,
    now: Now,
    data: JSONBody[PolicyPatch],
    service: Annotated[
        str | None, QueryParameter(max_length=128, description="a service's key; none: organisation")
    ] = None,
) -> dict[str, Any]:
    changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
    with db.transaction(ctx) as conn:
        row = conn.execute(
            f"select s.key as service, {POLICY_COLUMNS}"
            " from slotoptim.set_payment_policy(%s, %s::jsonb, %s) as p"
            " left join slotoptim_private.service as s on s.id = p.service_id",
            (service, json.dumps(changes), now),
        ).fetchone()
    assert row is not None
    return dict(row)


@get(
    "/v1/payments/charges",
    operation_id="listPaymentCharges",
    summary="Fees charged, deposits captured and holds released; attention=true: those staff must look at",
    tags=["payments"],
    sync_to_thread=True,
    responses=errors(not_found=False, unprocessable=False),
)
def list_charges(
    db: Db,
    ctx: Ctx,
    attention: Annotated[bool, QueryParameter(description="only failed or requires_action")] = False,
    limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    with db.transaction(ctx) as conn:
        rows = conn.execute(
            "select c.id, c.appointment_id, cu.key as customer_key, c.kind, c.amount_minor, c.currency, c.status,"
            " c.reason, c.payment_intent, c.error_code, c.decline_code, c.error_message, c.waived_by, c.waive_reason,"
            " c.refunded_minor, c.disputed, c.created_at, c.settled_at"
            " from slotoptim_private.payment_charge as c join slotoptim_private.customer as cu on cu.id = c.customer_id"
            " where (not %s or c.status in ('failed', 'requires_action')) order by c.id desc limit %s",
            (attention, limit),
        ).fetchall()
    return [dict(r) for r in rows]


@post(
    "/v1/payments/charges/{charge_id:int}/waive",
    operation_id="waivePaymentCharge",
    summary="Waive a fee with a reason (staff; audited): a queued call is cancelled, a held deposit released",
    tags=["payments"],
    opt={"role": "staff"},
    status_code=200,
    sync_to_thread=True,
    responses=errors(),
)
def waive_charge(
    db: Db,
    ctx: Ctx,
    now: Now,
    charge_id: Annotated[int, id_path("charge")],
    data: JSONBody[Waiver],
) -> dict[str, Any]:
    with db.transaction(ctx) as conn:
        row = conn.execute(
            "select id, kind, status, amount_minor, currency, waived_by, waive_reason, settled_at"
            " from slotoptim.waive_payment_charge(%s, %s, %s)",
            (charge_id, data.reason, now),
        ).fetchone()
    assert row is not None
    return dict(row)


@get(
    "/v1/payments/money",
    operation_id="paymentMoney",
    summary="Per month: fees and deposits collected, waived and failed, next to revenue recovered",
    tags=["payments"],
    sync_to_thread=True,
    responses=errors(not_found=False, unprocessable=False),
)
def money(db: Db, ctx: Ctx) -> list[dict[str, Any]]:
    with db.transaction(ctx) as conn:
        rows = conn.execute(
            "select month, currency, collected::float8 as collected, waived::float8 as waived,"
            " failed::float8 as failed,"
            " charges_collected, charges_waived, charges_failed, revenue_recovered::float8 as revenue_recovered"
            " from slotoptim.payment_money_monthly order by month desc limit 24"
        ).fetchall()
    return [dict(r) for r in rows]
