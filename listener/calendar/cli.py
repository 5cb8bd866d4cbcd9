"""`slotoptim calendar connect|sync|status`: link calendars headlessly, sync them, see their state.

Secrets are never taken on the command line when avoidable: --password-env and
--refresh-token-env name environment variables; --refresh-token exists for scripts and tests.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from collections.abc import Callable
from typing import Any

from slotoptim.listener.calendar.adapters import KINDS

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


class CalendarUsageError(Exception):
    """A bad option value; the message names the option (exit 2)."""


def _usage(message: str) -> Exception:
    return CalendarUsageError(message)


def _reporting_usage(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except CalendarUsageError as exc:
            print(f"slotoptim: error: {exc}", file=sys.stderr)
            return EXIT_USAGE

    return run


def _provider(conn: Any, key: str, org: str | None) -> tuple[int, int]:
    rows = conn.execute(
        "select p.id, p.org_id from slotoptim_private.provider p join slotoptim_private.organisation o"
        " on o.id = p.org_id where p.key = %s and (%s::text is null or o.key = %s)",
        (key, org, org),
    ).fetchall()
    if not rows:
        raise _usage(f"--provider: no provider {key!r}" + (f" in organisation {org!r}" if org else ""))
    if len(rows) > 1:
        raise _usage(f"--provider: {key!r} exists in several organisations; add --org")
    return int(rows[0]["org_id"]), int(rows[0]["id"])


def _secret_values(args: argparse.Namespace) -> dict[str, str]:
    if args.kind in ("google", "microsoft"):
        token = args.refresh_token
        if args.refresh_token_env:
            token = os.environ.get(args.refresh_token_env)
            if not token:
                raise _usage(f"--refresh-token-env: {args.refresh_token_env} is not set")
        if not token:
            raise _usage(f"{args.kind} needs --refresh-token or --refresh-token-env (or use the API's connect route)")
        return {"refresh_token": token}
    if args.kind == "caldav":
        if not args.password_env:
            raise _usage("caldav needs --password-env VAR (the password is read from that variable)")
        password = os.environ.get(args.password_env)
        if not password:
            raise _usage(f"--password-env: {args.password_env} is not set")
        return {"password": password}
    return {}


def _config(args: argparse.Namespace) -> dict[str, Any]:
    if args.kind == "google":
        return {"calendar_id": args.calendar or "primary"}
    if args.kind == "microsoft":
        return {"user": args.calendar or "me"}
    if not args.url:
        raise _usage(f"{args.kind} needs --url (the calendar collection or feed URL)")
    if not args.url.startswith(("http://", "https://")):
        raise _usage(f"--url: {args.url!r} is not an http(s) URL")
    config: dict[str, Any] = {"url": args.url}
    if args.kind == "caldav":
        if not args.username:
            raise _usage("caldav needs --username")
        config["username"] = args.username
        if args.ctag:
            config["sync"] = "ctag"
    return config


def cmd_connect(args: argparse.Namespace) -> int:
    from slotoptim.listener.db import connect
    from slotoptim.listener.integrations import connections
    from slotoptim.listener.integrations.secrets import SecretKeyError

    config = _config(args)
    values = _secret_values(args)
    with connect() as conn:
        org_id, provider_id = _provider(conn, args.provider, args.org)
        try:
            cid = connections.link(
                conn,
                org_id=org_id,
                provider_id=provider_id,
                purpose="calendar",
                kind=args.kind,
                config=config,
                secret_values=values,
                at=dt.datetime.now(dt.UTC),
            )
        except SecretKeyError as exc:
            raise _usage(str(exc)) from None
    print(json.dumps({"connection_id": cid, "provider": args.provider, "kind": args.kind, "state": "ok"}))
    return EXIT_OK


def cmd_sync(args: argparse.Namespace) -> int:
    from slotoptim.listener.calendar.sync import sync_connection
    from slotoptim.listener.calendar.writer import make_handler
    from slotoptim.listener.db import connect, database_url
    from slotoptim.listener.integrations.outbox import OutboxWorker

    url = database_url()
    with connect(url) as conn:
        if args.provider:
            org_id, provider_id = _provider(conn, args.provider, args.org)
            rows = conn.execute(
                "select id from slotoptim_private.external_connection"
                " where org_id = %s and provider_id = %s and purpose = 'calendar'",
                (org_id, provider_id),
            ).fetchall()
            if not rows:
                raise _usage(f"--provider: {args.provider!r} has no linked calendar (slotoptim calendar connect)")
        else:
            rows = conn.execute(
                "select id from slotoptim_private.external_connection where purpose = 'calendar' order by id"
            ).fetchall()
    reports = [sync_connection(url, int(str(r["id"]))) for r in rows]
    written = OutboxWorker(url, {"calendar_event": make_handler()}).drain()
    for report in reports:
        print(json.dumps({**report.__dict__}))
    print(json.dumps({"writes_sent": written}))
    return EXIT_OK if all(r.outcome in ("synced", "resynced", "busy") for r in reports) else EXIT_FAILURE


def cmd_status(args: argparse.Namespace) -> int:
    from slotoptim.listener.db import connect

    with connect() as conn:
        rows = conn.execute(
            "select org_key, provider_key, kind, calendar_id, state, last_sync_at, items_imported, items_released,"
            " writes_done, writes_pending, writes_failed, conflicts, last_error"
            " from slotoptim.calendar_connections where %s::text is null or org_key = %s"
            " order by org_key, provider_key",
            (args.org, args.org),
        ).fetchall()
    if args.format == "json":
        print(json.dumps(rows, default=str))
        return EXIT_OK
    if not rows:
        print("no linked calendars")
        return EXIT_OK
    for r in rows:
        print(
            f"{r['org_key']}/{r['provider_key']}  {r['kind']:<9} {r['state']:<8} last sync {r['last_sync_at'] or '-'}"
            f"  imported {r['items_imported']} released {r['items_released']} written {r['writes_done']}"
            f" pending {r['writes_pending']} failed {r['writes_failed']} conflicts {r['conflicts']}"
            + (f"  error: {r['last_error']}" if r["last_error"] else "")
        )
    return EXIT_OK


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    calendar = subparsers.add_parser("calendar", help="linked calendars: connect, sync, status")
    commands = calendar.add_subparsers(dest="calendar_command", metavar="ACTION", required=True)

    p = commands.add_parser("connect", help="link a provider's calendar (headless; the API has the OAuth flow)")
    p.add_argument("kind", choices=KINDS)
    p.add_argument("--provider", required=True, help="provider key")
    p.add_argument("--org", help="organisation key, when several share provider keys")
    p.add_argument("--calendar", help="Google calendar id (default primary) or Microsoft user (default me)")
    p.add_argument("--refresh-token", help="OAuth refresh token (prefer --refresh-token-env)")
    p.add_argument("--refresh-token-env", help="environment variable holding the refresh token")
    p.add_argument("--username", help="CalDAV user name")
    p.add_argument("--password-env", help="environment variable holding the CalDAV password")
    p.add_argument("--url", help="CalDAV collection URL or ics feed URL")
    p.add_argument("--ctag", action="store_true", help="CalDAV: use ctag/etag listings instead of sync-collection")
    p.set_defaults(func=_reporting_usage(cmd_connect))

    p = commands.add_parser("sync", help="sync linked calendars now and send queued writes")
    p.add_argument("--provider", help="only this provider's calendar")
    p.add_argument("--org", help="organisation key")
    p.set_defaults(func=_reporting_usage(cmd_sync))

    p = commands.add_parser("status", help="state of every linked calendar")
    p.add_argument("--org", help="organisation key")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.set_defaults(func=cmd_status)
