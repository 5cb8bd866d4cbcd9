"""/webhooks/twilio/inbound and /webhooks/twilio/status: signed by Twilio, not by a caller's key."""

from __future__ import annotations

from typing import Any

from litestar import MediaType, Request, Response, post
from litestar.datastructures import State
from litestar.exceptions import HTTPException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import URLEncodedBody
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT
from litestar.types import ExceptionHandlersMap

from slotoptim.api.errors import Problem
from slotoptim.api.metrics import Metrics
from slotoptim.api.queries import webhooks as q
from slotoptim.api.routes.deps import Db, Now
from slotoptim.api.schemas.webhooks import TwilioInbound, TwilioStatus
from slotoptim.api.twilio_signature import twilio_signature_guard
from slotoptim.api.webhook_replies import twiml

WEBHOOK = {"exclude_from_auth": True}
RESPONSES = {
    400: ResponseSpec(data_container=Problem, description="a required field is missing or malformed"),
    403: ResponseSpec(data_container=Problem, description="missing or invalid X-Twilio-Signature"),
    503: ResponseSpec(data_container=Problem, description="the database is busy; Twilio retries"),
}


def _json_error(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Problem]:
    # The inbound route answers TwiML (XML); its refusals stay JSON, as documented.
    return Response(
        Problem(status_code=exc.status_code, detail=exc.detail, extra=exc.extra or None),
        status_code=exc.status_code,
        media_type=MediaType.JSON,
    )


JSON_ERRORS: ExceptionHandlersMap = {HTTPException: _json_error}


def _address(request: Request[Any, Any, Any]) -> str | None:
    return request.client.host if request.client else None


@post(
    "/webhooks/twilio/inbound",
    operation_id="twilioInbound",
    summary="A text a customer sent (Twilio)",
    tags=["webhooks"],
    guards=[twilio_signature_guard],
    opt=WEBHOOK,
    exception_handlers=JSON_ERRORS,
    status_code=HTTP_200_OK,
    media_type=MediaType.XML,
    sync_to_thread=True,
    responses=RESPONSES,
)
def twilio_inbound(
    request: Request[Any, Any, Any],
    db: Db,
    state: State,
    now: Now,
    data: URLEncodedBody[TwilioInbound],
) -> Response[str]:
    """YES claims the latest open offer sent to that number; STOP (and free-text refusals such as
    "stop texting me") opts out, START opts back in; anything else gets a short help reply. The
    answer is TwiML. A repeated MessageSid changes nothing and gets the same answer."""
    result = q.inbound(db, data.message_sid, data.from_, data.body, now, _address(request))
    if result.claim_outcome is not None and not result.duplicate:
        metrics: Metrics = state.metrics
        metrics.claim(result.claim_outcome, "sms")
    return Response(twiml(result.reply), media_type=MediaType.XML)


@post(
    "/webhooks/twilio/status",
    operation_id="twilioStatus",
    summary="Delivery status of a sent message (Twilio)",
    tags=["webhooks"],
    guards=[twilio_signature_guard],
    opt=WEBHOOK,
    status_code=HTTP_204_NO_CONTENT,
    sync_to_thread=True,
    responses=RESPONSES,
)
def twilio_status(request: Request[Any, Any, Any], db: Db, now: Now, data: URLEncodedBody[TwilioStatus]) -> None:
    """Records sent, delivered, undelivered... on the outbox row with that provider id; each
    (MessageSid, MessageStatus) once."""
    q.status(db, data.message_sid, data.message_status, now, _address(request))
