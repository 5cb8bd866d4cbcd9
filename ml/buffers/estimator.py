"""Learned buffers: how many minutes to keep free after an appointment, from how long appointments really ran.

For every record the overrun is `actual - scheduled` minutes (negative when it finished early). The
buffer is a high quantile of the overrun (default p80: four appointments in five fit in slot + buffer),
estimated per service and, where the data allow, per provider within the service.

Provider shrinkage (empirical-Bayes credibility weighting of the quantile), per service s:
  q_s      = tau-quantile of all overruns of s (pooled over providers)
  q_p      = tau-quantile of provider p's own overruns (n_p rows)
  v_p      = tau (1 - tau) S^2 / n_p, the large-sample variance of a sample quantile, where the
             sparsity S = 1/f(q) is estimated from the pooled service data as
             (Q_s(tau + h) - Q_s(tau - h)) / (2h), h = 0.05 (Siddiqui's difference quotient)
  sigma2_b = max(0, sample variance of q_p over providers with >= min_provider_rows rows - mean v_p),
             the spread of true provider quantiles (method of moments)
  Z_p      = sigma2_b / (sigma2_b + v_p) = n_p / (n_p + k),  k = tau (1 - tau) S^2 / sigma2_b rows
  shrunk_p = Z_p q_p + (1 - Z_p) q_s
So a provider with few rows gets about the service's value and one with many rows gets its own.
When fewer than two providers have enough rows to estimate sigma2_b, k falls back to a fixed number
of rows (`fallback_credibility_rows`); `credibility_rows` forces a fixed k everywhere. sigma2_b = 0
(providers indistinguishable from noise) means full pooling, Z = 0.
Buffer = min(max_buffer_minutes, ceil(max(0, quantile))) whole minutes.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

SPARSITY_BANDWIDTH = 0.05


@dataclass(frozen=True)
class DurationRecord:
    service: str
    provider: str
    scheduled_minutes: float
    actual_minutes: float

    @property
    def overrun_minutes(self) -> float:
        return self.actual_minutes - self.scheduled_minutes


@dataclass(frozen=True)
class BufferSettings:
    quantile: float = 0.8
    # The organisation's cap (organisation_settings.max_buffer_minutes defaults to 60).
    max_buffer_minutes: int = 60
    # Fixed credibility constant k (rows); None = empirical Bayes per service.
    credibility_rows: float | None = None
    fallback_credibility_rows: float = 30.0
    min_provider_rows: int = 5

    def __post_init__(self) -> None:
        if not 0.0 < self.quantile < 1.0:
            raise ValueError(f"quantile must be in (0, 1), got {self.quantile}")
        if self.max_buffer_minutes < 0:
            raise ValueError("max_buffer_minutes must be >= 0")


@dataclass(frozen=True)
class ServiceBuffer:
    service: str
    rows: int
    overrun_quantile: float
    buffer_minutes: int
    # k in Z = n / (n + k); None when providers are pooled completely (sigma2_b = 0).
    credibility_rows: float | None


@dataclass(frozen=True)
class ProviderBuffer:
    service: str
    provider: str
    rows: int
    own_quantile: float
    weight: float
    shrunk_quantile: float
    buffer_minutes: int


@dataclass(frozen=True)
class BufferEstimate:
    settings: BufferSettings
    services: dict[str, ServiceBuffer]
    providers: dict[tuple[str, str], ProviderBuffer] = field(default_factory=dict)

    def buffer_for(self, service: str, provider: str | None = None) -> int:
        """The provider's buffer when it has rows in the service, else the service's."""
        if provider is not None and (service, provider) in self.providers:
            return self.providers[(service, provider)].buffer_minutes
        if service not in self.services:
            raise KeyError(f"no duration records for service {service!r}")
        return self.services[service].buffer_minutes


def buffer_minutes(quantile: float, settings: BufferSettings) -> int:
    # The small tolerance keeps 7.000000001 (float noise) from becoming 8.
    return min(settings.max_buffer_minutes, max(0, math.ceil(quantile - 1e-9)))


def estimate_buffers(records: Iterable[DurationRecord], settings: BufferSettings | None = None) -> BufferEstimate:
    chosen = settings or BufferSettings()
    by_service: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for record in records:
        if not (math.isfinite(record.scheduled_minutes) and math.isfinite(record.actual_minutes)):
            raise ValueError(f"non-finite minutes in record {record}")
        by_service[record.service][record.provider].append(record.overrun_minutes)
    if not by_service:
        raise ValueError("no duration records")

    services: dict[str, ServiceBuffer] = {}
    providers: dict[tuple[str, str], ProviderBuffer] = {}
    for service, per_provider in sorted(by_service.items()):
        arrays = {p: np.asarray(v, dtype=np.float64) for p, v in sorted(per_provider.items())}
        service_buffer, provider_buffers = _estimate_service(service, arrays, chosen)
        services[service] = service_buffer
        providers.update({(service, b.provider): b for b in provider_buffers})
    return BufferEstimate(chosen, services, providers)


def _estimate_service(
    service: str, overruns: dict[str, npt.NDArray[np.float64]], settings: BufferSettings
) -> tuple[ServiceBuffer, list[ProviderBuffer]]:
    tau = settings.quantile
    pooled = np.concatenate(list(overruns.values()))
    service_quantile = float(np.quantile(pooled, tau))
    low, high = max(0.0, tau - SPARSITY_BANDWIDTH), min(1.0, tau + SPARSITY_BANDWIDTH)
    sparsity = float(np.quantile(pooled, high) - np.quantile(pooled, low)) / (high - low)
    # Per-row variance of the quantile estimate (divide by n for a provider with n rows).
    unit_variance = tau * (1 - tau) * sparsity**2
    own = {p: float(np.quantile(v, tau)) for p, v in overruns.items()}
    k = _credibility_rows(overruns, own, unit_variance, settings)

    provider_buffers = []
    for provider, values in overruns.items():
        n = len(values)
        weight = 0.0 if k is None else n / (n + k) if k > 0 else 1.0
        shrunk = weight * own[provider] + (1 - weight) * service_quantile
        provider_buffers.append(
            ProviderBuffer(service, provider, n, own[provider], weight, shrunk, buffer_minutes(shrunk, settings))
        )
    service_buffer = ServiceBuffer(
        service, len(pooled), service_quantile, buffer_minutes(service_quantile, settings), k
    )
    return service_buffer, provider_buffers


def _credibility_rows(
    overruns: dict[str, npt.NDArray[np.float64]],
    own: dict[str, float],
    unit_variance: float,
    settings: BufferSettings,
) -> float | None:
    if settings.credibility_rows is not None:
        return settings.credibility_rows
    usable = [p for p, v in overruns.items() if len(v) >= settings.min_provider_rows]
    if len(usable) < 2:
        return settings.fallback_credibility_rows
    quantiles = np.array([own[p] for p in usable])
    sampling = np.array([unit_variance / len(overruns[p]) for p in usable])
    between = float(np.var(quantiles, ddof=1) - sampling.mean())
    if between <= 0.0:
        return None
    return unit_variance / between
