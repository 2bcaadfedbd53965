"""GC-PSO: greedy-criterion particle swarm (ALGORITHMS.md section 1).

Every rounded particle that breaks a budget is repaired greedily before evaluation (see
:mod:`._repair`), optionally refilled while budget remains, and the repaired point replaces
the particle's position: every evaluated point, pbest and gbest is feasible.

Error sensitivities for the repair come from, in order of preference: the problem's
separable error table (exact); ``problem.sensitivity(x)`` at each particle; or one
estimate by evaluations at the all-minimum point and its one-step raises that fit (at most
N + 1 evaluations, counted), extended to other widths by the model
d_i(w) = a_i * sensitivity_base**(-w).
"""

from __future__ import annotations

import numpy as np

from ._pso import SWARM_DEFAULTS, check_swarm_options, run_swarm
from ._repair import CostModel, model_table, refill, repair

DEFAULTS = {
    **SWARM_DEFAULTS,
    "refill": True,
    "seed_greedy": False,
    "sensitivity_base": 4.0,
    "tie_jitter": 0.05,
    "stagnation_share": 0.25,
    "mutation_tries": 2,
}
CACHE = True
HANDLES_TIES = False


def _estimate_table(problem, ev, base):
    """Sensitivity model from evaluations around the all-minimum point.

    Evaluates the all-minimum point and every one-step raise of it that fits the budgets
    (checked with the cheap ``problem.cost`` first, so no infeasible point is evaluated).
    Variables whose raise does not fit get the median measured sensitivity (1.0 if none
    was measured); the budget then leaves them little room anyway.
    """
    top = problem.n_choices - 1
    can = np.flatnonzero(top > 0)
    pts = np.zeros((can.size + 1, problem.n_var), dtype=np.int64)
    pts[np.arange(1, can.size + 1), can] = 1
    cost = np.asarray(problem.cost(problem.to_width(pts)), dtype=np.int64)
    fits = np.all(cost.reshape(len(pts), -1) <= np.asarray(problem.budgets), axis=1)
    err, _ = ev(problem.to_width(pts[fits]))
    measured = can[fits[1:]]
    # s_i: error increase of stepping variable i down from its raise to the minimum
    s = np.full(problem.n_var, np.median(err[0] - err[1:]) if measured.size else 1.0)
    s[measured] = err[0] - err[1:]
    W = problem.width_table
    return model_table(problem, s[None], W[None, :, 0], W[None, :, 1], base)


def _hook_table(problem, idx, base):
    """Sensitivity model at each particle from ``problem.sensitivity``."""
    W = problem.to_width(idx)
    s = np.array([np.asarray(problem.sensitivity(x), dtype=np.float64) for x in W])
    if s.shape != idx.shape:
        raise ValueError(
            f"problem.sensitivity(x) must return {problem.n_var} values (one per variable), "
            f"not shape {s.shape[1:]}"
        )
    top = problem.n_choices - 1
    hi_i = np.clip(np.maximum(idx, 1), 0, top)
    lo_i = np.maximum(hi_i - 1, 0)
    return model_table(problem, s, problem.to_width(lo_i), problem.to_width(hi_i), base)


def run(problem, rng, ev, **o):
    """Run GC-PSO; options in :data:`DEFAULTS` (swarm options as in ``ppso``).

    Options
    -------
    refill : bool
        Greedily raise variables while the budget allows after repair.
    seed_greedy : bool
        Start particle 0 at the greedy (refill from all-minimum) point of the error model.
    sensitivity_base : float
        Error ratio per bit of the estimated sensitivity model (4: quantization noise
        power); unused for separable problems.
    """
    check_swarm_options(o)
    if o["sensitivity_base"] <= 0:
        raise ValueError(f"sensitivity_base must be > 0, not {o['sensitivity_base']}")
    costs = CostModel(problem)
    budgets = np.asarray(problem.budgets, dtype=np.int64)
    base = float(o["sensitivity_base"])
    use_hook = False
    if problem.error_table is not None:
        E = problem.error_table[None]
    elif problem.sensitivity(problem.max_widths) is not None:
        use_hook = True
        E = None
    else:
        E = _estimate_table(problem, ev, base)

    jit = float(o["tie_jitter"])

    def prepare(idx):
        Em = _hook_table(problem, idx, base) if use_hook else E
        idx = repair(idx, Em, costs, budgets, rng, jit)
        if o["refill"]:
            if use_hook:
                Em = _hook_table(problem, idx, base)
            idx = refill(idx, Em, costs, budgets, rng, jit)
        return idx

    first = None
    if o["seed_greedy"]:
        start = np.zeros((1, problem.n_var), dtype=np.int64)
        Em = _hook_table(problem, start, base) if use_hook else E
        first = refill(start, Em, costs, budgets)[0]

    def score(err, cost, it):
        return err

    idx, err, cost = run_swarm(problem, rng, ev, o, score, prepare, first)
    return problem.to_width(idx), err, cost
