"""User profiling: a taste profile computed from one user's events and item metadata."""

from audotics.ml.profiles.profile import (
    EVENT_WEIGHTS,
    ItemMetadata,
    TasteProfile,
    UserEvents,
    build_taste_profile,
    engagement_weights,
)

__all__ = [
    "EVENT_WEIGHTS",
    "ItemMetadata",
    "TasteProfile",
    "UserEvents",
    "build_taste_profile",
    "engagement_weights",
]
