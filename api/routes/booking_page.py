"""/book/{org}: the public self-service booking page and waitlist sign-up.

Server-rendered HTML, plain forms, no JavaScript. Picking a service (and optionally a provider) is
a GET form; booking an opening and joining the waitlist are POST forms, cross-site checked and
rate-limited per address by the front door (api/frontdoor.py, api/ratelimit.py) and per phone
number or email address here. Bad input re-renders the form with a message naming each field
(422) and writes nothing. The answers never depend on whether a phone or email is already known.

Booking: slotoptim.listener.selfservice.booking.book (the claim flow of claim links) and then
`_after_booking`: a 303 to the offer's claim page, which shows the booking and asks about the
customer's other waitlist entries. When the practice's payment policy protects the booking
(issue 13), nothing is booked here: the offer stays open, the payment step (the claim page's, for
that offer) runs while the booking's holds are taken, and the page redirects to Stripe Checkout;
Stripe's webhook books, and Checkout returns to the offer's claim page.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import anyio.to_thread
import msgspec
import redis
from litestar import Request, get, post
from litestar.datastructures import State
from litestar.enums import RequestEncodingType
from litestar.params import Body, PathParameter
from litestar.response import Redirect, Template
from litestar.status_codes import (
    HTTP_200_OK,
    HTTP_303_SEE_OTHER,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_429_TOO_MANY_REQUESTS,
)

from slotoptim.api.db import Database
from slotoptim.api.queries import booking_page as q
from slotoptim.api.queries.claim_page import checkout_product
from slotoptim.api.ratelimit import BOOK_CONTACT, retry_after
from slotoptim.api.routes.claim_page import HEADERS, PAGE, _address, _unavailable
from slotoptim.api.routes.deps import Db, Now, RedisClient
from slotoptim.listener.payments import checkout
from slotoptim.listener.selfservice import booking
from slotoptim.listener.selfservice.consent import EMAIL_CONSENT, SMS_CONSENT
from slotoptim.listener.tokens import make_token, signing_key

OrgPath = Annotated[str, PathParameter(max_length=63, description="the organisation's key")]

PHONE = re.compile(r"^\+[1-9][0-9]{6,14}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
LANGUAGES = {"en": "English", "es": "Español"}
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
# Zones a customer may pick besides the practice's own (their messages and this page use it).
ZONES = [
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Mexico_City",
    "America/Puerto_Rico",
    "Europe/London",
    "Europe/Madrid",
    "Asia/Tokyo",
]


class ContactForm(msgspec.Struct, kw_only=True):
    service: str = ""
    provider: str = ""
    name: str = ""
    phone: str = ""
    email: str = ""
    tz: str = ""
    lang: str = ""
    texts: str = ""
    emails: str = ""


class BookForm(ContactForm, kw_only=True):
    opening: str = ""
    earlier: str = ""  # "yes": enrol the booking in move-up (issue 12, "earlier if possible")


class WaitlistForm(ContactForm, kw_only=True):
    day1: str = ""
    day2: str = ""
    day3: str = ""
    day4: str = ""
    day5: str = ""
    day6: str = ""
    day7: str = ""
    time_from: str = ""
    time_to: str = ""
    date_from: str = ""
    date_to: str = ""


@dataclass
class PageState:
    """What the page template needs besides the practice."""

    service: str = ""
    provider: str = ""
    tz: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    form: dict[str, str] = field(default_factory=dict)
    notice: str = ""
    which: str = ""  # the form the errors belong to: book or waitlist


def _zones(practice: q.Practice) -> list[str]:
    return [practice.timezone, *[z for z in ZONES if z != practice.timezone]]


def _clean(value: str, limit: int = 200) -> str:
    return " ".join(value.split())[:limit] if len(value) <= 4 * limit else ""


def _phone(raw: str) -> str:
    """'+1 (617) 555-0101' -> '+16175550101': what people type, in E.164."""
    return re.sub(r"[\s().-]", "", raw)


def _contact(form: ContactForm, practice: q.Practice, errors: dict[str, str]) -> booking.Contact:
    name = _clean(form.name)
    phone = _phone(form.phone) if form.phone.strip() else ""
    email = form.email.strip()
    if any(ord(c) < 32 or ord(c) == 127 for c in form.name + form.email):
        # NUL and friends: PostgreSQL refuses them in text, and no name or address holds them.
        field = "name" if any(ord(c) < 32 or ord(c) == 127 for c in form.name) else "email"
        errors[field] = f"{field.capitalize()}: remove the control characters."
    elif not name:
        errors["name"] = "Name: please enter your name."
    elif len(form.name) > 200:
        errors["name"] = "Name: at most 200 characters."
    if phone and not PHONE.match(phone):
        errors["phone"] = "Phone: enter the number with its country code, for example +1 617 555 0101."
    if email and (len(email) > 254 or not EMAIL.match(email)):
        errors["email"] = "Email: enter an address like name@example.com."
    if not phone and not email and "phone" not in errors and "email" not in errors:
        errors["phone"] = "Phone: enter a phone number or an email address, so the practice can reach you."
    texts, emails = form.texts == "yes", form.emails == "yes"
    if texts and not phone and "phone" not in errors:
        errors["phone"] = "Phone: texts need a phone number."
    if emails and not email and "email" not in errors:
        errors["email"] = "Email: emails need an email address."
    tz = form.tz or practice.timezone
    if tz not in _zones(practice):
        errors["tz"] = "Time zone: choose one from the list."
        tz = practice.timezone
    lang = form.lang or practice.language
    if lang not in LANGUAGES:
        errors["lang"] = "Language: choose English or Español."
        lang = "en"
    return booking.Contact(
        name, phone or None, email or None, None if tz == practice.timezone else tz, lang, texts, emails
    )


def _over_limit(cache: redis.Redis | None, contact: booking.Contact) -> int | None:
    """Per phone number and per email address: one person is not booked from many addresses."""
    if cache is None:
        return None
    waits = []
    for who in (contact.phone, (contact.email or "").lower() or None):
        if who:
            try:
                waits.append(retry_after(cache, BOOK_CONTACT, hashlib.sha256(who.encode()).hexdigest()[:32]))
            except redis.RedisError:
                return None
    blocked = [w for w in waits if w is not None]
    return max(blocked) if blocked else None


def _render(
    db: Database, practice: q.Practice, now: dt.datetime, state: PageState, status: int, address: str | None
) -> Template:
    tz = state.tz if state.tz in _zones(practice) else practice.timezone
    with db.transaction(q.context(practice, address)) as conn:
        services = q.services(conn, practice)
        providers = q.providers(conn)
        service = next((s for s in services if s.key == state.service), None)
        provider = next(
            (p for p in providers if p.key == state.provider and service and service.key in p.services), None
        )
        openings = (
            q.openings(conn, practice, service.key, provider.key if provider else None, now, tz) if service else []
        )
    zone = ZoneInfo(tz)
    lang = state.form.get("lang") or practice.language
    headers = dict(HEADERS)
    return Template(
        template_name="book.html",
        context={
            "p": practice,
            "s": state,
            "f": state.form,
            "services": services,
            "providers": providers,
            "service": service,
            "provider": provider,
            "openings": openings,
            "zones": _zones(practice),
            "tz": tz,
            "zone_note": tz != practice.timezone,
            "zone_name": now.astimezone(zone).tzname(),
            "languages": LANGUAGES,
            "days": DAYS,
            "today": now.astimezone(zone).date().isoformat(),
            "sms_consent": SMS_CONSENT.get(lang, SMS_CONSENT["en"]),
            "email_consent": EMAIL_CONSENT.get(lang, EMAIL_CONSENT["en"]),
        },
        status_code=status,
        headers=headers,
    )


def _missing() -> Template:
    return Template(template_name="book_missing.html", status_code=HTTP_404_NOT_FOUND, headers=HEADERS)


@get("/book/{org:str}", opt=PAGE, include_in_schema=False)
async def booking_page(
    request: Request[Any, Any, Any],
    org: OrgPath,
    db: Db,
    now: Now,
    service: Annotated[str, msgspec.Meta(max_length=63)] = "",
    provider: Annotated[str, msgspec.Meta(max_length=63)] = "",
    tz: Annotated[str, msgspec.Meta(max_length=64)] = "",
) -> Template:
    def show() -> Template:
        practice = q.find_practice(db, org)
        if practice is None:
            return _missing()
        state = PageState(service=service, provider=provider, tz=tz, form={"tz": tz}, which="choose")
        errors = _choice_errors(db, practice, _address(request), service, provider, tz)
        state.errors = errors
        status = HTTP_422_UNPROCESSABLE_ENTITY if errors else HTTP_200_OK
        return _render(db, practice, now, state, status, _address(request))

    try:
        return await anyio.to_thread.run_sync(show)
    except Exception as exc:  # the customer sees a page, whatever went wrong
        return _unavailable(exc)


def _choice_errors(
    db: Database, practice: q.Practice, address: str | None, service: str, provider: str, tz: str
) -> dict[str, str]:
    """The GET form's choices, checked: an unknown service, provider or zone names its field."""
    errors: dict[str, str] = {}
    if tz and tz not in _zones(practice):
        errors["tz"] = "Time zone: choose one from the list."
    if not service and not provider:
        return errors
    with db.transaction(q.context(practice, address)) as conn:
        services = {s.key for s in q.services(conn, practice)}
        providers = {p.key: p.services for p in q.providers(conn)}
    if service and service not in services:
        errors["service"] = "Service: choose a service from the list."
    if provider and (provider not in providers or (service in services and service not in providers[provider])):
        errors["provider"] = "Provider: choose a provider who offers this service, or any provider."
    return errors


