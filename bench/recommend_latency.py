"""Recommendation latency of the hybrid engine vs brute-force scoring of every item.

``python -m bench recommend_latency [--items N] [--users N] [--requests N] [--factors F]``

One generated catalogue (default 100,000 tracks, 10,000 users with planted taste
clusters, :mod:`audotics.ml.datasets.synthetic`), one ALS model, one engine
(CF through the inner-product HNSW index with fold-in, co-listening kNN, content
vectors, popularity), in the same run:

* **engine** -- ``RecommendationEngine.recommend(row, 10)`` for a user's history row:
  fold-in, retrieval of each source's 200 best, blending, MMR and the artist cap;
* **brute force** -- the same sources scored on *every* item (the dense product
  with all item factors, the full item-item and content products), blended with
  the same weights, top 10 by a full sort: what the engine replaces;
* **ANN recall@100** -- the CF candidates from the HNSW index against the exact
  inner-product top 100 for the same fold-in vectors;
* **new listen** -- fold-in + recommend for a history that just grew by one item
  (no retraining: the next request already reflects it).

Prints p50/p99 for each and the ratio; goals: engine p99 <= 10 ms, >= 20x faster
than brute force, ANN recall@100 >= 0.95. Figures go to
``bench/results/recommend_latency.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from audotics.ml.cf.confidence import ConfidenceWeights, confidence_from_weights, net_weights
from audotics.ml.cf.train import ALSParams, train_als
from audotics.ml.datasets.synthetic import generate_synthetic
from audotics.ml.evaluate.hybrid import log_weighted
from audotics.ml.recommend import BlendWeights, RecommendationEngine
from audotics.ml.recommend.sources import (
    CollaborativeSource,
    ContentSource,
    ItemItemSource,
    PopularitySource,
    cosine_neighbours,
)

RESULTS = Path(__file__).parent / "results"


def _percentiles(samples: list[float]) -> dict[str, float]:
    values = np.array(samples) * 1000.0
    return {"p50_ms": float(np.percentile(values, 50)), "p99_ms": float(np.percentile(values, 99))}


def _brute_force(
    engine: RecommendationEngine, row: sparse.csr_matrix, weights: BlendWeights, n: int
) -> np.ndarray:
    everything = np.arange(engine.n_items)
    per_source = weights.for_history(int(row.nnz))
    total = np.zeros(engine.n_items, dtype=np.float32)
    for name, source in engine.sources.items():
        values = source.scores(row, everything).astype(np.float32)
        std = float(values.std()) or 1.0
        total += per_source[name] * (values - float(values.mean())) / std
    total[row.indices] = -np.inf
    return np.argsort(-total)[:n]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench recommend_latency")
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--factors", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    data = generate_synthetic(args.users, args.items, seed=args.seed, n_clusters=16)
    log = data.interactions
    net = net_weights(log, ConfidenceWeights())
    rows = log_weighted(net)
    generated = time.perf_counter()
    model = train_als(
        confidence_from_weights(net, ConfidenceWeights()),
        ALSParams(factors=args.factors, regularization=50.0, iterations=10),
        extra_params=ConfidenceWeights().to_dict(),
    )
    trained = time.perf_counter()
    features = data.item_features.astype(np.float64)
    content = ((features - features.mean(0)) / features.std(0)).astype(np.float32)
    content_source = ContentSource(content)
    listeners = np.asarray((rows > 0).sum(axis=0)).ravel()
    cf = CollaborativeSource(model)
    engine = RecommendationEngine(
        [
            cf,
            ItemItemSource(cosine_neighbours(rows, 50), name="knn"),
            content_source,
            PopularitySource(listeners, content_source),
        ],
        BlendWeights(cf=1.0, item=0.0, knn=1.0, content=0.5, popularity=0.5),
        n_items=log.n_items,
        item_artist=data.item_artist.astype(np.int64),
    )
    built = time.perf_counter()
    print(
        f"{log.n_items} items, {log.n_users} users, {len(log)} events; generate "
        f"{generated - started:.1f} s, ALS {trained - generated:.1f} s, "
        f"engine {built - trained:.1f} s"
    )

    rng = np.random.default_rng(args.seed)
    users = rng.choice(log.n_users, args.requests, replace=False)
    for user in users[:10]:  # warm-up
        engine.recommend(rows[int(user)], 10)
    engine_times, brute_times, fold_times, recalls = [], [], [], []
    for user in users:
        row = rows[int(user)]
        t0 = time.perf_counter()
        engine.recommend(row, 10, max_per_artist=2)
        t1 = time.perf_counter()
        _brute_force(engine, row, engine.weights, 10)
        t2 = time.perf_counter()
        engine_times.append(t1 - t0)
        brute_times.append(t2 - t1)
        vector = cf.user_vector(row)
        exact = set(np.argsort(-(model.item_factors @ vector))[:100].tolist())
        found = set(cf.top(row, 100).tolist())
        recalls.append(len(found & exact) / 100)
        grown = engine.history_row(
            np.append(row.indices, rng.integers(log.n_items)),
            np.append(np.expm1(row.data), 1.0),
        )
        t3 = time.perf_counter()
        engine.recommend(grown, 10, max_per_artist=2)
        fold_times.append(time.perf_counter() - t3)

    figures: dict[str, Any] = {
        "items": log.n_items,
        "users": log.n_users,
        "requests": len(users),
        "engine": _percentiles(engine_times),
        "brute_force": _percentiles(brute_times),
        "new_listen": _percentiles(fold_times),
        "ann_recall_at_100": float(np.mean(recalls)),
    }
    figures["speedup_p50"] = figures["brute_force"]["p50_ms"] / figures["engine"]["p50_ms"]
    figures["speedup_p99"] = figures["brute_force"]["p99_ms"] / figures["engine"]["p99_ms"]
    for name in ("engine", "brute_force", "new_listen"):
        f = figures[name]
        print(f"{name:12} p50 {f['p50_ms']:8.2f} ms   p99 {f['p99_ms']:8.2f} ms")
    print(
        f"brute force / engine: {figures['speedup_p50']:.1f}x at p50, "
        f"{figures['speedup_p99']:.1f}x at p99 (goal >= 20x, engine p99 <= 10 ms)"
    )
    print(
        f"ANN recall@100 vs exact inner product: {figures['ann_recall_at_100']:.3f} (goal >= 0.95)"
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "recommend_latency.json").write_text(json.dumps(figures, indent=1))
    return 0
