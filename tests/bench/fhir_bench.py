"""`make bench`: the FHIR side, each against a baseline measured in the same run.

1. Appointment/$find (IHE ITI-115) for one practitioner over 14 days of the demo practice, through
   the API in-process (authentication, row-level security, JSON) and as the SQL function alone;
   baseline: the naive portal approach, one free-time query per 15-minute candidate start.
2. Incremental pull of 1,000 changed appointments from Medplum's FHIR router (tests/fhir_server)
   holding 3,000; baseline: a full re-pull of all 3,000 in the same run.
Dates are relative to the clock. Prints medians and ratios; asserts nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from slotoptim.api.apikeys import create_key
from slotoptim.listener import embedded
from slotoptim.listener.practice.demo import build_demo_practice
from slotoptim.listener.practice.importer import import_practice
from slotoptim.migrations.migrate import migrate

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "py"))
from ehr.medplum import node_available, start_medplum

APPOINTMENTS = 3000
CHANGED = 1000

NAIVE_FIND = """
select g.starts
  from generate_series(%(start)s::timestamptz, %(end)s::timestamptz - interval '15 minutes', interval '15 minutes')
       as g(starts)
 where exists (
   select 1 from slotoptim_private.free_time(array[%(provider)s::bigint],
                   tstzrange(g.starts, g.starts + make_interval(mins => %(need)s), '[)')) as f
    where f.free = tstzmultirange(tstzrange(g.starts, g.starts + make_interval(mins => %(need)s), '[)')))
