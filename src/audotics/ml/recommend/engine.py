"""The hybrid recommendation engine: retrieve, blend, re-rank, explain.

For one user history row (see :mod:`audotics.ml.recommend.sources`):

1. **Retrieve**: every source proposes its ``retrieve`` best items; the union,
   minus the user's own items and any excluded ones (recently played, disliked),
   is the candidate set (a few hundred items whatever the catalogue size, which is
   what keeps a request in milliseconds at 100k tracks).
2. **Blend**: each source scores every candidate; scores are standardised per
   source over the candidates (z-scores, so no source wins by its scale) and summed
   with weights that adapt to the history size ``n`` (distinct positive items)::

       h = n / (n + half_history)
       w_cf = cf * h      w_item = item * h      w_knn = knn * h     w_graph = graph * h
       w_content = content
       w_popularity = popularity * (1 - h)       w_fresh = fresh    w_social = social

   A brand-new user (n = 0) gets popularity (and fresh items) only; after three
   plays content and the first collaborative evidence join; a heavy user is ranked
   almost entirely by CF and co-listening. The social source ("popular with people
   you follow", :mod:`audotics.ml.recommend.social`) is bound to one user, so it is
   passed per request (``per_request``) rather than held by the engine. The base
   weights are tuned offline on a validation split (:mod:`audotics.ml.evaluate.hybrid`),
   never on test data.
3. **Re-rank**: maximal marginal relevance (Carbonell & Goldstein 1998) trades the
   blended score against similarity to the items already chosen, with
   ``diversity`` in [0, 1] (0 = pure relevance), and at most ``max_per_artist``
   items per artist.
4. **Explain**: each item carries the source with the largest weighted
   contribution and, where it has one, the history item (or followed user) behind it;
   the people you follow are named only for items one of them plays.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from scipy import sparse

from audotics.ml import kernels
from audotics.ml.recommend.social import SocialSource
from audotics.ml.recommend.sources import Source

SOURCE_NAMES: tuple[str, ...] = (
    "cf",
    "item",
    "knn",
    "graph",
    "content",
    "popularity",
    "fresh",
    "social",
)


@dataclass(frozen=True)
class BlendWeights:
    cf: float = 1.0
    item: float = 1.0
    knn: float = 0.0
    graph: float = 0.0  # RP3beta item graph (neighbours.rp3beta_neighbours), co-listening too
    content: float = 0.3
    popularity: float = 0.3
    fresh: float = 0.0
    social: float = 0.0  # people the user follows: independent of their own history
    half_history: float = 5.0  # distinct items at which history sources reach half weight

    def for_history(self, n_items: int) -> dict[str, float]:
        h = n_items / (n_items + self.half_history) if self.half_history > 0 else 1.0
        return {
            "cf": self.cf * h,
            "item": self.item * h,
            "knn": self.knn * h,
            "graph": self.graph * h,
            "content": self.content if n_items > 0 else 0.0,
            "popularity": self.popularity * (1.0 - h),
            "fresh": self.fresh,
            "social": self.social,
        }

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass(frozen=True)
class Explanation:
    kind: str  # the source that contributed most: one of SOURCE_NAMES
    seed_item: int | None = None  # the history item behind it, when there is one
    seed_user: int | None = None  # the followed user behind a "social" item


@dataclass(frozen=True)
class Recommendation:
    item: int
    score: float
    explanation: Explanation
    contributions: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class Candidates:
    """The candidate set of one user and each source's standardised scores on it."""

    items: np.ndarray  # (c,) item indices
    z: np.ndarray  # (len(sources), c) z-scores
    sources: tuple[str, ...]
    n_history: int

    def blend(self, weights: BlendWeights) -> tuple[np.ndarray, np.ndarray]:
        """(blended scores (c,), weighted contributions (len(sources), c))."""
        per_source = weights.for_history(self.n_history)
        w = np.array([per_source[name] for name in self.sources], dtype=np.float32)
        contributions = self.z * w[:, None]
        return contributions.sum(axis=0), contributions


