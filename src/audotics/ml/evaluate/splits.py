"""Train/test splits of an interaction log.

All splits return a :class:`Split` whose ``train`` and ``test`` share the log's id
maps, and which knows how to split its own training part again (``resplit``): that
is how a validation set for hyper-parameter tuning is carved out of the training
data with the same protocol, never touching the test events. A random protocol can
draw several independent validation splits (``validation(fold)``, ``random_folds``);
the time-ordered ones have exactly one.

* :func:`leave_last_out` -- per user, time-ordered: the ``n`` items the user
  discovered last (by the time of their first positive event; ties broken by the
  event's position in the log) are held out. Train keeps every event before the
  first held-out event; later events of already-known items are dropped (they
  cannot be evaluated: seen items are never recommended). Users with at most ``n``
  distinct items stay wholly in train.
* :func:`global_temporal` -- one cut time for everyone: the last ``test_fraction``
  of events (by time) are test, the rest train; test keeps only users and items
  that appear in train (cold users/items cannot be scored by collaborative models).
* :func:`random_holdout` -- per user, a random ``fraction`` of their distinct items
  (at least one, if the user has two or more) go to test with all their events.
  This is the protocol for HetRec: its plays are aggregated per (user, artist)
  with no listen times (only tag assignments are dated), so there is no order
  to respect; ../shared/data/README.md suggests holding out a share of each
  user's artists.

Positive events are play, complete and like; a held-out item is always one the
user had a positive event for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from audotics.ml.datasets.interactions import EVENT_CODE, Interactions

POSITIVE_EVENTS = np.array([EVENT_CODE["play"], EVENT_CODE["complete"], EVENT_CODE["like"]])


@dataclass(frozen=True, eq=False)
class Split:
    name: str
    train: Interactions
    test: Interactions
    resplit: Callable[[Interactions, int], Split]
    #: whether ``validation(fold)`` draws a different split per fold (random protocols);
    #: a time-ordered protocol has one validation split, whatever the fold
    random_folds: bool = False

    def validation(self, fold: int = 0) -> Split:
        """The same protocol applied to the training part (for tuning); ``fold`` picks
        one of several independent draws when the protocol is random (0 = the default)."""
        if fold < 0:
            raise ValueError("fold must be >= 0")
        return self.resplit(self.train, fold)


def _order(interactions: Interactions) -> np.ndarray:
    """Event indices sorted by (user, time, position in the log); unknown times first."""
    times = np.nan_to_num(interactions.timestamp, nan=-np.inf)
    return np.lexsort((np.arange(len(interactions)), times, interactions.user))


def leave_last_out(interactions: Interactions, n: int = 1) -> Split:
    """Hold out each user's ``n`` most recently discovered items."""
    if n < 1:
        raise ValueError("n must be >= 1")
    order = _order(interactions)
    user = interactions.user[order]
    item = interactions.item[order]
    positive = np.isin(interactions.event[order], POSITIVE_EVENTS)
    # First positive occurrence of each (user, item), in time order.
    pos_rows = np.flatnonzero(positive)
    pair = user[pos_rows].astype(np.int64) * interactions.n_items + item[pos_rows]
    _, first = np.unique(pair, return_index=True)
    firsts = np.sort(pos_rows[first])  # positions (in `order`) of discoveries, time-ordered
    first_user = user[firsts]
    # Rank discoveries from each user's end: 0 = last discovered.
    counts = np.bincount(first_user, minlength=interactions.n_users)
    ends = np.cumsum(counts)
    rank_from_end = ends[first_user] - 1 - np.arange(len(firsts))
    eligible = counts[first_user] > n
    cut_marks = firsts[eligible & (rank_from_end == n - 1)]
    cut = np.full(interactions.n_users, len(order), dtype=np.int64)  # position of cut per user
    cut[user[cut_marks]] = cut_marks
    held = firsts[eligible & (rank_from_end < n)]
    held_pair = np.zeros(0, dtype=np.int64)
    if held.size:
        held_pair = np.unique(user[held].astype(np.int64) * interactions.n_items + item[held])
    positions = np.arange(len(order))
    in_train = positions < cut[user]
    event_pair = user.astype(np.int64) * interactions.n_items + item
    in_test = ~in_train & np.isin(event_pair, held_pair)
    train_rows = np.sort(order[in_train])
    test_rows = np.sort(order[in_test])
    return Split(
        name=f"leave-last-out(n={n})",
        train=interactions.select(train_rows),
        test=interactions.select(test_rows),
        resplit=lambda data, fold: leave_last_out(data, n),
    )


def global_temporal(interactions: Interactions, test_fraction: float = 0.2) -> Split:
    """Everything after one global cut time is test (known users and items only)."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError("test_fraction must be in (0, 1)")
    if not interactions.has_timestamps:
        raise ValueError("global_temporal needs timestamps")
    times = np.nan_to_num(interactions.timestamp, nan=-np.inf)
    order = np.lexsort((np.arange(len(interactions)), times))
    n_test = round(len(order) * test_fraction)
    train_rows = np.sort(order[: len(order) - n_test])
    test_rows = np.sort(order[len(order) - n_test :])
    train = interactions.select(train_rows)
    known_users = np.zeros(interactions.n_users, dtype=bool)
    known_users[train.user] = True
    known_items = np.zeros(interactions.n_items, dtype=bool)
    known_items[train.item] = True
    test_user = interactions.user[test_rows]
    test_item = interactions.item[test_rows]
    test_rows = test_rows[known_users[test_user] & known_items[test_item]]
    return Split(
        name=f"global-temporal(test={test_fraction:g})",
        train=train,
        test=interactions.select(test_rows),
        resplit=lambda data, fold: global_temporal(data, test_fraction),
    )


def random_holdout(
    interactions: Interactions, fraction: float = 0.2, seed: int = 0, fold: int = 0
) -> Split:
    """Per user, a random ``fraction`` of their positive items (>= 1 when they have >= 2).

    ``fold`` > 0 draws an independent holdout of the same seed (fold 0 is the plain
    ``seed``, so existing splits are unchanged); validation fold f of this split is
    ``random_holdout(train, fraction, seed + 1, f)``.
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError("fraction must be in (0, 1)")
    if fold < 0:
        raise ValueError("fold must be >= 0")
    rng = np.random.default_rng(seed if fold == 0 else (seed, fold))
    positive = np.isin(interactions.event, POSITIVE_EVENTS)
    pair = interactions.user.astype(np.int64) * interactions.n_items + interactions.item
    pairs = np.unique(pair[positive])
    pair_user = pairs // interactions.n_items
    counts = np.bincount(pair_user, minlength=interactions.n_users)
    # Shuffle within users: sort by (user, random key), then take each user's first k.
    keys = rng.random(len(pairs))
    order = np.lexsort((keys, pair_user))
    shuffled = pairs[order]
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.arange(len(shuffled)) - starts[pair_user[order]]
    n_test = np.where(counts >= 2, np.maximum(1, np.round(counts * fraction)), 0)
    n_test = np.minimum(n_test, counts - 1)
    held = shuffled[rank < n_test[pair_user[order]]]
    in_test = np.isin(pair, held)
    return Split(
        name=f"random-holdout(fraction={fraction:g}, seed={seed}"
        + (f", fold={fold})" if fold else ")"),
        train=interactions.select(np.flatnonzero(~in_test)),
        test=interactions.select(np.flatnonzero(in_test)),
        resplit=lambda data, inner_fold: random_holdout(data, fraction, seed + 1, inner_fold),
        random_folds=True,
    )
