"""The bit allocation of a quantized descent as a :class:`bitsmith.search.Problem`.

Variables are the widths of the descent's steps (or blocks); the error is the relative
optimality gap after T steps averaged over the data draws; the consumption is the total
number of bits, sum_i b_i, a separable cost the problem also exposes as ``cost_table`` (so
GC-PSO repairs exactly). No hardware model beyond the sum of bits: the words are what a
gradient link or register file carries, and nothing else in this domain is costed.
"""

from __future__ import annotations

import numpy as np

from ...search import Problem
from ...sim.gd import (
    Allocation,
    GdData,
    GdSpec,
    Objective,
    RangeRule,
    Target,
    block_max_abs,
    gradient,
    range_exponent,
    relative_gap,
)

__all__ = ["GdProblem"]

#: candidates simulated at once (memory: chunk x draws x samples floats)
_CHUNK = 1024


class GdProblem(Problem):
    """Choose per-step (or per-block) widths minimizing the mean relative optimality gap.

    Parameters
    ----------
    spec : GdSpec
        The descent.
    data : GdData
        The draws the gap is averaged over.
    min_bits, max_bits : int
        Admissible widths of every variable (bits).
    budget : int
        Total bits sum_i b_i (bits).
    use_sensitivity : bool
        Offer GC-PSO the noise-model sensitivities of :meth:`sensitivity` instead of letting
        it estimate them by evaluations around the all-minimum point.
    """

    def __init__(self, spec: GdSpec, data: GdData, min_bits: int, max_bits: int,
                 budget: int, use_sensitivity: bool = False):
        n = spec.n_vars
        choices = [tuple(range(min_bits, max_bits + 1))] * n
        super().__init__(choices, (int(budget),))
        self.spec = spec
        self.data = data
        self.cost_table = np.broadcast_to(
            self.width_table[None], (1, *self.width_table.shape)).copy()
        self.check_budgets()
        self.use_sensitivity = use_sensitivity
        self._weights = _noise_weights(spec, data) if use_sensitivity else None

    def sensitivity(self, x):
        """Modelled gap increase of lowering each variable by one bit at x (arbitrary unit).

        Step t's rounding adds white noise of power LSB**2 / 12, LSB = 2 R 2**-b, that the
        remaining T - 1 - t steps shrink by the contraction rho each (see
        :func:`_noise_weights`): lowering b by one bit adds 3 times that power. Constant
        factors do not matter (GC-PSO compares variables of one particle).
        """
        if self._weights is None:
            return None
        grid = self.spec.bits_grid(np.asarray(x, dtype=np.int64)[None])[0]  # (T, K)
        s = 3.0 * self._weights * 4.0 ** (-grid.astype(np.float64))
        if self.spec.allocation is Allocation.STEP:
            return s.sum(axis=1)
        if self.spec.allocation is Allocation.BLOCK:
            return s.sum(axis=0)
        return s.reshape(-1)

    def error(self, X):
        X = np.asarray(X, dtype=np.int64)
        out = np.empty(len(X))
        for i in range(0, len(X), _CHUNK):
            out[i:i + _CHUNK] = relative_gap(self.spec, self.data, X[i:i + _CHUNK]).mean(axis=1)
        return out

    def cost(self, X):
        return np.asarray(X, dtype=np.int64).sum(axis=1)[:, None]


def _noise_weights(spec: GdSpec, data: GdData) -> np.ndarray:
    """Weight of a unit of step-t, block-k quantization noise power in the final error, (T, K).

    mean over draws of c**2 rho**(2 (T - 1 - t)) R_tk**2 n_k: c = eta for the gradient target
    (the noise enters w scaled by the step) or 1 for the iterate; rho = max |1 - eta lambda|
    over the Hessian's eigenvalues at the optimum (the linear rate of the descent); R_tk the
    block's range by the range rule (max_abs: the step-0 range shrunk by rho**t for the
    gradient, the optimum's for the iterate); n_k the block size.
    """
    T, K, M, d = spec.n_steps, spec.n_blocks, data.n_draws, data.n_features
    eta = spec.step_scale / data.lipschitz  # (M,)
    if data.objective is Objective.LEAST_SQUARES:
        hess = data.H
    else:
        from scipy.special import expit

        z = np.einsum("mnd,md->mn", data.A, data.w_star)
        p = expit(z)
        hess = (np.einsum("mnd,mn,mne->mde", data.A, p * (1 - p), data.A) / data.A.shape[1]
                + data.reg * np.eye(d))
    lam = np.linalg.eigvalsh(hess)
    rho = np.maximum(np.abs(1 - eta * lam[:, 0]), np.abs(1 - eta * lam[:, -1]))  # (M,)
    blk = spec.blocks(d)
    starts = np.flatnonzero(np.r_[True, blk[1:] != blk[:-1]])
    sizes = np.bincount(blk, minlength=K).astype(np.float64)
    g0 = gradient(data, np.zeros((1, M, d)))[0]  # (M, d)
    x0 = g0 if spec.target is Target.GRADIENT else -eta[:, None] * g0
    t = np.arange(T, dtype=np.float64)
    if spec.range_rule is RangeRule.MAX_ABS:
        if spec.target is Target.GRADIENT:
            R = block_max_abs(g0, starts)[:, None, :] * rho[:, None, None] ** t[None, :, None]
        else:
            R = np.broadcast_to(block_max_abs(data.w_star, starts)[:, None, :], (M, T, K))
    else:
        e0 = range_exponent(block_max_abs(x0, starts)) + spec.headroom_bits  # (M, K)
        R = np.exp2(e0.astype(np.float64))[:, None, :] * np.ones((1, T, 1))
        if spec.range_rule is RangeRule.GEOMETRIC:
            R = R * np.exp2(np.ceil(t * np.log2(spec.range_decay)))[None, :, None]
    c = eta if spec.target is Target.GRADIENT else np.ones(M)
    prop = rho[:, None] ** (2.0 * (T - 1 - t))[None, :]  # (M, T)
    w = (c[:, None, None] ** 2) * prop[:, :, None] * R ** 2 * sizes[None, None, :]
    return w.mean(axis=0)
