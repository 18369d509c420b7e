"""Nearest neighbours over L2-normalised embeddings (similar tracks by sound)."""

from audotics.ml.similarity.index import IndexFormatError, Neighbour, VectorIndex, normalise

__all__ = ["IndexFormatError", "Neighbour", "VectorIndex", "normalise"]
