"""Baseline: uniform random search over the choice indices."""

from __future__ import annotations

import numpy as np

from ._gcpso import check_repair_options, make_repairer

DEFAULTS = {
    "n_evals": 1000,
    "batch_size": 100,
    "repair": False,
    "refill": None,
    "sensitivity_base": 4.0,
    "tie_jitter": 0.05,
}
CACHE = True
HANDLES_TIES = False


def run(problem, rng, ev, **o):
    """Draw ``n_evals`` points (each index uniform), evaluate in batches, keep the best.

    Without ``repair``, infeasible draws are evaluated and counted; if none is feasible,
    the lowest-violation point is returned. With ``repair``, every draw is first made
    feasible by GC-PSO's greedy repair (and refill): random restarts of that repair, the
    baseline that shows what GC-PSO's swarm adds.

    Options
    -------
    n_evals : int
        Points drawn (repeated draws are evaluated once).
    batch_size : int
        Points per batch (one history row each).
    repair : bool
        Repair every draw before evaluation (default False).
    refill, sensitivity_base, tie_jitter
        Repair options, as for ``gcpso`` (used only with ``repair``).
    """
    n_evals, batch_size = o["n_evals"], o["batch_size"]
    for name, val in (("n_evals", n_evals), ("batch_size", batch_size)):
        if int(val) != val or val < 1:
            raise ValueError(f"{name} must be a positive integer, not {val!r}")
    prepare = None
    if o["repair"]:
        check_repair_options(o)
        prepare, _, _ = make_repairer(problem, rng, ev, o)
    budgets = np.asarray(problem.budgets)
    n_batches = -(-n_evals // batch_size)
    best_viol, best_x = np.inf, None
    for b in range(n_batches):
        m = min(batch_size, n_evals - b * batch_size)
        idx = np.floor(rng.random((m, problem.n_var)) * problem.n_choices).astype(np.int64)
        if prepare is not None:
            idx = prepare(idx)
        X = problem.to_width(idx)
        _, cost = ev(X)
        viol = np.maximum(cost - budgets, 0).sum(axis=1) / np.maximum(budgets, 1).sum()
        j = int(np.argmin(viol))
        if viol[j] < best_viol:
            best_viol, best_x = viol[j], X[j]
        ev.end_iteration(b + 1, n_batches)
    return ev.best_x if ev.best_x is not None else best_x
