"""Recommendation engine: candidate sources, hybrid blending, re-ranking, explanations."""

from audotics.ml.recommend.engine import (
    BlendWeights,
    Candidates,
    Explanation,
    Recommendation,
    RecommendationEngine,
    rerank,
)

__all__ = [
    "BlendWeights",
    "Candidates",
    "Explanation",
    "Recommendation",
    "RecommendationEngine",
    "rerank",
]
