"""The sender's settings for `slotoptim run`, read from the environment.

| variable | meaning (default) |
| --- | --- |
| `SLOTOPTIM_PUBLIC_URL` | base of the claim links in messages (http://localhost:8000) |
| `SLOTOPTIM_STATUS_CALLBACK_URL` | where Twilio reports delivery (none) |
| `SLOTOPTIM_SENDER_LEASE_SECONDS` | how long a claimed message stays with one engine before another takes it (60) |
| `SLOTOPTIM_SENDER_BATCH` | messages claimed per round (200) |
| `SLOTOPTIM_SENDER_THREADS` | messages sent at once per engine (16) |

The lease bounds how long a crashed engine's messages wait; every engine replica should use the
same value (docs/scaling.md).
"""

from __future__ import annotations

from collections.abc import Mapping

from slotoptim.listener.sender import SenderConfig


class SenderSettingsError(ValueError):
    """A malformed variable; the message names it."""


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise SenderSettingsError(f"{name} must be a whole number, not {text!r}") from None
    if value < 1:
        raise SenderSettingsError(f"{name} must be at least 1, not {value}")
    return value


def sender_config_from_env(env: Mapping[str, str]) -> SenderConfig:
    defaults = SenderConfig()
    return SenderConfig(
        public_url=env.get("SLOTOPTIM_PUBLIC_URL") or defaults.public_url,
        status_callback=env.get("SLOTOPTIM_STATUS_CALLBACK_URL") or None,
        lease_seconds=_positive_int(env, "SLOTOPTIM_SENDER_LEASE_SECONDS", defaults.lease_seconds),
        batch=_positive_int(env, "SLOTOPTIM_SENDER_BATCH", defaults.batch),
        threads=_positive_int(env, "SLOTOPTIM_SENDER_THREADS", defaults.threads),
    )
