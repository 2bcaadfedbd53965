"""Tests of bitsmith.search against exact references (DP, ILP, brute force)."""

import itertools
import warnings
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pytest

from bitsmith.search import (
    METHODS,
    FunctionProblem,
    InfeasibleBudgetError,
    Problem,
    SeparableProblem,
    StabilityWarning,
    minimize,
    plot_stability_region,
    pso_stability,
    random_separable,
)

FAST_PSO = {"n_particles": 12, "n_iter": 15}


def _instance(seed):
    rng = np.random.default_rng(seed)
    return random_separable(rng, int(rng.integers(20, 201)), int(rng.integers(2, 17)))


def _brute_force(problem):
    """Exact optimum by enumeration (tiny problems), honouring ties."""
    best = (np.inf, None)
    for x in itertools.product(*problem.choices):
        if any(len({x[i] for i in g}) > 1 for g in problem.ties):
            continue
        err, cost = problem.evaluate(np.array([x]))
        if np.all(cost[0] <= problem.budgets) and err[0] < best[0]:
            best = (err[0], x)
    return best


class Recording(Problem):
    """Wraps a problem and records every candidate passed to evaluate."""

    def __init__(self, base):
        super().__init__(base.choices, base.budgets)
        self.base = base
        self.seen = []

    def evaluate(self, X):
        self.seen.append(np.array(X, copy=True))
        return self.base.evaluate(X)

    def cost(self, X):
        return self.base.cost(X)

    def sensitivity(self, x):
        return self.base.sensitivity(x)

    def all_seen(self):
        return np.concatenate(self.seen) if self.seen else np.empty((0, self.n_var))


def _coupled_problem(rng, n, kmax, budget_fraction=0.4):
    """A non-separable problem: separable table error plus a pairwise coupling term."""
    sep = random_separable(rng, n, kmax, budget_fraction=budget_fraction)
    weights = rng.uniform(0.5, 2.0, n)
    return FunctionProblem(
        sep.choices,
        sep.budgets,
        _CoupledError(sep, weights),
        sep.cost,
    )


class _CoupledError:
    def __init__(self, sep, weights):
        self.sep, self.weights = sep, weights

    def __call__(self, X):
        base = self.sep.error(X)
        d = np.diff(X.astype(np.float64), axis=1)
        # per row: an error must not depend on the other candidates of the batch
        return base + 0.1 * base * np.tanh((d**2 * self.weights[1:]).sum(axis=1) / 50)


# ---- exact solvers agree -------------------------------------------------------------


@pytest.mark.parametrize("seed", range(50))
def test_dp_equals_ilp_and_greedy_bounded(seed):
    p = _instance(seed)
    dp = minimize(p, "mckp_dp")
    ilp = minimize(p, "ilp")
    gr = minimize(p, "mckp_greedy")
    assert dp.feasible and ilp.feasible and gr.feasible
    assert dp.error == pytest.approx(ilp.error, rel=1e-9)
    # The optimum objective really is the sum of its table entries.
    assert dp.error == pytest.approx(p.error(np.array([dp.x]))[0], rel=1e-12)
    assert gr.error >= dp.error * (1 - 1e-12)
    # hull greedy + depth-one enumeration + exchange search: within 1 % on these instances
    assert gr.error <= dp.error * 1.01


@pytest.mark.parametrize("seed", range(30))
def test_exact_methods_match_brute_force(seed):
    rng = np.random.default_rng(1000 + seed)
    p = random_separable(rng, int(rng.integers(2, 6)), int(rng.integers(2, 5)))
    ref_err, _ = _brute_force(p)
    for method in ("mckp_dp", "ilp"):
        assert minimize(p, method).error == pytest.approx(ref_err, rel=1e-12)
    g = minimize(p, "greedy")
    assert g.feasible and g.error >= ref_err * (1 - 1e-12)


