"""`make bench-msgraph`: Microsoft Graph through msgraph-sdk or plain httpx, measured.

The same calendarView/delta round (1,000 events by default, MSGRAPH_BENCH_EVENTS; pages of 500,
following @odata.nextLink to the @odata.deltaLink; MSGRAPH_BENCH_ROUNDS rounds) is listed by our
client (slotoptim.listener.calendar.microsoft.GraphCalendar, plain httpx) and by Microsoft's msgraph-sdk
(kiota request adapter, the SDK's own httpx client, middleware and models), both ending in the
same normalised items, against the Graph stand-in of the tests running in a process of its own
(so the client's CPU time is the client's alone). Also the import cost of each in a fresh
interpreter, and what msgraph-sdk adds to an install. Prints; asserts nothing.

msgraph-sdk is not a dependency of SlotOptim: `make bench-msgraph` installs it into a venv of its
own (.venv-msgraph), so this file runs there, with tests/py and a link to listener/ (as
.venv-msgraph/src/slotoptim/listener: the package slotoptim.listener) on PYTHONPATH.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib.metadata
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

EVENTS = int(os.environ.get("MSGRAPH_BENCH_EVENTS", "1000"))
PAGE = 500
ROUNDS = int(os.environ.get("MSGRAPH_BENCH_ROUNDS", "3"))
PREFER = f'odata.maxpagesize={PAGE}, outlook.timezone="UTC"'
REFRESH = "M.R3_bench"
# What msgraph-sdk brings that SlotOptim does not otherwise install.
SDK_DISTRIBUTIONS = (
    "msgraph-sdk",
    "msgraph-core",
    "microsoft-kiota-abstractions",
    "microsoft-kiota-authentication-azure",
    "microsoft-kiota-http",
    "microsoft-kiota-serialization-form",
    "microsoft-kiota-serialization-json",
    "microsoft-kiota-serialization-multipart",
    "microsoft-kiota-serialization-text",
    "azure-core",
    "azure-identity",
    "msal",
    "msal-extensions",
    "opentelemetry-api",
    "opentelemetry-sdk",
    "opentelemetry-semantic-conventions",
    "std-uritemplate",
)


def serve() -> None:
    """Child process: the Graph stand-in with EVENTS events; prints its address, serves until SIGTERM."""
    from calsync.graph_standin import running

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    start = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0) + dt.timedelta(days=2)
    fmt = "%Y-%m-%dT%H:%M:%S.0000000"
    with running() as graph:
        graph.grant(REFRESH)
        for i in range(EVENTS):
            begins = start + dt.timedelta(hours=i)
            graph.put_event(
                {
                    "id": f"e{i:05d}",
                    "subject": "Busy",
                    "start": {"dateTime": begins.strftime(fmt), "timeZone": "UTC"},
                    "end": {"dateTime": (begins + dt.timedelta(minutes=45)).strftime(fmt), "timeZone": "UTC"},
                    "showAs": "busy" if i % 10 else "free",
                    "isAllDay": False,
                },
                notify=False,
            )
        print(json.dumps({"url": graph.url, "graph_url": graph.graph_url}), flush=True)
        done.wait()


# -- the two clients ---------------------------------------------------------------------------


def ours_round(calendar: Any) -> tuple[int, int]:
    pages = items = 0
    for page in calendar.pages(None, dt.datetime.now(dt.UTC)):
        pages += 1
        items += len(page.items)
    return pages, items


def sdk_item(event: Any) -> Any:
    """An msgraph-sdk Event model as the same normalised Item our client yields."""
    from slotoptim.listener.calendar.microsoft import NOT_BUSY, TRANSACTION_PREFIX, parse_time
    from slotoptim.listener.calendar.model import Item

    extra = event.additional_data or {}
    if "@removed" in extra:
        return Item(id=str(event.id), etag=None, start=None, end=None, busy=False)
    transaction = event.transaction_id or ""
    ours = transaction.removeprefix(TRANSACTION_PREFIX) if transaction.startswith(TRANSACTION_PREFIX) else ""
    response = event.response_status.response.value if event.response_status and event.response_status.response else ""
    show_as = event.show_as.value if event.show_as else "busy"
    all_day = bool(event.is_all_day)

    def when(value: Any) -> dt.datetime | None:
        if value is None:
            return None
        return parse_time({"dateTime": value.date_time, "timeZone": value.time_zone}, all_day, "UTC")

    return Item(
        id=str(event.id),
        etag=extra.get("@odata.etag") or event.change_key,
        start=when(event.start),
        end=when(event.end),
        busy=not event.is_cancelled and show_as not in NOT_BUSY and response != "declined",
        ours=int(ours) if ours.isdigit() else None,
    )


class StaticToken:
    """kiota's AccessTokenProvider for a token we already hold (the refresh is ours either way)."""

    def __init__(self, token: str) -> None:
        self.token = token

    async def get_authorization_token(self, uri: str, additional_authentication_context: Any = None) -> str:
        return self.token

    def get_allowed_hosts_validator(self) -> Any:
        from kiota_abstractions.authentication import AllowedHostsValidator

        return AllowedHostsValidator(["127.0.0.1"])


