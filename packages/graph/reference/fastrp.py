"""Reference FastRP, written from the equations of Chen et al., "Fast and Accurate Network
Embeddings via Very Sparse Random Projection" (CIKM 2019), with scipy.sparse in float64:

    R   very sparse random projection, R_ij = sqrt(s) * {+1, 0, -1} w.p. 1/(2s), 1-1/s, 1/(2s)
    A   = D^-1 S                      (transition matrix of the weighted adjacency S)
    L   = diag(d_j ^ beta)            (degree normalization; isolated nodes get 0)
    N_1 = A L R,  N_i = A N_{i-1}
    E   = alpha_0 * rownorm(R) + sum_i alpha_i * rownorm(N_i)   (alpha_0 = 0 is the paper)

R is reproduced from the same counter-based hash as the TypeScript implementation
(src/internal/random-projection.ts), so both sides project with the same matrix without
shipping it: row of node `key`: seed_j = fmix32(fnv1a32(utf8(key)) ^ seed), entry c =
fmix32(seed_j + (c+1)*0x9E3779B9 mod 2^32) compared with t = floor(2^32 / (2s)).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

GOLDEN = 0x9E3779B9
M32 = 0xFFFFFFFF


def fnv1a32(s: str) -> int:
    h = 0x811C9DC5
    for b in s.encode("utf-8"):
        h ^= b
        h = (h * 0x01000193) & M32
    return h


def fmix32(h: int) -> int:
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & M32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & M32
    h ^= h >> 16
    return h


def _fmix32_np(h: np.ndarray) -> np.ndarray:
    h = h.astype(np.uint64)
    h ^= h >> np.uint64(16)
    h = (h * np.uint64(0x85EBCA6B)) & np.uint64(M32)
    h ^= h >> np.uint64(13)
    h = (h * np.uint64(0xC2B2AE35)) & np.uint64(M32)
    h ^= h >> np.uint64(16)
    return h


def node_seeds(keys, seed: int) -> np.ndarray:
    return np.array([fmix32((fnv1a32(k) ^ seed) & M32) for k in keys], dtype=np.uint64)


def projection(keys, dim: int, s: float, seed: int) -> np.ndarray:
    """The n x dim matrix R (float64)."""
    seeds = node_seeds(keys, seed)
    t = int(4294967296 // (2 * s))
    v = np.sqrt(s)
    R = np.zeros((len(keys), dim))
    for c in range(dim):
        u = _fmix32_np((seeds + np.uint64(((c + 1) * GOLDEN) & M32)) & np.uint64(M32))
        R[:, c] = np.where(u < t, v, np.where(u < 2 * t, -v, 0.0))
    return R


def rownorm(X: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(X, axis=1, keepdims=True)
    return np.divide(X, n, out=np.zeros_like(X), where=n > 0)


def fastrp(S: sp.csr_matrix, R: np.ndarray, alphas, beta: float, self_weight: float = 0.0) -> np.ndarray:
    d = np.asarray(S.sum(axis=1)).ravel()
    inv = np.divide(1.0, d, out=np.zeros_like(d), where=d > 0)
    A = sp.diags(inv) @ S
    L = np.power(d, beta, out=np.zeros_like(d), where=d > 0)
    N = A @ (L[:, None] * R)
    E = self_weight * rownorm(R) + alphas[0] * rownorm(N)
    for a in alphas[1:]:
        N = A @ N
        E += a * rownorm(N)
    return E
