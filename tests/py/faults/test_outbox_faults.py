"""A small fault run of the outbox (the same run `make faults` makes larger): a provider outage of
429s then 500s, half of the 500s after Twilio had created the message. Nothing may be lost or sent
twice. (kill -9 mid-send: tests/py/fill/test_listener_restart.py.)"""

from __future__ import annotations

import redis
from channels.twilio_standin import TwilioStandIn
from faults.outbox_faults import outage_run


def test_a_429_then_500_outage_loses_and_duplicates_nothing(
    fresh_db: str, twilio_standin: TwilioStandIn, redis_client: redis.Redis
) -> None:
    figures = outage_run(
        fresh_db,
        twilio_standin,
        redis_client,
        messages=150,
        throttle_seconds=3,
        error_seconds=3,
        retry_after=1,
        created_share=0.5,
        outage_after=0.0,
        limit_seconds=120,
    )
    assert figures["answered_429"] > 0 and figures["answered_500"] > 0, figures
    assert figures["unfinished"] == 0, figures
    assert figures["lost"] == 0 and figures["duplicated"] == 0, figures
    assert figures["recorded_not_created"] == 0 and figures["failed"] == 0, figures
    # Paused by Retry-After for the whole account, not hammered by every thread: the old sender
    # made about 294 requests a second against a 429.
    assert figures["requests_per_second_during_429"] < 30, figures
