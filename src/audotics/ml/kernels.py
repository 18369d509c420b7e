"""Compiled inner loops of a recommendation request (numba), shared by ml/cf, ml/recommend.

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

# Selection, sorting and binary search are written out below instead of calling
# np.argpartition / np.argsort / np.searchsorted: numba compiles its versions of those
# from large generic templates (5-12 s each on this machine), the ones here in a
# fraction of a second, and a request only ever needs them on a few thousand numbers.


@_jit
def _before(value_a: float, at_a: int, value_b: float, at_b: int) -> bool:
    """Ranking order: the larger value first, the lower position first among equals."""
    return value_a > value_b or (value_a == value_b and at_a < at_b)


@_jit
def _sift_down(keys: np.ndarray, at: np.ndarray, start: int, size: int) -> None:
    """Restore a heap whose root is its worst element (by :func:`_before`) below
    ``start``."""
    i = start
    while True:
        child = 2 * i + 1
        if child >= size:
            return
        if child + 1 < size and _before(keys[child], at[child], keys[child + 1], at[child + 1]):
            child += 1  # the worse child
        if _before(keys[child], at[child], keys[i], at[i]):
            return
        keys[i], keys[child] = keys[child], keys[i]
        at[i], at[child] = at[child], at[i]
        i = child


@_jit
def top_k(values: np.ndarray, k: int, positive_only: bool) -> np.ndarray:
    """Positions of the ``k`` largest values (only those > 0 if ``positive_only``), best
    first, the lower position first among equals: a bounded heap, O(n log k)."""
    keys = np.empty(max(k, 0), dtype=np.float64)
    at = np.empty(max(k, 0), dtype=np.int64)
    size = 0
    for position in range(len(values)):
        value = values[position]
        if positive_only and not value > 0:
            continue
        if size < k:  # push, then sift the new leaf up while it is worse than its parent
            i = size
            size += 1
            keys[i] = value
            at[i] = position
            while i > 0:
                parent = (i - 1) // 2
                if _before(keys[i], at[i], keys[parent], at[parent]):
                    break
                keys[i], keys[parent] = keys[parent], keys[i]
                at[i], at[parent] = at[parent], at[i]
                i = parent
        elif k > 0 and _before(value, position, keys[0], at[0]):
            keys[0] = value
            at[0] = position
            _sift_down(keys, at, 0, size)
    out = np.empty(size, dtype=np.int64)
    for j in range(size - 1, -1, -1):  # pop the worst into the back
        out[j] = at[0]
        size -= 1
        keys[0] = keys[size]
        at[0] = at[size]
        _sift_down(keys, at, 0, size)
    return out


@_jit
def sort_order(keys: np.ndarray) -> np.ndarray:
    """Positions that sort integer ``keys`` ascending (equal keys by position): heap sort."""
    n = len(keys)
    negated = np.empty(n, dtype=np.float64)
    for i in range(n):
        negated[i] = -keys[i]  # the ranking order puts the smallest key first
    return top_k(negated, n, False)


@_jit
def bisect_left(sorted_keys: np.ndarray, key: int) -> int:
    """First position in ``sorted_keys`` whose key is >= ``key``."""
    low, high = 0, len(sorted_keys)
    while low < high:
        middle = (low + high) // 2
        if sorted_keys[middle] < key:
            low = middle + 1
        else:
            high = middle
    return low


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
    order = sort_order(targets)
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
    for position in range(len(items)):
        j = bisect_left(keys, items[position])
        if j < len(keys) and keys[j] == items[position]:
            out[position] = values[j]
    return out


@_jit
def top_positive(values: np.ndarray, n: int) -> np.ndarray:
    """Positions of the ``n`` largest values that are > 0, best first (ties: lower
    position first)."""
    return top_k(values, n, True)


@_jit
def union_excluding(found: np.ndarray, banned: np.ndarray) -> np.ndarray:
    """Sorted unique items of ``found`` that are not in ``banned`` (sorted)."""
    order = sort_order(found)
    out = np.empty(len(found), dtype=np.int64)
    m = 0
    b = 0
    previous = -1
    for position in order:
        item = found[position]
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


@_jit
def strongest_seeds(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    items: np.ndarray,
    history: np.ndarray,
    weights: np.ndarray,
) -> np.ndarray:
    """For each item j, the history item i with the largest ``w_i * S_ij`` > 0, else -1.

    ``S`` is given by target (row j holds the sources i and S_ij); ``history`` sorted."""
    out = np.full(len(items), -1, dtype=np.int64)
    for position in range(len(items)):
        j = items[position]
        best = 0.0
        for cell in range(indptr[j], indptr[j + 1]):
            at = bisect_left(history, indices[cell])
            if at < len(history) and history[at] == indices[cell]:
                contribution = weights[at] * data[cell]
                if contribution > best:
                    best = contribution
                    out[position] = indices[cell]
    return out


@_dot_jit
def fold_in_solve(
    gram: np.ndarray, factors: np.ndarray, items: np.ndarray, confidence: np.ndarray
) -> np.ndarray:
    """x = (G + sum_i (|c_i| - 1) y_i y_i^T)^-1 sum_{c_i > 0} c_i y_i by Cholesky, with
    G = Y^T Y + lambda I (float64, symmetric). Empty when the system is not positive
    definite (possible only with confidences below 1): the caller solves it generally.

    One call instead of a gather, two products and LAPACK's wrapper: the whole solve
    is some 10^5 multiply-adds on a 64 x 64 matrix."""
    f = gram.shape[0]
    a = gram.copy()
    b = np.zeros(f)
    for position in range(len(items)):
        y = factors[items[position]]
        c = confidence[position]
        w = abs(c) - 1.0
        for i in range(f):
            wy = w * y[i]
            for j in range(i + 1):  # the lower triangle is all Cholesky reads
                a[i, j] += wy * y[j]
            if c > 0:
                b[i] += c * y[i]
    for j in range(f):
        pivot = a[j, j]
        for k in range(j):
            pivot -= a[j, k] * a[j, k]
        if pivot <= 0.0:
            return np.empty(0, dtype=np.float32)
        root = np.sqrt(pivot)
        a[j, j] = root
        for i in range(j + 1, f):
            total = a[i, j]
            for k in range(j):
                total -= a[i, k] * a[j, k]
            a[i, j] = total / root
    z = np.empty(f)
    for i in range(f):  # L z = b
        total = b[i]
        for k in range(i):
            total -= a[i, k] * z[k]
        z[i] = total / a[i, i]
    x = np.empty(f)
    for i in range(f - 1, -1, -1):  # L^T x = z
        total = z[i]
        for k in range(i + 1, f):
            total -= a[k, i] * x[k]
        x[i] = total / a[i, i]
    return x.astype(np.float32)


def warm_up() -> None:
    """Compile (or load from the on-disk cache) every kernel for the argument types a
    request passes: CSR index arrays are int32, item arrays int64, scores float32, the
    fold-in's Gram matrix and confidences float64. ``make install`` and the image build
    call it, so no process compiles on its first request; a unit test checks that a
    request adds no signature after it."""
    from audotics.ml.similarity.mips import _probe  # the index's kernel, same types

    f32, i32, i64 = np.float32, np.int32, np.int64
    matrix = np.ones((4, 3), dtype=f32)
    positions, small = np.arange(2, dtype=i64), np.arange(2, dtype=i32)
    weights, vector = np.ones(2, dtype=f32), np.ones(3, dtype=f32)
    indptr, indices = np.array([0, 1, 2, 2, 2], dtype=i32), np.array([1, 0], dtype=i32)
    dot_rows(matrix, positions, vector)
    weighted_row_sum(matrix, small, weights)
    accumulate_rows(indptr, indices, weights, small, weights)
    lookup(positions, weights, positions)
    top_positive(weights, 1)
    union_excluding(positions, positions)
    standardise_rows(matrix)
    strongest_seeds(indptr, indices, weights, positions, small, weights)
    fold_in_solve(np.eye(3), matrix, positions, np.ones(2))
    _probe(matrix, matrix, np.array([0, 2, 4], dtype=i64), vector, 1, 1)
