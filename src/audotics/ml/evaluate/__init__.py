"""Offline evaluation: splits, metrics, baselines, tuned models, the runner and its report."""

from audotics.ml.evaluate.models import (
    MODEL_REGISTRY,
    ModelOptions,
    Recommender,
    TrainData,
    build_models,
    register_model,
    top_k_lists,
)
from audotics.ml.evaluate.runner import (
    EvaluationResult,
    ModelResult,
    evaluate_dataset,
    make_split,
    relevance,
    run_evaluation,
)
from audotics.ml.evaluate.splits import Split, global_temporal, leave_last_out, random_holdout

__all__ = [
    "MODEL_REGISTRY",
    "EvaluationResult",
    "ModelOptions",
    "ModelResult",
    "Recommender",
    "Split",
    "TrainData",
    "build_models",
    "evaluate_dataset",
    "global_temporal",
    "leave_last_out",
    "make_split",
    "random_holdout",
    "register_model",
    "relevance",
    "run_evaluation",
    "top_k_lists",
]
