"""GC-PSO: greedy-criterion particle swarm (ALGORITHMS.md section 1).

The paper's method: particles move in the continuous index box as in PSO; every rounded
particle that breaks a budget is repaired greedily before evaluation (lower, one step at a
time, the variable with the smallest estimated error increase per unit of cost saved; see
:mod:`._repair`), optionally refilled while budget remains, and no penalty is needed: every
evaluated point, pbest and gbest is feasible.

Where this implementation departs from a literal reading, and why:

* Positions stay continuous; only the evaluated copy is repaired, and pbest/gbest store the
  repaired points. Writing the repaired integer point back into the position (as the
  paper's summary reads) zeroes every velocity step under half an index, and one
  deterministic repair maps the whole swarm onto a few points within a few iterations.
* Repair and refill break ties and near-ties (ratios within ``tie_jitter``) at random per
  particle, with the method's seeded generator, so particles do not share one repair path.
* Diversity: a particle whose repaired point was already evaluated has one random variable
  raised a step and is repaired again, a swap (``mutation_tries``), and when fewer than
  ``stagnation_share`` of an iteration's points are new, every particle but the best is
  re-drawn (see :func:`._pso.run_swarm`). Repeated points cost no evaluation (the cache),
  so without this a converged swarm stops spending its budget.

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
    "refill": None,
    "seed_greedy": False,
    "sensitivity_base": 4.0,
    "tie_jitter": 0.05,
    "stagnation_share": 0.25,
    "mutation_tries": 2,
    "remeasure": True,
}
CACHE = True
HANDLES_TIES = False


class _EstimatedModel:
    """Sensitivity model of a black-box problem, measured by evaluations around a point.

    :meth:`measure` evaluates a feasible centre and each of its one-step neighbours that
    fits the budgets (checked with the cheap ``problem.cost`` first, so no infeasible point
    is evaluated): the one-step lower of every variable above its minimum, the one-step
    raise of every variable at it. The error difference is that variable's sensitivity
    s_i (error increase of stepping down), anchored at the two widths. Variables not
    measured keep their previous value; before any measurement, the median measured one
    (1.0 if none). :attr:`table` extends it to every width by :func:`._repair.model_table`.
    """

    def __init__(self, problem, ev, base):
        self.problem, self.ev, self.base = problem, ev, base
        self.s = None
        self.lo = problem.width_table[:, 0].copy()
        self.hi = problem.width_table[np.arange(problem.n_var),
                                      np.minimum(1, problem.n_choices - 1)]
        self.table = None

    def measure(self, center):
        """Re-measure around index point ``center`` (int64 (N,), feasible); <= N + 1 evals."""
        p = self.problem
        top = p.n_choices - 1
        up = center == 0
        can = np.flatnonzero((top > 0) & ((center > 0) | up))
        pts = np.repeat(center[None, :], can.size + 1, axis=0)
        pts[np.arange(1, can.size + 1), can] += np.where(up[can], 1, -1)
        cost = np.asarray(p.cost(p.to_width(pts)), dtype=np.int64)
        fits = np.all(cost.reshape(len(pts), -1) <= np.asarray(p.budgets), axis=1)
        if not fits[0]:
            raise ValueError("the sensitivity centre must be feasible")
        err, _ = self.ev(p.to_width(pts[fits]))
        measured = can[fits[1:]]
        # error increase of stepping down: from the centre for a lower, to it for a raise
        ds = np.where(up[measured], err[0] - err[1:], err[1:] - err[0])
        if self.s is None:
            self.s = np.full(p.n_var, np.median(ds) if measured.size else 1.0)
        hi_i = np.where(up[measured], 1, center[measured])
        self.s[measured] = ds
        self.lo[measured] = p.width_table[measured, hi_i - 1]
        self.hi[measured] = p.width_table[measured, hi_i]
        self.table = model_table(p, self.s[None], self.lo[None], self.hi[None], self.base)
        return measured.size + 1


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


def check_repair_options(o: dict) -> None:
    """Validate the repair options shared by ``gcpso`` and ``random`` with ``repair``."""
    if o["sensitivity_base"] <= 0:
        raise ValueError(f"sensitivity_base must be > 0, not {o['sensitivity_base']}")
    if not o["tie_jitter"] >= 0:
        raise ValueError(f"tie_jitter must be >= 0, not {o['tie_jitter']}")


def make_repairer(problem, rng, ev, o: dict):
    """The greedy-criterion repair (and refill) of index points, and its error model.

    Returns
    -------
    prepare : callable
        ``prepare(I) -> I'``: int64 (P, N) index points to feasible ones (repair, then
        refill if ``o["refill"]``, or for None if the model is not estimated), ties
        broken with ``rng``.
    greedy_start : callable
        ``greedy_start() -> I`` (N,): refill from the all-minimum point, ties broken by index.
    remeasure : callable or None
        For a black-box problem (no table, no hook), ``remeasure(I) -> n_evals``
        re-measures the estimated model around the feasible index point I (N,); None
        otherwise.
    """
    costs = CostModel(problem)
    budgets = np.asarray(problem.budgets, dtype=np.int64)
    base = float(o["sensitivity_base"])
    jit = float(o["tie_jitter"])
    use_hook = False
    model = None
    if problem.error_table is not None:
        table = problem.error_table[None]
    elif problem.sensitivity(problem.max_widths) is not None:
        use_hook = True
    else:
        model = _EstimatedModel(problem, ev, base)
        model.measure(np.zeros(problem.n_var, dtype=np.int64))

    def err_model(idx):
        if use_hook:
            return _hook_table(problem, idx, base)
        return table if model is None else model.table

    do_refill = model is None if o["refill"] is None else bool(o["refill"])

    def prepare(idx):
        idx = repair(idx, err_model(idx), costs, budgets, rng, jit)
        if do_refill:
            idx = refill(idx, err_model(idx), costs, budgets, rng, jit)
        return idx

    def greedy_start():
        start = np.zeros((1, problem.n_var), dtype=np.int64)
        return refill(start, err_model(start), costs, budgets)[0]

    return prepare, greedy_start, (None if model is None else model.measure)


def run(problem, rng, ev, **o):
    """Run GC-PSO; options in :data:`DEFAULTS` (swarm options as in ``ppso``).

    Options
    -------
    refill : bool or None
        Greedily raise variables while the budget allows after repair. None (default):
        when the error model is exact or given (a separable error table, a sensitivity
        hook), not when it is estimated by evaluations: there a refill by the rough model
        sends most particles to the few points it ranks best (benchmarks/search_quality.py:
        repair-only hits the optimum more often on the black-box families).
    seed_greedy : bool
        Start particle 0 at the greedy (refill from all-minimum) point of the error model
        (default False).
    sensitivity_base : float
        Error ratio per bit of the estimated sensitivity model (default 4: quantization
        noise power); unused for separable problems.
    tie_jitter : float
        Repair and refill steps whose ratios lie within this relative distance of the best
        are tied; ties are broken at random per particle (default 0.05; 0: exact ties only).
    stagnation_share : float in [0, 1]
        When fewer than this share of an iteration's repaired points are new, every
        particle but the best is re-drawn uniformly, with a fresh velocity and personal
        best (default 0.25; 0: never).
    mutation_tries : int
        A particle whose repaired point was already evaluated has one random variable of it
        raised one step (lowered at its top) and is repaired again, a swap with whichever
        variable the repair lowers, up to this many times (default 2; 0: never).
    remeasure : bool
        Black-box problems only (no error table, no sensitivity hook): re-measure the
        estimated sensitivity model around every new global best, at most N + 1
        evaluations each, counted (default True). The first model is measured around the
        all-minimum point, far from where the repair works.
    """
    check_swarm_options(o)
    check_repair_options(o)
    if not 0 <= o["stagnation_share"] <= 1:
        raise ValueError(f"stagnation_share must lie in [0, 1], not {o['stagnation_share']}")
    if int(o["mutation_tries"]) != o["mutation_tries"] or o["mutation_tries"] < 0:
        raise ValueError(
            f"mutation_tries must be a non-negative integer, not {o['mutation_tries']!r}"
        )
    prepare, greedy_start, remeasure = make_repairer(problem, rng, ev, o)
    first = greedy_start() if o["seed_greedy"] else None
    on_best = remeasure if o["remeasure"] else None

    def score(err, cost, it):
        return err

    idx, err, cost = run_swarm(problem, rng, ev, o, score, prepare, first, on_best)
    return problem.to_width(idx), err, cost
