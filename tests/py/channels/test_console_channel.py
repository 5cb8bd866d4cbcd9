"""ConsoleChannel: one JSON line per message, nothing added."""

from __future__ import annotations

import io
import json
import threading

import pytest

from slotoptim.listener.channels.base import OutboundMessage
from slotoptim.listener.channels.console_channel import ConsoleChannel


def test_prints_one_json_line_with_exactly_the_message() -> None:
    out = io.StringIO()
    result = ConsoleChannel(out).send(OutboundMessage(42, "sms", "+14155550100", "Slot at 3:40pm — reply YES"))

    assert result.provider_id == "console-42" and result.status == "sent"
    [line] = out.getvalue().splitlines()
    assert json.loads(line) == {
        "channel": "sms",
        "message_id": 42,
        "to": "+14155550100",
        "subject": None,
        "body": "Slot at 3:40pm — reply YES",
    }


def test_defaults_to_stdout_at_send_time(capsys: pytest.CaptureFixture[str]) -> None:
    channel = ConsoleChannel()
    channel.send(OutboundMessage(1, "email", "pat@example.org", "hello", subject="Hi"))
    assert json.loads(capsys.readouterr().out)["subject"] == "Hi"
    assert channel.name == "console"


def test_lines_stay_whole_when_threads_share_it() -> None:
    out = io.StringIO()
    channel = ConsoleChannel(out)

    def work(start: int) -> None:
        for i in range(start, start + 200):
            channel.send(OutboundMessage(i, "sms", "+14155550100", "x" * 500))

    threads = [threading.Thread(target=work, args=(n * 200,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = sorted(json.loads(line)["message_id"] for line in out.getvalue().splitlines())
    assert ids == list(range(800))
