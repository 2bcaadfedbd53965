"""Greedy budget repair and refill for GC-PSO, vectorized over particles.

Both work on choice *indices* with a per-variable error model ``E`` (float64,
(1 or P, N, Kmax): estimated error of each choice, only differences matter) and the exact
cost (from the problem's cost table if it has one, else from ``problem.cost`` on neighbour
points). With several budgets, the cost saved by a step is measured as the sum over the
violated budgets of (cost saved / budget), and the cost added by a refill step as the sum
over all budgets of (cost added / budget); for one budget both reduce to dD / dC.
"""

from __future__ import annotations

import numpy as np

_TINY = 1e-300


class CostModel:
    """Exact consumption of index points and of one-step moves."""

    def __init__(self, problem):
        self.problem = problem
        self.table = problem.cost_table  # (nb, N, Kmax) or None
        self.top = problem.n_choices - 1

    def total(self, ix):
        """Cost of index points, int64 (P, nb)."""
        if self.table is not None:
            ar = np.arange(ix.shape[1])
            return self.table[:, ar, ix].sum(axis=2).T
        return np.asarray(self.problem.cost(self.problem.to_width(ix)), dtype=np.int64)

    def step(self, ix, d):
        """Cost change of moving each variable by ``d`` (+1 or -1), int64 (P, N, nb).

        Moves out of range get 0; callers mask them.
        """
        J = np.clip(ix + d, 0, self.top)
        if self.table is not None:
            ar = np.arange(ix.shape[1])
            return np.moveaxis(self.table[:, ar, J] - self.table[:, ar, ix], 0, -1)
        P, N = ix.shape
        base = self.total(ix)
        nb = base.shape[1]
        nbr = np.repeat(ix[:, None, :], N, axis=1)
        nbr[:, np.arange(N), np.arange(N)] = J
        c = self.total(nbr.reshape(P * N, N)).reshape(P, N, nb)
        return c - base[:, None, :]


def _take(E, ix):
    """E[p, i, ix[p, i]] with E broadcast over particles."""
    P, N = ix.shape
    if E.shape[0] == 1:
        return E[0, np.arange(N), ix]
    return np.take_along_axis(E, ix[:, :, None], axis=2)[:, :, 0]


def _pick(key, rng, jitter, best):
    """Per row, the column of the best ``key`` (``best``: np.argmin or np.argmax).

    With a generator, every key is first scaled by a factor in [1, 1 + jitter] drawn per
    row and column, so near-ties (within ``jitter``, relative) are broken at random per
    particle, and exact ties (equal keys, e.g. zeros) are broken uniformly at random.
    """
    if rng is None:
        return best(key, axis=1)
    u = rng.random(key.shape)
    if jitter > 0:
        with np.errstate(invalid="ignore"):
            noisy = key * (1.0 + jitter * u)
        key = np.where(np.isfinite(key), noisy, key)
    target = (np.min if best is np.argmin else np.max)(key, axis=1, keepdims=True)
    return np.argmax(np.where(key == target, u + 1.0, 0.0), axis=1)


def repair(ix, E, costs: CostModel, budgets, rng=None, jitter: float = 0.0):
    """Lower variables one step at a time until every budget holds.

    Each step lowers, per over-budget particle, the variable with the smallest estimated
    error increase per unit of (budget-normalized) cost saved; with ``rng``, near-ties
    (within ``jitter``, relative) and ties are broken at random per particle.

    Parameters
    ----------
    ix : numpy.ndarray of int64, (P, N)
        Index points.
    E : numpy.ndarray of float64, (1 or P, N, Kmax)
        Error model.
    costs : CostModel
    budgets : numpy.ndarray of int64, (nb,)
    rng : numpy.random.Generator, optional
        Breaks ties and near-ties at random; None: the lowest index wins (deterministic).
    jitter : float
        Relative width of a near-tie (>= 0; 0.05: ratios within 5 % count as tied).

    Returns
    -------
    numpy.ndarray of int64, (P, N)
        Repaired points (all feasible when cost is monotone, budgets >= minimum cost).
    """
    ix = ix.copy()
    B = np.asarray(budgets, dtype=np.int64)
    scale = np.maximum(B, 1).astype(np.float64)
    C = costs.total(ix)
    active = np.flatnonzero((C > B).any(axis=1))
    while active.size:
        ixa = ix[active]
        Ea = E if E.shape[0] == 1 else E[active]
        lower = np.maximum(ixa - 1, 0)
        derr = _take(Ea, lower) - _take(Ea, ixa)
        saved = -costs.step(ixa, -1)  # (A, N, nb), >= 0 for monotone cost
        over = (C[active] > B)[:, None, :]
        wgt = (saved * over / scale).sum(axis=2)
        ratio = np.where((ixa > 0) & (wgt > 0), derr / np.maximum(wgt, _TINY), np.inf)
        j = _pick(ratio, rng, jitter, np.argmin)
        ar = np.arange(active.size)
        ok = np.isfinite(ratio[ar, j])
        if not ok.all():
            # Cannot lower any variable usefully (non-monotone cost): fall back to the
            # all-minimum point, feasible by the budget check.
            ix[active[~ok]] = 0
        ix[active[ok], j[ok]] -= 1
        if costs.table is not None:
            C[active[ok]] -= saved[ar[ok], j[ok]]
            C[active[~ok]] = costs.total(ix[active[~ok]])
        else:
            C[active] = costs.total(ix[active])
        active = active[(C[active] > B).any(axis=1)]
    return ix


