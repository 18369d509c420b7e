"""Seeded recommendations: tracks around one item (similar tracks, radio) and the daily mix.

Pure computation over arrays and plain keys, beside the personal engine
(:mod:`audotics.ml.recommend.engine`), whose public pieces it reuses:

* **Neighbours of a seed** -- each *side* scores candidates against the seed: its
  sound embedding (cosine), its CF item factors (cosine of the factor rows) and its
  co-listening row (the cosine kNN matrix of listener columns). :func:`blend_sides`
  sums the sides with weights; the explanation is the side with the largest weighted
  contribution. :func:`listening_share` is how much the listening sides count for a
  seed with ``listeners`` listeners: nothing for a track nobody played yet (the cold
  start of a new track is sound alone), half at :data:`HALF_LISTENERS`.
* **Personal scores** on any candidate set -- the engine's sources, standardised per
  source and weighted for the history size as the engine does (:func:`personal_scores`).
* **Daily mix** -- :func:`daily_mix` interleaves a share of familiar tracks the user
  loves (drawn by engagement) with discoveries (drawn by rank), from a seeded
  generator, so a given seed (user, UTC day) always gives the same list.
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np
from scipy import sparse

from audotics.ml import kernels
from audotics.ml.recommend.engine import RecommendationEngine
from audotics.ml.similarity.mips import InnerProductIndex

K = TypeVar("K", bound=Hashable)

HALF_LISTENERS = 3.0  # listeners at which co-listening and CF weigh as much as sound
ANN_ABOVE = 20_000  # rows from which a side's nearest come from an index, not a scan


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (zero rows stay zero)."""
    dense = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(dense, axis=1, keepdims=True)
    return np.divide(dense, norms, out=np.zeros_like(dense), where=norms > 0)


def has_vector(vectors: np.ndarray, item: int) -> bool:
    return bool(0 <= item < len(vectors) and np.any(vectors[item]))