def _form_dict(form: msgspec.Struct) -> dict[str, str]:
    return {k: str(v)[:300] for k, v in msgspec.structs.asdict(form).items()}


@post("/book/{org:str}/book", opt=PAGE, include_in_schema=False, status_code=HTTP_200_OK)
async def booking_submit(
    request: Request[Any, Any, Any],
    org: OrgPath,
    db: Db,
    now: Now,
    redis_client: RedisClient,
    state: State,
    data: Annotated[BookForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Template | Redirect:
    address = _address(request)
    base = (state.settings.public_url or str(request.base_url)).rstrip("/")

    def submit() -> Template | Redirect:
        practice = q.find_practice(db, org)
        if practice is None:
            return _missing()
        errors: dict[str, str] = {}
        contact = _contact(data, practice, errors)
        chosen = q.parse_opening(data.opening)
        _check_choice(db, practice, address, data.service, chosen[0] if chosen else None, errors)
        state = PageState(
            service=data.service, provider=data.provider, tz=data.tz, errors=errors, form=_form_dict(data), which="book"
        )
        if errors or chosen is None:
            return _render(db, practice, now, state, HTTP_422_UNPROCESSABLE_ENTITY, address)
        wait = _over_limit(redis_client, contact)
        if wait is not None:
            return _too_many(practice, wait)
        opening = booking.Opening(chosen[0], data.service, chosen[1])
        with db.session(q.context(practice, address)) as conn:

            def pay(offer_id: int, customer_id: int, expires: dt.datetime) -> checkout.PaymentStep:
                back = f"{base}/c/{_claim_token(db, offer_id, customer_id, expires)}"
                return checkout.payment_step(
                    conn, redis_client, offer_id, now, back, back, checkout_product(conn, offer_id)
                )

            result = booking.book(
                conn,
                redis_client,
                opening,
                contact,
                practice.name,
                now,
                practice.hold_seconds * 1000,
                pay,
                earlier=data.earlier == "yes",
            )
        return _after_booking(db, practice, now, state, address, result)

    try:
        return await anyio.to_thread.run_sync(submit)
    except Exception as exc:  # the customer sees a page, whatever went wrong
        return _unavailable(exc)


def _check_choice(
    db: Database, practice: q.Practice, address: str | None, service: str, provider: str | None, errors: dict[str, str]
) -> None:
    """The service exists and the chosen opening's provider offers it (a stale or forged form)."""
    with db.transaction(q.context(practice, address)) as conn:
        services = {s.key for s in q.services(conn, practice)}
        providers = {p.key: p.services for p in q.providers(conn)}
    if service not in services:
        errors["service"] = "Service: choose a service from the list."
    elif provider is None or service not in providers.get(provider, frozenset()):
        errors["opening"] = "Time: choose one of the openings."


LOST = {
    "being_confirmed": (
        "Someone else is confirming that time right now. Please pick another time, or try again in a few minutes."
    ),
    "filled": "Sorry, that time was just taken. Here are the openings now.",
    "expired": "That time has already started. Here are the openings now.",
    "already_yours": "That time is already booked for you.",
}


def _after_booking(
    db: Database,
    practice: q.Practice,
    now: dt.datetime,
    state: PageState,
    address: str | None,
    result: booking.BookingResult,
) -> Template | Redirect:
    """What follows a booking attempt: the claim page of the offer (booked, or awaiting approval),
    or, when the policy protects the booking (issue 13), Stripe Checkout. If Checkout cannot be
    reached (or another checkout holds the time), the claim page says so and offers to retry."""
    if result.offer_id is None or result.customer_id is None or result.offer_expires is None:
        state.notice = LOST.get(result.outcome, LOST["filled"])
        state.errors = {}
        return _render(db, practice, now, state, HTTP_409_CONFLICT, address)
    if result.payment is not None and result.payment.state == "redirect" and result.payment.url:
        return Redirect(path=result.payment.url, status_code=HTTP_303_SEE_OTHER, headers=HEADERS)
    token = _claim_token(db, result.offer_id, result.customer_id, result.offer_expires)
    return Redirect(path=f"/c/{token}", status_code=HTTP_303_SEE_OTHER, headers=HEADERS)


def _claim_token(db: Database, offer_id: int, customer_id: int, expires: dt.datetime) -> str:
    with db.owner() as conn:
        key = signing_key(conn)
    return make_token(key, offer_id, customer_id, int(expires.timestamp()))


def _too_many(practice: q.Practice, wait: int) -> Template:
    return Template(
        template_name="book_busy.html",
        context={"p": practice, "minutes": max(1, (wait + 59) // 60)},
        status_code=HTTP_429_TOO_MANY_REQUESTS,
        headers={**HEADERS, "Retry-After": str(wait)},
    )


def _wish(data: WaitlistForm, now: dt.datetime, tz: str, errors: dict[str, str]) -> booking.WaitlistWish:
    days = [n for n in range(1, 8) if getattr(data, f"day{n}") == "yes"]
    window: tuple[dt.time, dt.time] | None = None
    if data.time_from or data.time_to:
        try:
            start, end = dt.time.fromisoformat(data.time_from), dt.time.fromisoformat(data.time_to)
        except ValueError:
            errors["time_from"] = "Time window: enter both times, like 09:00 and 12:00."
        else:
            if start >= end:
                errors["time_from"] = "Time window: the start must be before the end."
            else:
                window = (start, end)
    today = now.astimezone(ZoneInfo(tz)).date()
    earliest = latest = None
    try:
        earliest = dt.date.fromisoformat(data.date_from) if data.date_from else None
    except ValueError:
        errors["date_from"] = "From date: enter a date like 2027-01-31."
    try:
        latest = dt.date.fromisoformat(data.date_to) if data.date_to else None
    except ValueError:
        errors["date_to"] = "Until date: enter a date like 2027-01-31."
    if latest is not None and latest < today:
        errors["date_to"] = "Until date: must not be in the past."
    elif latest is not None and latest > today + dt.timedelta(days=366):
        errors["date_to"] = "Until date: at most a year from today."
    if earliest is not None and latest is not None and earliest > latest and "date_to" not in errors:
        errors["date_from"] = "From date: must not be after the until date."
    if earliest is not None and earliest > today + dt.timedelta(days=366):
        errors["date_from"] = "From date: at most a year from today."
    return booking.WaitlistWish(data.service, data.provider or None, days or None, window, earliest, latest)


@post("/book/{org:str}/waitlist", opt=PAGE, include_in_schema=False, status_code=HTTP_200_OK)
async def waitlist_submit(
    request: Request[Any, Any, Any],
    org: OrgPath,
    db: Db,
    now: Now,
    redis_client: RedisClient,
    data: Annotated[WaitlistForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Template:
    address = _address(request)

    def submit() -> Template:
        practice = q.find_practice(db, org)
        if practice is None:
            return _missing()
        errors: dict[str, str] = {}
        contact = _contact(data, practice, errors)
        if not contact.texts and not contact.emails and "texts" not in errors:
            errors["texts"] = "Messages: choose texts, emails or both, so we can tell you about an opening."
        wish = _wish(data, now, data.tz if data.tz in _zones(practice) else practice.timezone, errors)
        state = PageState(
            service=data.service,
            provider=data.provider,
            tz=data.tz,
            errors=errors,
            form=_form_dict(data),
            which="waitlist",
        )
        with db.transaction(q.context(practice, address)) as conn:
            services = {s.key for s in q.services(conn, practice)}
            providers = {p.key: p.services for p in q.providers(conn)}
        if data.service not in services:
            errors["service"] = "Service: choose a service from the list."
        elif data.provider and data.service not in providers.get(data.provider, frozenset()):
            errors["provider"] = "Provider: choose a provider who offers this service, or any provider."
        if errors:
            return _render(db, practice, now, state, HTTP_422_UNPROCESSABLE_ENTITY, address)
        wait = _over_limit(redis_client, contact)
        if wait is not None:
            return _too_many(practice, wait)
        with db.session(q.context(practice, address)) as conn:
            booking.join_waitlist(conn, wish, contact, practice.name, now)
        return Template(
            template_name="book_joined.html",
            context={"p": practice, "texts": contact.texts, "emails": contact.emails},
            status_code=HTTP_200_OK,
            headers=HEADERS,
        )

    try:
        return await anyio.to_thread.run_sync(submit)
    except Exception as exc:
        return _unavailable(exc)
