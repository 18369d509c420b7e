"""The evaluation as a text table and as JSON.

JSON layout (``audotics evaluate --json OUT``)::

    {"dataset": ..., "split": ..., "k": 10, "seed": 0, "users": ..., "items": ...,
     "train_events": ..., "test_events": ..., "users_evaluated": ..., "parse_issues": ...,
     "total_seconds": ...,
     "models": {"als": {"ndcg@10": ..., "recall@10": ..., "precision@10": ...,
                        "map@10": ..., "coverage@10": ..., "diversity@10": ...,
                        "novelty@10": ..., "train_seconds": ..., "score_seconds": ...,
                        "params": {...}}, ...},
     "hybrid_vs_baselines": {"best_baseline": "als", "ndcg_gain": 0.022,
                             "coverage": ..., "als_coverage": ...}}

``hybrid_vs_baselines`` (also the table's last line) is the issue-4 acceptance check:
the hybrid's relative nDCG@k gain over the best other model of the same run, and its
catalogue coverage beside ALS's. It is absent when the run has no hybrid or nothing
to compare it with.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from audotics.ml.evaluate.runner import EvaluationResult

_COLUMNS = ("ndcg", "recall", "precision", "map", "coverage", "diversity", "novelty")


def _safe(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(key): _safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_safe(item) for item in value]
    if hasattr(value, "item"):  # numpy scalars
        return _safe(value.item())
    return value


def hybrid_vs_baselines(result: EvaluationResult, hybrid: str = "hybrid") -> dict[str, Any] | None:
    """The hybrid against the best other model of the run (nDCG@k), coverage beside ALS."""
    k = result.k
    if hybrid not in result.models:
        return None
    others = [model for name, model in result.models.items() if name != hybrid]
    if not others:
        return None
    best = max(others, key=lambda m: m.metrics.get(f"ndcg@{k}", 0.0))
    mine = result.models[hybrid].metrics
    best_ndcg = best.metrics.get(f"ndcg@{k}", 0.0)
    gain = mine.get(f"ndcg@{k}", 0.0) / best_ndcg - 1.0 if best_ndcg > 0 else None
    als = result.models.get("als")
    return {
        "best_baseline": best.name,
        "ndcg_gain": gain,
        "coverage": mine.get(f"coverage@{k}"),
        "als_coverage": als.metrics.get(f"coverage@{k}") if als is not None else None,
    }


def to_json(result: EvaluationResult) -> dict[str, Any]:
    models = {
        name: {
            **model.metrics,
            "train_seconds": model.train_seconds,
            "score_seconds": model.score_seconds,
            "params": model.params,
        }
        for name, model in result.models.items()
    }
    document: dict[str, Any] = {
        "dataset": result.dataset,
        "split": result.split,
        "k": result.k,
        "seed": result.seed,
        "users": result.n_users,
        "items": result.n_items,
        "train_events": result.n_train_events,
        "test_events": result.n_test_events,
        "users_evaluated": result.n_users_evaluated,
        "parse_issues": result.parse_issues,
        "total_seconds": result.total_seconds,
        "models": models,
    }
    comparison = hybrid_vs_baselines(result)
    if comparison is not None:
        document["hybrid_vs_baselines"] = comparison
    safe: dict[str, Any] = _safe(document)
    return safe


def write_json(result: EvaluationResult, path: str | Path) -> None:
    Path(path).write_text(json.dumps(to_json(result), indent=2) + "\n", encoding="utf-8")


def format_table(result: EvaluationResult) -> str:
    """A fixed-width table, one row per model, best nDCG marked with '*'."""
    k = result.k
    headers = ["model", *[f"{name}@{k}" for name in _COLUMNS], "train s"]
    best = max(result.models.values(), key=lambda m: m.metrics.get(f"ndcg@{k}", 0.0), default=None)
    rows = []
    for model in result.models.values():
        mark = "*" if model is best else ""
        cells = [model.name + mark]
        cells += [f"{model.metrics.get(f'{name}@{k}', float('nan')):.4f}" for name in _COLUMNS]
        cells.append(f"{model.train_seconds:.1f}")
        rows.append(cells)
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]

    def line(cells: list[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = [cell.rjust(width) for cell, width in zip(cells[1:], widths[1:], strict=True)]
        return "  ".join([first, *rest])

    summary = (
        f"{result.dataset}: {result.n_users} users, {result.n_items} items; "
        f"split {result.split}: {result.n_train_events} train / {result.n_test_events} test "
        f"events, {result.n_users_evaluated} users evaluated"
    )
    if result.parse_issues:
        summary += f"; {result.parse_issues} bad rows skipped"
    rule = "-" * len(line(headers))
    body = [line(row) for row in rows]
    footer = [f"(* best nDCG@{k}; total {result.total_seconds:.1f} s)"]
    comparison = hybrid_vs_baselines(result)
    if comparison is not None and comparison["ndcg_gain"] is not None:
        text = (
            f"check: hybrid vs best baseline ({comparison['best_baseline']}): "
            f"{100 * comparison['ndcg_gain']:+.1f} % nDCG@{k}"
        )
        if comparison["als_coverage"] is not None:
            text += (
                f"; coverage@{k} {comparison['coverage']:.4f} vs ALS "
                f"{comparison['als_coverage']:.4f}"
            )
        footer.append(text)
    return "\n".join([summary, rule, line(headers), rule, *body, rule, *footer])
