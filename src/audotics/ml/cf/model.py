"""A trained latent-factor model: scoring, fold-in of unseen users, serialisation.

Scoring is one matrix product (``item_factors @ user_vector``); top-n uses
``argpartition`` so it is linear in the catalogue. :meth:`FactorModel.fold_in`
computes the factors of a user who was not in the training data from their
recent items, exactly as implicit's ``recalculate_user`` does for ALS::

    x_u = (Y^T C_u Y + lambda I)^-1  Y^T C_u p_u
        = (Y^T Y + sum_i (|c_i| - 1) y_i y_i^T + lambda I)^-1  sum_{c_i > 0} c_i y_i

with ``Y`` the item factors, ``c_i`` the user's confidences (the values the
training matrix would hold; negative = disliked, preference 0) and ``lambda`` the
ALS regularisation. For a BPR model the same least-squares solve is an
approximation (BPR's objective is a ranking loss), good enough for cold users.

``to_bytes``/``from_bytes`` use a NumPy ``.npz`` archive (no pickle): the factor
arrays, the id lists and one JSON document with kind, params and metrics.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from audotics.ml import kernels

FORMAT_VERSION = 1


@dataclass(eq=False)
class FactorModel:
    user_factors: np.ndarray  # (n_users, f) float32
    item_factors: np.ndarray  # (n_items, f) float32
    item_ids: tuple[str, ...] = ()
    user_ids: tuple[str, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    kind: str = "als"
    _gram: np.ndarray | None = field(default=None, init=False, repr=False)
    _contiguous: np.ndarray | None = field(default=None, init=False, repr=False)

    @property
    def n_users(self) -> int:
        return int(self.user_factors.shape[0])

    @property
    def n_items(self) -> int:
        return int(self.item_factors.shape[0])

    @property
    def regularization(self) -> float:
        return float(self.params.get("regularization", 0.01))

    # --- scoring -----------------------------------------------------------------------

    def score_users(self, user_indices: np.ndarray) -> np.ndarray:
        """(len(users), n_items) scores for training users."""
        return np.asarray(self.user_factors[user_indices] @ self.item_factors.T)

    def score_vector(self, user_vector: np.ndarray) -> np.ndarray:
        return np.asarray(self.item_factors @ np.asarray(user_vector, dtype=np.float32))

    def recommend(
        self, user_index: int, n: int = 10, exclude: Iterable[int] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``n`` (item indices, scores) for a training user, best first."""
        return top_n(self.score_vector(self.user_factors[user_index]), n, exclude)

    def recommend_vector(
        self, user_vector: np.ndarray, n: int = 10, exclude: Iterable[int] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``n`` for any user vector (e.g. from :meth:`fold_in`)."""
        return top_n(self.score_vector(user_vector), n, exclude)

    # --- fold-in -----------------------------------------------------------------------

    def _item_gram(self) -> np.ndarray:
        """``Y^T Y + lambda I``, computed once: the part of every fold-in that is shared."""
        if self._gram is None:
            y = self.item_factors.astype(np.float64)
            self._gram = y.T @ y + self.regularization * np.eye(y.shape[1])
        return self._gram

    def item_factors32(self) -> np.ndarray:
        """The item factors as C-contiguous float32, kept (what the fold-in kernel and the
        CF source read; no copy when they already are)."""
        if self._contiguous is None:
            self._contiguous = np.ascontiguousarray(self.item_factors, dtype=np.float32)
        return self._contiguous

    def fold_in(
        self, item_indices: Iterable[int], weights: Iterable[float] | None = None
    ) -> np.ndarray:
        """The factors of an unseen user from their items and confidences (default: c = 1 +
        the model's alpha * log 2, i.e. one play each). Duplicate items add up."""
        items = np.asarray(
            item_indices if isinstance(item_indices, np.ndarray) else list(item_indices),
            dtype=np.int64,
        )
        f = self.item_factors.shape[1]
        if items.size == 0:
            return np.zeros(f, dtype=np.float32)
        if weights is None:
            alpha = float(self.params.get("alpha", 1.0))
            eps = float(self.params.get("eps", 1.0))
            conf = np.full(items.size, 1.0 + alpha * np.log1p(1.0 / eps))
        else:
            conf = np.asarray(
                weights if isinstance(weights, np.ndarray) else list(weights), dtype=np.float64
            )
            if conf.shape != items.shape:
                raise ValueError("one weight per item")
        if items.size > 1 and not np.all(items[1:] > items[:-1]):  # duplicates add up
            unique, inverse = np.unique(items, return_inverse=True)
            items, conf = unique, np.bincount(inverse, weights=conf)
        keep = conf != 0
        unique, conf = items[keep], conf[keep]
        # The system is symmetric positive definite (Y^T Y + lambda I plus the history's
        # rank-one terms), so a compiled Cholesky solves it in one call; only confidences
        # below 1 can break definiteness, and then a general solve does.
        x = kernels.fold_in_solve(self._item_gram(), self.item_factors32(), unique, conf)
        if len(x) == 0:
            y = self.item_factors[unique].astype(np.float64)
            a = self._item_gram() + (y.T * (np.abs(conf) - 1.0)) @ y
            x = np.linalg.solve(a, y.T @ np.maximum(conf, 0.0)).astype(np.float32)
        return x

    # --- serialisation -----------------------------------------------------------------

    def to_bytes(self) -> bytes:
        meta = {
            "format": FORMAT_VERSION,
            "kind": self.kind,
            "params": self.params,
            "metrics": self.metrics,
        }
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            user_factors=self.user_factors,
            item_factors=self.item_factors,
            item_ids=np.array(self.item_ids, dtype=np.str_),
            user_ids=np.array(self.user_ids, dtype=np.str_),
            meta=np.array(json.dumps(meta, default=_json_default)),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> FactorModel:
        """Raises ValueError for anything that is not a model written by :meth:`to_bytes`."""
        try:
            return cls._from_bytes(data)
        except (OSError, EOFError, KeyError, TypeError, zipfile.BadZipFile) as exc:
            raise ValueError(f"not a saved FactorModel: {exc}") from exc

    @classmethod
    def _from_bytes(cls, data: bytes) -> FactorModel:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            meta = json.loads(str(archive["meta"]))
            if meta.get("format") != FORMAT_VERSION:
                raise ValueError(f"unsupported model format {meta.get('format')!r}")
            return cls(
                user_factors=archive["user_factors"],
                item_factors=archive["item_factors"],
                item_ids=tuple(archive["item_ids"].tolist()),
                user_ids=tuple(archive["user_ids"].tolist()),
                params=dict(meta.get("params", {})),
                metrics=dict(meta.get("metrics", {})),
                kind=str(meta.get("kind", "als")),
            )


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def top_n(
    scores: np.ndarray, n: int, exclude: Iterable[int] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Indices and scores of the ``n`` best entries (excluded ones never appear)."""
    scores = np.array(scores, dtype=np.float32, copy=True)
    if exclude is not None:
        excluded = np.fromiter(exclude, dtype=np.int64)
        if excluded.size:
            scores[excluded] = -np.inf
    n = min(n, int(np.isfinite(scores).sum()))
    if n <= 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
    part = np.argpartition(-scores, n - 1)[:n]
    order = part[np.argsort(-scores[part], kind="stable")]
    return order, scores[order]
