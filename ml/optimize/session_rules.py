"""Rule-of-thumb session schedules the optimum is compared with, and started from."""

from __future__ import annotations


def even_spread(patients: int, intervals: int) -> tuple[int, ...]:
    """``patients`` over ``intervals`` as evenly as possible, surplus towards the front.

    Interval t (1-based) gets ceil(tN/T) - ceil((t-1)N/T): the first interval is never empty, so the
    server does not start idle when N < T.
    """
    _check(patients, intervals)
    return tuple(
        _ceil_div(t * patients, intervals) - _ceil_div((t - 1) * patients, intervals) for t in range(1, intervals + 1)
    )


def bailey_welch(patients: int, intervals: int) -> tuple[int, ...]:
    """Bailey-Welch: two at the start, then one per interval.

    Bailey's rule is defined for N = T + 1. Otherwise the first interval still gets two (a buffer
    against a late or absent first patient) and the other N - 2 are spread as evenly as possible over
    intervals 2..T with the surplus towards the end: interval t of those gets
    floor(tR/(T-1)) - floor((t-1)R/(T-1)) of the R = N - 2. So gaps follow the double when N < T + 1,
    and doubles sit towards the end when N > T + 1. With one interval everyone is booked at the start.
    """
    _check(patients, intervals)
    if intervals == 1:
        return (patients,)
    head = min(2, patients)
    rest = patients - head
    later = intervals - 1
    return (head, *((t * rest) // later - ((t - 1) * rest) // later for t in range(1, later + 1)))


def _check(patients: int, intervals: int) -> None:
    if patients < 1 or intervals < 1:
        raise ValueError("need at least one patient and one interval")


def _ceil_div(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)
