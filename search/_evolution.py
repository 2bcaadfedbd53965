"""Evolutionary search: a steady (mu + lambda) genetic algorithm over choice indices.

Tournament selection, uniform crossover, +-1-step mutation, and a repair that lowers
randomly chosen variables (weighted by the budget share they would free) until every
budget holds, so every evaluated point is feasible. Works on any Problem (the error may be
non-separable, e.g. measured accuracy); only ``problem.cost`` must be cheap.
"""

from __future__ import annotations

import numpy as np

DEFAULTS = {"pop_size": 20, "n_gen": 30, "mutation_rate": None, "tournament": 3,
            "seed_min": True}
CACHE = True
HANDLES_TIES = False


def _repair(problem, idx, rng):
    """Lower variables of infeasible rows one step at a time until they fit (in place)."""
    budgets = np.asarray(problem.budgets, dtype=np.int64)
    for r in range(len(idx)):
        for _ in range(int(problem.n_choices.sum())):
            cost = np.asarray(problem.cost(problem.to_width(idx[r:r + 1])),
                              dtype=np.int64).reshape(-1)
            over = cost > budgets
            if not over.any():
                break
            can = np.flatnonzero(idx[r] > 0)
            if can.size == 0:
                break
            trial = np.repeat(idx[r:r + 1], can.size, axis=0)
            trial[np.arange(can.size), can] -= 1
            c2 = np.asarray(problem.cost(problem.to_width(trial)),
                            dtype=np.int64).reshape(can.size, -1)
            saved = ((cost - c2)[:, over] / np.maximum(budgets[over], 1)).sum(axis=1)
            w = np.maximum(saved, 0) + 1e-12
            j = can[rng.choice(can.size, p=w / w.sum())]
            idx[r, j] -= 1
    return idx


def run(problem, rng, ev, pop_size, n_gen, mutation_rate, tournament, seed_min):
    """Run the GA; options in :data:`DEFAULTS`.

    Options
    -------
    pop_size : int
        Population (and offspring per generation).
    n_gen : int
        Generations.
    mutation_rate : float or None
        Per-variable probability of a +-1 step (default 1/N).
    tournament : int
        Tournament size of parent selection.
    seed_min : bool
        Put the all-minimum point in the first population.
    """
    for name, val in (("pop_size", pop_size), ("n_gen", n_gen), ("tournament", tournament)):
        if int(val) != val or val < 1:
            raise ValueError(f"{name} must be a positive integer, not {val!r}")
    n = problem.n_var
    top = problem.n_choices - 1
    pm = 1.0 / n if mutation_rate is None else float(mutation_rate)
    if not 0 <= pm <= 1:
        raise ValueError(f"mutation_rate must lie in [0, 1], not {mutation_rate!r}")
    pop = np.floor(rng.random((pop_size, n)) * problem.n_choices).astype(np.int64)
    if seed_min:
        pop[0] = 0
    pop = _repair(problem, pop, rng)
    fit, _ = ev(problem.to_width(pop))
    ev.end_iteration(1, n_gen + 1)
    for g in range(n_gen):
        t = rng.integers(0, pop_size, size=(2 * pop_size, tournament))
        winners = t[np.arange(len(t)), np.argmin(fit[t], axis=1)]
        pa, pb = pop[winners[:pop_size]], pop[winners[pop_size:]]
        child = np.where(rng.random((pop_size, n)) < 0.5, pa, pb)
        mut = rng.random((pop_size, n)) < pm
        step = np.where(rng.random((pop_size, n)) < 0.5, -1, 1)
        child = np.clip(child + mut * step, 0, top)
        child = _repair(problem, child, rng)
        cf, _ = ev(problem.to_width(child))
        allp = np.concatenate([pop, child])
        allf = np.concatenate([fit, cf])
        _, first = np.unique(allp, axis=0, return_index=True)  # keep diversity: no clones
        first = first[np.argsort(allf[first], kind="stable")][:pop_size]
        if len(first) < pop_size:  # too few distinct points: refill with the best clones
            rest = np.setdiff1d(np.argsort(allf, kind="stable"), first)[:pop_size - len(first)]
            first = np.concatenate([first, rest])
        pop, fit = allp[first], allf[first]
        ev.end_iteration(g + 2, n_gen + 1)
    return problem.to_width(pop[int(np.argmin(fit))])
