"""Message texts as templates per organisation, language and channel, each checked for one SMS
segment.

An organisation may word a message kind its own way per language (slotoptim_private.message_template);
without a row, the built-in text of that language applies (English and Spanish here), and
without that, English. Placeholders: {practice} {provider} {when} {until} {link} {stop}. There is
no {service}: texts stay free of health details.

Every SMS template is checked when it is saved by rendering it with the longest values it can
meet (the organisation's longest provider name, a full claim link, the longest date): it must be
GSM-7 and fit one 160-septet segment, or the organisation must flag it as multi-part, accepting
that it costs more (and that one curly quote makes it UCS-2).
"""

from __future__ import annotations

import datetime as dt
import string
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import psycopg
from babel.dates import format_datetime

from slotoptim.listener.channels.sms_text import is_gsm7, non_gsm7_chars, sms_segments
from slotoptim.listener.selfservice.consent import CONFIRM_TEXT

PLACEHOLDERS = frozenset({"practice", "provider", "when", "until", "link", "stop"})
LANGUAGES = ("en", "es")
KINDS = ("offer", "booked", "reminder", "consent_request")
STOP = {"en": "Reply STOP to opt out", "es": "STOP para salir"}

# Built-in SMS texts (email uses the same words; its subject comes from listener/templates.py).
DEFAULTS: dict[tuple[str, str], str] = {
    # The link names the practice on its page; the text keeps to the provider to fit one segment.
    ("offer", "en"): "{provider}: opening {when}. Claim by {until}: {link} {stop}",
    ("offer", "es"): "{provider}: hueco el {when}. Reserve antes de {until}: {link} {stop}",
    ("booked", "en"): "{practice}: you're booked with {provider} on {when}. {stop}",
    ("booked", "es"): "{practice}: tiene cita con {provider} el {when}. {stop}",
    ("reminder", "en"): "{practice}: reminder, you see {provider} {when}. Reply C to cancel, Y to confirm. {stop}",
    # The reply keywords are the English ones, as api/queries/reminder_replies.py reads them.
    ("reminder", "es"): (
        "{practice}: recuerde su cita con {provider} el {when}. Y confirma, C cancela, R cambia, EARLIER antes. {stop}"
    ),
    # The double opt-in request's words are part of the consent record (a versioned wording).
    **{("consent_request", lang): text for lang, text in CONFIRM_TEXT.items()},
}

# A move-up offer (issue 12) names the appointment it replaces ({replaces}: its day). English is
# listener/templates.py's; here the other languages. Not an organisation's template kind: its
# own "offer" wording, when it has one, applies to move-up offers too.
MOVEUP_OFFER: dict[str, str] = {
    "es": "{provider}: antes, {when}, en vez del {replaces}. Hasta {until}: {link} {stop}",
}
MOVEUP_PLACEHOLDERS = PLACEHOLDERS | {"replaces"}

# The longest values a check renders with (a full claim link is 60-odd characters).
SAMPLE_LINK = "https://book.example.com/c/" + "A" * 32
SAMPLE_WHEN = dt.datetime(2027, 12, 29, 12, 30, tzinfo=ZoneInfo("America/New_York"))


class TemplateError(ValueError):
    """A template that cannot be saved; `field` names the offending input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class TemplateCheck:
    segments: int
    gsm7: bool
    non_gsm7: str  # the characters that force UCS-2
    sample: str  # the text the check rendered


def placeholders(body: str) -> set[str]:
    try:
        return {name for _, name, _, _ in string.Formatter().parse(body) if name is not None}
    except ValueError as exc:
        raise TemplateError("body", f"body: {exc} (write a literal brace as {{{{ or }}}})") from None


def when_text(at: dt.datetime, tz: ZoneInfo, language: str) -> str:
    """The day and time of an appointment for a reader of `language`, with the zone's abbreviation."""
    local = at.astimezone(tz)
    if language == "es":
        return f"{format_datetime(local, 'EEE d MMM, H:mm', locale='es')} {local.tzname()}"
    hour = local.strftime("%I:%M %p").lstrip("0")
    return f"{local.strftime('%a %b')} {local.day} {hour} {local.tzname()}"


def day_text(at: dt.datetime, tz: ZoneInfo, language: str) -> str:
    """The day alone ("mar 15 dic"): what a move-up offer says of the appointment it replaces."""
    local = at.astimezone(tz)
    if language == "es":
        return str(format_datetime(local, "EEE d MMM", locale="es"))
    return f"{local:%a %b} {local.day}"


def until_text(at: dt.datetime, tz: ZoneInfo, language: str) -> str:
    local = at.astimezone(tz)
    return f"{local:%H:%M}" if language == "es" else local.strftime("%I:%M %p").lstrip("0")


def render(body: str, language: str, values: dict[str, str]) -> str:
    return body.format(**{"stop": STOP.get(language, STOP["en"]), **values})


def check(
    body: str, language: str, practice: str, provider: str, allowed: frozenset[str] = PLACEHOLDERS
) -> TemplateCheck:
    """Renders `body` with the longest values and counts its segments."""
    unknown = placeholders(body) - allowed
    if unknown:
        raise TemplateError("body", f"body: unknown placeholder {{{sorted(unknown)[0]}}}; use {sorted(allowed)}")
    tz = SAMPLE_WHEN.tzinfo
    assert isinstance(tz, ZoneInfo)
    sample = render(
        body,
        language,
        {
            "practice": practice,
            "provider": provider,
            "when": when_text(SAMPLE_WHEN, tz, language),
            "until": until_text(SAMPLE_WHEN, tz, language),
            "link": SAMPLE_LINK,
            "replaces": day_text(SAMPLE_WHEN, tz, language),
        },
    )
    return TemplateCheck(sms_segments(sample), is_gsm7(sample), non_gsm7_chars(sample), sample)