class RecommendationEngine:
    """Sources + weights + re-ranking over one item space (see the module docstring).

    ``item_artist`` (artist index per item, -1 unknown) drives the artist cap;
    ``item_vectors`` (items x d, unit rows) the MMR similarity.
    """

    def __init__(
        self,
        sources: Sequence[Source],
        weights: BlendWeights | None = None,
        *,
        n_items: int,
        item_artist: np.ndarray | None = None,
        item_vectors: np.ndarray | None = None,
        retrieve: int = 200,
        retrieve_of: dict[str, int] | None = None,
    ) -> None:
        _check_names(sources)
        self.sources = {source.name: source for source in sources}
        self.weights = weights or BlendWeights()
        self.n_items = n_items
        self.item_artist = item_artist
        self.item_vectors = item_vectors
        self.retrieve = retrieve
        self.retrieve_of = dict(retrieve_of or {})  # per-source overrides of ``retrieve``

    # --- the history row ----------------------------------------------------------------

    def history_row(
        self, items: Iterable[int], weights: Iterable[float] | None = None
    ) -> sparse.csr_matrix:
        """A (1 x n_items) row ``log1p(w)`` from item indices and net weights (default 1
        each; duplicates add up; cells with w <= 0 are dropped).

        Built from its three CSR arrays directly: the COO route (convert, sum
        duplicates, eliminate zeros) costs a few hundred microseconds of every request."""
        index = np.fromiter(items, dtype=np.int64)
        values = np.ones(len(index)) if weights is None else np.fromiter(weights, dtype=np.float64)
        if len(values) != len(index):
            raise ValueError(f"{len(index)} items but {len(values)} weights")
        if len(index) and (int(index.min()) < 0 or int(index.max()) >= self.n_items):
            raise ValueError(f"item indices must lie in [0, {self.n_items})")
        order = np.argsort(index, kind="stable")
        index, values = index[order], values[order]
        columns, first = np.unique(index, return_index=True)
        totals = np.add.reduceat(values, first) if len(first) else values
        positive = totals > 0
        data = np.log1p(totals[positive]).astype(np.float32)
        return sparse.csr_matrix(
            (data, columns[positive].astype(np.int32), np.array([0, len(data)], dtype=np.int32)),
            shape=(1, self.n_items),
        )

    # --- retrieve + blend ----------------------------------------------------------------

    def candidates(
        self,
        row: sparse.csr_matrix,
        exclude: Iterable[int] = (),
        retrieve: int | None = None,
        *,
        per_request: Sequence[Source] = (),
    ) -> Candidates:
        """``per_request``: sources bound to this request's user (the social source) that
        join the engine's own for this call only."""
        return self._candidates(row, exclude, retrieve, self._with(per_request))

    def _candidates(
        self,
        row: sparse.csr_matrix,
        exclude: Iterable[int],
        retrieve: int | None,
        sources: dict[str, Source],
    ) -> Candidates:
        per_source = retrieve or self.retrieve
        found = [
            source.top(row, self.retrieve_of.get(name, per_source))
            for name, source in sources.items()
        ]
        banned = np.fromiter(exclude, dtype=np.int64)
        history = row.indices.astype(np.int64)
        banned = np.union1d(history, banned) if len(banned) else np.sort(history)
        found_all = np.concatenate(found) if found else np.empty(0, dtype=np.int64)
        # Sorted, so later lookups (explanations) are binary searches; nothing catalogue-sized.
        pool = kernels.union_excluding(found_all.astype(np.int64, copy=False), banned)
        names = tuple(sources)
        raw = np.zeros((len(names), len(pool)), dtype=np.float32)
        if len(pool):
            for position, name in enumerate(names):
                raw[position] = sources[name].scores(row, pool)
        z = kernels.standardise_rows(raw)
        return Candidates(items=pool, z=z, sources=names, n_history=int(row.nnz))

    def _with(self, per_request: Sequence[Source]) -> dict[str, Source]:
        if not per_request:
            return self.sources
        _check_names(per_request)
        return {**self.sources, **{source.name: source for source in per_request}}

    def recommend(
        self,
        row: sparse.csr_matrix,
        n: int = 10,
        *,
        exclude: Iterable[int] = (),
        diversity: float = 0.0,
        max_per_artist: int | None = None,
        weights: BlendWeights | None = None,
        per_request: Sequence[Source] = (),
    ) -> list[Recommendation]:
        sources = self._with(per_request)
        found = self._candidates(row, exclude, None, sources)
        if len(found.items) == 0:
            return []
        blended, contributions = found.blend(weights or self.weights)
        chosen = rerank(
            found.items,
            blended,
            n,
            diversity=diversity,
            vectors=self.item_vectors,
            item_artist=self.item_artist,
            max_per_artist=max_per_artist,
        )
        # found.items is sorted (kernels.union_excluding), so a lookup is a binary search.
        positions = np.searchsorted(found.items, np.asarray(chosen, dtype=np.int64)).tolist()
        page = contributions[:, positions]
        shares = [dict(zip(found.sources, column, strict=True)) for column in page.T.tolist()]
        explanations = _explain_all(sources, row, chosen, found.sources, page)
        scores = blended[positions].tolist()
        return [
            Recommendation(item=item, score=score, explanation=why, contributions=share)
            for item, score, why, share in zip(chosen, scores, explanations, shares, strict=True)
        ]

    def explain(self, row: sparse.csr_matrix, item: int, share: dict[str, float]) -> Explanation:
        return _explain(self.sources, row, item, share)

    def describe(self) -> dict[str, Any]:
        return {
            "sources": list(self.sources),
            "weights": self.weights.to_dict(),
            "retrieve": self.retrieve,
        }


