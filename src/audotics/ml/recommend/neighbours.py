"""Item-item matrices fitted from listening: what the co-listening, EASE and graph sources
(:class:`~audotics.ml.recommend.sources.ItemItemSource`) read per request.

Built once per model or serving state (seconds to minutes at 100k items), never in a
request: cosine kNN over the listener columns, EASE (Steck 2019) sparsified to its
strongest weights, and the RP3beta random walk (Paudel et al. 2017), each kept to its
top neighbours per item.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse


def unit_rows(matrix: sparse.spmatrix) -> sparse.csr_matrix:
    csr = sparse.csr_matrix(matrix, dtype=np.float32)
    norms = np.sqrt(np.asarray(csr.multiply(csr).sum(axis=1)).ravel())
    scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    return sparse.csr_matrix(sparse.diags(scale.astype(np.float32)) @ csr)


def top_k_per_row(matrix: sparse.csr_matrix, k: int) -> sparse.csr_matrix:
    """Keep the ``k`` largest entries of each row (vectorised)."""
    csr = matrix.tocsr()
    csr.sort_indices()
    rows = np.repeat(np.arange(csr.shape[0]), np.diff(csr.indptr))
    order = np.lexsort((-csr.data, rows))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order)) - csr.indptr[rows[order]]
    keep = rank < k
    return sparse.csr_matrix(
        (csr.data[keep], (rows[keep], csr.indices[keep])), shape=csr.shape, dtype=np.float32
    )


def cosine_neighbours(train: sparse.csr_matrix, neighbours: int) -> sparse.csr_matrix:
    """(items x items) cosine similarity of listener columns, top ``neighbours`` per row."""
    unit = unit_rows(train.T.tocsr())
    sim = sparse.csr_matrix(unit @ unit.T)
    sim.setdiag(0)
    sim.eliminate_zeros()
    return top_k_per_row(sim, neighbours)


def ease_neighbours(
    train: sparse.csr_matrix,
    regularization: float,
    max_items: int,
    neighbours: int,
    *,
    side: sparse.spmatrix | None = None,
    side_weight: float = 0.0,
    dropout: float = 0.0,
) -> sparse.csr_matrix:
    """EASE weights on the ``max_items`` most listened items, top ``neighbours`` per row.

    ``regularization`` is relative to the mean diagonal of the Gram matrix (as in the
    EASE baseline), so one value fits datasets of any size.

    ``side`` (items x features, e.g. tag tf-idf) enters as pseudo-users, EASE fitted on
    the listening stacked with the unit feature columns (Jeunen et al. 2020, closed-form
    CF with side information): the Gram matrix gains ``side_weight`` x its mean
    diagonal x the cosine of the items' feature rows, so two items described alike are
    tied even when few people played both.

    ``dropout`` > 0 is EDLAE (Steck 2020, "Autoencoders that don't overfit towards the
    identity"): the closed form under emphasised dropout of that probability adds
    ``dropout / (1 - dropout) x diag(G)`` to the regularisation, so each item is held
    back in proportion to its own Gram diagonal (popular items lean less on themselves).
    Measured on HetRec and not adopted (ADR 0007); 0 is EASE.
    """
    if not 0.0 <= dropout < 1.0:
        raise ValueError("dropout must be in [0, 1)")
    n_items = train.shape[1]
    listeners = np.asarray((train > 0).sum(axis=0)).ravel()
    ranked = np.argsort(-listeners, kind="stable")
    items = np.sort(ranked[listeners[ranked] > 0][:max_items])
    x = train[:, items].astype(np.float64)
    gram = np.asarray((x.T @ x).toarray())
    scale = float(np.diag(gram).mean() if len(items) else 0.0)
    if side is not None and side_weight > 0:
        described = unit_rows(sparse.csr_matrix(side)[items])
        gram += side_weight * scale * np.asarray((described @ described.T).toarray())
    penalty = regularization * scale + dropout / (1.0 - dropout) * np.diag(gram)
    gram[np.diag_indices_from(gram)] += np.maximum(penalty, 1e-6)
    p = np.linalg.inv(gram)
    b = -p / np.diag(p)
    b[np.diag_indices_from(b)] = 0.0
    b[b < 0] = 0.0  # negative weights say "not this", which a candidate list cannot use
    local = top_k_per_row(sparse.csr_matrix(b.astype(np.float32)), neighbours).tocoo()
    return sparse.csr_matrix(
        (local.data, (items[local.row], items[local.col])), shape=(n_items, n_items)
    )


#: RP3beta's exponents as tuned (best alone on HetRec validation of (0.5-1) x (0.3-0.5)):
#: one pair for the offline hybrid and the served engine, so the measured source serves.
RP3_ALPHA, RP3_BETA = 1.0, 0.3


def rp3beta_neighbours(
    train: sparse.csr_matrix, alpha: float, beta: float, neighbours: int
) -> sparse.csr_matrix:
    """RP3beta (Paudel et al. 2017): item-item transition probabilities of a random walk
    item -> listener -> item on the bipartite listening graph, raised to ``alpha``,
    each target divided by its listener count to the power ``beta`` (the popularity
    penalty), top ``neighbours`` per row::

        S_ij = sum_u P(u | i)^alpha P(j | u)^alpha / listeners_j^beta

    Edges are binary (who listened to what), as in the paper: the walk is over who
    listened, the user's own weights enter when the source scores their row.
    """
    listened = sparse.csr_matrix(train, dtype=np.float32, copy=True)
    listened.data = (listened.data > 0).astype(np.float32)
    listened.eliminate_zeros()
    item_to_user = _walk_step(listened.T.tocsr(), alpha)
    user_to_item = _walk_step(listened, alpha)
    walk = sparse.csr_matrix(item_to_user @ user_to_item)
    listeners = np.asarray(listened.sum(axis=0)).ravel()
    penalty = np.zeros_like(listeners)
    np.power(listeners, -beta, out=penalty, where=listeners > 0)
    walk = sparse.csr_matrix(walk @ sparse.diags(penalty.astype(np.float32)))
    walk.setdiag(0)
    walk.eliminate_zeros()
    return top_k_per_row(walk, neighbours)


def _walk_step(edges: sparse.csr_matrix, alpha: float) -> sparse.csr_matrix:
    """Row-stochastic transition matrix of 0/1 ``edges``, entries to the power ``alpha``."""
    degree = np.asarray(edges.sum(axis=1)).ravel()
    scale = np.divide(1.0, degree, out=np.zeros_like(degree), where=degree > 0)
    step = sparse.csr_matrix(sparse.diags(scale.astype(np.float32)) @ edges)
    step.data = np.power(step.data, alpha, dtype=np.float32)
    return step