"""


def _median_ms(fn: Callable[[], object], repeat: int) -> float:
    fn()
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


def bench_find(url: str) -> dict[str, Any]:
    from api.live_server import live_server

    from slotoptim.api.settings import ApiSettings

    today = dt.datetime.now(dt.UTC)
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        import_practice(conn, build_demo_practice(today.date() + dt.timedelta(days=1), now=today))
        org = conn.execute("select id from slotoptim_private.organisation").fetchone()
        assert org is not None
        key = create_key(conn, int(org["id"]), "bench", "staff").token
        provider = conn.execute(
            "select p.id, p.key, s.key as service, s.minutes + s.buffer_after_minutes as need"
            "  from slotoptim_private.provider as p"
            "  join slotoptim_private.provider_service as ps on ps.provider_id = p.id"
            "  join slotoptim_private.service as s on s.id = ps.service_id order by p.id, s.minutes limit 1"
        ).fetchone()
        assert provider is not None
        start, end = today, today + dt.timedelta(days=14)
        body = {
            "resourceType": "Parameters",
            "parameter": [
                {"name": "visit-type", "valueString": provider["service"]},
                {"name": "practitioner", "valueReference": {"reference": f"Practitioner/{provider['id']}"}},
                {"name": "start", "valueDateTime": start.isoformat()},
                {"name": "end", "valueDateTime": end.isoformat()},
            ],
        }
        with live_server(ApiSettings(database_url=url, pool_max=4)) as base, httpx.Client(base_url=base) as client:
            headers = {"Authorization": f"Bearer {key}"}
            first = client.post("/fhir/R4/Appointment/$find", json=body, headers=headers)
            assert first.status_code == 200, first.text
            found = len(first.json().get("entry", []))
            api_ms = _median_ms(lambda: client.post("/fhir/R4/Appointment/$find", json=body, headers=headers), 40)
            read_ms = _median_ms(lambda: client.get(f"/fhir/R4/Practitioner/{provider['id']}", headers=headers), 40)
        sql_ms = _median_ms(
            lambda: conn.execute(
                "select * from slotoptim.find_appointments(%s, tstzrange(%s, %s), %s, null, 20, 15, %s)",
                (provider["service"], start, end, provider["key"], today),
            ).fetchall(),
            40,
        )
        naive_params = {"start": start, "end": end, "provider": provider["id"], "need": provider["need"]}
        naive_ms = _median_ms(lambda: conn.execute(NAIVE_FIND, naive_params).fetchall(), 3)
    return {
        "find_api_ms": api_ms,
        "read_api_ms": read_ms,
        "find_sql_ms": sql_ms,
        "naive_find_ms": naive_ms,
        "proposed": found,
        "ratio_naive_over_api": naive_ms / api_ms,
    }


def _batch(http: httpx.Client, base: str, token: str, entries: list[dict[str, Any]]) -> None:
    response = http.post(
        base,
        json={"resourceType": "Bundle", "type": "batch", "entry": entries},
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"},
    )
    response.raise_for_status()


def bench_pull(url: str, work: Path) -> dict[str, Any]:
    from slotoptim.listener.ehr import sync
    from slotoptim.listener.ehr.fhirclient import FhirClient
    from slotoptim.listener.ehr.smart import TokenSource

    os.environ.setdefault("SLOTOPTIM_SECRET_KEY", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
    medplum_iter = start_medplum(work)
    medplum = next(medplum_iter)
    try:
        with httpx.Client(timeout=120) as http, psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
            token = TokenSource(medplum.credentials(), http).token()
            practitioner = http.post(
                f"{medplum.base_url}/Practitioner",
                json={"resourceType": "Practitioner", "name": [{"text": "Dr Bench"}]},
                headers={"Authorization": f"Bearer {token}"},
            ).json()["id"]
            day0 = dt.datetime.now(dt.UTC).replace(hour=13, minute=0, second=0, microsecond=0) + dt.timedelta(days=30)
            starts = [day0 + dt.timedelta(days=i // 16, minutes=30 * (i % 16)) for i in range(APPOINTMENTS)]

            def appointment(start: dt.datetime, status: str = "booked") -> dict[str, Any]:
                return {
                    "resourceType": "Appointment",
                    "status": status,
                    "serviceType": [{"coding": [{"system": "urn:bench", "code": "visit"}]}],
                    "start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "end": (start + dt.timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "participant": [{"actor": {"reference": f"Practitioner/{practitioner}"}, "status": "accepted"}],
                }

            for i in range(0, APPOINTMENTS, 250):
                _batch(
                    http,
                    medplum.base_url,
                    token,
                    [
                        {"resource": appointment(s), "request": {"method": "POST", "url": "Appointment"}}
                        for s in starts[i : i + 250]
                    ],
                )
            org = conn.execute("select id from slotoptim_private.organisation limit 1").fetchone()
            assert org is not None
            credentials = medplum.credentials()
            connection_id = sync.connect(
                conn,
                org_id=int(org["id"]),
                base_url=medplum.base_url,
                token_url=medplum.token_url,
                client_id=credentials.client_id,
                private_jwk=credentials.private_jwk,
                at=dt.datetime.now(dt.UTC),
                default_hours=[{"days": [1, 2, 3, 4, 5, 6, 7], "start": "00:00", "end": "23:59"}],
                page_size=200,
            )
            t0 = time.perf_counter()
            initial = sync.sync(conn, connection_id, dt.datetime.now(dt.UTC), http=http)
            initial_ms = (time.perf_counter() - t0) * 1000
            assert initial.error is None and initial.imported == APPOINTMENTS, initial

            fhir = FhirClient(medplum.base_url, TokenSource(medplum.credentials(), http), http)

            def change(batch: list[dict[str, Any]]) -> None:
                """1,000 changes in the EHR: every third cancelled, the others moved by 15 minutes.
                Then, a moment later, one more edit: the EHR's writes are not all one burst at the
                cursor (a burst within the cursor's overlap would be read again, and skipped)."""
                entries = []
                for n, resource in enumerate(batch):
                    if n % 3 == 0:
                        resource["status"] = "cancelled"
                    else:
                        start = dt.datetime.fromisoformat(resource["start"].replace("Z", "+00:00"))
                        moved = start + dt.timedelta(minutes=15)
                        resource["start"] = moved.strftime("%Y-%m-%dT%H:%M:%SZ")
                        resource["end"] = (moved + dt.timedelta(minutes=15)).strftime("%Y-%m-%dT%H:%M:%SZ")
                    entries.append(
                        {"resource": resource, "request": {"method": "PUT", "url": f"Appointment/{resource['id']}"}}
                    )
                for i in range(0, len(entries), 250):
                    _batch(http, medplum.base_url, token, entries[i : i + 250])
                time.sleep(sync.OVERLAP.total_seconds() + 0.2)
                last = batch[-1]
                current = fhir.read("Appointment", last["id"])
                assert current is not None
                fhir.update({**current, "comment": "touched"}, None)

            everything = [r for page in fhir.search_pages("Appointment", {"_count": "1000"}) for r in page]
            # Baseline: 1,000 changes picked up by a full re-pull of all 3,000.
            change(everything[:CHANGED])
            t0 = time.perf_counter()
            full = sync.sync(conn, connection_id, dt.datetime.now(dt.UTC), http=http, full=True)
            full_ms = (time.perf_counter() - t0) * 1000
            assert full.error is None, full
            # Ours: 1,000 other changes picked up incrementally.
            change(everything[CHANGED : 2 * CHANGED])
            t0 = time.perf_counter()
            incremental = sync.sync(conn, connection_id, dt.datetime.now(dt.UTC), http=http)
            incremental_ms = (time.perf_counter() - t0) * 1000
            assert incremental.error is None, incremental
            assert full.error is None, full
    finally:
        medplum_iter.close()
    return {
        "initial_pull_3000_ms": initial_ms,
        "incremental_pull_1000_changed_ms": incremental_ms,
        "incremental_resources": incremental.counts.get("Appointment", 0),
        "incremental_updated": incremental.updated,
        "incremental_released": incremental.released,
        "full_resources": full.counts.get("Appointment", 0),
        "full_updated": full.updated,
        "full_released": full.released,
        "full_repull_3000_ms": full_ms,
        "ratio_full_over_incremental": full_ms / incremental_ms,
    }


def main() -> int:
    admin = os.environ.get("BENCH_DATABASE_URL")
    temp = Path(tempfile.mkdtemp(prefix="slotoptim-bench-fhir-"))
    if admin is None:
        admin = embedded.postgres_server_uri(temp / "pg", stop_at_exit=True)
    name = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    url = psycopg.conninfo.make_conninfo(admin, dbname=name)
    try:
        migrate(url)
        find = bench_find(url)
        print("fhir $find, one practitioner, 14 days (median; same database, same run)")
        print(
            f"  via the API   {find['find_api_ms']:8.2f} ms   ({find['proposed']} proposed appointments; goal < 20 ms)"
        )
        print(f"  SQL alone     {find['find_sql_ms']:8.2f} ms")
        print(f"  (a Practitioner read through the same server: {find['read_api_ms']:.2f} ms)")
        print(f"  naive         {find['naive_find_ms']:8.2f} ms   ratio naive/API {find['ratio_naive_over_api']:6.1f}x")
        pull: dict[str, Any] = {}
        if node_available():
            pull = bench_pull(url, temp)
            print(f"fhir incremental pull from Medplum ({APPOINTMENTS} appointments, {CHANGED} changed)")
            print(f"  initial full pull             {pull['initial_pull_3000_ms']:9.0f} ms")
            print(
                f"  incremental, {CHANGED} changed     {pull['incremental_pull_1000_changed_ms']:9.0f} ms"
                f"   ({pull['incremental_resources']} read, {pull['incremental_updated']} moved,"
                f" {pull['incremental_released']} released)"
            )
            print(
                f"  full re-pull, {CHANGED} changed  {pull['full_repull_3000_ms']:9.0f} ms"
                f"   ({pull['full_resources']} read, {pull['full_updated']} moved, {pull['full_released']} released;"
                f" baseline)   ratio full/incremental {pull['ratio_full_over_incremental']:5.1f}x"
            )
        else:
            print("fhir pull: the Medplum test server is not installed (make fhir-server); skipped")
        print(json.dumps({"fhir": {"find": find, "pull": pull}}))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
        if (temp / "pg").exists():
            embedded.stop_postgres(temp / "pg")
        shutil.rmtree(temp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