@pytest.mark.parametrize("seed", range(10))
def test_ilp_several_budgets_matches_brute_force(seed):
    rng = np.random.default_rng(2000 + seed)
    p = random_separable(rng, int(rng.integers(2, 6)), 4, n_budgets=2)
    ref_err, _ = _brute_force(p)
    r = minimize(p, "ilp")
    assert r.feasible and r.error == pytest.approx(ref_err, rel=1e-12)
    g = minimize(p, "gcpso", seed=seed, **FAST_PSO)
    assert g.feasible and g.n_infeasible == 0 and g.error >= ref_err * (1 - 1e-12)


@pytest.mark.parametrize("seed", range(10))
def test_ties_ilp_and_collapsed_dp_match_brute_force(seed):
    rng = np.random.default_rng(3000 + seed)
    base = random_separable(rng, 5, 4)
    choices = [base.choices[0]] * 5
    errs, costs = base.tables()
    errs = [np.resize(e, len(choices[0])) for e in errs]
    costs = [np.resize(c[0], len(choices[0])) for c in costs]
    budget = int(base.budgets[0])
    ties = ((0, 3), (1, 2, 4)) if seed % 2 else ((2, 4),)
    p = SeparableProblem(errs, costs, max(budget, sum(c.min() for c in costs)), choices, ties)
    ref_err, _ = _brute_force(p)
    for method in ("ilp", "mckp_dp", "gcpso"):
        r = minimize(p, method, **(FAST_PSO if method == "gcpso" else {}))
        for g in ties:
            assert len({r.x[i] for i in g}) == 1, (method, r.x)
        if method == "gcpso":
            assert r.error >= ref_err * (1 - 1e-12)
        else:
            assert r.error == pytest.approx(ref_err, rel=1e-12)


@pytest.mark.parametrize("seed", range(8))
def test_greedy_baseline_feasible_and_bounded(seed):
    rng = np.random.default_rng(4000 + seed)
    p = random_separable(rng, int(rng.integers(20, 60)), int(rng.integers(2, 9)))
    opt = minimize(p, "mckp_dp").error
    for method in ("greedy", "uniform"):
        r = minimize(p, method)
        assert r.feasible and r.error >= opt * (1 - 1e-12)


def test_mckp_greedy_hull_on_known_class():
    from bitsmith.search._mckp_greedy import convex_hull_items

    # (cost, error): item 4 is dominated (costlier than item 3, higher error);
    cost = [1, 2, 3, 4, 5]
    error = [10.0, 5.0, 4.5, 1.0, 2.0]
    # slopes: 0->1: -5, 1->3: -2, 1->2: -0.5 (2 lies above segment 1 -> 3).
    assert convex_hull_items(cost, error).tolist() == [0, 1, 3]


# ---- PSO invariants ------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_gcpso_never_evaluates_infeasible_separable(seed):
    p = Recording(_instance(100 + seed))
    p.error_table, p.cost_table = p.base.error_table, p.base.cost_table
    r = minimize(p, "gcpso", seed=seed, **FAST_PSO)
    seen = p.all_seen()
    assert len(seen) == r.n_evals > 0
    assert np.all(p.base.cost(seen) <= np.asarray(p.budgets))
    assert r.n_infeasible == 0 and r.feasible
    assert len(np.unique(seen, axis=0)) == len(seen)  # the cache de-duplicates


@pytest.mark.parametrize("seed", range(3))
def test_gcpso_never_evaluates_infeasible_general(seed):
    rng = np.random.default_rng(200 + seed)
    p = Recording(_coupled_problem(rng, 30, 8))
    r = minimize(p, "gcpso", seed=seed, **FAST_PSO)
    seen = p.all_seen()
    assert len(seen) == r.n_evals
    assert np.all(p.base.cost(seen) <= np.asarray(p.budgets))
    assert r.n_infeasible == 0 and r.feasible


