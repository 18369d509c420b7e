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
# fraction of a second, and each is chosen for a request's sizes (a few thousand
# numbers): quickselect, radix sort on item indices, merge sort of the few hundred kept.


@_jit
def _kth_largest(keys: np.ndarray, rank: int, rounds: int) -> tuple[float, bool]:
    """(the value of rank ``rank`` (0 = largest) in ``keys``, which it reorders; found):
    quickselect with Hoare partitions around a median of three, O(n) on average. Gives
    up (found False) after ``rounds`` partitions (the caller allows 2 log2(n) + 8), so
    an adversarial order costs O(n log n) through the caller's full sort, never O(n^2)."""
    low, high = 0, len(keys) - 1
    while low < high:
        rounds -= 1
        if rounds < 0:
            return 0.0, False
        middle = (low + high) // 2
        a, b, c = keys[low], keys[middle], keys[high]
        pivot = max(min(a, b), min(max(a, b), c))
        i, j = low, high
        while i <= j:
            while keys[i] > pivot:
                i += 1
            while keys[j] < pivot:
                j -= 1
            if i <= j:
                keys[i], keys[j] = keys[j], keys[i]
                i += 1
                j -= 1
        if rank <= j:
            high = j
        elif rank >= i:
            low = i
        else:  # between the halves: equal to the pivot
            return keys[rank], True
    return keys[rank], True


@_jit
def _stable_sort_descending(keys: np.ndarray, at: np.ndarray) -> None:
    """Sort ``keys`` descending in place, carrying ``at``; equal keys keep their order
    (bottom-up merge sort: k log k moves and no data-dependent worst case)."""
    n = len(keys)
    src_keys, src_at = keys, at
    dst_keys, dst_at = np.empty(n, dtype=keys.dtype), np.empty(n, dtype=at.dtype)
    width = 1
    while width < n:
        for left in range(0, n, 2 * width):
            middle = min(left + width, n)
            right = min(left + 2 * width, n)
            i, j = left, middle
            for o in range(left, right):
                # The right run's head goes first only when strictly better: ties stay
                # in their original order.
                if j < right and (i >= middle or src_keys[j] > src_keys[i]):
                    dst_keys[o] = src_keys[j]
                    dst_at[o] = src_at[j]
                    j += 1
                else:
                    dst_keys[o] = src_keys[i]
                    dst_at[o] = src_at[i]
                    i += 1
        src_keys, dst_keys = dst_keys, src_keys
        src_at, dst_at = dst_at, src_at
        width *= 2
    if src_keys is not keys:
        keys[:] = src_keys
        at[:] = src_at


@_jit
def top_k(values: np.ndarray, k: int, positive_only: bool) -> np.ndarray:
    """Positions of the ``k`` largest values (only those > 0 if ``positive_only``), best
    first, the lower position first among equals; NaN counts as -inf.

    The k-th largest value by quickselect, one pass to gather what beats it (ties at the
    threshold in position order), then a stable sort of those k: O(n + k log k). A
    request selects a few hundred of a few thousand scores, where a bounded heap spends
    its time in unpredictable sift branches."""
    n = len(values)
    keys = np.empty(n, dtype=np.float64)
    at = np.empty(n, dtype=np.int64)
    m = 0
    for position in range(n):
        value = values[position]
        if positive_only and not value > 0:
            continue
        keys[m] = value if value == value else -np.inf
        at[m] = position
        m += 1
    k = min(max(k, 0), m)
    if k == 0:
        return np.empty(0, dtype=np.int64)
    budget = 2 * int(np.log2(m + 1)) + 8
    threshold, found = _kth_largest(keys[:m].copy(), k - 1, budget) if k < m else (0.0, False)
    if found:
        chosen_keys = np.empty(k, dtype=np.float64)
        chosen_at = np.empty(k, dtype=np.int64)
        taken = 0
        for i in range(m):
            if keys[i] > threshold:
                chosen_keys[taken] = keys[i]
                chosen_at[taken] = at[i]
                taken += 1
        for i in range(m):  # the threshold's ties, lowest positions first
            if taken == k:
                break
            if keys[i] == threshold:
                chosen_keys[taken] = keys[i]
                chosen_at[taken] = at[i]
                taken += 1
    else:  # everything kept, or the selection gave up: sort all, keep the head
        chosen_keys = keys[:m].copy()
        chosen_at = at[:m].copy()
    _stable_sort_descending(chosen_keys, chosen_at)
    return chosen_at[:k].copy()


