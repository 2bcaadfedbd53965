"""Search quality on separable and non-separable bit-allocation problems.

Separable family: ``--instances`` random problems (20-200 variables, 2-16 consecutive widths
each, error ~ a_i 4**-b, cost m_i b, budget uniform between the minimum and maximum cost);
the exact optimum comes from ``ilp`` (checked against ``mckp_dp``), and every method runs at
its default budget (GC-PSO and PPSO: 40 particles x 200 iterations).

Non-separable families (``--nonsep-instances`` each), exact optimum by brute force over every
feasible point, methods capped at 2,000 and 20,000 evaluations (40 particles, max_evals / 40
iterations; random search draws max_evals points), ``--seeds`` seeds per instance:

* ``quadratic``: 8 variables, widths 2..7; error u^T A u with u_i = s_i 2**-(b_i - 2)
  (coefficient-error amplitudes) and A = M M^T / 8 + 0.2 I, M ~ N(0, 1): the variables
  interact, and with negative couplings raising one width can raise the error;
  cost m_i b_i, m_i ~ U{1..8}.
* ``fir``: a 15-tap remez lowpass (8 symmetric-pair variables), coefficient i rounded to
  b_i fractional bits, b_i in 3..8; error max |A_q(w) - A(w)| over 256 frequencies
  (minimax response error); cost = coefficient bits (2 per pair bit, 1 for the centre).
* ``fir_pruned``: 13 taps (7 variables), b_i in {0, 2, ..., 7}, 0 drops the coefficient.

All non-separable problems have a black-box error (``FunctionProblem`` without a
sensitivity hook) and a known separable cost table: GC-PSO repairs with the exact cost and
estimates its error model by evaluations. ``random+repair`` is random
restarts of GC-PSO's own repair and refill (``random`` with ``repair=True``).

Printed per method: median and worst relative gap (error - optimum) / optimum over feasible
answers, runs that hit the optimum, median distinct points evaluated, infeasible
evaluations (total), runs with no feasible answer.

Usage: ``python benchmarks/search_quality.py [--instances 50] [--nonsep-instances 3]
[--seeds 10] [--families separable,quadratic,fir,fir_pruned] [--seed 0]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.signal import remez

from bitsmith.search import FunctionProblem, minimize, random_separable

#: relative gap under which a run counts as hitting the optimum
HIT = 1e-9


# ---- non-separable families (module-level classes: picklable) --------------------------


class QuadraticError:
    """u^T A u with u_i = s_i 2**-(b_i - b0): interacting coefficient-error amplitudes."""

    def __init__(self, scale, A, b0):
        self.scale, self.A, self.b0 = scale, A, b0

    def __call__(self, X):
        u = self.scale * 2.0 ** (-(np.asarray(X, dtype=np.float64) - self.b0))
        return np.einsum("ni,ij,nj->n", u, self.A, u)


class MinimaxFirError:
    """max over frequency of |A_q(w) - A(w)| for per-pair fractional bits (0: pruned)."""

    def __init__(self, h_pairs, basis):
        self.h, self.basis = h_pairs, basis

    def __call__(self, X):
        X = np.asarray(X, dtype=np.int64)
        step = 2.0 ** np.maximum(X, 0)
        q = np.where(X == 0, 0.0, np.round(self.h * step) / step)
        return np.abs((q - self.h) @ self.basis).max(axis=1)


class LinearCost:
    """sum_i m_i b_i (one budget)."""

    def __init__(self, m):
        self.m = np.asarray(m, dtype=np.int64)

    def __call__(self, X):
        return (np.asarray(X, dtype=np.int64) * self.m).sum(axis=1, keepdims=True)


def _function_problem(choices, budget, error_fn, m) -> FunctionProblem:
    """A black-box error with a known separable cost table (as the FIR flow's LUT table):
    GC-PSO repairs with the exact table and estimates the error model by evaluations."""
    p = FunctionProblem(choices, budget, error_fn, LinearCost(m))
    p.cost_table = (np.asarray(m)[:, None] * p.width_table)[None].astype(np.int64)
    return p


def _budget(rng, choices, m):
    lo = sum(mi * c[0] for mi, c in zip(m, choices, strict=True))
    hi = sum(mi * c[-1] for mi, c in zip(m, choices, strict=True))
    return int(lo + np.floor(rng.uniform(0.3, 0.7) * (hi - lo)))


def quadratic_problem(rng) -> FunctionProblem:
    n, choices = 8, [tuple(range(2, 8))] * 8
    M = rng.standard_normal((n, n))
    A = M @ M.T / n + 0.2 * np.eye(n)
    scale = 10.0 ** rng.uniform(0, 2, n)
    m = rng.integers(1, 9, n)
    return _function_problem(choices, _budget(rng, choices, m), QuadraticError(scale, A, 2), m)


def fir_problem(rng, numtaps: int, pruning: bool) -> FunctionProblem:
    fp = rng.uniform(0.08, 0.25)
    fs = fp + rng.uniform(0.08, 0.15)
    h = remez(numtaps, [0, fp, fs, 0.5], [1, 0], fs=1.0)
    c = numtaps // 2
    h_pairs = h[c:]  # centre, then one tap of each symmetric pair
    w = np.linspace(0, np.pi, 256)
    k = np.arange(h_pairs.size)
    basis = np.where(k[:, None] == 0, 1.0, 2.0) * np.cos(k[:, None] * w[None, :])
    widths = (0, 2, 3, 4, 5, 6, 7) if pruning else tuple(range(3, 9))
    choices = [widths] * h_pairs.size
    m = np.where(k == 0, 1, 2)
    return _function_problem(choices, _budget(rng, choices, m),
                             MinimaxFirError(h_pairs, basis), m)


FAMILIES = {
    "quadratic": quadratic_problem,
    "fir": lambda rng: fir_problem(rng, 15, pruning=False),
    "fir_pruned": lambda rng: fir_problem(rng, 13, pruning=True),
}


def brute_force(problem, chunk: int = 200_000) -> float:
    """Smallest error over every feasible point (the cost is evaluated first)."""
    best = np.inf
    shape = tuple(int(k) for k in problem.n_choices)
    total = int(np.prod(shape))
    for start in range(0, total, chunk):
        idx = np.stack(np.unravel_index(np.arange(start, min(total, start + chunk)), shape), 1)
        X = problem.to_width(idx)
        X = X[np.all(problem.cost(X) <= np.asarray(problem.budgets), axis=1)]
        if len(X):
            best = min(best, float(problem.error(X).min()))
    return best


# ---- methods -------------------------------------------------------------------------


def nonsep_configs(max_evals: int) -> dict[str, tuple[str, dict]]:
    """Benchmarked variants on the non-separable families: label -> (method, options)."""
    swarm = {"n_particles": 40, "n_iter": max_evals // 40, "max_evals": max_evals}
    return {
        "gcpso": ("gcpso", swarm),
        "ppso": ("ppso", swarm),
        "random+repair": ("random", {"n_evals": max_evals, "batch_size": 500,
                                     "repair": True}),
        "random": ("random", {"n_evals": max_evals, "batch_size": 500}),
        "greedy (bit-by-bit)": ("greedy", {}),
    }


def separable_configs() -> dict[str, tuple[str, dict]]:
    """Benchmarked variants on the separable family, each at its default budget."""
    return {
        "mckp_greedy": ("mckp_greedy", {}),
        "gcpso": ("gcpso", {}),
        "gcpso (no refill)": ("gcpso", {"refill": False}),
        "ppso": ("ppso", {}),
        "uniform": ("uniform", {}),
        "random": ("random", {"n_evals": 8000, "batch_size": 500}),
        "greedy (bit-by-bit)": ("greedy", {}),
    }


class Tally:
    """Gaps, hits, distinct evaluations and infeasible evaluations of one method."""

    def __init__(self):
        self.gaps, self.evals, self.walls = [], [], []
        self.infeasible_evals = self.no_feasible = self.runs = 0

    def add(self, r, opt):
        self.runs += 1
        self.evals.append(r.n_evals)
        self.walls.append(r.wall_time_s)
        self.infeasible_evals += r.n_infeasible
        if r.feasible:
            self.gaps.append((r.error - opt) / opt)
        else:
            self.no_feasible += 1

    def row(self, label):
        g = np.asarray(self.gaps) * 100
        med = f"{np.median(g):10.4f}" if g.size else f"{'n/a':>10s}"
        worst = f"{np.max(g):10.4f}" if g.size else f"{'n/a':>10s}"
        hits = f"{int(np.sum(g <= HIT * 100))}/{self.runs}"
        return (f"{label:22s} {med} {worst} {hits:>9s} {np.median(self.evals):9.0f} "
                f"{self.infeasible_evals:10d} {self.no_feasible:6d} "
                f"{np.median(self.walls) * 1e3:9.1f}")


HEAD = (f"{'method':22s} {'med gap %':>10s} {'worst %':>10s} {'hits':>9s} {'distinct':>9s} "
        f"{'infeas ev':>10s} {'no fea':>6s} {'median ms':>9s}")


def run_separable(args) -> None:
    rng = np.random.default_rng(args.seed)
    variants = separable_configs()
    tallies = {k: Tally() for k in variants}
    ref_wall = []
    for inst in range(args.instances):
        p = random_separable(rng, int(rng.integers(20, 201)), int(rng.integers(2, 17)))
        t0 = time.perf_counter()
        ref = minimize(p, "ilp")
        ref_wall.append(time.perf_counter() - t0)
        dp = minimize(p, "mckp_dp")
        if not np.isclose(dp.error, ref.error, rtol=1e-9, atol=0):
            raise AssertionError(f"instance {inst}: mckp_dp {dp.error} != ilp {ref.error}")
        for label, (method, opts) in variants.items():
            tallies[label].add(minimize(p, method, seed=args.seed + inst, **opts), ref.error)
    print(f"\n== separable: {args.instances} instances, seed {args.seed}, optimum by ilp "
          f"(== mckp_dp), median ilp time {np.median(ref_wall) * 1e3:.1f} ms; "
          f"default budgets")
    print(HEAD)
    print("-" * len(HEAD))
    for label, t in tallies.items():
        print(t.row(label))


def run_family(name, args) -> None:
    rng = np.random.default_rng([args.seed, sorted(FAMILIES).index(name)])
    problems = [FAMILIES[name](rng) for _ in range(args.nonsep_instances)]
    t0 = time.perf_counter()
    optima = [brute_force(p) for p in problems]
    t_bf = time.perf_counter() - t0
    for budget in (2_000, 20_000):
        variants = nonsep_configs(budget)
        tallies = {k: Tally() for k in variants}
        for i, (p, opt) in enumerate(zip(problems, optima, strict=True)):
            for label, (method, opts) in variants.items():
                seeds = [0] if method == "greedy" else range(args.seeds)
                for s in seeds:
                    tallies[label].add(minimize(p, method, seed=1000 * i + s, **opts), opt)
        print(f"\n== {name}: {args.nonsep_instances} instances x {args.seeds} seeds, "
              f"optimum by brute force ({t_bf:.1f} s), {budget} evaluations")
        print(HEAD)
        print("-" * len(HEAD))
        for label, t in tallies.items():
            print(t.row(label))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instances", type=int, default=50, help="separable random problems")
    ap.add_argument("--nonsep-instances", type=int, default=3,
                    help="problems per non-separable family")
    ap.add_argument("--seeds", type=int, default=10, help="seeds per non-separable problem")
    ap.add_argument("--families", default="separable,quadratic,fir,fir_pruned",
                    help="comma-separated: separable and/or " + ", ".join(FAMILIES))
    ap.add_argument("--seed", type=int, default=0, help="seed of instances and methods")
    args = ap.parse_args(argv)
    for fam in args.families.split(","):
        if fam == "separable":
            run_separable(args)
        elif fam in FAMILIES:
            run_family(fam, args)
        else:
            raise SystemExit(f"--families: unknown family {fam!r}; "
                             f"choose from separable, {', '.join(FAMILIES)}")


if __name__ == "__main__":
    main()
