"""What a deployment chooses, read from the CDK context (cdk.json, or `cdk deploy -c key=value`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from constructs import Node

PREFIX = "slotoptim:"


class ConfigError(ValueError):
    """A missing or malformed context value; the message names it."""


@dataclass(frozen=True)
class StackConfig:
    # ACM certificate of the API's public name (the HTTPS listener needs one).
    certificate_arn: str
    # The public base URL Twilio and customers call (https://slots.example.org).
    public_url: str
    # An image URI (ECR, ideally by digest) built from infra/Dockerfile; None builds it from source.
    image: str | None = None
    engine_replicas: int = 3
    api_min_tasks: int = 2
    api_max_tasks: int = 20
    analyst_replica: bool = True
    db_instance_class: str = "r8g.xlarge"
    # False: TLS 1.3 and 1.2 (restricted ciphers) for older webhook clients; True: TLS 1.3 only.
    tls13_only: bool = False
    twilio_from: str = ""
    alarm_email: str | None = None


def _get(node: Node, key: str) -> Any:
    return node.try_get_context(PREFIX + key)


def _int(node: Node, key: str, default: int, minimum: int) -> int:
    value = _get(node, key)
    if value is None:
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{PREFIX}{key} must be a whole number, not {value!r}") from None
    if number < minimum:
        raise ConfigError(f"{PREFIX}{key} must be at least {minimum}, not {number}")
    return number


def _bool(node: Node, key: str, default: bool) -> bool:
    value = _get(node, key)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if str(value).lower() in {"true", "1", "yes"}:
        return True
    if str(value).lower() in {"false", "0", "no"}:
        return False
    raise ConfigError(f"{PREFIX}{key} must be true or false, not {value!r}")


def config_from_context(node: Node) -> StackConfig:
    certificate = _get(node, "certificate_arn")
    if not certificate or not str(certificate).startswith("arn:"):
        raise ConfigError(f"{PREFIX}certificate_arn: the ARN of the API's ACM certificate is required")
    public_url = _get(node, "public_url")
    if not public_url or not str(public_url).startswith("https://"):
        raise ConfigError(f"{PREFIX}public_url: the API's public https:// URL is required")
    api_min = _int(node, "api_min_tasks", 2, 1)
    api_max = _int(node, "api_max_tasks", 20, 1)
    if api_max < api_min:
        raise ConfigError(f"{PREFIX}api_max_tasks ({api_max}) is below {PREFIX}api_min_tasks ({api_min})")
    return StackConfig(
        certificate_arn=str(certificate),
        public_url=str(public_url).rstrip("/"),
        image=_get(node, "image") or None,
        engine_replicas=_int(node, "engine_replicas", 3, 1),
        api_min_tasks=api_min,
        api_max_tasks=api_max,
        analyst_replica=_bool(node, "analyst_replica", True),
        db_instance_class=str(_get(node, "db_instance_class") or "r8g.xlarge"),
        tls13_only=_bool(node, "tls13_only", False),
        twilio_from=str(_get(node, "twilio_from") or ""),
        alarm_email=_get(node, "alarm_email") or None,
    )
