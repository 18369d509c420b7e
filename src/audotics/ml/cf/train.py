"""Training ALS and BPR with ``implicit`` on a confidence matrix.

Both run on the CPU, single-threaded by default (``threads=1``) with a fixed
``seed``, so a run is reproducible; BLAS is held to one thread during the fit
(threadpoolctl), which implicit's ALS needs to be fast at all. The matrix is the
(users x items) confidence matrix of :mod:`audotics.ml.cf.confidence`; ALS reads its
values as confidences (implicit's own ``alpha`` stays 1: our alpha is already in
the matrix), BPR reads only which cells are positive.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import sparse
from threadpoolctl import threadpool_limits

from audotics.ml.cf.model import FactorModel


@dataclass(frozen=True)
class ALSParams:
    factors: int = 64
    regularization: float = 0.05
    iterations: int = 15
    seed: int = 0
    threads: int = 1
    use_cg: bool = True

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class BPRParams:
    factors: int = 64
    learning_rate: float = 0.05
    regularization: float = 0.01
    iterations: int = 100
    seed: int = 0
    threads: int = 1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _csr32(matrix: sparse.spmatrix) -> sparse.csr_matrix:
    csr = sparse.csr_matrix(matrix, dtype=np.float32)
    csr.sort_indices()
    return csr


def train_als(
    matrix: sparse.spmatrix,
    params: ALSParams | None = None,
    *,
    item_ids: tuple[str, ...] = (),
    user_ids: tuple[str, ...] = (),
    extra_params: dict[str, Any] | None = None,
) -> FactorModel:
    """Fit implicit's ALS on a (users x items) confidence matrix.

    ``extra_params`` (e.g. the confidence weighting) is stored with the model's params
    so that fold-in and the registry know how the matrix was built.
    """
    from implicit.cpu.als import AlternatingLeastSquares

    params = params or ALSParams()
    csr = _csr32(matrix)
    started = time.perf_counter()
    with threadpool_limits(1, "blas"):
        model = AlternatingLeastSquares(
            factors=params.factors,
            regularization=params.regularization,
            alpha=1.0,
            iterations=params.iterations,
            use_cg=params.use_cg,
            num_threads=params.threads,
            random_state=params.seed,
        )
        model.fit(csr, show_progress=False)
    elapsed = time.perf_counter() - started
    return FactorModel(
        user_factors=np.ascontiguousarray(model.user_factors, dtype=np.float32),
        item_factors=np.ascontiguousarray(model.item_factors, dtype=np.float32),
        item_ids=item_ids,
        user_ids=user_ids,
        params={**(extra_params or {}), **params.to_dict()},
        metrics={"train_seconds": elapsed},
        kind="als",
    )


def train_bpr(
    matrix: sparse.spmatrix,
    params: BPRParams | None = None,
    *,
    item_ids: tuple[str, ...] = (),
    user_ids: tuple[str, ...] = (),
    extra_params: dict[str, Any] | None = None,
) -> FactorModel:
    """Fit implicit's BPR on the positive cells of a (users x items) matrix.

    implicit appends a bias column to the item factors and a constant 1 to the user
    factors, so ``user_factors @ item_factors.T`` already includes the item bias.
    """
    from implicit.cpu.bpr import BayesianPersonalizedRanking

    params = params or BPRParams()
    csr = _csr32(matrix)
    csr.data = (csr.data > 0).astype(np.float32)
    csr.eliminate_zeros()
    started = time.perf_counter()
    with threadpool_limits(1, "blas"):
        model = BayesianPersonalizedRanking(
            factors=params.factors,
            learning_rate=params.learning_rate,
            regularization=params.regularization,
            iterations=params.iterations,
            num_threads=params.threads,
            random_state=params.seed,
            verify_negative_samples=True,
        )
        model.fit(csr, show_progress=False)
    elapsed = time.perf_counter() - started
    return FactorModel(
        user_factors=np.ascontiguousarray(model.user_factors, dtype=np.float32),
        item_factors=np.ascontiguousarray(model.item_factors, dtype=np.float32),
        item_ids=item_ids,
        user_ids=user_ids,
        params={**(extra_params or {}), **params.to_dict()},
        metrics={"train_seconds": elapsed},
        kind="bpr",
    )
