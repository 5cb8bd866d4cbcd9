"""channels_from_env: real providers when configured, the console otherwise, errors when half-set."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from channels.twilio_standin import TwilioStandIn

from slotoptim.listener.channels.base import OutboundMessage
from slotoptim.listener.channels.console_channel import ConsoleChannel
from slotoptim.listener.channels.email_channel import EmailChannel
from slotoptim.listener.channels.registry import channels_from_env
from slotoptim.listener.channels.twilio_channel import TwilioChannel
from slotoptim.listener.config import ConfigError

TWILIO = {"TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "TWILIO_AUTH_TOKEN": "t" * 32}


def test_no_configuration_means_console_everywhere() -> None:
    out = io.StringIO()
    channels = channels_from_env({}, stream=out)
    assert set(channels) == {"sms", "whatsapp", "email", "console"}
    assert all(isinstance(c, ConsoleChannel) for c in channels.values())

    channels["sms"].send(OutboundMessage(5, "sms", "+14155550100", "hi"))
    assert json.loads(out.getvalue())["channel"] == "sms"


def test_twilio_sms_only() -> None:
    channels = channels_from_env({**TWILIO, "TWILIO_FROM": "+15005550006"})
    assert isinstance(channels["sms"], TwilioChannel) and channels["sms"].name == "sms"
    assert isinstance(channels["whatsapp"], ConsoleChannel)
    assert isinstance(channels["email"], ConsoleChannel)


def test_twilio_sms_and_whatsapp() -> None:
    env = {**TWILIO, "TWILIO_FROM": "+15005550006", "TWILIO_WHATSAPP_FROM": "whatsapp:+15005550007"}
    channels = channels_from_env(env)
    assert isinstance(channels["whatsapp"], TwilioChannel) and channels["whatsapp"].name == "whatsapp"


def test_twilio_base_url_reaches_the_standin(twilio_standin: TwilioStandIn) -> None:
    env = {
        "TWILIO_ACCOUNT_SID": twilio_standin.account_sid,
        "TWILIO_AUTH_TOKEN": twilio_standin.auth_token,
        "TWILIO_WHATSAPP_FROM": "+15005550007",
        "TWILIO_BASE_URL": twilio_standin.base_url,
    }
    channels_from_env(env)["whatsapp"].send(OutboundMessage(1, "whatsapp", "+14155550100", "hi"))
    [seen] = twilio_standin.messages
    assert (seen.to, seen.from_) == ("whatsapp:+14155550100", "whatsapp:+15005550007")


@pytest.mark.parametrize(
    ("env", "port", "starttls"),
    [
        ({"SMTP_HOST": "mail.example", "SMTP_FROM": "a@example.org"}, 25, False),
        ({"SMTP_HOST": "mail.example", "SMTP_FROM": "a@example.org", "SMTP_STARTTLS": "true"}, 587, True),
        (
            {"SMTP_HOST": "mail.example", "SMTP_FROM": "a@example.org", "SMTP_PORT": "2525", "SMTP_STARTTLS": "0"},
            2525,
            False,
        ),
    ],
)
def test_smtp(env: dict[str, str], port: int, starttls: bool) -> None:
    email = channels_from_env(env)["email"]
    assert isinstance(email, EmailChannel)
    assert (email.host, email.port, email.starttls) == (env["SMTP_HOST"], port, starttls)


@pytest.mark.parametrize(
    "env",
    [
        {"TWILIO_ACCOUNT_SID": "AC1"},  # token missing
        {"TWILIO_AUTH_TOKEN": "t"},  # SID missing
        {"TWILIO_FROM": "+15005550006"},  # sender without credentials
        TWILIO,  # credentials without any sender
        {"SMTP_HOST": "mail.example"},  # no From
        {"SMTP_FROM": "a@example.org"},  # no host
        {"SMTP_HOST": "mail.example", "SMTP_FROM": "a@example.org", "SMTP_USERNAME": "u"},  # no password
        {"SMTP_HOST": "mail.example", "SMTP_FROM": "a@example.org", "SMTP_PORT": "smtp"},
        {"SMTP_HOST": "mail.example", "SMTP_FROM": "a@example.org", "SMTP_STARTTLS": "maybe"},
    ],
)
def test_half_configured_channels_are_errors(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        channels_from_env(env)


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({"TWILIO_ACCOUNT_SID": "AC1"}, "TWILIO_AUTH_TOKEN"),
        ({"SMTP_HOST": "mail.example"}, "SMTP_FROM"),
    ],
)
def test_slotoptim_run_with_a_half_configured_channel_exits_2_naming_the_variable(
    env: dict[str, str], missing: str, tmp_path: Path
) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "SMTP_"))}
    done = subprocess.run(
        [sys.executable, "-m", "slotoptim.listener.cli", "run", "--port", "1"],
        env={**clean, **env, "SLOTOPTIM_STATE_DIR": str(tmp_path), "DATABASE_URL": "postgresql://nowhere.invalid/x"},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"slotoptim: error: {missing}: not set"), done.stderr
    assert "Traceback" not in done.stderr


def test_blank_values_count_as_unset() -> None:
    channels = channels_from_env({"TWILIO_ACCOUNT_SID": " ", "TWILIO_AUTH_TOKEN": "", "SMTP_HOST": ""})
    assert all(isinstance(c, ConsoleChannel) for c in channels.values())
