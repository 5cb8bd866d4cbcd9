"""POST /v1/waitlist/offer and POST /v1/bookings/instant-claim."""

from __future__ import annotations

from litestar import Response, post
from litestar.datastructures import State
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_404_NOT_FOUND, HTTP_409_CONFLICT

from slotoptim.api.metrics import Metrics
from slotoptim.api.queries import offers as q
from slotoptim.api.routes.deps import Ctx, Db, Now, RedisClient
from slotoptim.api.routes.responses import errors
from slotoptim.api.schemas.offers import Campaign, ClaimOutcome, InstantClaim, OfferRequest
from slotoptim.api.transactions import in_transaction

CLAIM_STATUS = {
    "booked": HTTP_200_OK,
    "awaiting_approval": HTTP_200_OK,
    "already_yours": HTTP_200_OK,
    "being_confirmed": HTTP_409_CONFLICT,
    "filled": HTTP_409_CONFLICT,
    "expired": HTTP_409_CONFLICT,
    "not_yours": HTTP_404_NOT_FOUND,
    "unknown": HTTP_404_NOT_FOUND,
}


@post(
    "/v1/waitlist/offer",
    operation_id="startOffers",
    summary="Start or restart offering a gap",
    tags=["offers"],
    status_code=HTTP_201_CREATED,
    sync_to_thread=True,
    responses=errors(conflict=True, unprocessable=True),
)
def start_offers(db: Db, ctx: Ctx, now: Now, data: JSONBody[OfferRequest]) -> Campaign:
    """Starts a campaign for an open gap with a strategy (sequential, broadcast, burst, cascade,
    staff_approval; default the organisation's), closing any running one, and returns the first
    wave of offers. 409 when the gap is no longer open."""
    return in_transaction(db, ctx, lambda conn: q.start(conn, data, now))


@post(
    "/v1/bookings/instant-claim",
    operation_id="instantClaim",
    summary="Claim an offered slot with its link's token",
    tags=["offers"],
    sync_to_thread=True,
    responses={
        **errors(),
        404: ResponseSpec(data_container=ClaimOutcome, description="unknown token, or not this customer's"),
        409: ResponseSpec(
            data_container=ClaimOutcome, description="filled, expired or being confirmed; see alternatives"
        ),
    },
)
def instant_claim(
    db: Db,
    ctx: Ctx,
    now: Now,
    redis_client: RedisClient,
    state: State,
    data: JSONBody[InstantClaim],
) -> Response[ClaimOutcome]:
    """Books the slot a claim link offers, for the customer it was sent to (a staff member taking
    the customer's yes by phone). A Redis hold makes a second claimant hear at once that someone is
    confirming; the database decides. 200 booked (or awaiting staff approval, or already theirs);
    409 filled, expired or being confirmed, with up to three alternatives; 404 otherwise."""
    with db.owner() as conn:
        signing = q.claim_signing_key(conn)
    with db.session(ctx) as conn:
        outcome = q.instant_claim(conn, redis_client, data, signing, now, q.hold_ms(conn))
    metrics: Metrics = state.metrics
    metrics.claim(outcome.outcome, "api")
    return Response(outcome, status_code=CLAIM_STATUS[outcome.outcome])
