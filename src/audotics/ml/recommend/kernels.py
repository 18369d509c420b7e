"""Compiled inner loops of a recommendation request (numba).

A request touches a few hundred candidates and a few thousand matrix cells; as NumPy
calls each step costs more in dispatch, temporary arrays and fancy-index copies than
in arithmetic (ADR 0007, "Latency"). These kernels do each step in one call with no
temporaries beyond their outputs. They are the implementation, not an alternative
path: the sources and the engine call them, and the unit tests check them against
the NumPy formulas they replace. ``cache=True`` keeps the machine code on disk next
to this file, so only the first process after an install compiles; ``nogil=True``
lets requests in worker threads run them concurrently.
"""

from __future__ import annotations

import numba
import numpy as np

_jit = numba.njit(cache=True, nogil=True)
# Dot products may reassociate (SIMD lanes) and fuse multiply-adds; nothing else is
# relaxed, so NaN and infinity checks elsewhere keep their meaning.
_dot_jit = numba.njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})


@_dot_jit
def dot_rows(matrix: np.ndarray, rows: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """``matrix[rows] @ vector`` without the gathered copy (float32 out)."""
    out = np.empty(len(rows), dtype=np.float32)
    dim = vector.shape[0]
    for position in range(len(rows)):
        r = rows[position]
        total = np.float32(0.0)
        for d in range(dim):
            total += matrix[r, d] * vector[d]
        out[position] = total
    return out


@_dot_jit
def weighted_row_sum(matrix: np.ndarray, rows: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``weights @ matrix[rows]`` (float32 out): a history's weighted mean direction."""
    dim = matrix.shape[1]
    out = np.zeros(dim, dtype=np.float32)
    for position in range(len(rows)):
        r = rows[position]
        w = weights[position]
        for d in range(dim):
            out[d] += w * matrix[r, d]
    return out


@_jit
def accumulate_rows(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    history: np.ndarray,
    weights: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(sorted targets t, sum_i w_i * S_it) over the rows ``history`` of a CSR matrix S.

    Sums in float64 in a stable order, so equal inputs give equal bits."""
    total = 0
    for i in history:
        total += indptr[i + 1] - indptr[i]
    targets = np.empty(total, dtype=np.int64)
    values = np.empty(total, dtype=np.float64)
    n = 0
    for position in range(len(history)):
        i = history[position]
        for cell in range(indptr[i], indptr[i + 1]):
            targets[n] = indices[cell]
            values[n] = weights[position] * data[cell]
            n += 1
    order = np.argsort(targets, kind="mergesort")
    out_targets = np.empty(total, dtype=np.int64)
    out_values = np.zeros(total, dtype=np.float64)
    m = -1
    for position in order:
        target = targets[position]
        if m < 0 or out_targets[m] != target:
            m += 1
            out_targets[m] = target
        out_values[m] += values[position]
    return out_targets[: m + 1], out_values[: m + 1].astype(np.float32)


@_jit
def lookup(keys: np.ndarray, values: np.ndarray, items: np.ndarray) -> np.ndarray:
    """``values[keys == item]`` for each item, 0 where absent; ``keys`` sorted."""
    out = np.zeros(len(items), dtype=np.float32)
    if len(keys) == 0:
        return out
    at = np.searchsorted(keys, items)
    for position in range(len(items)):
        j = at[position]
        if j < len(keys) and keys[j] == items[position]:
            out[position] = values[j]
    return out


@_jit
def top_positive(values: np.ndarray, n: int) -> np.ndarray:
    """Positions of the ``n`` largest values that are > 0, best first (ties: lower
    position first)."""
    count = 0
    for v in values:
        if v > 0:
            count += 1
    positive = np.empty(count, dtype=np.int64)
    m = 0
    for position in range(len(values)):
        if values[position] > 0:
            positive[m] = position
            m += 1
    if n <= 0 or count == 0:
        return positive[:0]
    if n < count:
        part = np.argpartition(-values[positive], n - 1)[:n]
        positive = np.sort(positive[part])  # position order, so the stable sort breaks ties
    order = np.argsort(-values[positive], kind="mergesort")
    return positive[order]


@_jit
def union_excluding(found: np.ndarray, banned: np.ndarray) -> np.ndarray:
    """Sorted unique items of ``found`` that are not in ``banned`` (sorted)."""
    merged = np.sort(found)
    out = np.empty(len(merged), dtype=np.int64)
    m = 0
    b = 0
    previous = -1
    for item in merged:
        if item == previous:
            continue
        previous = item
        while b < len(banned) and banned[b] < item:
            b += 1
        if b < len(banned) and banned[b] == item:
            continue
        out[m] = item
        m += 1
    return out[:m]


@_jit
def standardise_rows(scores: np.ndarray) -> np.ndarray:
    """Each row's z-scores (population std; a constant or empty row gives zeros,
    non-finite values count as 0)."""
    rows, columns = scores.shape
    out = np.zeros((rows, columns), dtype=np.float32)
    if columns == 0:
        return out
    for r in range(rows):
        total = 0.0
        for c in range(columns):
            v = scores[r, c]
            if np.isfinite(v):
                total += v
        mean = total / columns
        spread = 0.0
        for c in range(columns):
            v = scores[r, c]
            centred = (v if np.isfinite(v) else 0.0) - mean
            spread += centred * centred
        std = np.sqrt(spread / columns)
        largest = 0.0
        for c in range(columns):
            v = scores[r, c]
            if np.isfinite(v):
                largest = max(largest, abs(v))
        # float32 scores carry ~7 digits: a spread below 1e-6 of their size is rounding
        # (equal scores), and dividing by it would turn a flat source into +/-1.
        if std <= max(1e-12, 1e-6 * largest):
            continue
        for c in range(columns):
            v = scores[r, c]
            out[r, c] = ((v if np.isfinite(v) else 0.0) - mean) / std
    return out