def cosine_scores(unit: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Cosine of every unit row with ``query`` (any length; 0 for zero rows)."""
    norm = float(np.linalg.norm(query))
    if norm <= 0 or unit.shape[0] == 0 or unit.shape[1] != query.shape[0]:
        return np.zeros(unit.shape[0], dtype=np.float32)
    return np.asarray(unit @ (np.asarray(query, dtype=np.float32) / norm)).ravel()


def top_items(
    values: np.ndarray, n: int, *, exclude: Sequence[int] = (), positive: bool = True
) -> list[tuple[int, float]]:
    """The ``n`` best (index, value) pairs, best first, without ``exclude``."""
    masked = np.asarray(values, dtype=np.float64).copy()
    if len(exclude):
        masked[np.asarray(exclude, dtype=np.int64)] = -np.inf
    if positive:
        masked[masked <= 0] = -np.inf
    finite = np.isfinite(masked)
    n = min(n, int(finite.sum()))
    if n <= 0:
        return []
    part = np.argpartition(-np.where(finite, masked, -np.inf), n - 1)[:n]
    order = part[np.argsort(-masked[part], kind="stable")]
    return [(int(i), float(masked[i])) for i in order]


class UnitNeighbours:
    """Cosine neighbours among unit rows (a seed side: CF factors, sound embeddings).

    ``nearest`` reads an inverted-file index (:class:`InnerProductIndex`; on unit rows
    the inner product is the cosine) once there are more than ``ann_above`` rows, so a
    similar-tracks request no longer scans the catalogue (a 100k x 64 product and a
    100k partial sort per side); below that it scans, exactly. ``scores`` is exact for
    any items (the blend fills in every candidate's score on every side). ``index``
    shares one already built over the same unit rows (the engine's content source).
    """

    def __init__(
        self,
        unit: np.ndarray,
        *,
        ann_above: int = ANN_ABOVE,
        index: InnerProductIndex | None = None,
    ) -> None:
        self.unit = np.ascontiguousarray(unit, dtype=np.float32)
        self.index = index
        if self.index is None and len(self.unit) > ann_above and self.unit.any():
            self.index = InnerProductIndex(self.unit)

    def __len__(self) -> int:
        return len(self.unit)

    def has(self, item: int) -> bool:
        return has_vector(self.unit, item)

    def _query(self, query: np.ndarray) -> np.ndarray | None:
        q = np.asarray(query, dtype=np.float32).ravel()
        norm = float(np.linalg.norm(q))
        if norm <= 0 or self.unit.shape[0] == 0 or self.unit.shape[1] != q.shape[0]:
            return None
        return q / norm

    def nearest(
        self, query: np.ndarray, n: int, *, exclude: Sequence[int] = ()
    ) -> list[tuple[int, float]]:
        """The ``n`` rows of largest positive cosine with ``query``, best first, without
        ``exclude``."""
        q = self._query(query)
        if q is None or n <= 0:
            return []
        if self.index is None:
            return top_items(np.asarray(self.unit @ q).ravel(), n, exclude=exclude)
        banned = set(int(i) for i in exclude)
        keys, values = self.index.search(q, n + len(banned))
        found = [
            (int(k), float(v))
            for k, v in zip(keys.tolist(), values.tolist(), strict=True)
            if v > 0 and k not in banned
        ]
        return found[:n]

    def scores(self, query: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Exact cosine of ``query`` with each of ``items`` (0 for a zero query)."""
        wanted = np.asarray(items, dtype=np.int64)
        q = self._query(query)
        if q is None:
            return np.zeros(len(wanted), dtype=np.float32)
        return kernels.dot_rows(self.unit, wanted, q)


def sparse_row(matrix: sparse.csr_matrix, item: int) -> dict[int, float]:
    """The stored entries of one row of a sparse similarity matrix."""
    start, end = matrix.indptr[item], matrix.indptr[item + 1]
    return {
        int(j): float(v)
        for j, v in zip(matrix.indices[start:end], matrix.data[start:end], strict=True)
        if v > 0
    }


def listening_share(listeners: float, half: float = HALF_LISTENERS) -> float:
    """Weight of the listening sides for a seed with ``listeners`` listeners, in [0, 1)."""
    return listeners / (listeners + half) if listeners > 0 else 0.0


@dataclass(frozen=True)
class Blended(Generic[K]):
    key: K
    score: float
    kind: str  # the side with the largest weighted contribution
    contributions: dict[str, float]


def blend_sides(
    sides: Mapping[str, Mapping[K, float]], weights: Mapping[str, float], limit: int | None = None
) -> list[Blended[K]]:
    """Weighted sum of each side's scores over the union of their candidates, best first.

    A candidate a side did not score counts 0 there: every side is a cosine, and its
    lists hold the strongest neighbours, so absent means unrelated. Ties keep the
    order the candidates were first met in. ``limit``: only the best that many.
    """
    names = [name for name in sides if weights.get(name, 0.0) > 0]
    keys: list[K] = list(dict.fromkeys(key for name in names for key in sides[name]))
    if not keys:
        return []
    w = np.array([weights[name] for name in names], dtype=np.float64)
    share = w[:, None] * np.array(
        [[sides[name].get(key, 0.0) for key in keys] for name in names], dtype=np.float64
    )
    total = share.sum(axis=0)
    best = np.argmax(share, axis=0)
    order = np.argsort(-total, kind="stable")[:limit]
    return [
        Blended(
            keys[i],
            float(total[i]),
            names[int(best[i])],
            {name: float(share[j, i]) for j, name in enumerate(names)},
        )
        for i in order
    ]


def standardise(values: np.ndarray) -> np.ndarray:
    """z-scores (zeros when the values do not vary)."""
    values = np.nan_to_num(np.asarray(values, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    std = float(values.std()) if len(values) else 0.0
    if std <= 1e-12:
        return np.zeros_like(values)
    return (values - float(values.mean())) / std


def personal_scores(
    engine: RecommendationEngine, row: sparse.csr_matrix, items: np.ndarray
) -> tuple[np.ndarray, list[str]]:
    """The engine's blend on ``items`` (not its own candidate set), and per item the
    source that contributed most: standardised per source, weighted for the history."""
    items = np.asarray(items, dtype=np.int64)
    if len(items) == 0:
        return np.zeros(0), []
    weights = engine.weights.for_history(int(row.nnz))
    names = [name for name in engine.sources if weights.get(name, 0.0) > 0]
    if not names:
        return np.zeros(len(items)), ["popularity"] * len(items)
    contributions = np.stack(
        [weights[name] * standardise(engine.sources[name].scores(row, items)) for name in names]
    )
    best = np.argmax(contributions, axis=0)
    return contributions.sum(axis=0), [names[int(i)] for i in best]


def day_generator(*parts: str) -> np.random.Generator:
    """A generator seeded from text (e.g. the user id and the UTC date): same parts, same
    draws, in every process (no use of Python's salted ``hash``)."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def weighted_draw(
    keys: Sequence[K], weights: Sequence[float], n: int, rng: np.random.Generator
) -> list[K]:
    """``n`` distinct keys drawn with probability proportional to ``weights`` (> 0)."""
    w = np.asarray(weights, dtype=np.float64)
    keep = np.flatnonzero(w > 0)
    n = min(n, len(keep))
    if n <= 0:
        return []
    chosen = rng.choice(keep, size=n, replace=False, p=w[keep] / w[keep].sum())
    return [keys[int(i)] for i in chosen]


def daily_mix(
    familiar: Sequence[K],
    familiar_weights: Sequence[float],
    discoveries: Sequence[K],
    n: int,
    *,
    familiar_share: float,
    rng: np.random.Generator,
) -> list[tuple[K, bool]]:
    """``n`` keys: about ``familiar_share`` of them familiar (drawn by weight), the rest
    discoveries (drawn favouring the better ranked: weight 1/sqrt(rank + 1)), familiar
    ones spread evenly through the list. Each key is paired with whether it is familiar.
    A short side is made up from the other."""
    wanted = min(round(n * familiar_share), len(familiar))
    known = weighted_draw(familiar, familiar_weights, wanted, rng)
    taken = set(known)
    fresh_pool = [key for key in discoveries if key not in taken]
    rank_weights = 1.0 / np.sqrt(np.arange(len(fresh_pool)) + 1.0)
    fresh = weighted_draw(fresh_pool, rank_weights, n - len(known), rng)
    rank = {key: i for i, key in enumerate(fresh_pool)}
    fresh.sort(key=rank.__getitem__)  # keep the better ranked first
    if len(known) + len(fresh) < n:  # few discoveries: more favourites
        rest = [(key, w) for key, w in zip(familiar, familiar_weights, strict=True)]
        rest = [(key, w) for key, w in rest if key not in taken]
        known += weighted_draw(
            [key for key, _ in rest], [w for _, w in rest], n - len(known) - len(fresh), rng
        )
    total = len(known) + len(fresh)
    # floor((i + 0.5) * total / k) for i < k: k distinct slots spread evenly over the list.
    slots = {int((i + 0.5) * total / len(known)) for i in range(len(known))} if known else set()
    known_iter, fresh_iter = iter(known), iter(fresh)
    return [
        (next(known_iter), True) if position in slots else (next(fresh_iter), False)
        for position in range(total)
    ]
