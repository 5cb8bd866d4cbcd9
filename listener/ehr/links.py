"""EHR resources to our providers, services and customers (slotoptim_private.ehr_link).

A resource is first matched to what the practice already has: a Practitioner, HealthcareService
or service code carrying our identifier system (urn:slotoptim:provider|<key>, ...) is that
provider or service; otherwise it becomes a new one keyed `ehr-<id>`. New providers get the
connection's default weekly hours (config `default_hours`) in the organisation's time zone.
Patients become customers with a name, and a phone and e-mail only when valid; no consent is
assumed (the EHR's contact details are not a consent to be texted).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import tuple_row

from slotoptim.listener.db import fetch_dict
from slotoptim.listener.ehr import mapping
from slotoptim.listener.ehr.fhirclient import FhirClient
from slotoptim.listener.integrations.connections import Connection

DEFAULT_HOURS = [{"days": [1, 2, 3, 4, 5], "start": "08:00", "end": "18:00"}]
DEFAULT_MINUTES = 30


@dataclass
class Linker:
    conn: psycopg.Connection[Any]
    connection: Connection
    fhir: FhirClient
    at: dt.datetime
    _cache: dict[tuple[str, str], int] = field(default_factory=dict)
    _offered: set[tuple[int, int]] = field(default_factory=set)

    def _one(self, statement: sql.Composed, params: tuple[Any, ...]) -> tuple[Any, ...] | None:
        with self.conn.cursor(row_factory=tuple_row) as cur:
            return cur.execute(statement, params).fetchone()

    def _known(self, resource_type: str, external_id: str) -> int | None:
        cached = self._cache.get((resource_type, external_id))
        if cached is not None:
            return cached
        row = fetch_dict(
            self.conn,
            "select coalesce(provider_id, service_id, customer_id) as local_id from slotoptim_private.ehr_link"
            " where connection_id = %s and resource_type = %s and external_id = %s",
            (self.connection.id, resource_type, external_id),
        )
        if row is None:
            return None
        self._cache[(resource_type, external_id)] = int(row["local_id"])
        return int(row["local_id"])

    def link(self, resource_type: str, external_id: str, local_id: int, version: str | None) -> int:
        column = {"Practitioner": "provider_id", "Patient": "customer_id"}.get(resource_type, "service_id")
        statement = sql.SQL(
            "insert into slotoptim_private.ehr_link (org_id, connection_id, resource_type, external_id, {column},"
            " version, updated_at) values (%s, %s, %s, %s, %s, %s, %s)"
            " on conflict (connection_id, resource_type, external_id) do update"
            " set {column} = excluded.{column}, version = excluded.version, updated_at = excluded.updated_at"
        ).format(column=sql.Identifier(column))
        self.conn.execute(
            statement,
            (self.connection.org_id, self.connection.id, resource_type, external_id, local_id, version, self.at),
        )
        self._cache[(resource_type, external_id)] = local_id
        return local_id

    def _by_key(self, table: str, key: str) -> int | None:
        statement = sql.SQL("select id from slotoptim_private.{} where org_id = %s and key = %s").format(
            sql.Identifier(table)
        )
        row = self._one(statement, (self.connection.org_id, key))
        return None if row is None else int(row[0])

    # Practitioner -> provider -----------------------------------------------------------------

    def practitioner(self, resource: dict[str, Any]) -> int:
        external_id = str(resource["id"])
        name = mapping.display_name(resource, f"Practitioner {external_id}")
        active = resource.get("active", True) is not False
        local = self._known("Practitioner", external_id)
        if local is None:
            key = mapping.identifier(resource, mapping.PROVIDER_SYSTEM)
            local = None if key is None else self._by_key("provider", key)
        if local is None:
            row = fetch_dict(
                self.conn,
                "insert into slotoptim_private.provider (org_id, key, name, timezone, active)"
                " select o.id, %s, %s, o.timezone, %s from slotoptim_private.organisation as o where o.id = %s"
                " on conflict (org_id, key) do update set name = excluded.name returning id",
                (mapping.local_key(external_id), name, active, self.connection.org_id),
            )
            assert row is not None
            local = int(row["id"])
            self._default_hours(local)
        else:
            self.conn.execute(
                "update slotoptim_private.provider set name = %s, active = %s where id = %s and key like 'ehr-%%'",
                (name, active, local),
            )
        return self.link("Practitioner", external_id, local, mapping.version(resource))

    def _default_hours(self, provider_id: int) -> None:
        for block in self.connection.config.get("default_hours", DEFAULT_HOURS):
            for day in block["days"]:
                self.conn.execute(
                    "insert into slotoptim_private.working_hours (org_id, provider_id, weekday, starts_at, ends_at)"
                    " values (%s, %s, %s, %s, %s)",
                    (self.connection.org_id, provider_id, day, block["start"], block["end"]),
                )

    def provider(self, practitioner_id: str) -> int | None:
        """Our provider for a Practitioner id, reading the Practitioner from the EHR if new."""
        known = self._known("Practitioner", practitioner_id)
        if known is not None:
            return known
        resource = self.fhir.read("Practitioner", practitioner_id)
        return None if resource is None else self.practitioner(resource)

    # HealthcareService and serviceType codes -> service ----------------------------------------

    def _service(
        self,
        resource_type: str,
        external_id: str,
        our_key: str | None,
        name: str,
        minutes: int | None,
        version: str | None,
    ) -> int:
        local = self._known(resource_type, external_id)
        if local is not None and resource_type == "ServiceType":
            return local  # a code carries no version: nothing to refresh
        if local is None and our_key is not None:
            local = self._by_key("service", our_key)
        if local is None:
            row = fetch_dict(
                self.conn,
                "insert into slotoptim_private.service (org_id, key, name, minutes) values (%s, %s, %s, %s)"
                " on conflict (org_id, key) do update set name = excluded.name returning id",
                (
                    self.connection.org_id,
                    mapping.local_key(external_id.replace("|", ".")),
                    name[:200],
                    minutes or DEFAULT_MINUTES,
                ),
            )
            assert row is not None
            local = int(row["id"])
        return self.link(resource_type, external_id, local, version)

    def healthcare_service(self, resource: dict[str, Any]) -> int:
        external_id = str(resource["id"])
        name = str(resource.get("name") or f"Service {external_id}")
        return self._service(
            "HealthcareService",
            external_id,
            mapping.identifier(resource, mapping.SERVICE_SYSTEM),
            name,
            None,
            mapping.version(resource),
        )

    def service_type(self, system: str, code: str, display: str | None, minutes: int | None) -> int:
        our_key = code if system == mapping.SERVICE_SYSTEM else None
        return self._service("ServiceType", f"{system}|{code}", our_key, display or code, minutes, None)

    def offers(self, provider_id: int, service_id: int) -> None:
        if (provider_id, service_id) in self._offered:
            return
        self._offered.add((provider_id, service_id))
        self.conn.execute(
            "insert into slotoptim_private.provider_service (org_id, provider_id, service_id) values (%s, %s, %s)"
            " on conflict do nothing",
            (self.connection.org_id, provider_id, service_id),
        )

    # Patient -> customer ---------------------------------------------------------------------

    def patient(self, resource: dict[str, Any]) -> int:
        external_id = str(resource["id"])
        name = mapping.display_name(resource, f"Patient {external_id}")
        phone, email = mapping.telecom(resource, "phone"), mapping.telecom(resource, "email")
        local = self._known("Patient", external_id)
        if local is None:
            key = mapping.identifier(resource, mapping.CUSTOMER_SYSTEM)
            local = None if key is None else self._by_key("customer", key)
        if local is None:
            row = fetch_dict(
                self.conn,
                "insert into slotoptim_private.customer (org_id, key, name, phone, email) values (%s, %s, %s, %s, %s)"
                " on conflict (org_id, key) do update set name = excluded.name returning id",
                (self.connection.org_id, mapping.local_key(external_id), name, phone, email),
            )
            assert row is not None
            local = int(row["id"])
        else:
            # Contact details follow the EHR; consents stay as the patient gave them to us.
            self.conn.execute(
                "update slotoptim_private.customer set name = %s, phone = coalesce(%s, phone),"
                " email = coalesce(%s, email) where id = %s and key like 'ehr-%%'",
                (name, phone, email, local),
            )
        return self.link("Patient", external_id, local, mapping.version(resource))

    def customer(self, patient_id: str) -> int | None:
        known = self._known("Patient", patient_id)
        if known is not None:
            return known
        resource = self.fhir.read("Patient", patient_id)
        return None if resource is None else self.patient(resource)

    def external_id_of(self, resource_type: str, local_id: int) -> str | None:
        """The EHR id linked to one of our providers or customers (for writing back)."""
        column = {"Practitioner": "provider_id", "Patient": "customer_id"}[resource_type]
        statement = sql.SQL(
            "select external_id from slotoptim_private.ehr_link where connection_id = %s"
            " and resource_type = %s and {} = %s order by updated_at desc limit 1"
        ).format(sql.Identifier(column))
        row = self._one(statement, (self.connection.id, resource_type, local_id))
        return None if row is None else str(row[0])
