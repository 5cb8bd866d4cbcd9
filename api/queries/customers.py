"""Customers: the rows behind /v1/customers (row-level security keeps each to its organisation)."""

from __future__ import annotations

from typing import Any

from msgspec import UNSET, structs
from psycopg import sql
from psycopg.rows import DictRow

from slotoptim.api.db import Conn
from slotoptim.api.errors import invalid, not_found
from slotoptim.api.pagination import decode_cursor, encode_cursor
from slotoptim.api.schemas.customers import Consent, Customer, CustomerCreate, CustomerPage, CustomerPatch

SELECT = """
select c.id, c.key, c.name, c.phone, c.email, c.timezone, c.birth_date, c.consent_sms, c.consent_whatsapp,
       c.consent_email, c.opted_out_at, c.created_at
  from slotoptim_private.customer as c
 where c.org_id = slotoptim_private.current_org()
"""


def _customer(row: DictRow) -> Customer:
    return Customer(
        id=row["id"],
        key=row["key"],
        name=row["name"],
        phone=row["phone"],
        email=row["email"],
        timezone=row["timezone"],
        birth_date=row["birth_date"],
        consent=Consent(sms=row["consent_sms"], whatsapp=row["consent_whatsapp"], email=row["consent_email"]),
        opted_out_at=row["opted_out_at"],
        created_at=row["created_at"],
    )


def _check_consent(phone: str | None, email: str | None, consent: Consent) -> None:
    """The database refuses these too; named here so the caller learns which field."""
    if (consent.sms or consent.whatsapp) and phone is None:
        raise invalid("consent.sms" if consent.sms else "consent.whatsapp", "needs a phone number")
    if consent.email and email is None:
        raise invalid("consent.email", "needs an email address")


def get(conn: Conn, key: str) -> Customer:
    row = conn.execute(SELECT + " and c.key = %s", (key,)).fetchone()
    if row is None:
        raise not_found("customer")
    return _customer(row)


def create(conn: Conn, data: CustomerCreate) -> Customer:
    _check_consent(data.phone, data.email, data.consent)
    conn.execute(
        "insert into slotoptim_private.customer (org_id, key, name, phone, email, timezone, birth_date,"
        " consent_sms, consent_whatsapp, consent_email)"
        " values (slotoptim_private.current_org(), %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            data.key,
            data.name,
            data.phone,
            data.email,
            data.timezone,
            data.birth_date,
            data.consent.sms,
            data.consent.whatsapp,
            data.consent.email,
        ),
    )
    return get(conn, data.key)


def update(conn: Conn, key: str, data: CustomerPatch) -> Customer:
    current = get(conn, key)
    changes: dict[str, Any] = {k: v for k, v in structs.asdict(data).items() if v is not UNSET and k != "consent"}
    consent = current.consent
    if data.consent is not UNSET:
        given = {k: v for k, v in structs.asdict(data.consent).items() if v is not UNSET}
        consent = Consent(**(structs.asdict(consent) | given))
        changes |= {f"consent_{k}": v for k, v in given.items()}
    _check_consent(changes.get("phone", current.phone), changes.get("email", current.email), consent)
    if changes:
        conn.execute(
            sql.SQL(
                "update slotoptim_private.customer set {} where org_id = slotoptim_private.current_org() and id = {}"
            ).format(
                sql.SQL(", ").join(sql.SQL("{} = {}").format(sql.Identifier(k), sql.Placeholder(k)) for k in changes),
                sql.Placeholder("id"),
            ),
            changes | {"id": current.id},
        )
    return get(conn, key)


def listing(conn: Conn, *, phone: str | None, email: str | None, limit: int, cursor: str | None) -> CustomerPage:
    after = decode_cursor(cursor, (int,))
    rows = conn.execute(
        SELECT
        + """
   and (%(phone)s::text is null or c.phone = %(phone)s)
   and (%(email)s::text is null or lower(c.email) = lower(%(email)s))
   and (%(after)s::bigint is null or c.id > %(after)s::bigint)
 order by c.id
 limit %(limit)s""",
        {"phone": phone, "email": email, "after": None if after is None else after[0], "limit": limit + 1},
    ).fetchall()
    items = [_customer(r) for r in rows[:limit]]
    return CustomerPage(items=items, next_cursor=encode_cursor([items[-1].id]) if len(rows) > limit else None)
