"""Collaborative filtering: confidence matrices, ALS/BPR training (implicit), fold-in."""

from audotics.ml.cf.confidence import (
    ConfidenceWeights,
    build_confidence,
    confidence_from_weights,
    net_weights,
    positive_items,
)
from audotics.ml.cf.model import FactorModel, top_n
from audotics.ml.cf.train import ALSParams, BPRParams, train_als, train_bpr

__all__ = [
    "ALSParams",
    "BPRParams",
    "ConfidenceWeights",
    "FactorModel",
    "build_confidence",
    "confidence_from_weights",
    "net_weights",
    "positive_items",
    "top_n",
    "train_als",
    "train_bpr",
]
