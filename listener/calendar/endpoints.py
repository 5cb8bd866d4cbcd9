"""Where the calendar services are: the real ones unless the environment points elsewhere (a
stand-in in tests, a proxy in production)."""

from __future__ import annotations

import os

GOOGLE_CALENDAR_API = "https://www.googleapis.com/calendar/v3/"
GOOGLE_OAUTH_TOKEN = "https://oauth2.googleapis.com/token"
GOOGLE_OAUTH_AUTHORIZE = "https://accounts.google.com/o/oauth2/v2/auth"
MICROSOFT_GRAPH_API = "https://graph.microsoft.com/v1.0"
MICROSOFT_LOGIN = "https://login.microsoftonline.com"

GOOGLE_SCOPE = "https://www.googleapis.com/auth/calendar.events"
MICROSOFT_SCOPES = "offline_access Calendars.ReadWrite"


def google_calendar_api() -> str:
    url = os.environ.get("GOOGLE_CALENDAR_API_URL") or GOOGLE_CALENDAR_API
    return url if url.endswith("/") else url + "/"


def google_token_url() -> str:
    return os.environ.get("GOOGLE_OAUTH_TOKEN_URL") or GOOGLE_OAUTH_TOKEN


def google_authorize_url() -> str:
    return os.environ.get("GOOGLE_OAUTH_AUTHORIZE_URL") or GOOGLE_OAUTH_AUTHORIZE


def microsoft_graph_api() -> str:
    return (os.environ.get("MICROSOFT_GRAPH_API_URL") or MICROSOFT_GRAPH_API).rstrip("/")


def microsoft_login() -> str:
    return (os.environ.get("MICROSOFT_LOGIN_URL") or MICROSOFT_LOGIN).rstrip("/")


def client_id(kind: str) -> str:
    return os.environ.get(f"{kind.upper()}_CLIENT_ID", "")


def client_secret(kind: str) -> str:
    return os.environ.get(f"{kind.upper()}_CLIENT_SECRET", "")
