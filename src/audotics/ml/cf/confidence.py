"""From listening events to the confidence matrix that implicit-feedback models train on.

Weighting (Hu, Koren & Volinsky 2008, with log-scaled counts):

1. Each event adds to the net weight ``w`` of its (user, item) cell, times its
   ``count`` (aggregated play counts, e.g. HetRec, count as that many plays)::

       play +1.0   complete +1.5   like +4.0   skip -1.0   unlike -4.0

   so a completed listen counts more than a partial play, a like more than any
   single listen, a skip takes back a play and an unlike takes back a like.
2. Cells with ``w <= 0`` (only skipped, or liked then unliked) carry no positive
   preference: they are dropped, i.e. treated like an unobserved cell
   (confidence 1, preference 0). With ``penalize_negative=True`` they are kept as
   *negative* values of magnitude ``1 + alpha * log(1 + |w| / eps)``, which
   implicit's ALS (and :meth:`FactorModel.fold_in`) read as "preference 0 with that
   confidence" -- an explicit dislike.
3. Positive cells get confidence ``c = 1 + alpha * log(1 + w / eps)``: the log
   tames heavy-tailed play counts (one HetRec user has 350k plays of one artist)
   and ``eps`` sets the count at which the log starts to bend.

The matrix stores ``c`` itself (users x items, CSR float32), which is what
implicit's ALS expects (it takes unobserved cells as c = 1, p = 0), so models are
trained with implicit's own ``alpha`` left at 1. Parameters live in
:class:`ConfidenceWeights`; the ALS grid search varies ``alpha``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
from scipy import sparse

from audotics.ml.datasets.interactions import Interactions
from audotics.ml.datasets.records import EVENTS


@dataclass(frozen=True)
class ConfidenceWeights:
    """Per-event weights and the log-confidence transform (see the module docstring)."""

    play: float = 1.0
    complete: float = 1.5
    like: float = 4.0
    skip: float = -1.0
    unlike: float = -4.0
    alpha: float = 2.0
    eps: float = 1.0
    penalize_negative: bool = False

    def event_weights(self) -> np.ndarray:
        """Weight per event code, in the order of EVENTS."""
        return np.array([getattr(self, name) for name in EVENTS], dtype=np.float64)

    def with_alpha(self, alpha: float) -> ConfidenceWeights:
        return replace(self, alpha=alpha)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def net_weights(
    interactions: Interactions, weights: ConfidenceWeights | None = None
) -> sparse.csr_matrix:
    """(users x items) net event weight ``w`` per cell, before the transform (may be <= 0)."""
    weights = weights or ConfidenceWeights()
    per_event = weights.event_weights()[interactions.event] * interactions.count
    matrix = sparse.csr_matrix(
        (per_event.astype(np.float64), (interactions.user, interactions.item)),
        shape=(interactions.n_users, interactions.n_items),
    )
    matrix.sum_duplicates()
    return matrix


def confidence_from_weights(
    net: sparse.csr_matrix, weights: ConfidenceWeights | None = None
) -> sparse.csr_matrix:
    """Apply ``c = 1 + alpha * log(1 + w / eps)`` to the cells of a net-weight matrix."""
    weights = weights or ConfidenceWeights()
    matrix = net.tocsr(copy=True).astype(np.float64)
    data = matrix.data
    positive = data > 0
    magnitude = 1.0 + weights.alpha * np.log1p(np.abs(data) / weights.eps)
    if weights.penalize_negative:
        data[:] = np.where(positive, magnitude, np.where(data < 0, -magnitude, 0.0))
    else:
        data[:] = np.where(positive, magnitude, 0.0)
    matrix.eliminate_zeros()
    return matrix.astype(np.float32)


def build_confidence(
    interactions: Interactions, weights: ConfidenceWeights | None = None
) -> sparse.csr_matrix:
    """The (users x items) confidence matrix of an interaction log (CSR float32)."""
    weights = weights or ConfidenceWeights()
    return confidence_from_weights(net_weights(interactions, weights), weights)


def positive_items(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
    """A 0/1 matrix of the cells with positive preference (what 'already seen' means)."""
    binary = matrix.tocsr(copy=True)
    binary.data = (binary.data > 0).astype(np.float32)
    binary.eliminate_zeros()
    return binary


def relative_to_user_median(net: sparse.csr_matrix) -> sparse.csr_matrix:
    """Each user's positive net weights divided by the median of that user's positive
    weights (cells with ``w <= 0`` dropped): the user's typical item becomes 1 whatever
    their volume, so a heavy listener's counts no longer outweigh a light one's.

    Not the product's default weighting (:func:`confidence_from_weights` on ``net``);
    the offline hybrid can opt in (``build_engine(relative=...)``, ADR 0007)."""
    return _per_user(net, median_relative)


def within_user_rank(net: sparse.csr_matrix) -> sparse.csr_matrix:
    """``1 - rank / n`` of each positive cell among its user's ``n`` positive cells (rank 0
    = the user's most played item, weight 1; tied counts share their mean rank, so equal
    plays weigh the same); other cells dropped. Only the order of a user's counts is
    kept, not their size.

    All users in one sort (by user, then count descending) instead of a ranking call
    per user: a serving-state build at 10k users spent most of a second in those calls."""
    matrix = _positive_cells(net)
    data, indptr = matrix.data, matrix.indptr
    if not len(data):
        return matrix
    users = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    order = np.lexsort((-data, users))
    ranked_users, ranked = users[order], data[order]
    position = np.arange(len(data)) - indptr[ranked_users]  # 0 = the user's largest
    starts = np.ones(len(data), dtype=bool)  # a run of equal counts of one user begins
    starts[1:] = (ranked_users[1:] != ranked_users[:-1]) | (ranked[1:] != ranked[:-1])
    run = np.cumsum(starts) - 1
    first = position[starts]
    ends = np.append(starts[1:], True)  # ... and ends
    last = position[ends]
    mean_rank = (first + last) / 2.0
    sizes = np.diff(indptr)[ranked_users]
    values = np.empty(len(data))
    values[order] = 1.0 - mean_rank[run] / sizes
    matrix.data = values
    return matrix


def median_relative(counts: np.ndarray) -> np.ndarray:
    """One user's positive counts divided by their median."""
    return counts / np.median(counts) if len(counts) else counts


def _per_user(
    net: sparse.csr_matrix, transform: Callable[[np.ndarray], np.ndarray]
) -> sparse.csr_matrix:
    """``net``'s positive cells (float64, others dropped), each user's row of values
    replaced by ``transform`` of it."""
    matrix = _positive_cells(net)
    data, indptr = matrix.data, matrix.indptr
    for user in np.flatnonzero(np.diff(indptr)):
        start, end = indptr[user], indptr[user + 1]
        data[start:end] = transform(data[start:end])
    return matrix


def _positive_cells(net: sparse.csr_matrix) -> sparse.csr_matrix:
    """``net``'s positive cells as a float64 copy (others dropped)."""
    matrix = net.tocsr(copy=True).astype(np.float64)
    matrix.data = np.where(matrix.data > 0, matrix.data, 0.0)
    matrix.eliminate_zeros()
    return matrix