def refill(ix, E, costs: CostModel, budgets, rng=None, jitter: float = 0.0):
    """Raise variables one step at a time while the budgets allow.

    Each step raises, per particle, the variable with the largest estimated error decrease
    per unit of (budget-normalized) cost added among the steps that fit; stops when no step
    fits or none lowers the estimated error. ``rng`` and ``jitter`` as in :func:`repair`.
    """
    ix = ix.copy()
    B = np.asarray(budgets, dtype=np.int64)
    scale = np.maximum(B, 1).astype(np.float64)
    top = costs.top
    C = costs.total(ix)
    active = np.arange(len(ix))
    while active.size:
        ixa = ix[active]
        Ea = E if E.shape[0] == 1 else E[active]
        upper = np.minimum(ixa + 1, top)
        gain = _take(Ea, ixa) - _take(Ea, upper)
        added = costs.step(ixa, +1)
        slack = (B - C[active])[:, None, :]
        fits = (ixa < top) & np.all(added <= slack, axis=2) & (gain > 0)
        wgt = (np.maximum(added, 0) / scale).sum(axis=2)
        ratio = np.where(fits, gain / np.maximum(wgt, _TINY), -np.inf)
        j = _pick(ratio, rng, jitter, np.argmax)
        ar = np.arange(active.size)
        ok = fits[ar, j]
        ix[active[ok], j[ok]] += 1
        if costs.table is not None:
            C[active[ok]] += added[ar[ok], j[ok]]
        else:
            C[active[ok]] = costs.total(ix[active[ok]])
        active = active[ok]
    return ix


def model_table(problem, s_step, anchor_lo, anchor_hi, base: float):
    """Error model table from per-step sensitivities.

    Assumes d_i(w) = a_i * base**(-w) (quantization noise power scales as 4**-bits for
    base 4; base 1 means a constant error increase per bit), calibrated so that
    d_i(w_lo) - d_i(w_hi) = s_i for the anchor widths w_lo < w_hi.

    Parameters
    ----------
    s_step : numpy.ndarray, float64 (P, N)
        Error increase of stepping from ``anchor_hi`` down to ``anchor_lo`` (error units).
    anchor_lo, anchor_hi : numpy.ndarray, int64 (P, N)
        Anchor widths (bits), ``anchor_lo < anchor_hi`` where the variable has >= 2 choices.
    base : float
        Error ratio per bit (> 0).

    Returns
    -------
    numpy.ndarray, float64 (P, N, Kmax)
    """
    W = problem.width_table[None, :, :].astype(np.float64)
    lo = anchor_lo[:, :, None].astype(np.float64)
    hi = anchor_hi[:, :, None].astype(np.float64)
    s = np.maximum(np.asarray(s_step, dtype=np.float64), 0.0)[:, :, None]
    gap = np.maximum(hi - lo, 1.0)
    if base == 1.0:
        return s * (hi - W) / gap
    lb = np.log(base)
    shape = np.exp(np.clip(-(W - lo) * lb, -700, 700))
    denom = 1.0 - np.exp(-gap * lb)
    return s * shape / denom