def sdk_client(graph_url: str, token: str) -> Any:
    from kiota_abstractions.authentication import BaseBearerTokenAuthenticationProvider
    from msgraph import GraphRequestAdapter, GraphServiceClient

    # The SDK's own httpx client and middleware (retry, redirect, /me rewrite, telemetry), as an
    # application using it would have them.
    adapter = GraphRequestAdapter(BaseBearerTokenAuthenticationProvider(StaticToken(token)))  # type: ignore[arg-type]
    adapter.base_url = graph_url
    return GraphServiceClient(request_adapter=adapter)


async def sdk_round(client: Any) -> tuple[int, int]:
    from kiota_abstractions.base_request_configuration import RequestConfiguration
    from msgraph.generated.users.item.calendar_view.delta.delta_request_builder import DeltaRequestBuilder

    now = dt.datetime.now(dt.UTC)
    query = DeltaRequestBuilder.DeltaRequestBuilderGetQueryParameters(
        start_date_time=(now - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        end_date_time=(now + dt.timedelta(days=365)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    config: Any = RequestConfiguration(query_parameters=query)
    config.headers.add("Prefer", PREFER)
    follow: Any = RequestConfiguration()
    follow.headers.add("Prefer", PREFER)
    delta = client.me.calendar_view.delta
    response = await delta.get(request_configuration=config)
    pages = items = 0
    while True:
        pages += 1
        items += len([sdk_item(e) for e in response.value or []])
        if response.odata_next_link:
            response = await delta.with_url(response.odata_next_link).get(request_configuration=follow)
            continue
        if not response.odata_delta_link:
            raise RuntimeError("delta answered without a nextLink or deltaLink")
        return pages, items


def timed(run: Any) -> dict[str, Any]:
    run()  # warm: token, connections, lazily imported models
    walls, cpus, shape = [], [], (0, 0)
    for _ in range(ROUNDS):
        w0, c0 = time.perf_counter(), time.process_time()
        shape = run()
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    pages = shape[0]
    return {
        "pages": pages,
        "items": shape[1],
        "page_ms_median": round(statistics.median(walls) / pages * 1000, 2),
        "page_cpu_ms_median": round(statistics.median(cpus) / pages * 1000, 2),
        "round_s_median": round(statistics.median(walls), 3),
    }


# -- import cost ---------------------------------------------------------------------------------

IMPORTS = {
    "httpx": "import httpx, slotoptim.listener.calendar.microsoft",
    "msgraph_sdk": (
        "import httpx, slotoptim.listener.calendar.microsoft, msgraph, kiota_abstractions.authentication;"
        "from msgraph.generated.users.item.calendar_view.delta.delta_request_builder import DeltaRequestBuilder;"
        "from msgraph.generated.models.event import Event"
    ),
}


def import_cost(statement: str, tries: int = 3) -> dict[str, Any]:
    code = (
        "import sys, time; t = time.perf_counter(); before = len(sys.modules); "
        + statement
        + "; print(time.perf_counter() - t, len(sys.modules) - before)"
    )
    seconds, modules = [], 0
    for _ in range(tries):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
        seconds.append(float(out[0]))
        modules = int(out[1])
    return {"import_ms_median": round(statistics.median(seconds) * 1000, 1), "modules": modules}


def sdk_footprint() -> dict[str, Any]:
    files = size = 0
    for name in SDK_DISTRIBUTIONS:
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        for entry in dist.files or []:
            if "__pycache__" in str(entry):
                continue
            path = Path(str(entry.locate()))
            if path.is_file():
                files += 1
                size += path.stat().st_size
    return {"distributions": len(SDK_DISTRIBUTIONS), "files": files, "installed_mb": round(size / 1e6, 1)}


def main() -> None:
    child = subprocess.Popen([sys.executable, __file__, "--serve"], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        where = json.loads(child.stdout.readline())
        os.environ["MICROSOFT_GRAPH_API_URL"] = where["graph_url"]
        os.environ["MICROSOFT_LOGIN_URL"] = where["url"]
        from slotoptim.listener.calendar.microsoft import GraphCalendar

        print(f"microsoft graph clients (load average {os.getloadavg()[0]:.1f})", flush=True)
        with httpx.Client(timeout=30.0) as http:
            calendar = GraphCalendar("me", {"refresh_token": REFRESH}, "UTC", http)
            ours = timed(lambda: ours_round(calendar))
            token = calendar.secrets["access_token"]
        client = sdk_client(where["graph_url"], token)
        loop = asyncio.new_event_loop()
        sdk = timed(lambda: loop.run_until_complete(sdk_round(client)))
        loop.close()
        results: dict[str, Any] = {
            "httpx": {**ours, **import_cost(IMPORTS["httpx"])},
            "msgraph_sdk": {
                "version": importlib.metadata.version("msgraph-sdk"),
                **sdk,
                **import_cost(IMPORTS["msgraph_sdk"]),
                **sdk_footprint(),
            },
        }
        results["sdk_over_httpx"] = {
            "page_time": round(sdk["page_ms_median"] / ours["page_ms_median"], 2),
            "page_cpu": round(sdk["page_cpu_ms_median"] / ours["page_cpu_ms_median"], 2),
        }
        for name, result in results.items():
            print(f"  {name}: " + ", ".join(f"{k}={v}" for k, v in result.items()), flush=True)
        print(json.dumps({"msgraph": results}), flush=True)
    finally:
        child.terminate()
        child.wait(timeout=30)


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        serve()
    else:
        main()
