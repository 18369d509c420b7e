"""Candidate sources: each scores items for one user's weighted history row.

A user's history is a (1 x n_items) row of log-weighted positive preferences
``x_u = log1p(w_ui)`` (w from :mod:`audotics.ml.cf.confidence`), the same row whether
the user was in the training data or arrived a minute ago. Every source answers two
questions for that row: its ``top`` candidates (for retrieval) and its ``scores`` on a
given candidate set (for ranking), plus the history item that best explains a
candidate (``because``) for the explanation. Sources:

* :class:`CollaborativeSource` -- latent factors (ALS): the user's vector is folded in
  from the row (``FactorModel.fold_in``), so a new listen moves it at once; retrieval
  goes through an inverted-file inner-product index over the item factors
  (:class:`audotics.ml.similarity.mips.InnerProductIndex`), scoring is a dot product.
* :class:`ItemItemSource` -- co-listening: a sparse item-item matrix, cosine kNN over
  the listener columns, or EASE (Steck 2019) sparsified to its strongest weights per
  item; score(j) = sum_i x_ui * S_ij.
* :class:`ContentSource` -- what the items are: tag/genre tf-idf rows on a catalogue
  without audio, audio embeddings in the product; the user's content vector is the
  history-weighted mean of their items' unit vectors, score = cosine.
* :class:`PopularitySource` -- log listener counts, optionally restricted to the
  user's genres/tags (popularity times content affinity).
* :class:`FreshnessSource` -- recently added items, decaying with age.

Per request no source allocates or scans anything catalogue-sized: retrieval goes
through an index (CF, dense content), precomputed orders (popularity, freshness) or
the sparse rows of the user's own items (item-item), and ``scores`` only gathers the
candidates' rows.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from scipy import sparse

from audotics.ml import kernels
from audotics.ml.cf.model import FactorModel
from audotics.ml.recommend.neighbours import unit_rows
from audotics.ml.similarity.mips import InnerProductIndex


class Source(Protocol):
    name: str

    def top(self, row: sparse.csr_matrix, n: int) -> np.ndarray: ...

    def scores(self, row: sparse.csr_matrix, items: np.ndarray) -> np.ndarray: ...

    def because(self, row: sparse.csr_matrix, item: int) -> int | None: ...


class _RowMemo:
    """The values computed for the last two history rows, per thread.

    The engine asks a source for ``top``, then ``scores``, then ``because`` with the
    same row object; computing the per-row part once (a dense product, a fold-in) is
    most of the speed. Two rows, because one request may ask a source about two: the
    content source is asked about the within-user-rank row (through
    :class:`~audotics.ml.recommend.relative.RelativeRowSource`) and, by popularity's
    genre affinity, about the plain row; with one slot they evicted each other. Keyed
    by identity, held per thread, so concurrent requests in worker threads never see
    each other's values.
    """

    def __init__(self) -> None:
        self._local = threading.local()

    def get(self, row: sparse.csr_matrix, compute: Callable[[], Any]) -> Any:
        local = self._local
        last = getattr(local, "last", None)
        if last is not None and last[0] is row:
            return last[1]
        before = getattr(local, "before", None)
        if before is not None and before[0] is row:
            local.before, local.last = last, before
            return before[1]
        value = compute()
        local.before, local.last = last, (row, value)
        return value


def _top_of(values: np.ndarray, n: int) -> np.ndarray:
    """Indices of the ``n`` largest finite values, best first."""
    finite = np.isfinite(values)
    n = min(n, int(finite.sum()))
    if n <= 0:
        return np.empty(0, dtype=np.int64)
    masked = values if n == len(values) or finite.all() else np.where(finite, values, -np.inf)
    part = np.argpartition(-masked, n - 1)[:n]
    return part[np.argsort(-masked[part], kind="stable")].astype(np.int64)


# --- item-item ------------------------------------------------------------------------


@dataclass(eq=False)
class ItemItemSource:
    """score(j) = sum over the user's items i of x_ui * S_ij (S sparse, rows = i).

    Only the rows of the user's own items are read: their non-zero columns are the
    candidates, so a request touches history x neighbours cells, never the catalogue.
    """

    similarity: sparse.csr_matrix
    name: str = "item"

    def __post_init__(self) -> None:
        self.similarity = sparse.csr_matrix(self.similarity, dtype=np.float32)
        self.similarity.sum_duplicates()
        self._memo = _RowMemo()

    def _reached(self, row: sparse.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
        """(sorted items with a non-zero score, their scores) for the row."""
        return self._memo.get(row, lambda: self._accumulate(row))

    def _accumulate(self, row: sparse.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
        s = self.similarity
        return kernels.accumulate_rows(
            s.indptr, s.indices, s.data, row.indices, row.data.astype(np.float32)
        )

    def top(self, row: sparse.csr_matrix, n: int) -> np.ndarray:
        targets, values = self._reached(row)
        return targets[kernels.top_positive(values, n)]

    def scores(self, row: sparse.csr_matrix, items: np.ndarray) -> np.ndarray:
        targets, values = self._reached(row)
        return _lookup(targets, values, items)

    def because(self, row: sparse.csr_matrix, item: int) -> int | None:
        return self.because_many(row, np.array([item], dtype=np.int64))[0]

    def because_many(self, row: sparse.csr_matrix, items: np.ndarray) -> list[int | None]:
        """The history item contributing most to each item's score (None: no path)."""
        if row.nnz == 0:
            return [None] * len(items)
        history, weight = row.indices, row.data
        if not row.has_sorted_indices:
            order = np.argsort(history, kind="stable")
            history, weight = history[order], weight[order]
        s = self.similarity
        seeds = kernels.strongest_seeds(
            s.indptr, s.indices, s.data, np.asarray(items, dtype=np.int64), history, weight
        )
        return [int(seed) if seed >= 0 else None for seed in seeds.tolist()]


