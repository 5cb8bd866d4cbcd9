"""The Twilio stand-in in a process of its own, so a benchmark's sender does not share a GIL with
it: prints its address and credentials as one JSON line, serves until SIGTERM, then prints how many
messages it accepted and how many were sent twice."""

from __future__ import annotations

import json
import signal
import sys
import threading

from channels.twilio_standin import running_standin


def main() -> None:
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    with running_standin() as standin:
        print(
            json.dumps(
                {"base_url": standin.base_url, "account_sid": standin.account_sid, "auth_token": standin.auth_token}
            ),
            flush=True,
        )
        done.wait()
        print(
            json.dumps({"received": standin.message_count, "duplicates": len(standin.duplicate_tokens())}), flush=True
        )
    sys.exit(0)


if __name__ == "__main__":
    main()
