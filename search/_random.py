"""Baseline: uniform random search over the choice indices."""

from __future__ import annotations

import numpy as np

DEFAULTS = {"n_evals": 1000, "batch_size": 100}
CACHE = True
HANDLES_TIES = False


def run(problem, rng, ev, n_evals, batch_size):
    """Draw ``n_evals`` points (each index uniform), evaluate in batches, keep the best.

    Infeasible draws are evaluated and counted. If none is feasible, the lowest-violation
    point is returned.

    Options
    -------
    n_evals : int
        Points drawn (repeated draws are evaluated once).
    batch_size : int
        Points per batch (one history row each).
    """
    for name, val in (("n_evals", n_evals), ("batch_size", batch_size)):
        if int(val) != val or val < 1:
            raise ValueError(f"{name} must be a positive integer, not {val!r}")
    budgets = np.asarray(problem.budgets)
    n_batches = -(-n_evals // batch_size)
    best_viol, best_x = np.inf, None
    for b in range(n_batches):
        m = min(batch_size, n_evals - b * batch_size)
        idx = np.floor(rng.random((m, problem.n_var)) * problem.n_choices).astype(np.int64)
        X = problem.to_width(idx)
        _, cost = ev(X)
        viol = np.maximum(cost - budgets, 0).sum(axis=1) / np.maximum(budgets, 1).sum()
        j = int(np.argmin(viol))
        if viol[j] < best_viol:
            best_viol, best_x = viol[j], X[j]
        ev.end_iteration(b + 1, n_batches)
    return ev.best_x if ev.best_x is not None else best_x