_DIGIT_BITS = 11  # 2048 buckets: the counts stay in L1, two passes cover 4M items


@_jit
def sort_order(keys: np.ndarray) -> np.ndarray:
    """Positions that sort integer ``keys`` ascending (equal keys by position).

    Stable LSD radix sort on ``key - min``: two passes of 11 bits for any catalogue
    under 4M items, linear and branch-free, where a comparison sort of a request's
    few thousand items spends most of its time in mispredicted branches."""
    n = len(keys)
    order = np.arange(n)
    if n < 2:
        return order
    lowest = keys[0]
    highest = keys[0]
    for i in range(n):
        lowest = min(lowest, keys[i])
        highest = max(highest, keys[i])
    span = np.int64(highest) - np.int64(lowest)
    spare = np.empty(n, dtype=np.int64)
    counts = np.empty((1 << _DIGIT_BITS) + 1, dtype=np.int64)
    mask = (1 << _DIGIT_BITS) - 1
    shift = 0
    while shift == 0 or (span >> shift) > 0:
        counts[:] = 0
        for i in range(n):
            counts[((np.int64(keys[order[i]]) - lowest) >> shift & mask) + 1] += 1
        for d in range(1, len(counts)):
            counts[d] += counts[d - 1]
        for i in range(n):
            digit = (np.int64(keys[order[i]]) - lowest) >> shift & mask
            spare[counts[digit]] = order[i]
            counts[digit] += 1
        order, spare = spare, order
        shift += _DIGIT_BITS
    return order


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
    """``values[keys == item]`` for each item, 0 where absent; ``keys`` sorted.

    Sorted ``items`` (the engine's candidates always are) are matched in one merge walk;
    any other order by binary search."""
    out = np.zeros(len(items), dtype=np.float32)
    ascending = True
    for position in range(1, len(items)):
        if items[position] < items[position - 1]:
            ascending = False
            break
    if ascending:
        j = 0
        for position in range(len(items)):
            while j < len(keys) and keys[j] < items[position]:
                j += 1
            if j < len(keys) and keys[j] == items[position]:
                out[position] = values[j]
        return out
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
    """For each item j, the history item i with the largest ``w_i * S_ij`` > 0, else -1
    (the lowest i among equals when ``history`` is sorted).

    Walks the history's own rows of the CSR matrix S (history x neighbours cells), so the
    cost does not grow with how many items point at a popular j."""
    order = sort_order(items)
    ranked = np.empty(len(items), dtype=np.int64)
    for position in range(len(items)):
        ranked[position] = items[order[position]]
    best = np.zeros(len(items), dtype=np.float64)
    out = np.full(len(items), -1, dtype=np.int64)
    for h in range(len(history)):
        i = history[h]
        for cell in range(indptr[i], indptr[i + 1]):
            target = indices[cell]
            at = bisect_left(ranked, target)
            while at < len(ranked) and ranked[at] == target:  # every copy of the item
                contribution = weights[h] * data[cell]
                if contribution > best[order[at]]:
                    best[order[at]] = contribution
                    out[order[at]] = i
                at += 1
    return out


@_dot_jit
def closest_in_direction(factors: np.ndarray, history: np.ndarray, items: np.ndarray) -> np.ndarray:
    """For each item j, the history row i whose unit vector has the largest inner
    product with ``factors[j]`` (the first of equals; zero rows score 0): the history
    item whose factors point most the way of the recommended item's."""
    dim = factors.shape[1]
    scale = np.zeros(len(history), dtype=np.float32)
    for h in range(len(history)):
        squares = np.float32(0.0)
        for d in range(dim):
            squares += factors[history[h], d] * factors[history[h], d]
        if squares > 0:
            scale[h] = 1.0 / np.sqrt(squares)
    out = np.empty(len(items), dtype=np.int64)
    for position in range(len(items)):
        j = items[position]
        best, best_at = -np.inf, 0
        for h in range(len(history)):
            total = np.float32(0.0)
            for d in range(dim):
                total += factors[history[h], d] * factors[j, d]
            value = total * scale[h]
            if value > best:
                best, best_at = value, h
        out[position] = history[best_at]
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
    top_k(weights, 1, False)  # the engine's re-ranking head
    union_excluding(positions, positions)
    standardise_rows(matrix)
    strongest_seeds(indptr, indices, weights, positions, small, weights)
    fold_in_solve(np.eye(3), matrix, positions, np.ones(2))
    closest_in_direction(matrix, small, positions)
    _probe(matrix, matrix, np.array([0, 2, 4], dtype=i64), vector, 1, 1)
