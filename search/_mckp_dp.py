"""Exact MCKP by dynamic programming over integer cost (single budget)."""

from __future__ import annotations

from functools import reduce
from math import gcd

import numpy as np

from ._mckp import require_separable

DEFAULTS = {"max_cells": 20_000_000}
CACHE = False
HANDLES_TIES = False


def run(problem, rng, ev, max_cells):
    """Exact optimum; table of N x (capacity + 1) cells, vectorized over the cost axis.

    Costs are shifted by each variable's cheapest choice and divided by their common
    divisor, so capacity = (budget - minimum cost) / gcd.

    Options
    -------
    max_cells : int
        Largest DP table allowed (cells); beyond it a ValueError suggests ``ilp``.
    """
    require_separable(problem, "mckp_dp")
    n, ks = problem.n_var, problem.n_choices
    E = problem.error_table
    C = problem.cost_table[0] - problem.cost_table[0].min(axis=1, keepdims=True)
    g = reduce(gcd, (int(v) for v in np.unique(C)), 0) or 1
    C = C // g
    cap = int(problem.budgets[0] - problem.min_cost()[0]) // g
    cells = n * (cap + 1)
    if cells > max_cells:
        raise ValueError(
            f"mckp_dp needs a table of N x (capacity + 1) = {n} x {cap + 1} = {cells} cells, "
            f"which must not exceed max_cells={max_cells}; use method='ilp' or raise max_cells"
        )
    dp = np.zeros(cap + 1)
    choice = np.empty((n, cap + 1), dtype=np.int16)
    for i in range(n):
        new = np.full(cap + 1, np.inf)
        arg = np.zeros(cap + 1, dtype=np.int16)
        for k in range(ks[i]):
            c = int(C[i, k])
            if c > cap:
                continue
            cand = dp[: cap + 1 - c] + E[i, k]
            better = cand < new[c:]
            new[c:][better] = cand[better]
            arg[c:][better] = k
        dp = new
        choice[i] = arg
    idx = np.empty(n, dtype=np.int64)
    c = cap
    for i in range(n - 1, -1, -1):
        k = int(choice[i, c])
        idx[i] = k
        c -= int(C[i, k])
    ev.end_iteration(1, 1)
    return problem.to_width(idx)