def names(conn: psycopg.Connection[dict[str, object]], org_id: int) -> tuple[str, str]:
    row = conn.execute(
        "select o.name, coalesce((select p.name from slotoptim_private.provider as p where p.org_id = o.id"
        " order by length(p.name) desc limit 1), 'Provider') as provider"
        " from slotoptim_private.organisation as o where o.id = %s",
        (org_id,),
    ).fetchone()
    if row is None:
        raise TemplateError("org", "org: unknown organisation")
    return str(row["name"]), str(row["provider"])


def save(
    conn: psycopg.Connection[dict[str, object]],
    org_id: int,
    kind: str,
    language: str,
    channel: str,
    body: str,
    multipart: bool,
    at: dt.datetime,
) -> TemplateCheck:
    """Checks and stores an organisation's wording; TemplateError names the field that is wrong."""
    if kind not in KINDS:
        raise TemplateError("kind", f"kind: one of {list(KINDS)}")
    if language not in LANGUAGES:
        raise TemplateError("language", f"language: one of {list(LANGUAGES)}")
    if channel not in ("sms", "email"):
        raise TemplateError("channel", "channel: sms or email")
    if not body.strip() or len(body) > 2000:
        raise TemplateError("body", "body: between 1 and 2000 characters")
    practice, provider = names(conn, org_id)
    result = check(body, language, practice, provider)
    if channel == "sms" and result.segments > 1 and not multipart:
        reason = f" (not GSM-7: {result.non_gsm7!r})" if not result.gsm7 else ""
        raise TemplateError(
            "body",
            f"body: {result.segments} SMS segments at its longest{reason};"
            " shorten it or set multipart to accept the cost",
        )
    conn.execute(
        "insert into slotoptim_private.message_template (org_id, kind, language, channel, body, segments, multipart,"
        " updated_at) values (%s, %s, %s, %s, %s, %s, %s, %s)"
        " on conflict (org_id, kind, language, channel) do update set body = excluded.body,"
        " segments = excluded.segments, multipart = excluded.multipart, updated_at = excluded.updated_at",
        (org_id, kind, language, channel, body, result.segments, multipart and result.segments > 1, at),
    )
    return result


def template_for(
    conn: psycopg.Connection[dict[str, object]], org_id: int, kind: str, language: str, channel: str
) -> str | None:
    """The organisation's wording, else the built-in one of that language, else English; None for
    a kind without templates (the sender's own texts apply)."""
    row = conn.execute(
        "select body from slotoptim_private.message_template"
        " where org_id = %s and kind = %s and channel = %s and language in (%s, 'en')"
        " order by language = %s desc limit 1",
        (org_id, kind, channel, language, language),
    ).fetchone()
    if row is not None:
        return str(row["body"])
    return DEFAULTS.get((kind, language)) or DEFAULTS.get((kind, "en"))


def catalogue_text(row: dict[str, object], link: str | None) -> str | None:
    """The sender's text for an outbox row (FACTS in listener/sender.py) when the organisation has
    its own wording of that kind, or the customer reads another language than English; None: the
    sender's built-in English texts (listener/templates.py) apply."""
    kind, language = str(row["kind"]), str(row.get("language") or "en")
    body = row.get("template_body")
    replaces = row.get("replaces") if kind == "offer" else None
    moveup = body is None and isinstance(replaces, dt.datetime) and language in MOVEUP_OFFER
    if body is None and not moveup and (language == "en" or (kind, language) not in DEFAULTS):
        return None
    text = str(body) if body is not None else MOVEUP_OFFER[language] if moveup else DEFAULTS[(kind, language)]
    tz = ZoneInfo(str(row["customer_tz"]))
    starts, expires = row.get("starts"), row.get("expires_at")
    values = {
        "practice": str(row["org_name"]),
        "provider": str(row.get("provider_name") or row["org_name"]),
        "when": when_text(starts, tz, language) if isinstance(starts, dt.datetime) else "",
        "until": until_text(expires, tz, language) if isinstance(expires, dt.datetime) else "",
        "link": link or "",
        "replaces": day_text(replaces, tz, language) if isinstance(replaces, dt.datetime) else "",
    }
    try:
        rendered = render(text, language, values)
    except (KeyError, ValueError, IndexError):
        return None  # a template saved before a placeholder was retired: the built-in text goes out
    if str(row["channel"]) == "email" or sms_segments(rendered) == 1 or row.get("template_multipart"):
        return rendered
    # Names longer than the check assumed: shorten them (provider first) until one segment fits.
    for keep in range(max(len(values["provider"]), len(values["practice"])), 3, -1):
        shorter = {
            **values,
            "provider": _shorten(values["provider"], keep),
            "practice": _shorten(values["practice"], keep),
        }
        rendered = render(text, language, shorter)
        if sms_segments(rendered) == 1:
            break
    return rendered


def _shorten(name: str, keep: int) -> str:
    return name if len(name) <= keep else name[:keep].rstrip() + "."
