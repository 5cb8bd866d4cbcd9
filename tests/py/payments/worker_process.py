"""One pass of the payments outbox in a process of its own, so a test can kill it mid-send.

python worker_process.py <database url> <ISO time>
"""

from __future__ import annotations

import datetime as dt
import sys

from slotoptim.listener.payments.service import PaymentsService

if __name__ == "__main__":
    url, at = sys.argv[1], dt.datetime.fromisoformat(sys.argv[2])
    print(PaymentsService(url, clock=lambda: at).run_pass(), flush=True)