def _lookup(keys: np.ndarray, values: np.ndarray, items: np.ndarray) -> np.ndarray:
    """values[keys == item] for each item (0 where absent); ``keys`` sorted."""
    return kernels.lookup(
        np.asarray(keys, dtype=np.int64),
        np.asarray(values, dtype=np.float32),
        np.asarray(items, dtype=np.int64),
    )


# --- latent factors -------------------------------------------------------------------


class CollaborativeSource:
    """ALS factors with fold-in; inverted-file retrieval over the item factors when ``ann``.

    The index is built when the source is (a few seconds at 100k items, in the serving
    state's worker thread); ``probes`` overrides how many of its lists a query reads.
    """

    name = "cf"

    def __init__(self, model: FactorModel, *, ann: bool = True, probes: int | None = None) -> None:
        self.model = model
        self._items = model.item_factors32()
        self._index: InnerProductIndex | None = None
        self._probes = probes
        self._memo = _RowMemo()
        if ann and model.n_items > 2000:
            self._index = InnerProductIndex(self._items, probes=probes)

    @property
    def index(self) -> InnerProductIndex | None:
        return self._index

    def user_vector(self, row: sparse.csr_matrix) -> np.ndarray:
        """Fold-in of the row: confidences ``1 + alpha * x`` (x is already log-scaled)."""
        alpha = float(self.model.params.get("alpha", 1.0))
        return self._memo.get(
            row,
            lambda: self.model.fold_in(row.indices, 1.0 + alpha * row.data.astype(np.float64)),
        )

    def top(self, row: sparse.csr_matrix, n: int) -> np.ndarray:
        if row.nnz == 0:
            return np.empty(0, dtype=np.int64)
        vector = self.user_vector(row)
        if self._index is None:
            return _top_of(self._items @ vector, n)
        keys, _scores = self._index.search(vector, n)
        return keys

    def scores(self, row: sparse.csr_matrix, items: np.ndarray) -> np.ndarray:
        if row.nnz == 0:
            return np.zeros(len(items), dtype=np.float32)
        wanted = np.asarray(items, dtype=np.int64)
        return kernels.dot_rows(self._items, wanted, self.user_vector(row))

    def because(self, row: sparse.csr_matrix, item: int) -> int | None:
        return self.because_many(row, np.array([item], dtype=np.int64))[0]

    def because_many(self, row: sparse.csr_matrix, items: np.ndarray) -> list[int | None]:
        """The history item whose factors point most the way of each item's."""
        if row.nnz == 0:
            return [None] * len(items)
        seeds = kernels.closest_in_direction(
            self._items, row.indices, np.asarray(items, dtype=np.int64)
        )
        return seeds.tolist()


