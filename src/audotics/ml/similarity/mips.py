"""Maximum-inner-product search by an inverted file (IVF): k-means lists, exact scores inside.

Why not HNSW for the CF candidates (``docs/adr/0007-hybrid-recommender.md``): under the
inner-product metric HNSW on ALS item factors reached recall@100 0.83 of the exact top
100 at connectivity 32 / expansion 1024 (0.56 at 16 / 512 even without the zero rows),
a 100k-item build took minutes, and half the items of the generated 100k catalogue have
all-zero factors (never played), on which an inner-product graph has no neighbourhoods.
This index instead

* leaves zero rows out (they score 0 for every query, so they never beat a positive
  score and carry no ranking information);
* clusters the rest with k-means (``lists`` centroids, BLAS products only, a few
  seconds at 100k);
* for a query, scores the centroids, probes the ``probes`` lists whose centroid has the
  largest inner product with the query, and scores every vector in them exactly.

The results are exact inner products, best first; only membership is approximate.
Ranking lists by ``q . c`` works for inner product as well as for cosine because
``q . x = q . c + q . (x - c)`` and k-means keeps ``x - c`` small. The lists are stored
contiguously, so a query reads ``probes / lists`` of the vectors and allocates nothing
catalogue-sized. On unit rows the inner product is the cosine, which is how the
content source uses it.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from audotics.ml.kernels import top_k


def kmeans(
    vectors: np.ndarray, k: int, *, iterations: int = 12, sample: int = 32, seed: int = 0
) -> np.ndarray:
    """``k`` centroids of ``vectors`` (Lloyd's algorithm on at most ``sample * k`` rows)."""
    rng = np.random.default_rng(seed)
    count = min(len(vectors), sample * k)
    points = vectors[np.sort(rng.choice(len(vectors), count, replace=False))]
    centroids = points[rng.choice(count, k, replace=False)].copy()
    for _ in range(iterations):
        label = nearest_centroid(points, centroids)
        sizes = np.bincount(label, minlength=k)
        sums = np.zeros_like(centroids)
        np.add.at(sums, label, points)
        filled = sizes > 0
        centroids[filled] = sums[filled] / sizes[filled, None]
        # An empty list restarts at a random point rather than wasting a centroid.
        centroids[~filled] = points[rng.choice(count, int((~filled).sum()))]
    return centroids


def nearest_centroid(vectors: np.ndarray, centroids: np.ndarray, batch: int = 16384) -> np.ndarray:
    """Index of the closest centroid (Euclidean) of each row, in BLAS-sized batches."""
    half_norms = 0.5 * np.einsum("ij,ij->i", centroids, centroids)
    out = np.empty(len(vectors), dtype=np.int64)
    for start in range(0, len(vectors), batch):
        block = vectors[start : start + batch]
        out[start : start + batch] = np.argmax(block @ centroids.T - half_norms, axis=1)
    return out


class InnerProductIndex:
    """IVF over the non-zero rows of ``vectors``; keys are row indices (see the module doc).

    ``lists`` defaults to ``4 * sqrt(rows)``, ``probes`` to a thirty-second of the lists (at
    least 16): recall@100 0.989 of the exact top 100 on the ALS factors of
    ``python -m bench recommend_latency`` (100k generated tracks, 48k non-zero rows),
    reading about 3 % of them (a sixteenth: 0.992 at twice the reads; ADR 0007). Data
    without cluster structure (random Gaussian vectors) needs far more probes for the
    same recall.
    Immutable once built; safe to query from many threads.
    """

    def __init__(
        self,
        vectors: np.ndarray,
        *,
        lists: int | None = None,
        probes: int | None = None,
        seed: int = 0,
    ) -> None:
        matrix = np.ascontiguousarray(vectors, dtype=np.float32)
        if matrix.ndim != 2:
            raise ValueError(f"expected vectors of shape (n, dim), got {matrix.shape}")
        self.dim = int(matrix.shape[1])
        keys = np.flatnonzero(np.einsum("ij,ij->i", matrix, matrix) > 0)
        rows = matrix[keys]
        n_lists = lists or max(1, round(4 * math.sqrt(len(keys))))
        n_lists = max(1, min(n_lists, len(keys)))
        self.lists = n_lists
        self.probes = max(1, min(n_lists, probes or max(16, math.ceil(n_lists / 32))))
        if len(keys) == 0:
            self.centroids = np.zeros((0, self.dim), dtype=np.float32)
            self._vectors = rows
            self._keys = keys.astype(np.int64)
            self._starts = np.zeros(1, dtype=np.int64)
            return
        self.centroids = kmeans(rows, n_lists, seed=seed).astype(np.float32)
        label = nearest_centroid(rows, self.centroids)
        order = np.argsort(label, kind="stable")
        self._vectors = np.ascontiguousarray(rows[order])
        self._keys = keys[order].astype(np.int64)
        self._starts = np.searchsorted(label[order], np.arange(n_lists + 1)).astype(np.int64)

    def __len__(self) -> int:
        return len(self._keys)

    def search(
        self, query: np.ndarray, k: int, probes: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(keys, exact inner products) of the ``k`` best rows among the probed lists, best
        first. Probes more lists when those probed hold fewer than ``k`` rows."""
        if k <= 0 or len(self._keys) == 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        q = np.asarray(query, dtype=np.float32).ravel()
        if q.shape[0] != self.dim:
            raise ValueError(f"query has dim {q.shape[0]}, the index {self.dim}")
        wanted = min(max(probes or self.probes, 1), self.lists)
        rows, scores = _probe(self.centroids, self._vectors, self._starts, q, k, wanted)
        return self._keys[rows], scores


@numba.njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})  # SIMD dot products
def _probe(
    centroids: np.ndarray,
    vectors: np.ndarray,
    starts: np.ndarray,
    q: np.ndarray,
    k: int,
    wanted: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The search's inner loop, compiled: a query is a few thousand short dot products
    and two partial sorts, which as NumPy calls cost more in dispatch and in gathering
    the probed rows into a copy than in arithmetic (ADR 0007, latency)."""
    n_lists = centroids.shape[0]
    dim = q.shape[0]
    affinity = np.empty(n_lists, dtype=np.float32)
    for c in range(n_lists):
        near = np.float32(0.0)
        for d in range(dim):
            near += centroids[c, d] * q[d]
        affinity[c] = near
    limit = min(k, int(starts[n_lists]))
    chosen = top_k(affinity, wanted, False)
    count = 0
    for c in chosen:
        count += starts[c + 1] - starts[c]
    if count < limit:  # small lists: widen in centroid order
        by_centroid = top_k(affinity, n_lists, False)
        count = 0
        reach = 0
        while reach < n_lists and count < limit:
            count += starts[by_centroid[reach] + 1] - starts[by_centroid[reach]]
            reach += 1
        chosen = by_centroid[:reach]
    rows = np.empty(count, dtype=np.int64)
    scores = np.empty(count, dtype=np.float32)
    n = 0
    for c in chosen:
        for r in range(starts[c], starts[c + 1]):
            total = np.float32(0.0)
            for d in range(dim):
                total += vectors[r, d] * q[d]
            rows[n] = r
            scores[n] = total
            n += 1
    best = top_k(scores, k, False)
    return rows[best], scores[best]


def concat_ranges(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The concatenation of ``arange(s, e)`` for each pair, without a Python loop."""
    sizes = ends - starts
    total = int(sizes.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    offsets = np.cumsum(sizes) - sizes
    return np.repeat(starts - offsets, sizes) + np.arange(total, dtype=np.int64)
