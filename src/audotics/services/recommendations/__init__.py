"""Recommendations: personal recommendations, similar tracks and taste profiles over HTTP."""