# --- content, popularity, freshness ---------------------------------------------------


class ContentSource:
    """Cosine between the user's content vector and each item's (rows of ``vectors``).

    ``vectors`` is (items x d), sparse (tag tf-idf) or dense (audio embeddings); items
    without content have an all-zero row and never score.
    """

    def __init__(
        self,
        vectors: sparse.spmatrix | np.ndarray,
        name: str = "content",
        *,
        ann_above: int = 20_000,
    ) -> None:
        self.name = name
        if sparse.issparse(vectors):
            self._unit: sparse.csr_matrix | np.ndarray = unit_rows(vectors)
        else:
            dense = np.asarray(vectors, dtype=np.float32)
            norms = np.linalg.norm(dense, axis=1, keepdims=True)
            self._unit = np.divide(dense, norms, out=np.zeros_like(dense), where=norms > 0)
        self._memo = _RowMemo()
        self._scores_memo = _RowMemo()
        self._index: InnerProductIndex | None = None
        if isinstance(self._unit, np.ndarray) and len(self._unit) > ann_above:
            # Inner product on unit rows is the cosine; zero rows (no content) stay out.
            self._index = InnerProductIndex(self._unit)

    @property
    def index(self) -> InnerProductIndex | None:
        """The index over the unit rows (dense content above ``ann_above`` items)."""
        return self._index

    def profile(self, row: sparse.csr_matrix) -> np.ndarray:
        return self._memo.get(row, lambda: self._profile(row))

    def _profile(self, row: sparse.csr_matrix) -> np.ndarray:
        if isinstance(self._unit, np.ndarray):  # the history's rows only
            vector = kernels.weighted_row_sum(self._unit, row.indices, row.data.astype(np.float32))
        else:
            vector = np.asarray((row @ self._unit).toarray()).ravel()
        norm = float(np.linalg.norm(vector))
        return (vector / norm).astype(np.float32) if norm > 0 else vector.astype(np.float32)

    def _all(self, row: sparse.csr_matrix) -> np.ndarray:
        return np.asarray(self._unit @ self.profile(row)).ravel()

    def top(self, row: sparse.csr_matrix, n: int) -> np.ndarray:
        if row.nnz == 0:
            return np.empty(0, dtype=np.int64)
        profile = self.profile(row)
        if self._index is not None and np.any(profile):
            keys, values = self._index.search(profile, n)
            return keys[values > 0]
        values = self._all(row)
        return _top_of(np.where(values > 0, values, -np.inf), n)

    def scores(self, row: sparse.csr_matrix, items: np.ndarray) -> np.ndarray:
        if row.nnz == 0:
            return np.zeros(len(items), dtype=np.float32)
        # The engine asks this source and popularity (content affinity) about the same
        # candidate array in one request: the second ask is free.
        last = self._scores_memo.get(row, lambda: [None, None])
        if last[0] is items:
            return last[1]
        if isinstance(self._unit, np.ndarray):
            wanted = np.asarray(items, dtype=np.int64)
            values = kernels.dot_rows(self._unit, wanted, self.profile(row))
        else:
            values = np.asarray(self._unit[items] @ self.profile(row)).ravel()
        last[0], last[1] = items, values
        return values

    def rows(self, items: np.ndarray) -> sparse.csr_matrix | np.ndarray:
        """The unit content rows of ``items`` as one contiguous block (sparse or dense)."""
        if isinstance(self._unit, np.ndarray):
            return np.ascontiguousarray(self._unit[items])
        return sparse.csr_matrix(self._unit[items])

    def because(self, row: sparse.csr_matrix, item: int) -> int | None:
        if row.nnz == 0:
            return None
        product = self._unit[row.indices] @ self._unit[item].T
        similarity = (
            product.toarray() if sparse.issparse(product) else np.asarray(product)
        ).ravel()
        best = int(np.argmax(similarity))
        return int(row.indices[best]) if similarity[best] > 0 else None

    def affinity(self, row: sparse.csr_matrix, items: np.ndarray) -> np.ndarray:
        """Cosine of the user's content vector with ``items`` (0 for a new user)."""
        return self.scores(row, items)


