"""What can go wrong talking to an external system, as the machinery needs to know it."""

from __future__ import annotations


class ExternalError(Exception):
    """Base class. Messages must never carry a secret (tokens, passwords)."""


class ConnectionBroken(ExternalError):
    """The grant or credentials are refused (invalid_grant, 401 after a refresh): stop until reconnected."""


class Throttled(ExternalError):
    """The system asks us to slow down (429, 403 rateLimitExceeded): back off the whole connection."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TransientError(ExternalError):
    """Worth retrying later (5xx, timeout, connection reset)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(ExternalError):
    """Retrying the same request will not help (400, 404 on create, validation)."""


class ResyncRequired(ExternalError):
    """The sync cursor is no longer valid (Google 410, Graph syncStateNotFound): sync in full."""