def _check_names(sources: Sequence[Source]) -> None:
    unknown = [s.name for s in sources if s.name not in SOURCE_NAMES]
    if unknown:
        raise ValueError(f"unknown source names {unknown}; expected {SOURCE_NAMES}")


def _kinds(n_history: int, names: Sequence[str], page: np.ndarray) -> list[str]:
    """Per column of ``page`` (sources x items, weighted contributions): the source with
    the largest contribution (the first of equals); with no history, popularity or
    fresh, whichever adds more (the social source keeps its place)."""
    if len(names) == 0:
        return ["popularity"] * page.shape[1]
    kinds = [names[i] for i in np.argmax(page, axis=0).tolist()]
    if n_history == 0:
        where = {name: i for i, name in enumerate(names)}
        fresh = page[where["fresh"]] if "fresh" in where else np.zeros(page.shape[1])
        popular = page[where["popularity"]] if "popularity" in where else np.zeros(page.shape[1])
        kinds = [
            kind if kind == "social" else ("fresh" if f > p else "popularity")
            for kind, f, p in zip(kinds, fresh.tolist(), popular.tolist(), strict=True)
        ]
    return kinds


def _explain(
    sources: dict[str, Source], row: sparse.csr_matrix, item: int, share: dict[str, float]
) -> Explanation:
    """The source with the largest weighted contribution, and who or what stands behind it."""
    names = tuple(share)
    page = np.array([[share[name]] for name in names], dtype=np.float64).reshape(len(names), 1)
    return _explain_all(sources, row, [item], names, page)[0]


