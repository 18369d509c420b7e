"""Listening histories for the demo catalog: a small community with genre tastes.

`audotics demo` needs listens for recommendations to be personal on the first run:
collaborative filtering has nothing to learn from an empty log, and a taste profile
of nobody is empty. This plans them over a given catalog (each track's genre, artist
and duration), deterministically for a seed:

* listener 0 is the demo account: one clear taste (:data:`DEMO_GENRE_INDEX` picks
  the genre) with a few favourites played often and a couple of skips elsewhere,
  so its recommendations have an obvious reason and plenty left to discover;
* every other listener has a primary genre (cycled, so every genre has fans) and
  with probability ``second_taste`` a second one; they repeat a small library of
  favourites, discover more of their genres by popularity, and skip most of the
  off-taste tracks shuffle brings them;
* popularity inside a genre is Zipf-skewed, so some tracks are hits;
* times fall into sessions over the last ``days`` days before the origin.

:func:`plan_follows` adds a social graph over the same listeners: people follow a few
others who share their first genre.

Events: an on-taste listen is a ``play`` followed by a ``complete`` (the whole
clip), sometimes a ``like``; an off-taste listen is mostly a ``skip`` after a few
seconds. Pure computation: the demo loader stores the plan through the analytics
service.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

DEMO_GENRE_INDEX = 0  # the demo account loves the first genre of the catalog


@dataclass(frozen=True, slots=True)
class PlannedListen:
    listener: int  # 0 is the demo account
    track: int  # index into the catalog
    event: str  # play | complete | skip | like
    seconds_before_origin: float
    play_duration_s: float | None
    key: str  # stable per planned event: the idempotency key of the stored listen


@dataclass(frozen=True)
class ListeningPlan:
    listens: list[PlannedListen]
    tastes: list[tuple[str, ...]]  # the genres each listener loves (ground truth)

    @property
    def listeners(self) -> int:
        return len(self.tastes)


def plan_listening(
    genres: Sequence[str],
    durations_s: Sequence[float],
    listeners: int,
    seed: int = 11,
    *,
    demo_favourites: int = 4,
    demo_listens: int = 24,
    mean_listens: float = 45.0,
    library_size: int = 8,
    second_taste: float = 0.35,
    days: float = 28.0,
) -> ListeningPlan:
    """A plan for ``listeners`` listeners (the demo account included) over the catalog."""
    if len(genres) != len(durations_s):
        raise ValueError("one genre and one duration per track")
    if not genres or listeners < 1:
        return ListeningPlan([], [])
    rng = np.random.default_rng([seed, 0xD15C])
    names = sorted(set(genres))
    genre_of = np.array([names.index(g) for g in genres])
    members = [np.flatnonzero(genre_of == g) for g in range(len(names))]
    # Zipf popularity inside each genre, ranks shuffled so hits are spread over artists.
    weight = np.empty(len(genres))
    for member in members:
        weight[member] = (rng.permutation(len(member)) + 1.0) ** -1.0
    durations = np.asarray(durations_s, dtype=float)

    def draw(pool: np.ndarray, n: int) -> np.ndarray:
        p = weight[pool] / weight[pool].sum()
        return rng.choice(pool, size=n, p=p)

    listens: list[PlannedListen] = []
    tastes: list[tuple[str, ...]] = []
    for listener in range(listeners):
        if listener == 0:
            loved = [DEMO_GENRE_INDEX % len(names)]
            count, size = demo_listens, demo_favourites
        else:
            loved = [(listener - 1) % len(names)]
            if len(names) > 1 and rng.random() < second_taste:
                loved.append(int(rng.choice([g for g in range(len(names)) if g != loved[0]])))
            count = max(6, int(rng.poisson(mean_listens)))
            size = library_size
        tastes.append(tuple(names[g] for g in loved))
        own = np.concatenate([members[g] for g in loved])
        others = np.flatnonzero(~np.isin(genre_of, loved))
        library = np.unique(draw(own, min(size, len(own))))
        clock = float(rng.uniform(0, days * 86_400.0))
        for n in range(count):
            if n and rng.random() < 0.15:  # a new session some hours or days earlier
                clock += float(rng.uniform(3, 48)) * 3600.0
            roll = rng.random()
            if listener == 0:  # the demo account: mostly favourites, a little elsewhere
                off = roll >= 0.9 and others.size > 0
                track = int(rng.choice(others)) if off else int(rng.choice(library))
            elif roll < 0.55:
                track, off = int(rng.choice(library)), False
            elif roll < 0.85 or others.size == 0:
                track, off = int(draw(own, 1)[0]), False
            else:
                track, off = int(rng.choice(others)), True
            stem = f"{seed}:{listener}:{n}"
            when = 120.0 + clock % (days * 86_400.0)  # room for the complete/like after it
            if off and rng.random() < 0.8:
                skipped_after = float(min(durations[track], rng.uniform(2.0, 6.0)))
                listens.append(PlannedListen(listener, track, "skip", when, skipped_after, stem))
            else:
                length = float(durations[track])
                listens.append(PlannedListen(listener, track, "play", when, None, stem + ":p"))
                listens.append(
                    PlannedListen(listener, track, "complete", when - length, length, stem + ":c")
                )
                if not off and rng.random() < 0.12:
                    listens.append(
                        PlannedListen(listener, track, "like", when - length - 1, None, stem + ":l")
                    )
            clock += float(durations[track]) + float(rng.uniform(1.0, 20.0))
    return ListeningPlan(listens, tastes)


def plan_follows(
    plan: ListeningPlan, per_listener: int = 3, seed: int = 11
) -> list[tuple[int, int]]:
    """Who follows whom (listener indices, as in ``plan``): everyone follows up to
    ``per_listener`` others who love their first genre, so the demo account's "people you
    follow" share its taste, as friends tend to."""
    rng = np.random.default_rng([seed, 0xF011])
    pairs = []
    for listener, loved in enumerate(plan.tastes):
        peers = [
            other
            for other, theirs in enumerate(plan.tastes)
            if other != listener and loved and loved[0] in theirs
        ]
        chosen = rng.permutation(np.array(peers, dtype=np.int64))[:per_listener]
        pairs += [(listener, other) for other in sorted(int(c) for c in chosen)]
    return pairs