class PopularitySource:
    """log(1 + listeners); with ``content``, weighted by the user's content affinity
    ("popular in your genres") once the user has a history."""

    name = "popularity"

    def __init__(self, listeners: np.ndarray, content: ContentSource | None = None) -> None:
        self.listeners = np.asarray(listeners, dtype=np.float64)
        self._log = np.log1p(self.listeners).astype(np.float32)
        self._order = _top_of(self._log.astype(np.float64), len(self._log))
        self.content = content
        self._heads: dict[int, tuple[np.ndarray, np.ndarray, Any]] = {}

    def _head(self, size: int, content: ContentSource) -> tuple[np.ndarray, np.ndarray, Any]:
        """The ``size`` most popular items, their log counts and content rows (one block,
        so a request reads it sequentially, not item by item), kept once computed."""
        head = self._heads.get(size)
        if head is None:
            items = self._order[:size]
            head = self._heads[size] = (items, self._log[items], content.rows(items))
        return head

    def top(self, row: sparse.csr_matrix, n: int) -> np.ndarray:
        if self.content is None or row.nnz == 0:
            return self._order[:n]
        # "Popular in your genres": the head of the popularity order, by content affinity.
        pool, logs, vectors = self._head(max(20 * n, 2000), self.content)
        affinity = np.asarray(vectors @ self.content.profile(row)).ravel()
        values = logs * np.maximum(affinity, 0.0)
        # Most of the head is outside the user's genres (0): rank the rest; the zeros
        # (in popularity order) only when too few are left.
        best = kernels.top_k(values, n, True)
        return pool[best if len(best) == n else kernels.top_k(values, n, False)]

    def scores(self, row: sparse.csr_matrix, items: np.ndarray) -> np.ndarray:
        base = self._log[items]
        if self.content is None or row.nnz == 0:
            return base
        return base * np.maximum(self.content.affinity(row, items), 0.0)

    def because(self, row: sparse.csr_matrix, item: int) -> int | None:
        return None


class FreshnessSource:
    """exp(-age / half_life) of items added recently (``added`` in epoch seconds)."""

    name = "fresh"

    def __init__(self, added: np.ndarray, now: float, half_life_days: float = 14.0) -> None:
        age_days = np.maximum(now - np.asarray(added, dtype=np.float64), 0.0) / 86400.0
        self._values = np.where(
            np.isfinite(age_days), np.exp(-age_days * np.log(2) / half_life_days), 0.0
        ).astype(np.float32)
        self._order = _top_of(self._values.astype(np.float64), len(self._values))

    def top(self, row: sparse.csr_matrix, n: int) -> np.ndarray:
        return self._order[:n]

    def scores(self, row: sparse.csr_matrix, items: np.ndarray) -> np.ndarray:
        return self._values[items]

    def because(self, row: sparse.csr_matrix, item: int) -> int | None:
        return None
