"""Similar tracks' seed sides: indexed neighbours vs a scan of the catalogue.

``python -m bench similar_latency [--items N] [--users N] [--seeds N] [--factors F]
[--sound-dim D]``

For ``GET /api/v1/tracks/{id}/similar?by=hybrid`` (and radio, which starts from the same
neighbours) each side finds the seed's nearest tracks and then scores every candidate
the other sides found (:mod:`audotics.services.recommendations.similar`). One generated
catalogue (default 100,000 tracks, 10,000 users, :mod:`audotics.ml.datasets.synthetic`),
one ALS model, unit CF factor rows and unit "sound" rows (the generated audio features
expanded to ``--sound-dim`` by a fixed random projection, like an embedding), one BLAS
thread, per seed and in the same run:

* **indexed** -- :class:`audotics.ml.recommend.seeded.UnitNeighbours` per side (an
  inverted-file index above 20k rows): ``nearest(seed, 211)`` on the CF and sound sides,
  then ``scores`` of the union on both (the fill-in);
* **scan** (the baseline, what the service did before) -- the cosine of every row with
  the seed on each side (one dense product), ``top_items`` of it, and the fill-in read
  from those full arrays.

Prints p50/p99 of both, the ratio, and recall@100 of the indexed sides against the
exact top 100. Figures go to ``bench/results/similar_latency.json``.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from audotics.ml.cf.confidence import ConfidenceWeights, confidence_from_weights, net_weights
from audotics.ml.cf.train import ALSParams, train_als
from audotics.ml.datasets.synthetic import generate_synthetic
from audotics.ml.recommend.seeded import UnitNeighbours, cosine_scores, top_items, unit_rows
from bench._report import percentiles, print_timings, write_results

DEPTH = 211  # offset + limit + 1 for the deepest page, plus the excluded margin's floor


def _indexed(sides: dict[str, UnitNeighbours], seed: int) -> dict[str, dict[int, float]]:
    found = {
        name: dict(near.nearest(near.unit[seed], DEPTH, exclude=[seed]))
        for name, near in sides.items()
    }
    union = np.array(sorted(set().union(*found.values())), dtype=np.int64)
    for name, near in sides.items():
        scores = near.scores(near.unit[seed], union).tolist()
        for item, value in zip(union.tolist(), scores, strict=True):
            found[name].setdefault(item, value)
    return found


def _scan(sides: dict[str, np.ndarray], seed: int) -> dict[str, dict[int, float]]:
    every = {name: cosine_scores(unit, unit[seed]) for name, unit in sides.items()}
    found = {name: dict(top_items(values, DEPTH, exclude=[seed])) for name, values in every.items()}
    union = np.array(sorted(set().union(*found.values())), dtype=np.int64)
    for name, values in every.items():
        for item, value in zip(union.tolist(), values[union].tolist(), strict=True):
            found[name].setdefault(item, value)
    return found


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench similar_latency")
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--seeds", type=int, default=300)
    parser.add_argument("--factors", type=int, default=64)
    parser.add_argument("--sound-dim", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    data = generate_synthetic(args.users, args.items, seed=args.seed, n_clusters=16)
    net = net_weights(data.interactions, ConfidenceWeights())
    model = train_als(
        confidence_from_weights(net, ConfidenceWeights()),
        ALSParams(factors=args.factors, regularization=50.0, iterations=10),
        extra_params=ConfidenceWeights().to_dict(),
    )
    rng = np.random.default_rng(args.seed)
    features = data.item_features.astype(np.float64)
    features = (features - features.mean(0)) / features.std(0)
    projection = rng.standard_normal((features.shape[1], args.sound_dim))
    units = {
        "cf": unit_rows(model.item_factors.astype(np.float32)),
        "sound": unit_rows(np.tanh(features @ projection).astype(np.float32)),
    }
    with threadpool_limits(1):
        started = time.perf_counter()
        indexed = {name: UnitNeighbours(unit) for name, unit in units.items()}
        build_s = time.perf_counter() - started
        played = np.flatnonzero(units["cf"].any(axis=1))  # a CF seed needs factors
        seeds = rng.choice(played, args.seeds, replace=False)
        for seed in seeds[:10].tolist():  # warm-up
            _indexed(indexed, seed)
            _scan(units, seed)
        load = os.getloadavg()
        index_times, scan_times, recalls = [], [], []
        for seed in seeds.tolist():
            t0 = time.perf_counter()
            fast = _indexed(indexed, seed)
            t1 = time.perf_counter()
            exact = _scan(units, seed)
            t2 = time.perf_counter()
            index_times.append(t1 - t0)
            scan_times.append(t2 - t1)
            for name in units:
                best = sorted(exact[name].items(), key=lambda kv: -kv[1])[:100]
                mine = indexed[name].nearest(units[name][seed], 100, exclude=[seed])
                recalls.append(len({i for i, _ in mine} & {i for i, _ in best}) / 100)
            assert fast.keys() == exact.keys()
    figures: dict[str, Any] = {
        "load_average": load,
        "items": args.items,
        "seeds": len(seeds),
        "index_build_s": build_s,
        "indexed": percentiles(index_times),
        "scan": percentiles(scan_times),
        "recall_at_100": float(np.mean(recalls)),
    }
    figures["speedup_p50"] = figures["scan"]["p50_ms"] / figures["indexed"]["p50_ms"]
    figures["speedup_p99"] = figures["scan"]["p99_ms"] / figures["indexed"]["p99_ms"]
    one, five, _ = load
    print(
        f"{args.items} tracks, CF {args.factors} and sound {args.sound_dim} dims; indexes "
        f"built in {build_s:.1f} s; load average {one:.1f} (1 min) {five:.1f} (5 min)"
    )
    print_timings(figures, ("indexed", "scan"), width=8)
    print(
        f"scan / indexed: {figures['speedup_p50']:.1f}x at p50, {figures['speedup_p99']:.1f}x "
        f"at p99; recall@100 of the indexed sides {figures['recall_at_100']:.3f}"
    )
    write_results("similar_latency", figures)
    return 0
