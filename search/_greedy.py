"""Baseline: bit-by-bit greedy on the true error (works for non-separable problems)."""

from __future__ import annotations

import numpy as np

DEFAULTS = {"max_steps": None}
CACHE = False
HANDLES_TIES = False


def run(problem, rng, ev, max_steps):
    """Start at the minimum widths; repeatedly take the best one-step raise.

    Each step evaluates (with ``problem.evaluate``) every one-step raise whose cost fits
    (checked first with the cheap ``problem.cost``) and applies the one with the largest
    error drop per unit of budget-normalized cost increase. When no raise lowers the error
    (a plateau: e.g. a max-type error that one coefficient alone cannot move), it takes the
    raise with the least error (then of the narrowest variable, then the cheapest) and carries
    on; it stops when no raise fits
    and returns the best point it visited.

    Options
    -------
    max_steps : int or None
        Cap on the number of steps (None: no cap).
    """
    n = problem.n_var
    budgets = np.asarray(problem.budgets, dtype=np.int64)
    scale = np.maximum(budgets, 1).astype(np.float64)
    top = problem.n_choices - 1
    idx = np.zeros(n, dtype=np.int64)
    err0, cost0 = ev(problem.to_width(idx)[None, :])
    err0, cost0 = err0[0], cost0[0]
    best = (idx.copy(), err0, cost0)
    step = 0
    total = int(top.sum()) if max_steps is None else int(max_steps)
    while max_steps is None or step < max_steps:
        can = np.flatnonzero(idx < top)
        if can.size == 0:
            break
        cand = np.repeat(idx[None, :], can.size, axis=0)
        cand[np.arange(can.size), can] += 1
        W = problem.to_width(cand)
        cost = np.asarray(problem.cost(W), dtype=np.int64).reshape(can.size, -1)
        fits = np.all(cost <= budgets, axis=1)
        if not fits.any():
            break
        err, cost = ev(W[fits])
        drop = err0 - err
        dc = (np.maximum(cost - cost0, 0) / scale).sum(axis=1)
        with np.errstate(invalid="ignore"):
            ratio = np.where(dc > 0, drop / np.maximum(dc, 1e-300),
                             np.where(drop > 0, np.inf, -np.inf))
        j = int(np.argmax(ratio))
        if drop[j] <= 0:
            # plateau: least error, then the narrowest variable, then least added cost
            narrow = idx[can[fits]]
            j = int(np.lexsort((dc, narrow, err))[0])
        idx = cand[fits][j]
        err0, cost0 = err[j], cost[j]
        if err0 < best[1]:
            best = (idx.copy(), err0, cost0)
        step += 1
        ev.end_iteration(step, total)
    idx, err0, cost0 = best
    return problem.to_width(idx), err0, cost0
