"""Exact MCKP as an integer linear program (scipy.optimize.milp, HiGHS).

One-hot binaries z[i, k] per variable and choice; several budgets at once; ties as
z[a, k] = z[b, k] (tied variables take the same width).
"""

from __future__ import annotations

import contextlib
import os
import sys

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array

from ._mckp import require_separable

DEFAULTS = {"time_limit": None}
CACHE = False
HANDLES_TIES = True

#: The objective is shifted per variable and scaled to span [0, _OBJ_SCALE] so HiGHS's
#: absolute gap tolerance (1e-6) is negligible against it.
_OBJ_SCALE = 1e7


@contextlib.contextmanager
def _quiet_stdout():
    """Send file descriptor 1 to the null device for the duration.

    HiGHS's C++ code writes some diagnostics (``HighsMipSolverData::...``) straight to the
    process's stdout, past ``disp=False`` and past ``sys.stdout``; only a descriptor-level
    redirect silences them. Python-level output is flushed first so nothing is lost.
    """
    fd = 1  # the C library writes to descriptor 1, whatever sys.stdout is now
    if sys.stdout is not None:
        sys.stdout.flush()
    saved = os.dup(fd)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), fd)
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)


def run(problem, rng, ev, time_limit):
    """Solve exactly with HiGHS (mip_rel_gap = 0).

    Options
    -------
    time_limit : float or None
        HiGHS time limit (s); a result that is not proven optimal raises RuntimeError.
    """
    require_separable(problem, "ilp", single_budget=False)
    n, ks = problem.n_var, problem.n_choices
    off = np.concatenate([[0], np.cumsum(ks)])
    nz = int(off[-1])
    var = np.repeat(np.arange(n), ks)
    item = np.arange(nz) - off[var]
    e = problem.error_table[var, item]
    e = e - problem.error_table.min(axis=1)[var]
    span = e.max()
    obj = e * (_OBJ_SCALE / span) if span > 0 else e
    cons = [LinearConstraint(coo_array((np.ones(nz), (var, np.arange(nz))), shape=(n, nz)), 1, 1)]
    cost = problem.cost_table[:, var, item].astype(np.float64)
    cons.append(LinearConstraint(cost, -np.inf, np.asarray(problem.budgets, dtype=np.float64)))
    rows, cols, vals = [], [], []
    r = 0
    for grp in problem.ties:
        a = grp[0]
        for b in grp[1:]:
            for k in range(ks[a]):
                rows += [r, r]
                cols += [off[a] + k, off[b] + k]
                vals += [1.0, -1.0]
                r += 1
    if r:
        cons.append(LinearConstraint(coo_array((vals, (rows, cols)), shape=(r, nz)), 0, 0))
    options = {"mip_rel_gap": 0.0}
    if time_limit is not None:
        options["time_limit"] = float(time_limit)
    with _quiet_stdout():
        res = milp(obj, integrality=np.ones(nz), bounds=Bounds(0, 1), constraints=cons,
                   options=options)
    if res.status != 0 or res.x is None:
        raise RuntimeError(f"ilp: HiGHS must prove an optimum, but it returned {res.message!r}")
    idx = np.array([int(np.argmax(res.x[off[i]:off[i + 1]])) for i in range(n)])
    ev.end_iteration(1, 1)
    return problem.to_width(idx)