def test_gcpso_uses_sensitivity_hook_and_stays_feasible():
    rng = np.random.default_rng(7)
    sep = random_separable(rng, 25, 6, budget_fraction=0.3)
    calls = []

    def sens(x):
        calls.append(1)
        idx = sep.to_index(x)
        lower = np.maximum(idx - 1, 0)
        ar = np.arange(sep.n_var)
        return sep.error_table[ar, lower] - sep.error_table[ar, idx]

    p = Recording(FunctionProblem(sep.choices, sep.budgets, sep.error, sep.cost,
                                  sensitivity_fn=sens))
    r = minimize(p, "gcpso", **FAST_PSO)
    assert calls and r.feasible and r.n_infeasible == 0
    assert np.all(p.base.cost(p.all_seen()) <= np.asarray(p.budgets))
    assert r.error >= minimize(sep, "mckp_dp").error * (1 - 1e-12)


def test_gcpso_finds_brute_force_optimum_on_tiny_coupled_problem():
    rng = np.random.default_rng(11)
    p = _coupled_problem(rng, 4, 3, budget_fraction=0.5)
    ref_err, ref_x = _brute_force(p)
    for refill in (False, True):
        r = minimize(p, "gcpso", n_particles=20, n_iter=20, refill=refill)
        assert r.error == pytest.approx(ref_err, rel=1e-12)
        assert r.x == tuple(ref_x)


# ---- GC-PSO on black-box problems: the estimated model, the swarm, the budget --------


def _power_law(rng, n, budget_fraction=0.5):
    """Separable, error exactly a_i 4**-(b - 2): the shape GC-PSO's estimated model assumes."""
    choices = [tuple(range(2, 9))] * n
    a = 10.0 ** rng.uniform(0, 3, n)
    m = rng.integers(1, 9, n)
    w = np.arange(2, 9)
    errs = [ai * 4.0 ** -(w - 2) for ai in a]
    costs = [mi * w for mi in m]
    lo, hi = int(sum(c[0] for c in costs)), int(sum(c[-1] for c in costs))
    budget = lo + int(budget_fraction * (hi - lo))
    return SeparableProblem(errs, costs, budget, choices)


def _black_box(sep, budget=None):
    """The same problem as a FunctionProblem without a sensitivity hook."""
    return FunctionProblem(sep.choices, sep.budgets if budget is None else budget,
                           sep.error, sep.cost)


def _repairer(problem, **opts):
    from bitsmith.search._evaluator import Evaluator
    from bitsmith.search._gcpso import DEFAULTS, make_repairer

    ev = Evaluator(problem)
    prepare, _, remeasure = make_repairer(problem, None, ev, {**DEFAULTS, **opts})
    return prepare, remeasure, ev


def test_black_box_model_is_positive_and_exact_on_power_law():
    """The estimate from evaluations (no hook) has the true per-step error differences."""
    sep = _power_law(np.random.default_rng(21), 12)
    from bitsmith.search._evaluator import Evaluator
    from bitsmith.search._gcpso import _EstimatedModel

    model = _EstimatedModel(_black_box(sep), Evaluator(_black_box(sep)), 4.0)
    model.measure(np.zeros(12, dtype=np.int64))
    true_step = sep.error_table[:, 0] - sep.error_table[:, 1]
    assert np.all(model.s > 0)
    np.testing.assert_allclose(model.s, true_step, rtol=1e-12)
    # base 4 extends it to every width: differences equal the table's
    np.testing.assert_allclose(np.diff(model.table[0], axis=1), np.diff(sep.error_table, axis=1),
                               rtol=1e-9)


