"""Greedy-class MCKP heuristic on the lower convex hulls (ALGORITHMS.md section 2).

Three polynomial stages, none of them a dynamic program over the budget:

1. **Hull greedy** (the LP relaxation rounded down). Per class, dominated items and items
   above the lower convex hull of (cost, error) are dropped; every class starts at its
   cheapest hull item and the upgrades (hull segments) are taken in decreasing order of
   error drop per unit cost. This is the order in which the LP relaxation of Sinha and
   Zoltners fills the budget; the LP stops at the first segment that does not fit and takes
   it fractionally, the greedy instead skips it, retires that class (the slack only
   shrinks) and keeps filling with the later segments that still fit.
2. **Partial enumeration of depth one** (``fix_one``): for every class and every one of its
   items (hull or not), that item is fixed and the hull greedy fills the other classes;
   the best of these ``sum_i K_i`` starts and the plain greedy is kept. With few, very
   unequal classes the budget often breaks exactly where one large class would need an
   off-hull or skipped item; fixing it repairs that.
3. **Exchange local search** (``polish``): on the best ``polish`` distinct starts,
   repeatedly apply the best feasible move that changes one class's item, or moves one
   class to a cheaper item and another to a dearer one at once (any items, not only the
   hulls: it also fills the leftover budget) while it lowers the error; at most ``4 * N`` moves per start, and at most
   ``max(1, 5e6 // M^2)`` starts whatever ``polish`` says, and single-class moves only
   when ``(N * Kmax)^2 > 5e6`` (bounds on the work and memory from the sizes alone: same
   problem, same answer).

Cost: O(M log M) for the sort, O(M * S) for the starts (M = sum_i K_i items, S <= M
segments) and O(polish * N * M^2) for the local search.
"""

from __future__ import annotations

import numpy as np

from ._mckp import require_separable

DEFAULTS: dict = {"fix_one": True, "polish": 64}
CACHE = False
HANDLES_TIES = False
#: Bound on polished starts times M^2 (pair moves scanned per local-search step).
_POLISH_WORK = 5_000_000


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


class _Hulls:
    """The hulls of every class and their segments in decreasing ratio order."""

    def __init__(self, E, C, ks):
        self.E, self.C = E, C
        self.hulls = [convex_hull_items(C[i, :k], E[i, :k]) for i, k in enumerate(ks)]
        seg_cls, seg_dc, seg_ratio = [], [], []
        for i, h in enumerate(self.hulls):
            for p in range(len(h) - 1):
                dc = int(C[i, h[p + 1]] - C[i, h[p]])
                seg_cls.append(i)
                seg_dc.append(dc)
                seg_ratio.append((E[i, h[p]] - E[i, h[p + 1]]) / dc)
        # Ratios decrease along each hull, so a stable sort by ratio keeps every class's
        # segments in order; ties between classes go to the lower class index.
        order = np.argsort(-np.asarray(seg_ratio, dtype=np.float64), kind="stable")
        self.seg_cls = [seg_cls[s] for s in order]
        self.seg_dc = [seg_dc[s] for s in order]

    def greedy(self, budget: int, fixed: tuple[int, int] | None = None):
        """Hull-greedy item per class (one class optionally fixed), or None if infeasible."""
        C, hulls = self.C, self.hulls
        n = len(hulls)
        idx = np.array([h[0] for h in hulls], dtype=np.int64)
        fc = -1
        if fixed is not None:
            fc, idx[fixed[0]] = fixed
        used = int(C[np.arange(n), idx].sum())
        if used > budget:
            return None
        pos = [0] * n
        retired = [False] * n
        if fc >= 0:
            retired[fc] = True
        for i, dc in zip(self.seg_cls, self.seg_dc, strict=True):
            if retired[i]:
                continue
            if dc > budget - used:
                retired[i] = True  # does not fit now, never will: skip this class
                continue
            used += dc
            pos[i] += 1
            idx[i] = hulls[i][pos[i]]
        return idx


def _polish(E, C, budget: int, idx: np.ndarray, max_moves: int, pairs: bool) -> np.ndarray:
    """Best-improvement local search over feasible moves: one class to any item, or (with
    ``pairs``) one class to a cheaper item and another to a dearer one at once (the
    exchange that a single move cannot make when the slack is short)."""
    n, K = E.shape
    ar = np.arange(n)
    cls = np.repeat(ar, K)
    idx = idx.copy()
    for _ in range(max_moves):
        cur_e, cur_c = E[ar, idx], C[ar, idx]
        slack = budget - int(cur_c.sum())
        dE = (E - cur_e[:, None]).ravel()
        dC = (C - cur_c[:, None]).ravel()
        one = np.where(dC <= slack, dE, np.inf)
        a1 = int(np.argmin(one))
        best2, move2 = np.inf, None
        if pairs:
            down, up = np.flatnonzero(dC < 0), np.flatnonzero(dC > 0)
            if len(down) and len(up):
                pair = dE[down][:, None] + dE[up][None, :]
                pair[(dC[down][:, None] + dC[up][None, :] > slack)
                     | (cls[down][:, None] == cls[up][None, :])] = np.inf
                a2 = int(np.argmin(pair))
                best2 = pair.flat[a2]
                move2 = (down[a2 // len(up)], up[a2 % len(up)])
        tol = 1e-12 * max(float(np.abs(cur_e).sum()), 1e-300)
        if min(one[a1], best2) >= -tol:
            break
        if one[a1] <= best2:
            idx[a1 // K] = a1 % K
        else:
            a, b = move2
            idx[a // K], idx[b // K] = a % K, b % K
    return idx


def run(problem, rng, ev, fix_one, polish):
    """Hull greedy, depth-one partial enumeration and exchange local search; one budget.

    Options
    -------
    fix_one : bool
        Also start from every (class, item) fixed, the hull greedy filling the rest.
    polish : int
        Local search on this many best distinct starts (0: none; capped so that starts
        times M^2 stays under 5e6, M = total items).
    """
    require_separable(problem, "mckp_greedy")
    E, C = problem.error_table, problem.cost_table[0]
    budget = int(problem.budgets[0])
    n = problem.n_var
    hulls = _Hulls(E, C, problem.n_choices)
    starts = [hulls.greedy(budget)]
    if fix_one:
        for i, k in enumerate(problem.n_choices):
            for item in range(int(k)):
                s = hulls.greedy(budget, (i, item))
                if s is not None:
                    starts.append(s)
    ar = np.arange(n)
    seen, ranked = set(), []
    for s in sorted(starts, key=lambda s: (float(E[ar, s].sum()), tuple(s))):
        if tuple(s) not in seen:
            seen.add(tuple(s))
            ranked.append(s)
    best = ranked[0]
    m = int(np.sum(problem.n_choices))
    n_polish = min(max(int(polish), 0), max(1, _POLISH_WORK // (m * m)))
    for s in ranked[:n_polish]:
        s = _polish(E, C, budget, s, 4 * n, pairs=E.size ** 2 <= _POLISH_WORK)
        if float(E[ar, s].sum()) < float(E[ar, best].sum()):
            best = s
    ev.end_iteration(1, 1)
    return problem.to_width(best)
