"""`slotoptim payments connect|run`: link a practice's Stripe account, run the payments pass now.

Secrets come from environment variables named on the command line, never from the command line
itself: `--secret-key-env STRIPE_SECRET_KEY --webhook-secret-env STRIPE_WEBHOOK_SECRET` (several
webhook secrets, comma-separated in one variable, while one rotates).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from typing import Any

EXIT_OK = 0
EXIT_USAGE = 2


def cmd_connect(args: argparse.Namespace) -> int:
    import psycopg
    from psycopg.rows import dict_row

    from slotoptim.listener.db import database_url
    from slotoptim.listener.integrations.secrets import SecretKeyError
    from slotoptim.listener.payments import stripe_account

    secret_key = os.environ.get(args.secret_key_env, "")
    webhook = [s.strip() for s in os.environ.get(args.webhook_secret_env, "").split(",") if s.strip()]
    if not secret_key:
        print(f"slotoptim: error: --secret-key-env: {args.secret_key_env} is not set", file=sys.stderr)
        return EXIT_USAGE
    if not webhook:
        print(f"slotoptim: error: --webhook-secret-env: {args.webhook_secret_env} is not set", file=sys.stderr)
        return EXIT_USAGE
    with psycopg.connect(database_url(), autocommit=True, row_factory=dict_row) as conn:
        row = conn.execute("select id from slotoptim_private.organisation where key = %s", (args.org,)).fetchone()
        if row is None:
            print(f"slotoptim: error: --org: no organisation {args.org!r}", file=sys.stderr)
            return EXIT_USAGE
        try:
            connection_id = stripe_account.link(
                conn, int(row["id"]), secret_key, webhook, dt.datetime.now(dt.UTC), api_base=args.api_base
            )
        except (ValueError, SecretKeyError) as exc:
            print(f"slotoptim: error: {exc}", file=sys.stderr)
            return EXIT_USAGE
    print(json.dumps({"org": args.org, "connection_id": connection_id, "webhook_secrets": len(webhook)}))
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    from slotoptim.listener.cache import redis_client
    from slotoptim.listener.db import database_url
    from slotoptim.listener.payments.service import PaymentsService

    print(json.dumps(PaymentsService(database_url(), cache=redis_client()).run_pass()))
    return EXIT_OK


def register(sub: Any) -> None:
    p = sub.add_parser("payments", help="no-show protection with Stripe: connect an account, run the pass")
    payments = p.add_subparsers(dest="payments_command", required=True, metavar="ACTION")
    q = payments.add_parser("connect", help="link (or relink, to rotate a secret) a practice's Stripe account")
    q.add_argument("--org", required=True, help="organisation key")
    q.add_argument("--secret-key-env", required=True, help="environment variable holding the sk_/rk_ key")
    q.add_argument(
        "--webhook-secret-env", required=True, help="environment variable holding the whsec_ secret(s), comma-separated"
    )
    q.add_argument("--api-base", help=argparse.SUPPRESS)  # a Stripe stand-in (tests)
    q.set_defaults(func=cmd_connect)
    q = payments.add_parser("run", help="expire checkouts, release lapsing holds, send queued charges now")
    q.set_defaults(func=cmd_run)
