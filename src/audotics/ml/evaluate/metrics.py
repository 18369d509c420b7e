"""Top-k ranking metrics, vectorised over users.

Inputs: ``recommended`` is an (n_users, k) int array of item indices, best first
(-1 pads a shorter list); ``relevant`` is a CSR (n_users, n_items) matrix whose
positive cells are the user's held-out items. Users without relevant items are
the caller's to filter out (the runner does). Definitions, per user, then
averaged over users:

* precision@k = hits / k
* recall@k = hits / |relevant|
* nDCG@k = DCG / IDCG with binary gains: DCG = sum over hit positions i (0-based) of
  1 / log2(i + 2); IDCG is the DCG of min(k, |relevant|) hits at the top
* MAP@k: AP@k = sum over hit positions i of precision@(i + 1), divided by
  min(k, |relevant|)
* coverage@k (catalogue): distinct items recommended to anyone / catalogue size
  (every item of the dataset, including those only seen in test)
* diversity@k (intra-list): 1 - mean pairwise cosine similarity of the items in a
  list, using **co-listening vectors**: each item's column of the binarised training
  matrix, so two items are similar when the same people listened to them. It needs
  no model and no metadata, so every model and dataset is measured with the same
  ruler (lists with fewer than two items are skipped).
* novelty@k: mean over recommended items of -log2(popularity), popularity being the
  share of training users who listened to the item (at least one listener).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse


def hit_matrix(recommended: np.ndarray, relevant: sparse.csr_matrix) -> np.ndarray:
    """(n_users, k) booleans: is the item at each position relevant?"""
    rec = np.asarray(recommended, dtype=np.int64)
    rows = np.repeat(np.arange(rec.shape[0]), rec.shape[1])
    flat = rec.ravel()
    valid = flat >= 0
    hits = np.zeros(flat.shape[0], dtype=bool)
    if valid.any():
        values = np.asarray(relevant[rows[valid], flat[valid]]).ravel()
        hits[valid] = values > 0
    return hits.reshape(rec.shape)


def _n_relevant(relevant: sparse.csr_matrix) -> np.ndarray:
    binary = relevant.tocsr(copy=True)
    binary.data = (binary.data > 0).astype(np.float32)
    return np.asarray(binary.sum(axis=1)).ravel()


def precision_at_k(recommended: np.ndarray, relevant: sparse.csr_matrix, k: int) -> np.ndarray:
    hits = hit_matrix(recommended[:, :k], relevant)
    return np.asarray(hits.sum(axis=1) / k)


def recall_at_k(recommended: np.ndarray, relevant: sparse.csr_matrix, k: int) -> np.ndarray:
    hits = hit_matrix(recommended[:, :k], relevant)
    n_rel = _n_relevant(relevant)
    return np.asarray(hits.sum(axis=1) / np.maximum(n_rel, 1))


def ndcg_at_k(recommended: np.ndarray, relevant: sparse.csr_matrix, k: int) -> np.ndarray:
    hits = hit_matrix(recommended[:, :k], relevant)
    discounts = 1.0 / np.log2(np.arange(2, hits.shape[1] + 2))
    dcg = (hits * discounts).sum(axis=1)
    ideal_n = np.minimum(_n_relevant(relevant), k).astype(np.int64)
    ideal_table = np.concatenate([[0.0], np.cumsum(1.0 / np.log2(np.arange(2, k + 2)))])
    idcg = ideal_table[ideal_n]
    return np.asarray(np.where(idcg > 0, dcg / np.where(idcg > 0, idcg, 1.0), 0.0))


def map_at_k(recommended: np.ndarray, relevant: sparse.csr_matrix, k: int) -> np.ndarray:
    hits = hit_matrix(recommended[:, :k], relevant)
    precision_at = np.cumsum(hits, axis=1) / np.arange(1, hits.shape[1] + 1)
    denominator = np.minimum(_n_relevant(relevant), k)
    return np.asarray((precision_at * hits).sum(axis=1) / np.maximum(denominator, 1))


def catalogue_coverage(recommended: np.ndarray, n_items: int) -> float:
    items = np.unique(recommended[recommended >= 0])
    return float(items.size / n_items) if n_items else 0.0


def item_popularity(train: sparse.csr_matrix) -> np.ndarray:
    """Share of users with a positive cell for each item (at least 1 / n_users)."""
    n_users = max(train.shape[0], 1)
    binary = train.tocsc(copy=True)
    binary.data = (binary.data > 0).astype(np.float32)
    listeners = np.asarray(binary.sum(axis=0)).ravel()
    return np.asarray(np.maximum(listeners, 1.0) / n_users)


def novelty(recommended: np.ndarray, popularity: np.ndarray) -> np.ndarray:
    """Per user: mean -log2(popularity) of the recommended items."""
    valid = recommended >= 0
    info = np.where(valid, -np.log2(popularity[np.where(valid, recommended, 0)]), 0.0)
    return np.asarray(info.sum(axis=1) / np.maximum(valid.sum(axis=1), 1))


def colistening_vectors(train: sparse.csr_matrix) -> sparse.csr_matrix:
    """(items x users) L2-normalised rows: each item's binarised listener vector."""
    items = train.T.tocsr(copy=True).astype(np.float32)
    items.data = (items.data > 0).astype(np.float32)
    items.eliminate_zeros()
    norms = np.sqrt(np.asarray(items.multiply(items).sum(axis=1)).ravel())
    scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    return sparse.csr_matrix(sparse.diags(scale.astype(np.float32)) @ items)


def intra_list_diversity(recommended: np.ndarray, vectors: sparse.csr_matrix) -> np.ndarray:
    """Per user: 1 - mean pairwise cosine of the list's item vectors (NaN if < 2 items).

    Computed for all users at once: the lists' vectors are stacked into one sparse
    matrix, and sum_{i != j} cos(i, j) = |sum_i v_i|^2 - sum_i |v_i|^2 per list.
    """
    rec = np.asarray(recommended, dtype=np.int64)
    valid = rec >= 0
    n_valid = valid.sum(axis=1)
    rows = np.repeat(np.arange(rec.shape[0]), rec.shape[1])[valid.ravel()]
    items = rec.ravel()[valid.ravel()]
    picked = vectors[items]
    membership = sparse.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, np.arange(len(rows)))),
        shape=(rec.shape[0], len(rows)),
    )
    summed = membership @ picked  # (users x dim): sum of the list's vectors
    total = np.asarray(summed.multiply(summed).sum(axis=1)).ravel()
    self_sim = np.asarray(membership @ np.asarray(picked.multiply(picked).sum(axis=1))).ravel()
    pairs = n_valid * (n_valid - 1)
    mean_sim = np.divide(total - self_sim, pairs, out=np.full(len(pairs), np.nan), where=pairs > 0)
    return np.asarray(1.0 - mean_sim)
