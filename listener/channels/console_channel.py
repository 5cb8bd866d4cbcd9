"""A channel that prints each message as one JSON line: the demo's stand-in when no provider is set.

It prints exactly the message it is given (recipient, subject, body), nothing looked up besides.
"""

from __future__ import annotations

import json
import sys
import threading
from typing import TextIO

from slotoptim.listener.channels.base import OutboundMessage, SendResult


class ConsoleChannel:
    def __init__(self, stream: TextIO | None = None, name: str = "console") -> None:
        self.name = name
        # None means "sys.stdout at the time of sending", so redirection and pytest's capture work.
        self._stream = stream
        self._lock = threading.Lock()  # one line per message even when several senders share it

    def send(self, message: OutboundMessage) -> SendResult:
        line = json.dumps(
            {
                "channel": message.channel,
                "message_id": message.message_id,
                "to": message.to,
                "subject": message.subject,
                "body": message.body,
            },
            ensure_ascii=False,
        )
        with self._lock:
            stream = self._stream or sys.stdout
            stream.write(line + "\n")
            stream.flush()
        return SendResult(provider_id=f"console-{message.message_id}", status="sent")