def test_black_box_repair_and_refill_choose_best_ratio_variable():
    sep = _power_law(np.random.default_rng(22), 10)
    m = sep.cost_table[0, :, 0] // 2  # cost m_i b: m_i per bit
    top = np.full(10, 6)
    full = int(sep.cost(sep.to_width(top[None]))[0, 0])
    # one bit over the all-maximum cost: one lowering step is enough
    prepare, _, _ = _repairer(_black_box(sep, full - 1), refill=False)
    got = prepare(top[None])[0]
    ratio = (sep.error_table[:, 5] - sep.error_table[:, 6]) / m
    want = top.copy()
    want[np.argmin(ratio)] -= 1
    assert got.tolist() == want.tolist()
    # room for exactly the best-ratio raise from the all-minimum point, nothing after it
    low = np.zeros(10, dtype=np.int64)
    base = int(sep.cost(sep.to_width(low[None]))[0, 0])
    gain = (sep.error_table[:, 0] - sep.error_table[:, 1]) / m
    best = int(np.argmax(gain))
    prepare, _, _ = _repairer(_black_box(sep, base + int(m[best])), refill=True)
    got = prepare(low[None])[0]
    want = low.copy()
    want[best] += 1
    assert got.tolist() == want.tolist()


def test_black_box_gcpso_matches_exact_optimum_and_refill_matters():
    sep = _power_law(np.random.default_rng(23), 12)
    opt = minimize(sep, "mckp_dp").error
    box = _black_box(sep)
    on = minimize(box, "gcpso", seed=1, n_particles=20, n_iter=60, refill=True)
    off = minimize(box, "gcpso", seed=1, n_particles=20, n_iter=60, refill=False)
    assert on.error == pytest.approx(opt, rel=1e-12)
    assert _signature(on) != _signature(off)


def _quadratic(rng, n, k):
    """Non-separable: u^T A u with interacting amplitudes u_i = s_i 2**-(b_i - 2)."""
    choices = [tuple(range(2, 2 + k))] * n
    M = rng.standard_normal((n, n))
    m = rng.integers(1, 9, n)
    lo, hi = int(m.sum() * 2), int(m.sum() * (1 + k))
    p = FunctionProblem(choices, lo + (hi - lo) // 2,
                        _QuadraticError(10.0 ** rng.uniform(0, 2, n), M @ M.T / n + 0.2 * np.eye(n)),
                        _LinearCost(m))
    return p


class _QuadraticError:
    def __init__(self, scale, A):
        self.scale, self.A = scale, A

    def __call__(self, X):
        u = self.scale * 2.0 ** -(X - 2.0)
        return np.einsum("ni,ij,nj->n", u, self.A, u)


class _LinearCost:
    def __init__(self, m):
        self.m = m

    def __call__(self, X):
        return (X * self.m).sum(axis=1)


class _MinimaxFir:
    """max |A_q(w) - A(w)| of a symmetric FIR, variable j = fractional bits of pair j."""

    def __init__(self, h_half):
        k = np.arange(h_half.size)
        w = np.linspace(0, np.pi, 128)
        self.h = h_half
        self.basis = np.where(k[:, None] == 0, 1.0, 2.0) * np.cos(k[:, None] * w)

    def __call__(self, X):
        step = 2.0 ** X
        q = np.where(X == 0, 0.0, np.round(self.h * step) / step)
        return np.abs((q - self.h) @ self.basis).max(axis=1)


