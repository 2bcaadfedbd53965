"""Particle swarm core shared by PPSO and GC-PSO.

Particles live in the continuous *index* space [0, K_i - 1]^N (K_i = number of choices of
variable i) and are evaluated at their rounded positions, so non-consecutive choice sets
(e.g. {4, 8, 16}) are handled; for consecutive widths this is the width box shifted by the
minimum width.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

from ._stability import StabilityWarning, pso_stability

#: Options common to both PSO methods (see ALGORITHMS.md section 1 for the defaults).
SWARM_DEFAULTS = {
    "n_particles": 40,
    "n_iter": 200,
    "w": 0.729,
    "c1": 1.494,
    "c2": 1.494,
    "w_schedule": None,
    "v_max": None,
    "max_evals": None,
    "x0": None,
}

#: Linear inertia schedule endpoints (Shi and Eberhart).
W_START, W_END = 0.9, 0.4


def pso_update(x, v, pbest, gbest, w, c1, c2, r1, r2, v_max, upper):
    """One PSO step, a pure function.

    ``v <- clip(w v + c1 r1 (pbest - x) + c2 r2 (gbest - x), -v_max, v_max)``,
    ``x <- clip(x + v, 0, upper)``.

    Parameters
    ----------
    x, v, pbest : numpy.ndarray, float64 (P, N)
        Positions, velocities and personal bests (index units).
    gbest : numpy.ndarray, float64 (N,)
        Global best position.
    w, c1, c2 : float
        Inertia and acceleration coefficients.
    r1, r2 : numpy.ndarray, float64 (P, N)
        U(0, 1) draws.
    v_max : numpy.ndarray, float64 (N,)
        Velocity clamp per variable (index units).
    upper : numpy.ndarray, float64 (N,)
        Upper bound K_i - 1 of the box.

    Returns
    -------
    x_new, v_new : numpy.ndarray
    """
    v_new = w * v + c1 * r1 * (pbest - x) + c2 * r2 * (gbest - x)
    v_new = np.clip(v_new, -v_max, v_max)
    x_new = np.clip(x + v_new, 0.0, upper)
    return x_new, v_new


def inertia(w: float, schedule: str | None, it: int, n_iter: int) -> float:
    """Inertia weight at iteration ``it``: constant, or linear 0.9 -> 0.4."""
    if schedule is None:
        return w
    return W_START + (W_END - W_START) * it / max(1, n_iter - 1)


def check_swarm_options(o: dict) -> None:
    """Validate the common swarm options and warn outside the stability region."""
    for name in ("n_particles", "n_iter"):
        if int(o[name]) != o[name] or o[name] < 1:
            raise ValueError(f"{name} must be a positive integer, not {o[name]!r}")
    if o["w_schedule"] not in (None, "linear"):
        raise ValueError(f"w_schedule must be None or 'linear', not {o['w_schedule']!r}")
    if o["max_evals"] is not None and o["max_evals"] < o["n_particles"]:
        raise ValueError(
            f"max_evals must be at least n_particles ({o['n_particles']}), not {o['max_evals']}"
        )
    ws = (W_START, W_END) if o["w_schedule"] == "linear" else (o["w"],)
    for w in ws:
        st = pso_stability(w, o["c1"], o["c2"])
        if not st["second_order"]:
            warnings.warn(
                f"PSO coefficients w={w}, c1+c2={st['c']:.4g} lie outside the second-order "
                f"stability region, which needs |w| < 1 and "
                f"c1+c2 < 24(1-w^2)/(7-5w) = {st['second_order_bound']:.4g}",
                StabilityWarning,
                stacklevel=4,
            )


def _mutate(idx, rng, upper):
    """Raise one random variable of each index point by one step (lower it if at its top).

    On a point that uses its budget, the repair that follows must then lower another
    variable: a swap, the move between neighbouring budget-feasible points. (A plain
    lowering would either waste budget or, with refill, be undone.)
    """
    P, n = idx.shape
    out = idx.copy()
    j = rng.integers(0, n, P)
    ar = np.arange(P)
    top = upper.astype(np.int64)[j]
    out[ar, j] = np.where(out[ar, j] < top, out[ar, j] + 1, np.maximum(out[ar, j] - 1, 0))
    return out


def run_swarm(
    problem,
    rng: np.random.Generator,
    ev,
    o: dict,
    score: Callable,
    prepare: Callable | None = None,
    first_position: np.ndarray | None = None,
    on_best: Callable | None = None,
):
    """Run the swarm loop; return the best position's indices and its error and cost.

    Positions stay continuous. Each iteration evaluates the rounded positions, or with
    ``prepare`` (GC-PSO) a repaired copy of them; personal and global bests store the
    points actually evaluated, so with a repair they are feasible.

    Parameters
    ----------
    score : callable
        ``score(err, cost, it) -> fitness`` (lower is better), float64 (n,).
    prepare : callable, optional
        ``prepare(I) -> I'`` maps rounded index positions (int64 (P, N)) to the points
        evaluated (GC-PSO repair); the positions themselves are not changed. Only with it
        do the diversity options ``stagnation_share`` and ``mutation_tries`` (read from
        ``o``, default 0: off) apply:

        * ``stagnation_share``: when fewer than this share of the particles' prepared points
          are new (not evaluated before), every particle but the best is re-drawn
          uniformly in the box with a fresh velocity, and its personal best is reset to
          its next point;
        * ``mutation_tries``: a particle whose prepared point was already evaluated has
          one random variable of that point raised one step (lowered at its top) and the
          result prepared again -- a swap, once the repair lowers another -- up to this many
          times, so the iteration's evaluations go to new points.
    first_position : numpy.ndarray of int64 (N,), optional
        Initial index position of particle 0 (the ``x0`` option, in widths, overrides it).
    on_best : callable, optional
        ``on_best(I)`` is called with the index point of every new global best (GC-PSO
        re-measures its black-box error model there); it may evaluate up to N + 1 points,
        and is skipped when that could break ``max_evals``.
    """
    n, P, T = problem.n_var, int(o["n_particles"]), int(o["n_iter"])
    upper = (problem.n_choices - 1).astype(np.float64)
    v_max = upper / 2 if o["v_max"] is None else np.broadcast_to(float(o["v_max"]), (n,))
    stagnation = float(o.get("stagnation_share", 0.0)) if prepare is not None else 0.0
    tries = int(o.get("mutation_tries", 0)) if prepare is not None else 0
    x = rng.uniform(0.0, 1.0, (P, n)) * upper
    v = rng.uniform(-1.0, 1.0, (P, n)) * v_max
    if o.get("x0") is not None:
        # a caller's starting point (widths) wins over the method's own seed particle
        x0 = np.asarray(o["x0"], dtype=np.int64).reshape(-1)
        if x0.size != n:
            raise ValueError(f"x0 must give one width per variable ({n}), not {x0.size}")
        first_position = problem.to_index(x0[None, :])[0]
    if first_position is not None:
        x[0] = first_position
    pbest = pb_idx = pb_err = pb_cost = pb_fit = None
    g, g_fit = 0, np.inf
    for it in range(T):
        # The first iteration always runs, so a swarm always has a best.
        if it > 0 and o["max_evals"] is not None and ev.n_evals + P > o["max_evals"]:
            break
        idx = np.rint(x).astype(np.int64)
        reset = np.zeros(P, dtype=bool)
        if prepare is not None:
            idx = prepare(idx)
            if stagnation > 0 or tries > 0:
                dup = ev.seen(problem.to_width(idx))
                if pbest is not None and stagnation > 0 and 1 - dup.mean() < stagnation:
                    reset[:] = True
                    reset[g] = False
                    m = int(reset.sum())
                    x[reset] = rng.uniform(0.0, 1.0, (m, n)) * upper
                    v[reset] = rng.uniform(-1.0, 1.0, (m, n)) * v_max
                    idx[reset] = prepare(np.rint(x[reset]).astype(np.int64))
                    dup = ev.seen(problem.to_width(idx))
                for _ in range(tries):
                    if not dup.any():
                        break
                    idx[dup] = prepare(_mutate(idx[dup], rng, upper))
                    dup = ev.seen(problem.to_width(idx))
        err, cost = ev(problem.to_width(idx))
        # PPSO's personal best is the continuous position that scored best; GC-PSO's is
        # the repaired (feasible) point that was evaluated
        at = x if prepare is None else idx.astype(np.float64)
        if pbest is None:
            pbest, pb_idx, pb_err, pb_cost = at.copy(), idx.copy(), err.copy(), cost.copy()
        else:
            # Penalties may grow with the iteration, so personal bests are re-scored.
            better = (score(err, cost, it) < score(pb_err, pb_cost, it)) | reset
            pbest[better], pb_idx[better] = at[better], idx[better]
            pb_err[better], pb_cost[better] = err[better], cost[better]
        pb_fit = score(pb_err, pb_cost, it)
        g = int(np.argmin(pb_fit))
        if on_best is not None and pb_fit[g] < g_fit and (
            o["max_evals"] is None or ev.n_evals + n + 1 + P <= o["max_evals"]
        ):
            on_best(pb_idx[g])
        g_fit = pb_fit[g]
        r1 = rng.random((P, n))
        r2 = rng.random((P, n))
        w = inertia(o["w"], o["w_schedule"], it, T)
        x, v = pso_update(x, v, pbest, pbest[g], w, o["c1"], o["c2"], r1, r2, v_max, upper)
        ev.end_iteration(it + 1, T)
    g = int(np.argmin(pb_fit))
    return pb_idx[g], pb_err[g], pb_cost[g]
