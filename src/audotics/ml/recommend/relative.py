"""History rows relative to the user's own play counts, and a source that scores them.

A history row is ``log1p(w)`` of the user's net weights (:func:`log_weighted`, and
``RecommendationEngine.history_row`` per request). :func:`relative_rows` re-expresses a
user's counts relative to that user's own (over their median, or as within-user ranks),
and :class:`RelativeRowSource` lets any source fitted on such rows take the engine's
ordinary log1p row: it converts the row on the way in (ADR 0007, "play counts relative
to the user"). Pure computation, any item space: the offline hybrid and the product's
serving state (``services/recommendations/serving.py``) both use it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from audotics.ml.cf.confidence import (
    median_relative,
    relative_to_user_median,
    within_user_rank,
)
from audotics.ml.recommend.sources import Source, _RowMemo

RELATIVE_KINDS = ("median", "rank")


def log_weighted(net: sparse.csr_matrix) -> sparse.csr_matrix:
    """log1p of the positive net weights; other cells dropped (the history rows)."""
    weighted = net.tocsr(copy=True).astype(np.float32)
    weighted.data = np.where(weighted.data > 0, np.log1p(np.maximum(weighted.data, 0)), 0)
    weighted.eliminate_zeros()
    return weighted


def relative_rows(
    net: sparse.csr_matrix, scale: float | None = None, kind: str = "median"
) -> tuple[sparse.csr_matrix, float]:
    """Each user's play counts relative to that user's own, per positive cell, and ``scale``:
    ``kind`` "median": ``scale x log1p(w / median of the user's w)``; "rank":
    ``scale x (1 - rank / n)`` within the user's n items (``within_user_rank``).

    HetRec keeps each user's top 50 artists with raw counts spanning orders of magnitude
    between users; relative to the user's own counts, every user's typical item weighs the
    same. ``scale`` (default: fitted here) makes the mean cell equal log1p's, so ALS
    confidences keep their overall strength (``alpha``) and only their shape changes
    (the item-item sources are scale-free per user).
    """
    if kind not in RELATIVE_KINDS:
        raise ValueError(f"kind must be one of {RELATIVE_KINDS}, not {kind!r}")
    if kind == "median":
        relative = relative_to_user_median(net)
        relative.data = np.log1p(relative.data)
    else:
        relative = within_user_rank(net)
    if scale is None:
        absolute = log_weighted(net)
        scale = float(absolute.data.mean() / relative.data.mean()) if relative.nnz else 1.0
    relative.data *= scale
    return relative.astype(np.float32), scale


def row_rank_relative(values: np.ndarray) -> np.ndarray:
    """:func:`~audotics.ml.cf.confidence.within_user_rank` of one request's row values:
    ``1 - rank / n`` with rank = the values above + half the other equal ones (the mean
    rank of a tie).

    A sort and two binary searches: ~8 us on a 100-cell row where ``scipy.stats.rankdata``
    spends ~60-130 us, mostly on argument handling (ADR 0007, in serving)."""
    n = len(values)
    if not n:
        return np.zeros(0, dtype=np.float64)
    ordered = np.sort(values)
    below = np.searchsorted(ordered, values, "left")
    through = np.searchsorted(ordered, values, "right")
    return 1.0 - ((n - through) + (through - below - 1) * 0.5) / n


@dataclass(eq=False)
class RelativeRowSource:
    """``inner`` scoring :func:`relative_rows` of the history row it is given.

    The engine (and the product, ``RecommendationEngine.history_row``) builds rows as
    ``log1p(w)``; this view re-expresses such a row relative to the row's own counts
    (over their median, or as within-user ranks), so a source can be fitted on relative
    rows without changing what the engine is given. Wrappers made by
    :func:`relative_views` share one memo: one relative row per request for all."""

    inner: Source
    scale: float
    kind: str = "median"
    name: str = field(init=False)
    memo: _RowMemo = field(default_factory=_RowMemo, repr=False)

    def __post_init__(self) -> None:
        self.name = self.inner.name

    def relative(self, row: sparse.csr_matrix) -> sparse.csr_matrix:
        def compute() -> sparse.csr_matrix:
            if row.shape[0] != 1:
                weights = sparse.csr_matrix(row, dtype=np.float64, copy=True)
                weights.data = np.expm1(weights.data)
                return relative_rows(weights, self.scale, self.kind)[0]
            # One request's row: the matrix path's values (unit test) from its arrays, no
            # sparse copies.
            keep = row.data > 0
            logged, indices = row.data[keep], row.indices[keep]
            if self.kind == "median":
                values = np.log1p(median_relative(np.expm1(logged.astype(np.float64))))
            else:  # log1p is increasing: ranking the row's cells ranks the user's counts
                values = row_rank_relative(logged)
            return sparse.csr_matrix(
                (
                    (values * self.scale).astype(np.float32),
                    indices,
                    np.array([0, len(indices)], dtype=indices.dtype),
                ),
                shape=row.shape,
            )

        # Same object for the same row, so the inner source's own memo hits as well;
        # build_engine and relative_views share one memo between the wrapped sources.
        return self.memo.get(row, compute)

    def top(self, row: sparse.csr_matrix, n: int) -> np.ndarray:
        return self.inner.top(self.relative(row), n)

    def scores(self, row: sparse.csr_matrix, items: np.ndarray) -> np.ndarray:
        return self.inner.scores(self.relative(row), items)

    def because(self, row: sparse.csr_matrix, item: int) -> int | None:
        return self.inner.because(self.relative(row), item)

    def because_many(self, row: sparse.csr_matrix, items: np.ndarray) -> list[int | None]:
        many = getattr(self.inner, "because_many", None)
        relative = self.relative(row)
        if many is not None:
            return list(many(relative, items))
        return [self.inner.because(relative, int(item)) for item in items]


def relative_views(sources: Sequence[Source], scale: float, kind: str) -> list[RelativeRowSource]:
    """Each of ``sources`` behind a :class:`RelativeRowSource` sharing ONE row memo, so a
    request's relative row is computed once for all of them (and, being the same object,
    hits each inner source's own per-row memo too)."""
    if kind not in RELATIVE_KINDS:
        raise ValueError(f"kind must be one of {RELATIVE_KINDS}, not {kind!r}")
    shared = _RowMemo()
    return [RelativeRowSource(source, scale, kind, memo=shared) for source in sources]
