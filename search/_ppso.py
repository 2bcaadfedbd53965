"""PPSO: penalized particle swarm (ALGORITHMS.md section 1).

Fitness = error + mu_t * sum_b max(0, C_b - budget_b)**q with mu_t = mu * growth**t.
Infeasible points are evaluated (and counted in ``n_infeasible``).
"""

from __future__ import annotations

import math

import numpy as np

from ._pso import SWARM_DEFAULTS, check_swarm_options, run_swarm

DEFAULTS = {
    **SWARM_DEFAULTS,
    "penalty_exponent": 2,
    "penalty_weight": None,
    "penalty_growth": 1.05,
}
CACHE = True
HANDLES_TIES = False


def run(problem, rng, ev, **o):
    """Run PPSO; options in :data:`DEFAULTS`.

    Options
    -------
    n_particles, n_iter : int
        Swarm size and iterations (defaults 40, 200).
    w, c1, c2 : float
        Inertia and acceleration (defaults 0.729, 1.494, 1.494: constriction values).
    w_schedule : None or "linear"
        "linear": w decreases 0.9 -> 0.4 over the iterations (``w`` ignored).
    v_max : float or None
        Velocity clamp in index units; default (K_i - 1) / 2 per variable.
    max_evals : int or None
        Stop before an iteration would exceed this many evaluations.
    x0 : sequence of int or None
        Starting widths of particle 0 (e.g. a heuristic's answer); None: random.
    penalty_exponent : 1 or 2
        q.
    penalty_weight : float or None
        mu (error units per cost unit**q). None: automatic, the error spread of the first
        swarm divided by its smallest positive violation**q, so that every infeasible point
        of the first swarm scores worse than any feasible one of similar error.
    penalty_growth : float
        mu is multiplied by this every iteration (>= 1).
    """
    check_swarm_options(o)
    q = o["penalty_exponent"]
    if q not in (1, 2):
        raise ValueError(f"penalty_exponent must be 1 or 2, not {q!r}")
    if o["penalty_growth"] < 1:
        raise ValueError(f"penalty_growth must be >= 1, not {o['penalty_growth']}")
    if o["penalty_weight"] is not None and o["penalty_weight"] <= 0:
        raise ValueError(f"penalty_weight must be > 0, not {o['penalty_weight']}")
    budgets = np.asarray(problem.budgets, dtype=np.int64)
    mu = [o["penalty_weight"]]

    def violation(cost):
        return (np.maximum(cost - budgets, 0).astype(np.float64) ** q).sum(axis=1)

    def score(err, cost, it):
        viol = violation(cost)
        if mu[0] is None:
            pos = viol[viol > 0]
            spread = float(np.ptp(err)) + float(np.abs(err).mean()) + 1e-300
            mu[0] = spread / (pos.min() if pos.size else 1.0)
        # the growing weight saturates at float max instead of overflowing (long runs)
        weight = min(math.exp(min(it * math.log(o["penalty_growth"]), 700.0)), 1e300)
        return err + mu[0] * weight * viol

    idx, err, cost = run_swarm(problem, rng, ev, o, score)
    return problem.to_width(idx), err, cost
