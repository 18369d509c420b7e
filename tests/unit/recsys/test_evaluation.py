"""The evaluation runner, tuning and report on synthetic data."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import sparse

from audotics.ml.datasets import Interactions, generate_synthetic
from audotics.ml.evaluate import (
    MODEL_REGISTRY,
    EvaluationResult,
    TrainData,
    leave_last_out,
    register_model,
    run_evaluation,
    top_k_lists,
)
from audotics.ml.evaluate.models import ALS, Popularity
from audotics.ml.evaluate.report import format_table, hybrid_vs_baselines, to_json, write_json
from audotics.ml.evaluate.tuning import GridSearch

METRICS = ("ndcg", "recall", "precision", "map", "coverage", "diversity", "novelty")


@pytest.fixture(scope="module")
def log() -> Interactions:
    return generate_synthetic(500, 600, seed=21).interactions


@pytest.fixture(scope="module")
def quick_run(log: Interactions) -> EvaluationResult:
    return run_evaluation(log, leave_last_out, None, k=10, quick=True, dataset="synthetic")


def test_als_beats_popularity_on_synthetic_data(log: Interactions) -> None:
    result = run_evaluation(
        log, leave_last_out(log), [Popularity(), ALS(factors=32, regularization=1.0)], k=10
    )
    pop, als = result.models["popularity"].metrics, result.models["als"].metrics
    assert als["ndcg@10"] > 2 * pop["ndcg@10"]
    assert als["recall@10"] > 2 * pop["recall@10"]
    assert als["coverage@10"] > 5 * pop["coverage@10"]
    assert result.n_users_evaluated > 0.9 * log.n_users


def test_every_registered_model_runs_on_the_same_split(quick_run: EvaluationResult) -> None:
    assert list(quick_run.models) == ["popularity", "item-knn", "ease", "als", "bpr", "hybrid"]
    for name, model in quick_run.models.items():
        assert set(model.metrics) == {f"{metric}@10" for metric in METRICS}, name
        assert 0 <= model.metrics["ndcg@10"] <= 1 and 0 < model.metrics["coverage@10"] <= 1
        assert model.train_seconds >= 0
    popularity = quick_run.models["popularity"].metrics["ndcg@10"]
    for name in ("item-knn", "ease", "als", "bpr", "hybrid"):
        assert quick_run.models[name].metrics["ndcg@10"] > popularity, name
    als = quick_run.models["als"].params
    assert len(als["grid"]) == 2 and als["tuned"] in [
        {key: point[key] for key in als["tuned"]} for point in als["grid"]
    ]


def test_report_table_and_json(quick_run: EvaluationResult, tmp_path: Path) -> None:
    table = format_table(quick_run)
    for name in quick_run.models:
        assert name in table
    assert "ndcg@10" in table and "synthetic" in table
    out = tmp_path / "report.json"
    write_json(quick_run, out)
    document = json.loads(out.read_text())
    assert document == json.loads(json.dumps(to_json(quick_run)))
    for name, values in document["models"].items():
        for metric in ("ndcg@10", "recall@10", "precision@10", "map@10", "coverage@10"):
            assert isinstance(values[metric], float), (name, metric)
        assert "train_seconds" in values
    assert document["split"] == "leave-last-out(n=1)" and document["k"] == 10


class _Oracle:
    """Scores the test items first: plugs into the registry like the hybrid will."""

    name = "oracle"

    def __init__(self, relevant: sparse.csr_matrix) -> None:
        self.relevant = relevant

    def fit(self, data: TrainData) -> None:
        self.n_items = data.n_items

    def score(self, users: np.ndarray) -> np.ndarray:
        return np.asarray(self.relevant[users].toarray(), dtype=np.float32)

    def describe(self) -> dict[str, Any]:
        return {}


@pytest.fixture
def registered() -> Iterator[list[str]]:
    added: list[str] = []
    yield added
    for name in added:
        MODEL_REGISTRY.pop(name, None)


def test_an_extra_model_plugs_in_by_name(log: Interactions, registered: list[str]) -> None:
    split = leave_last_out(log)
    relevant = sparse.csr_matrix(
        (np.ones(len(split.test), dtype=np.float32), (split.test.user, split.test.item)),
        shape=(log.n_users, log.n_items),
    )
    register_model("oracle", lambda options: _Oracle(relevant))
    registered.append("oracle")
    result = run_evaluation(log, split, ["popularity", "oracle"], k=5)
    assert result.models["oracle"].metrics["recall@5"] == pytest.approx(1.0)
    assert result.models["oracle"].metrics["ndcg@5"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="unknown models"):
        run_evaluation(log, split, ["nope"], k=5)


def test_top_k_lists_skip_seen_and_unrecommendable_items() -> None:
    class Fixed:
        name = "fixed"

        def score(self, users: np.ndarray) -> np.ndarray:
            row = np.array([5.0, 4.0, -np.inf, 3.0], dtype=np.float32)
            return np.tile(row, (len(users), 1))

    seen = sparse.csr_matrix(np.array([[1, 0, 0, 0], [0, 0, 0, 0]], dtype=np.float32))
    lists = top_k_lists(Fixed(), np.array([0, 1]), seen, k=4)  # type: ignore[arg-type]
    assert lists.tolist() == [[1, 3, -1, -1], [0, 1, 3, -1]]


def test_grid_search_keeps_the_best_validation_point(log: Interactions) -> None:
    split = leave_last_out(log)
    search = GridSearch(
        "als", lambda **p: ALS(factors=8, iterations=5, **p), {"regularization": [0.1, 1e6]}
    )
    run_evaluation(log, split, [search], k=10)
    assert [point["regularization"] for point in search.log] == [0.1, 1e6]
    assert search.best == {"regularization": 0.1}  # a huge lambda shrinks every factor to 0
    assert search.log[0]["ndcg@10"] > search.log[1]["ndcg@10"]


def test_report_compares_the_hybrid_with_the_best_baseline(quick_run: EvaluationResult) -> None:
    comparison = hybrid_vs_baselines(quick_run)
    assert comparison is not None
    ndcg = {name: model.metrics["ndcg@10"] for name, model in quick_run.models.items()}
    best = max((name for name in ndcg if name != "hybrid"), key=ndcg.__getitem__)
    assert comparison["best_baseline"] == best
    assert comparison["ndcg_gain"] == pytest.approx(ndcg["hybrid"] / ndcg[best] - 1.0)
    assert comparison["coverage"] == quick_run.models["hybrid"].metrics["coverage@10"]
    assert comparison["als_coverage"] == quick_run.models["als"].metrics["coverage@10"]
    footer = format_table(quick_run).splitlines()[-1]
    assert footer.startswith(f"check: hybrid vs best baseline ({best}): ")
    assert f"{100 * comparison['ndcg_gain']:+.1f} %" in footer
    assert to_json(quick_run)["hybrid_vs_baselines"]["best_baseline"] == best


def test_report_has_no_comparison_without_a_hybrid(log: Interactions) -> None:
    result = run_evaluation(log, leave_last_out(log), ["popularity", "item-knn"], k=5, quick=True)
    assert hybrid_vs_baselines(result) is None
    assert "hybrid vs" not in format_table(result)
    assert "hybrid_vs_baselines" not in to_json(result)