def _explain_all(
    sources: dict[str, Source],
    row: sparse.csr_matrix,
    items: Sequence[int],
    names: Sequence[str],
    page: np.ndarray,
) -> list[Explanation]:
    """:func:`_explain` for a page of items (``page``: their contributions, one row per
    source in ``names``), asking each source once for all of its items (``because_many``
    where a source has it: one product instead of one per item)."""
    n_history = int(row.nnz)
    kinds = _kinds(n_history, names, page)
    out: list[Explanation | None] = [None] * len(items)
    for i, kind in enumerate(kinds):
        source = sources.get(kind)
        if isinstance(source, SocialSource):
            friend = source.friend(items[i])
            if friend is not None:
                out[i] = Explanation(kind=kind, seed_user=friend)
            else:  # nobody followed plays it: the reason is among the other sources
                others = [k for k, name in enumerate(names) if name != kind]
                rest = [names[k] for k in others]
                kinds[i] = _kinds(n_history, rest, page[others, i : i + 1])[0]
    for kind in dict.fromkeys(k for i, k in enumerate(kinds) if out[i] is None):
        at = [i for i, k in enumerate(kinds) if k == kind and out[i] is None]
        source = sources.get(kind)
        mine = [items[i] for i in at]
        many = getattr(source, "because_many", None)
        if source is None:
            seeds: list[int | None] = [None] * len(at)
        elif many is not None:
            seeds = many(row, np.asarray(mine, dtype=np.int64))
        else:
            seeds = [source.because(row, item) for item in mine]
        for i, seed in zip(at, seeds, strict=True):
            out[i] = Explanation(kind=kind, seed_item=seed)
    return [why for why in out if why is not None]


def rerank(
    items: np.ndarray,
    scores: np.ndarray,
    n: int,
    *,
    diversity: float = 0.0,
    vectors: np.ndarray | None = None,
    item_artist: np.ndarray | None = None,
    max_per_artist: int | None = None,
) -> list[int]:
    """Greedy MMR over the candidates: pick argmax of
    ``(1 - diversity) * relevance - diversity * max similarity to the chosen``, relevance
    being the blended score rescaled to [0, 1]; skip items over the artist cap."""
    if diversity <= 0 or vectors is None:
        # The artist cap rarely reaches past the best few n: rank those, the rest on demand.
        head = kernels.top_k(scores, min(len(scores), 4 * n), False)
        capped = _artist_capped(items[head].tolist(), n, item_artist, max_per_artist)
        if len(capped) == n or len(head) == len(scores):
            return capped
        order = np.argsort(-scores, kind="stable")
        return _artist_capped(items[order].tolist(), n, item_artist, max_per_artist)
    order = np.argsort(-scores, kind="stable")
    pool = order[: max(4 * n, 50)]
    relevance = scores[pool]
    spread = float(relevance.max() - relevance.min())
    relevance = (relevance - relevance.min()) / spread if spread > 0 else np.ones_like(relevance)
    candidate_vectors = vectors[items[pool]]
    closest = np.full(len(pool), 0.0, dtype=np.float32)
    taken = np.zeros(len(pool), dtype=bool)
    per_artist: dict[int, int] = {}
    chosen: list[int] = []
    while len(chosen) < n and not taken.all():
        value = (1 - diversity) * relevance - diversity * closest
        value[taken] = -np.inf
        best = int(np.argmax(value))
        taken[best] = True
        item = int(items[pool[best]])
        if not _artist_allows(item, per_artist, item_artist, max_per_artist):
            continue
        chosen.append(item)
        closest = np.maximum(closest, candidate_vectors @ candidate_vectors[best])
    if len(chosen) < n:  # the MMR pool ran dry: top up in relevance order
        rest = items[order[len(pool) :]].tolist()
        chosen += _artist_capped(rest, n - len(chosen), item_artist, max_per_artist, per_artist)
    return chosen


def _artist_allows(
    item: int,
    per_artist: dict[int, int],
    item_artist: np.ndarray | None,
    max_per_artist: int | None,
) -> bool:
    if item_artist is None or max_per_artist is None:
        return True
    artist = int(item_artist[item])
    if artist < 0:
        return True
    if per_artist.get(artist, 0) >= max_per_artist:
        return False
    per_artist[artist] = per_artist.get(artist, 0) + 1
    return True


def _artist_capped(
    ranked: list[int],
    n: int,
    item_artist: np.ndarray | None,
    max_per_artist: int | None,
    per_artist: dict[int, int] | None = None,
) -> list[int]:
    counts = per_artist if per_artist is not None else {}
    out: list[int] = []
    for item in ranked:
        if len(out) >= n:
            break
        if _artist_allows(item, counts, item_artist, max_per_artist):
            out.append(item)
    return out
