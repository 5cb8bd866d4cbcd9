"""`slotoptim ehr ...`: link an organisation to its EHR (FHIR R4, SMART Backend Services), pull it,
and push our bookings to it.

  slotoptim ehr keygen --out KEY.json [--alg RS384|ES384]   private JWK to a file (0600), JWKS to stdout
  slotoptim ehr connect --org ORG --base-url URL --token-url URL --client-id ID --key-file KEY.json
  slotoptim ehr sync --org ORG [--full]                     pull once; prints what changed
  slotoptim ehr push                                        send queued write-backs (all organisations)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
from pathlib import Path
from typing import Any


def _usage(message: str) -> Exception:
    from slotoptim.listener.cli import UsageError

    return UsageError(message)


def _org_id(conn: Any, key: str) -> int:
    row = conn.execute("select id from slotoptim_private.organisation where key = %s", (key,)).fetchone()
    if row is None:
        raise _usage(f"--org: unknown organisation {key!r}")
    return int(row["id"])


def _connection_id(conn: Any, org_id: int, org_key: str) -> int:
    row = conn.execute(
        "select id from slotoptim_private.external_connection where org_id = %s and purpose = 'fhir'"
        " and provider_id is null",
        (org_id,),
    ).fetchone()
    if row is None:
        raise _usage(f"--org: {org_key!r} has no EHR connection (slotoptim ehr connect)")
    return int(row["id"])


def cmd_keygen(args: argparse.Namespace) -> int:
    from slotoptim.listener.ehr.smart import generate_key, public_jwks

    out = Path(args.out)
    if out.exists():
        raise _usage(f"--out: {out} exists; refusing to overwrite a private key")
    key = generate_key(args.alg)
    out.write_text(json.dumps(key))
    os.chmod(out, 0o600)
    print(json.dumps(public_jwks(key)))
    return 0


def _read_key(path: str) -> dict[str, Any]:
    try:
        key = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise _usage(f"--key-file: cannot read a JWK from {path} ({type(exc).__name__})") from None
    if not isinstance(key, dict) or key.get("alg") not in ("RS384", "ES384") or "d" not in key or "kid" not in key:
        raise _usage("--key-file: needs a private JWK with kid and alg RS384 or ES384 (slotoptim ehr keygen)")
    return key


def cmd_connect(args: argparse.Namespace) -> int:
    from slotoptim.listener.db import connect
    from slotoptim.listener.ehr import sync

    for option, value in (("--base-url", args.base_url), ("--token-url", args.token_url)):
        if not value.startswith(("https://", "http://")):
            raise _usage(f"{option}: {value!r} is not an http(s) URL")
    key = _read_key(args.key_file)
    with connect(autocommit=True) as conn:
        org_id = _org_id(conn, args.org)
        connection_id = sync.connect(
            conn,
            org_id=org_id,
            base_url=args.base_url,
            token_url=args.token_url,
            client_id=args.client_id,
            private_jwk=key,
            at=dt.datetime.now(dt.UTC),
            scope=args.scope,
            page_size=args.page_size,
        )
    print(json.dumps({"connection_id": connection_id, "org": args.org, "base_url": args.base_url}))
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from slotoptim.listener.db import connect
    from slotoptim.listener.ehr import sync

    with connect(autocommit=True) as conn:
        connection_id = _connection_id(conn, _org_id(conn, args.org), args.org)
        report = sync.sync(conn, connection_id, dt.datetime.now(dt.UTC), full=args.full)
    print(json.dumps(asdict(report)))
    return 0 if report.error is None else 1


def cmd_push(args: argparse.Namespace) -> int:
    from slotoptim.listener.db import database_url
    from slotoptim.listener.ehr.writeback import KIND, make_handler
    from slotoptim.listener.integrations.outbox import OutboxWorker

    sent = OutboxWorker(database_url(), handlers={KIND: make_handler()}).drain()
    print(json.dumps({"claimed": sent}))
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("ehr", help="EHR interop over FHIR R4: connect, pull, push")
    ehr = p.add_subparsers(dest="ehr_command", required=True, metavar="ACTION")
    q = ehr.add_parser("keygen", help="a private key (JWK) for SMART Backend Services; prints the public JWKS")
    q.add_argument("--out", required=True, help="file for the private JWK (created, mode 0600)")
    q.add_argument("--alg", choices=["RS384", "ES384"], default="RS384")
    q.set_defaults(func=cmd_keygen)
    q = ehr.add_parser("connect", help="link an organisation to its EHR (the key is stored sealed)")
    q.add_argument("--org", required=True)
    q.add_argument("--base-url", required=True, help="the EHR's FHIR R4 base, e.g. https://ehr.example/fhir/R4")
    q.add_argument("--token-url", required=True, help="the EHR's OAuth token endpoint")
    q.add_argument("--client-id", required=True, help="our client id, registered with the EHR with our JWKS")
    q.add_argument("--key-file", required=True, help="the private JWK (slotoptim ehr keygen)")
    q.add_argument("--scope", default=None, help="default: system/*.read system/Appointment.write")
    q.add_argument("--page-size", type=int, default=100, choices=range(1, 1001), metavar="1..1000")
    q.set_defaults(func=cmd_connect)
    q = ehr.add_parser("sync", help="pull the EHR once (incremental; --full lists everything)")
    q.add_argument("--org", required=True)
    q.add_argument("--full", action="store_true")
    q.set_defaults(func=cmd_sync)
    q = ehr.add_parser("push", help="send the queued write-backs of our bookings to the EHRs")
    q.set_defaults(func=cmd_push)
