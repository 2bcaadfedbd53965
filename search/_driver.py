"""The one driver: ``minimize(problem, method, seed=...)``."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np

from . import _evolution, _gcpso, _greedy, _ilp, _mckp_dp, _mckp_greedy, _ppso, _random, _uniform
from ._evaluator import Evaluator
from ._problem import Problem, collapse_ties

#: Registered methods. Each module defines ``DEFAULTS`` (its options), ``CACHE`` (whether
#: repeated points are de-duplicated), ``HANDLES_TIES`` and
#: ``run(problem, rng, ev, **options) -> x or (x, error, cost)``.
METHODS: dict[str, ModuleType] = {
    "gcpso": _gcpso,
    "ppso": _ppso,
    "mckp_greedy": _mckp_greedy,
    "mckp_dp": _mckp_dp,
    "ilp": _ilp,
    "uniform": _uniform,
    "random": _random,
    "greedy": _greedy,
    "evolution": _evolution,
}


@dataclass(frozen=True)
class SearchResult:
    """Outcome of :func:`minimize`.

    Attributes
    ----------
    x : tuple of int
        Chosen bit-width per variable (bits), ties expanded.
    error : float
        Error of ``x`` (the problem's error unit).
    cost : tuple of int
        Consumption of ``x`` per budget.
    feasible : bool
        Whether ``cost <= budgets`` for every budget.
    n_evals : int
        Candidates actually passed to ``problem.evaluate`` (cache hits not counted).
    n_infeasible : int
        Of those, how many broke a budget.
    wall_time_s : float
        Wall-clock time of the search (s); the only field that differs between runs.
    history : dict of str to numpy.ndarray
        Per iteration: ``iteration``, cumulative ``n_evals`` and ``best_error`` (best
        feasible error so far, inf before the first feasible point).
    method : str
    options : dict
        All options the method ran with, defaults included.
    """

    x: tuple[int, ...]
    error: float
    cost: tuple[int, ...]
    feasible: bool
    n_evals: int
    n_infeasible: int
    wall_time_s: float
    history: dict[str, np.ndarray] = field(repr=False)
    method: str
    options: dict[str, Any]


def minimize(
    problem: Problem,
    method: str = "gcpso",
    seed: int | None = 0,
    executor: Executor | None = None,
    progress: Callable[[int, int, float], None] | None = None,
    **options,
) -> SearchResult:
    """Choose bit-widths that minimize a problem's error within its budgets.

    Parameters
    ----------
    problem : Problem
        The bit-allocation problem.
    method : str
        One of :data:`METHODS`: ``gcpso``, ``ppso``, ``mckp_greedy``, ``mckp_dp``, ``ilp``,
        ``uniform``, ``random``, ``greedy``.
    seed : int or None
        Seed of the ``numpy.random.default_rng`` handed to the method (never global state).
        Same seed, same result.
    executor : concurrent.futures.Executor, optional
        Evaluate candidate batches in chunks on it (a process pool needs a picklable
        problem). Results do not depend on it.
    progress : callable, optional
        ``progress(done, total, best_error)``, called once per iteration.
    **options
        Method options; see each method's ``DEFAULTS`` (``METHODS[name].DEFAULTS``).

    Returns
    -------
    SearchResult
        The method's answer, or the best feasible point evaluated during the run when that
        is better (or the answer is infeasible).

    Notes
    -----
    Ties: ``ilp`` enforces ``problem.ties`` as constraints; every other method searches a
    reduced problem with one variable per tie group (summed tables for a separable problem)
    and the answer is expanded, so tied variables always come back equal. Exact methods
    (``mckp_dp``, ``ilp``, ``mckp_greedy``) work on the tables and report one evaluation
    (the final point).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {sorted(METHODS)}, not {method!r}")
    mod = METHODS[method]
    unknown = sorted(set(options) - set(mod.DEFAULTS))
    if unknown:
        raise TypeError(
            f"unknown option(s) {unknown} for method {method!r}; "
            f"allowed: {sorted(mod.DEFAULTS)}"
        )
    opts = {**mod.DEFAULTS, **options}
    problem.check_budgets()
    rng = np.random.default_rng(seed)
    if mod.HANDLES_TIES:
        work, expand = problem, None
    else:
        work, expand = collapse_ties(problem)
    ev = Evaluator(work, executor=executor, cache=mod.CACHE, progress=progress)
    t0 = time.perf_counter()
    out = mod.run(work, rng, ev, **opts)
    if isinstance(out, tuple):
        x, err, cost = out
    else:
        x = np.asarray(out, dtype=np.int64)
        if ev.best_x is not None and np.array_equal(ev.best_x, x):
            err, cost = ev.best_error, ev.best_cost
        else:
            e, c = ev(x[None, :])
            err, cost = e[0], c[0]
    wall = time.perf_counter() - t0
    x = np.asarray(x, dtype=np.int64)
    feasible = bool(np.all(np.asarray(cost).reshape(-1) <= np.asarray(work.budgets)))
    if ev.best_x is not None and (not feasible or ev.best_error < err):
        # never return worse than the best feasible point evaluated (PPSO's penalized
        # fitness can end on an infeasible point after visiting feasible ones)
        x, err, cost = np.asarray(ev.best_x, dtype=np.int64), ev.best_error, ev.best_cost
    if expand is not None:
        x = x[expand]
    cost = np.asarray(cost, dtype=np.int64).reshape(-1)
    return SearchResult(
        x=tuple(int(v) for v in x),
        error=float(err),
        cost=tuple(int(v) for v in cost),
        feasible=bool(np.all(cost <= np.asarray(problem.budgets))),
        n_evals=ev.n_evals,
        n_infeasible=ev.n_infeasible,
        wall_time_s=wall,
        history=ev.history(),
        method=method,
        options=opts,
    )
