"""Baseline: one width for every variable (the best that fits)."""

from __future__ import annotations

import numpy as np

DEFAULTS: dict = {}
CACHE = False
HANDLES_TIES = False


def run(problem, rng, ev):
    """Evaluate every width common to all choice sets whose all-equal point fits.

    Cost is checked with the cheap ``problem.cost`` first, so only fitting points are
    evaluated. If none fits, the cheapest all-equal point is returned (infeasible).
    """
    common = sorted(set.intersection(*(set(c) for c in problem.choices)))
    if not common:
        raise ValueError(
            "method 'uniform' needs a bit-width common to every variable's choices, "
            "but the choice sets have none in common"
        )
    X = np.repeat(np.asarray(common, dtype=np.int64)[:, None], problem.n_var, axis=1)
    cost = np.asarray(problem.cost(X), dtype=np.int64).reshape(len(X), problem.n_budgets)
    fits = np.all(cost <= np.asarray(problem.budgets), axis=1)
    if not fits.any():
        ev.end_iteration(1, 1)
        return X[0]
    err, _ = ev(X[fits])
    ev.end_iteration(1, 1)
    return X[fits][int(np.argmin(err))]
