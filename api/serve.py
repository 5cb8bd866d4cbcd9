"""Serving the API with uvicorn, alone (`slotoptim api`) or beside the fill engine (`slotoptim run`).

With the engine, the engine loop runs in a thread and uvicorn in the main thread (signals can
only be caught there). SIGTERM or SIGINT: uvicorn stops taking requests and finishes the ones in
flight, then the engine finishes its pass; the process exits once both are done. If the engine
thread dies, the server is stopped too, so a supervisor restarts the whole service.
"""

from __future__ import annotations

import gc
import logging
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType

import uvicorn

from slotoptim.api.app import create_app
from slotoptim.api.logs import log_event
from slotoptim.api.settings import ApiSettings
from slotoptim.listener.engine import Engine


def serve(
    settings: ApiSettings,
    host: str,
    port: int,
    engine: Engine | None = None,
    on_started: Callable[[], None] | None = None,
) -> bool:
    """Runs until signalled; False when the server could not start. ``on_started`` runs once the
    socket listens (the banner of `make run`)."""
    app = create_app(settings)
    # The app's ~185,000 long-lived objects (routes, schemas, OpenAPI) leave the collector's view:
    # every full collection walked them all, a 100-290 ms pause of every request in flight on a busy
    # machine (seen every few seconds at ~1,500 req/s: the p99 of /v1/gaps/analyze); with them
    # frozen, a full collection is rare and short.
    gc.collect()
    gc.freeze()
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,  # our own request log has no client addresses or query strings
        lifespan="on",
        server_header=False,
    )
    server = uvicorn.Server(config)
    thread = None if engine is None else _start_engine(engine, server)
    if on_started is not None:
        _when_started(server, on_started)

    def stop_engine(signum: int, frame: FrameType | None) -> None:
        if engine is not None:
            engine.stop()

    # uvicorn restores these after its graceful shutdown and re-raises the signal to them.
    previous = {sig: signal.signal(sig, stop_engine) for sig in (signal.SIGTERM, signal.SIGINT)}
    log_event("api_starting", host=host, port=port, engine=engine is not None)
    try:
        server.run()
    finally:
        if engine is not None and thread is not None:
            engine.stop()
            thread.join(timeout=60)
            engine.sender.close()
            log_event("engine_stopped", passes=engine.passes, finished=not thread.is_alive())
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        log_event("api_stopped")
    return bool(server.started)


def _when_started(server: uvicorn.Server, callback: Callable[[], None]) -> None:
    def wait() -> None:
        while not server.started:
            if server.should_exit:
                return
            time.sleep(0.05)
        callback()

    threading.Thread(target=wait, name="slotoptim-started", daemon=True).start()


def _start_engine(engine: Engine, server: uvicorn.Server) -> threading.Thread:
    def run() -> None:
        try:
            engine.run()
        except BaseException as exc:
            log_event("engine_crashed", logging.ERROR, error=type(exc).__name__)
            raise
        finally:
            server.should_exit = True

    thread = threading.Thread(target=run, name="slotoptim-engine", daemon=True)
    thread.start()
    return thread
