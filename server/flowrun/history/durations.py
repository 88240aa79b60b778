"""Durations counted in buckets: `flowrun stats`' p50 and p95 without reading every run.

Each ended execution's duration is counted, per workflow file and UTC day, in `duration_days`
(migration 8): one row per *decade* of milliseconds (0-9 ms, 10-99 ms, 100-999 ms, ...)
holding 20 log-spaced buckets, columns `b0` … `b19`; bucket k of decade d starts at
ceil(10^(d + k/20)) ms (below 10 ms: each millisecond), so a bucket ends less than 12.2 % of
its start (plus 1 ms of rounding) after it. A workflow's window is a row or two per day,
whatever its number of runs.

A percentile is the nearest rank (as over the runs themselves) found in the merged buckets:
the bucket that holds it is exact, and inside it the value is interpolated linearly by rank
between the bucket's first and last millisecond. The result is within one bucket's width of
the exact nearest-rank duration: less than 12.2 % off (exact below 10 ms), and in practice much
less when the bucket holds several runs (`tests/history/test_stats.py` measures it).
"""

from __future__ import annotations

import bisect
import functools
import math
from collections.abc import Iterable, Sequence

PER_DECADE = 20
COLUMNS = tuple(f"b{k}" for k in range(PER_DECADE))
BACKFILLED_DECADES = 13  # migration 8 counts the runs already stored, up to 10^13 ms

Bucket = tuple[int, int, int]  # first ms, first ms of the next bucket, runs


@functools.lru_cache(maxsize=64)
def lows(decade: int) -> tuple[int, ...]:
    """The first millisecond of each bucket of a decade (equal ones: empty buckets)."""
    starts = [10**decade] + [
        math.ceil(10 ** (decade + k / PER_DECADE)) for k in range(1, PER_DECADE)
    ]
    if decade == 0:
        starts[:2] = [0, 1]  # 0 ms and 1 ms apart: below 10 ms each millisecond is a bucket
    return tuple(starts)


def bucket_of(duration_ms: int) -> tuple[int, int]:
    """(decade, column index) of a duration; a negative one counts as 0 ms."""
    value = max(int(duration_ms), 0)
    decade = len(str(value)) - 1
    return decade, bisect.bisect_right(lows(decade), value) - 1


def bounds(decade: int, column: int) -> tuple[int, int]:
    """[first ms, first ms of the next bucket) of a bucket."""
    starts = lows(decade)
    end = starts[column + 1] if column + 1 < PER_DECADE else 10 ** (decade + 1)
    return starts[column], end


def buckets(decade: int, counts: Sequence[int | None]) -> list[Bucket]:
    """One decade's row (its columns' counts, null: none) as its non-empty buckets."""
    return [(*bounds(decade, k), int(n)) for k, n in enumerate(counts) if n]


def percentile(found: Iterable[Bucket], percent: int) -> int | None:
    """The nearest-rank percentile (50, 95) of the runs in `found` (buckets in any order)."""
    ordered = sorted(found)
    total = sum(runs for _, _, runs in ordered)
    if not total:
        return None
    rank = max(1, (percent * total + 99) // 100)
    below = 0
    for low, high, runs in ordered:
        if below + runs >= rank:
            return math.floor(low + (high - 1 - low) * (rank - below - 0.5) / runs + 0.5)
        below += runs
    raise AssertionError("rank beyond the total")
