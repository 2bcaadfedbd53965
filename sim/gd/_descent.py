"""Quantized gradient descent, vectorized over candidate allocations and data draws."""

from __future__ import annotations

import numpy as np

from ._data import GdData, gradient, loss
from ._quantize import block_max_abs, quantize_blocks, range_exponent
from ._spec import GdSpec, Objective, RangeRule, Target

__all__ = ["descend", "relative_gap", "optimality_gap", "GAP_CAP"]

#: Relative gaps are capped here: a diverging allocation scores as very bad, not inf/NaN
#: (which would poison a swarm's arithmetic).
GAP_CAP = 1e12
_STATE_CAP = 1e150


def descend(spec: GdSpec, data: GdData, bits: np.ndarray) -> np.ndarray:
    """Run T quantized steps from w_0 = 0 for every allocation on every draw.

    Step t: g = grad f(w); gradient target: w <- w - eta Q_t(g); iterate target:
    w <- Q_t(w - eta g); eta = step_scale / L per draw. Q_t rounds each coordinate of block
    k to ``bits[:, t, k]`` bits on the range [-2**e, 2**e) given by ``spec.range_rule``
    (see :class:`RangeRule`), with ``spec.rounding`` and ``spec.overflow``.

    Parameters
    ----------
    spec : GdSpec
    data : GdData
    bits : numpy.ndarray of int64, (n, T, K)
        Widths per candidate, step and block (bits), from :meth:`GdSpec.bits_grid`.

    Returns
    -------
    numpy.ndarray of float64, (n, M, d)
        Final iterates w_T.
    """
    bits = np.asarray(bits, dtype=np.int64)
    n, T, K = bits.shape
    if T != spec.n_steps or K != spec.n_blocks:
        raise ValueError(f"bits must have shape (n, {spec.n_steps}, {spec.n_blocks}), "
                         f"not {bits.shape}")
    d = data.n_features
    blk = spec.blocks(d)
    starts = np.flatnonzero(np.r_[True, blk[1:] != blk[:-1]])
    eta = (spec.step_scale / data.lipschitz)[None, :, None]  # (1, M, 1)
    W = np.zeros((n, data.n_draws, d))
    e_ref = None
    log_decay = np.log2(spec.range_decay)
    for t in range(T):
        G = gradient(data, W)
        X = G if spec.target is Target.GRADIENT else W - eta * G
        X = np.clip(np.nan_to_num(X, nan=0.0), -_STATE_CAP, _STATE_CAP)
        if spec.range_rule is RangeRule.MAX_ABS:
            E = range_exponent(block_max_abs(X, starts))  # (n, M, K)
        else:
            if e_ref is None:
                # w_0 = 0 for every candidate, so the step-0 vector is candidate-independent
                e_ref = range_exponent(block_max_abs(X[:1], starts)) + spec.headroom_bits
            E = e_ref
            if spec.range_rule is RangeRule.GEOMETRIC:
                E = e_ref + int(np.ceil(t * log_decay))
        Q = quantize_blocks(X, bits[:, t, :][:, None, blk], E[..., blk], spec.rounding,
                            spec.overflow)
        W = W - eta * Q if spec.target is Target.GRADIENT else Q
    return W


def optimality_gap(data: GdData, W: np.ndarray) -> np.ndarray:
    """f(w) - f* of iterates W (n, M, d), (n, M); exact quadratic form for least squares."""
    if data.objective is Objective.LEAST_SQUARES:
        D = W - data.w_star
        return 0.5 * np.einsum("nmi,mij,nmj->nm", D, data.H, D)
    return loss(data.objective, data.A, data.y, data.reg, W) - data.f_star


def relative_gap(spec: GdSpec, data: GdData, X: np.ndarray) -> np.ndarray:
    """(f(w_T) - f*) / (f(w_0) - f*) of allocations X (n, N) on every draw, (n, M).

    Dimensionless: 1 means no progress from w_0 = 0; capped at :data:`GAP_CAP`.
    """
    W = descend(spec, data, spec.bits_grid(X))
    with np.errstate(over="ignore", invalid="ignore"):
        g = optimality_gap(data, W) / (data.f0 - data.f_star)
    return np.clip(np.nan_to_num(g, nan=GAP_CAP, posinf=GAP_CAP), 0.0, GAP_CAP)
