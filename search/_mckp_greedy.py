"""Greedy MCKP solver on the lower convex hull (ALGORITHMS.md section 2)."""

from __future__ import annotations

import numpy as np

from ._mckp import require_separable

DEFAULTS: dict = {}
CACHE = False
HANDLES_TIES = False


def convex_hull_items(cost, error) -> np.ndarray:
    """Indices of one class's items on the lower convex hull of (cost, error).

    Items are sorted by cost; dominated items (higher or equal cost, not lower error) and
    items above the lower convex hull are dropped. Along the returned items cost strictly
    increases, error strictly decreases, and the error drop per unit cost decreases.

    Parameters
    ----------
    cost : array_like of int, (K,)
        Item costs.
    error : array_like of float, (K,)
        Item errors.

    Returns
    -------
    numpy.ndarray of int64
        Item indices, cheapest first.
    """
    cost = np.asarray(cost, dtype=np.float64)
    error = np.asarray(error, dtype=np.float64)
    order = np.lexsort((error, cost))
    kept = []
    for k in order:
        if kept and error[k] >= error[kept[-1]]:
            continue  # dominated (also drops equal-cost items with higher error)
        while len(kept) >= 2:
            a, b = kept[-2], kept[-1]
            # b lies on or above the segment a -> k: not on the lower hull.
            cross = (cost[b] - cost[a]) * (error[k] - error[a]) - (error[b] - error[a]) * (
                cost[k] - cost[a]
            )
            if cross <= 0:
                kept.pop()
            else:
                break
        kept.append(int(k))
    return np.asarray(kept, dtype=np.int64)


def run(problem, rng, ev):
    """Greedy upgrades by error drop per unit cost on the hulls; single budget."""
    require_separable(problem, "mckp_greedy")
    E, C = problem.error_table, problem.cost_table[0]
    budget = problem.budgets[0]
    hulls = [
        convex_hull_items(C[i, :k], E[i, :k]) for i, k in enumerate(problem.n_choices)
    ]
    n = problem.n_var
    pos = np.zeros(n, dtype=np.int64)
    used = int(sum(C[i, h[0]] for i, h in enumerate(hulls)))

    def upgrade(i):
        h, p = hulls[i], pos[i]
        if p + 1 >= len(h):
            return -np.inf, 0
        dc = int(C[i, h[p + 1]] - C[i, h[p]])
        return (E[i, h[p]] - E[i, h[p + 1]]) / dc, dc

    ratio = np.empty(n)
    dcost = np.zeros(n, dtype=np.int64)
    for i in range(n):
        ratio[i], dcost[i] = upgrade(i)
    while True:
        # An upgrade that does not fit now never will (slack only shrinks): retire it.
        ratio[dcost > budget - used] = -np.inf
        i = int(np.argmax(ratio))
        if not np.isfinite(ratio[i]):
            break
        used += int(dcost[i])
        pos[i] += 1
        ratio[i], dcost[i] = upgrade(i)
    idx = np.array([hulls[i][pos[i]] for i in range(n)], dtype=np.int64)
    ev.end_iteration(1, 1)
    return problem.to_width(idx)