def _pruned_fir(numtaps=11, widths=(0, 2, 3, 4, 5, 6)):
    from scipy.signal import remez

    h = remez(numtaps, [0, 0.15, 0.27, 0.5], [1, 0], fs=1.0)[numtaps // 2:]
    n = h.size
    m = np.where(np.arange(n) == 0, 1, 2)
    budget = int(m.sum() * 4)
    return FunctionProblem([widths] * n, budget, _MinimaxFir(h), _LinearCost(m))


NONSEP = {
    "quadratic": lambda: _quadratic(np.random.default_rng(31), 6, 5),
    "fir_pruned": _pruned_fir,
    "coupled": lambda: _coupled_problem(np.random.default_rng(32), 6, 5),
}


@pytest.mark.parametrize("family", sorted(NONSEP))
def test_gcpso_hits_brute_force_optimum_on_non_separable(family):
    p = NONSEP[family]()
    ref_err, _ = _brute_force(p)
    hits = 0
    for seed in range(5):
        r = minimize(p, "gcpso", seed=seed, n_particles=20, n_iter=100, max_evals=2000)
        assert r.feasible and r.n_infeasible == 0 and r.error >= ref_err * (1 - 1e-12)
        hits += r.error <= ref_err * (1 + 1e-12)
    assert hits >= 4


@pytest.mark.parametrize("family", sorted(NONSEP))
def test_gcpso_never_evaluates_infeasible_non_separable(family):
    p = Recording(NONSEP[family]())
    r = minimize(p, "gcpso", seed=3, n_particles=20, n_iter=50)
    seen = p.all_seen()
    assert len(seen) == r.n_evals > 0
    assert np.all(p.base.cost(seen) <= np.asarray(p.budgets))
    assert r.n_infeasible == 0 and r.feasible


def test_gcpso_spends_its_budget_and_keeps_particles_apart():
    """A converged swarm must not sit on cache hits: the diversity rules keep >= 80 % of
    the nominal evaluations new; without them most are repeats."""
    rng = np.random.default_rng(33)
    p = _coupled_problem(rng, 30, 8)
    opts = {"n_particles": 20, "n_iter": 100}
    r = minimize(p, "gcpso", seed=0, **opts)
    assert r.n_evals >= 0.8 * 20 * 100
    off = minimize(p, "gcpso", seed=0, stagnation_share=0, mutation_tries=0, tie_jitter=0,
                   **opts)
    assert off.n_evals < 0.5 * r.n_evals
    # the stagnation re-draw alone already keeps most evaluations new
    redraw = minimize(p, "gcpso", seed=0, mutation_tries=0, **opts)
    no_redraw = minimize(p, "gcpso", seed=0, mutation_tries=0, stagnation_share=0, **opts)
    assert redraw.n_evals > 1.5 * no_redraw.n_evals


def test_gcpso_larger_budget_is_no_worse_and_spent():
    p = NONSEP["quadratic"]()
    small = minimize(p, "gcpso", seed=4, n_particles=20, n_iter=10)
    large = minimize(p, "gcpso", seed=4, n_particles=20, n_iter=100)
    assert large.error <= small.error
    assert large.n_evals > 3 * small.n_evals


def test_random_with_repair_never_evaluates_infeasible():
    p = Recording(NONSEP["quadratic"]())
    r = minimize(p, "random", seed=2, n_evals=400, batch_size=100, repair=True)
    assert r.n_infeasible == 0 and r.feasible
    assert np.all(p.base.cost(p.all_seen()) <= np.asarray(p.budgets))
    again = minimize(NONSEP["quadratic"](), "random", seed=2, n_evals=400, batch_size=100,
                     repair=True)
    assert _signature(again) == _signature(r)


@pytest.mark.parametrize(
    ("option", "value", "match"),
    [
        ("tie_jitter", -0.1, r"tie_jitter must be >= 0, not -0.1"),
        ("stagnation_share", 1.5, r"stagnation_share must lie in \[0, 1\], not 1.5"),
        ("mutation_tries", 1.5, r"mutation_tries must be a non-negative integer, not 1.5"),
        ("sensitivity_base", 0, r"sensitivity_base must be > 0, not 0"),
    ],
)
def test_gcpso_option_errors(option, value, match):
    with pytest.raises(ValueError, match=match):
        minimize(_instance(1), "gcpso", **{option: value}, **FAST_PSO)


def test_ilp_prints_nothing(capfd):
    """HiGHS writes some MIP diagnostics straight to fd 1 (this instance triggers one)."""
    rng = np.random.default_rng(2)
    for _ in range(4):
        p = random_separable(rng, int(rng.integers(20, 201)), int(rng.integers(2, 17)))
    r = minimize(p, "ilp")
    assert r.feasible
    assert capfd.readouterr().out == ""


@pytest.mark.parametrize("seed", range(4))
def test_ppso_counts_infeasible_points(seed):
    p = Recording(_instance(300 + seed))
    r = minimize(p, "ppso", seed=seed, **FAST_PSO)
    seen = p.all_seen()
    infeasible = np.any(p.base.cost(seen) > np.asarray(p.budgets), axis=1)
    assert len(seen) == r.n_evals
    assert r.n_infeasible == int(infeasible.sum())


def test_random_counts_infeasible_points():
    p = Recording(_instance(400))
    r = minimize(p, "random", n_evals=300, batch_size=50)
    seen = p.all_seen()
    assert r.n_evals == len(seen) <= 300
    assert r.n_infeasible == int(np.any(p.base.cost(seen) > np.asarray(p.budgets), 1).sum())


def test_pso_respects_max_evals_and_history():
    p = _instance(500)
    r = minimize(p, "gcpso", n_particles=10, n_iter=1000, max_evals=200)
    assert r.n_evals <= 200
    h = r.history
    assert h["n_evals"][-1] == r.n_evals
    assert np.all(np.diff(h["best_error"]) <= 0) and np.all(np.diff(h["n_evals"]) >= 0)
    assert h["best_error"][-1] == r.error


def test_progress_called_once_per_iteration():
    calls = []
    p = _instance(501)
    minimize(p, "ppso", progress=lambda d, t, b: calls.append((d, t, b)), **FAST_PSO)
    assert [c[0] for c in calls] == list(range(1, 16))
    assert all(c[1] == 15 for c in calls)


# ---- determinism and executors -------------------------------------------------------


def _signature(r):
    return (r.x, r.error, r.cost, r.n_evals, r.n_infeasible,
            tuple(r.history["best_error"]), tuple(r.history["n_evals"]))


@pytest.mark.parametrize("method", sorted(METHODS))
def test_same_seed_same_result(method):
    p = _instance(600)
    opts = {"gcpso": FAST_PSO, "ppso": FAST_PSO, "random": {"n_evals": 200}}.get(method, {})
    a = minimize(p, method, seed=5, **opts)
    b = minimize(p, method, seed=5, **opts)
    assert _signature(a) == _signature(b)
    if method in ("gcpso", "ppso", "random"):
        c = minimize(p, method, seed=6, **opts)
        assert _signature(a) != _signature(c)


@pytest.mark.parametrize("method", ["gcpso", "ppso", "random", "greedy"])
def test_thread_executor_matches_in_process(method):
    p = _instance(700)
    opts = {"gcpso": FAST_PSO, "ppso": FAST_PSO, "random": {"n_evals": 200}}.get(method, {})
    ref = minimize(p, method, seed=3, **opts)
    with ThreadPoolExecutor(2) as ex:
        r = minimize(p, method, seed=3, executor=ex, **opts)
    assert _signature(r) == _signature(ref)


def test_process_executor_matches_in_process():
    rng = np.random.default_rng(800)
    p = random_separable(rng, 15, 5)
    ref = minimize(p, "gcpso", seed=1, n_particles=8, n_iter=5)
    with ProcessPoolExecutor(2) as ex:
        r = minimize(p, "gcpso", seed=1, executor=ex, n_particles=8, n_iter=5)
    assert _signature(r) == _signature(ref)


class _Counted(SeparableProblem):
    """Counts how often the parent pickles it."""

    pickles = 0

    def __getstate__(self):
        type(self).pickles += 1
        return self.__dict__


class _CountingPool(ProcessPoolExecutor):
    """A process pool that counts tasks and the tasks that carry the pickled problem."""

    def __init__(self, n):
        super().__init__(n)
        self.tasks = self.with_problem = 0

    def map(self, fn, *iterables, **kw):
        args = [list(it) for it in iterables]
        self.tasks += len(args[0])
        if fn.__name__ == "_install_and_evaluate":
            self.with_problem += len(args[0])
        return super().map(fn, *args, **kw)


def test_process_executor_ships_problem_once():
    base = random_separable(np.random.default_rng(801), 15, 5)
    p = _Counted(*base.tables(), base.budgets, base.choices)
    _Counted.pickles = 0
    ref = minimize(p, "gcpso", seed=1, n_particles=16, n_iter=8)
    with _CountingPool(2) as ex:
        r = minimize(p, "gcpso", seed=1, executor=ex, n_particles=16, n_iter=8)
    assert _signature(r) == _signature(ref)
    assert _Counted.pickles == 1
    # only the first batch's chunks can find a worker without the problem
    assert ex.with_problem <= 16 < ex.tasks


# ---- validation and errors -----------------------------------------------------------


def test_unknown_method():
    with pytest.raises(ValueError, match=r"method must be one of \[.*'gcpso'.*\], not 'pso'"):
        minimize(_instance(1), "pso")


def test_unknown_option_lists_allowed():
    with pytest.raises(TypeError, match=r"unknown option\(s\) \['n_particle'\].*allowed:.*"
                                        r"'n_particles'"):
        minimize(_instance(1), "gcpso", n_particle=5)


def test_infeasible_budget_separable_names_min_cost():
    errs = [np.array([3.0, 1.0]), np.array([2.0, 0.5, 0.1])]
    costs = [np.array([4, 8]), np.array([3, 6, 9])]
    with pytest.raises(InfeasibleBudgetError, match="smallest achievable cost 7, not 6"):
        SeparableProblem(errs, costs, 6, [(2, 4), (2, 4, 6)])


def test_infeasible_budget_general_names_min_cost():
    with pytest.raises(InfeasibleBudgetError, match="smallest achievable cost 12, not 11"):
        FunctionProblem([(3, 4), (3, 5)], [11], lambda X: X.sum(1) * 0.0,
                        lambda X: 2 * X.sum(1))


def test_mckp_rejects_non_separable():
    p = _coupled_problem(np.random.default_rng(2), 5, 3)
    for method in ("mckp_greedy", "mckp_dp", "ilp"):
        with pytest.raises(TypeError, match=f"method '{method}' needs a separable problem"):
            minimize(p, method)


def test_mckp_dp_rejects_several_budgets_and_huge_tables():
    p2 = random_separable(np.random.default_rng(3), 5, 3, n_budgets=2)
    with pytest.raises(ValueError, match="exactly one budget, not 2"):
        minimize(p2, "mckp_dp")
    p = _instance(4)
    with pytest.raises(ValueError, match=r"must not exceed max_cells=10; use method='ilp'"):
        minimize(p, "mckp_dp", max_cells=10)


@pytest.mark.parametrize(
    ("choices", "match"),
    [
        ([], "at least one variable"),
        ([(2, 3), ()], r"choices\[1\] must hold at least one bit-width"),
        ([(4, 3)], r"choices\[0\] must be strictly increasing, not \(4, 3\)"),
    ],
)
def test_bad_choices(choices, match):
    with pytest.raises(ValueError, match=match):
        FunctionProblem(choices, 10, lambda X: X.sum(1), lambda X: X.sum(1))


def test_bad_widths_and_tables():
    p = SeparableProblem([[1.0, 0.5]], [[1, 2]], 2, [(4, 8)])
    with pytest.raises(ValueError, match=r"variable 0 must take a width in \(4, 8\), not 5"):
        p.evaluate(np.array([[5]]))
    with pytest.raises(ValueError, match=r"error_table\[0\] must have shape \(2,\)"):
        SeparableProblem([[1.0]], [[1, 2]], 2, [(4, 8)])
    with pytest.raises(ValueError, match="tied variables must have identical choices"):
        SeparableProblem([[1.0, 0.5], [1.0]], [[1, 2], [1]], 3, [(4, 8), (4,)], ties=[(0, 1)])


def test_uniform_needs_common_width():
    p = SeparableProblem([[1.0], [1.0]], [[1], [1]], 2, [(4,), (5,)])
    with pytest.raises(ValueError, match="needs a bit-width common to every variable"):
        minimize(p, "uniform")


# ---- stability -----------------------------------------------------------------------


def test_pso_stability_regions():
    # Constriction coefficients (Clerc-Kennedy): inside all regions;
    # Poli bound at w = 0.729: 24 (1 - 0.729^2) / (7 - 5 * 0.729).
    st = pso_stability(0.729, 1.494, 1.494)
    assert st["second_order_bound"] == pytest.approx(24 * (1 - 0.729**2) / (7 - 5 * 0.729))
    assert st["second_order_bound"] == pytest.approx(3.3518378539, rel=1e-9)
    # c = 2.988 < 2 (1 + w) = 3.458 < 4 (1 + w) = 6.916
    assert st["deterministic"] and st["first_order"] and st["second_order"]


def test_pso_stability_deterministic_region():
    assert pso_stability(0.5, 1.0, 1.0)["deterministic"]  # 2 < 2 (1.5) = 3
    assert not pso_stability(0.5, 2.0, 2.0)["deterministic"]  # 4 > 3
    assert not pso_stability(1.0, 0.5, 0.5)["first_order"]  # |w| must be < 1


def test_stability_warning_outside_region():
    p = _instance(9)
    with pytest.warns(StabilityWarning, match=r"c1\+c2=4 lie outside the second-order"):
        minimize(p, "ppso", w=0.729, c1=2.0, c2=2.0, **FAST_PSO)
    with warnings.catch_warnings():
        warnings.simplefilter("error", StabilityWarning)
        minimize(p, "gcpso", **FAST_PSO)


def test_plot_stability_region_agg():
    ax = plot_stability_region(w=0.729, c=2.988)
    assert ax.get_xlabel() == "inertia weight w"
    assert len(ax.lines) == 2


def test_x0_seeds_particle_zero_and_is_checked():
    """A given start point is evaluated, so the answer is never worse than it."""
    from bitsmith.search import minimize, random_separable

    rng = np.random.default_rng(11)
    p = random_separable(rng, 30, 6)
    exact = minimize(p, method="mckp_dp")
    for method in ("gcpso", "ppso"):
        r = minimize(p, method=method, seed=3, n_particles=4, n_iter=2, x0=exact.x)
        assert r.error <= exact.error * (1 + 1e-12)
    with pytest.raises(ValueError, match=r"x0 must give one width per variable \(30\), not 2"):
        minimize(p, method="gcpso", x0=[2, 3])


def test_greedy_crosses_plateaus():
    """A max-type error that no single raise lowers must not stop the greedy at the start."""
    from bitsmith.search import FunctionProblem, minimize

    choices = tuple((0, 1, 2, 3) for _ in range(4))

    def err(X):
        return 10.0 - np.min(X, axis=1)  # only raising every variable helps

    def cost(X):
        return X.sum(axis=1, keepdims=True)

    p = FunctionProblem(choices, (8,), err, cost)
    r = minimize(p, method="greedy")
    assert r.x == (2, 2, 2, 2) and r.error == 8.0


def test_result_is_never_worse_than_best_feasible_evaluated():
    """PPSO may end on an infeasible penalized optimum; the driver returns the best
    feasible point any evaluation found instead."""
    from bitsmith.search import minimize, random_separable

    rng = np.random.default_rng(5)
    for k in range(6):
        p = random_separable(rng, 40, 8, budget_fraction=0.5)
        r = minimize(p, method="ppso", seed=k, n_particles=10, n_iter=30,
                     penalty_weight=1e-12, penalty_growth=1.0)
        h = r.history["best_error"]
        if np.isfinite(h[-1]):
            assert r.feasible
            assert r.error == pytest.approx(h[-1])


def test_ppso_penalty_weight_does_not_overflow_on_long_runs():
    """penalty_growth ** iteration passes float max after ~14,500 iterations at 1.05."""
    rng = np.random.default_rng(0)
    p = random_separable(rng, 4, 5)
    res = minimize(p, method="ppso", seed=0, n_particles=2, n_iter=16_000,
                   max_evals=40_000)
    assert np.isfinite(res.error)
