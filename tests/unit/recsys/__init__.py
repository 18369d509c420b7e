"""Recommendation-engine core: parsers, CF, evaluation."""
