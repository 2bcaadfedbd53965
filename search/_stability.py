"""Convergence regions of the PSO update (dynamical-system view, ALGORITHMS.md section 1).

With pbest and gbest held fixed a particle is a linear second-order system in
(w, c = c1 + c2). Known conditions:

- deterministic: |w| < 1 and 0 < c < 2 (1 + w);
- first order (in expectation): |w| < 1 and 0 < c < 4 (1 + w);
- second order (Poli 2009): |w| < 1 and 0 < c < 24 (1 - w^2) / (7 - 5 w).
"""

from __future__ import annotations

import numpy as np


class StabilityWarning(UserWarning):
    """PSO coefficients lie outside the second-order (Poli) stability region."""


def _bounds(w):
    w = np.asarray(w, dtype=np.float64)
    return 2 * (1 + w), 4 * (1 + w), 24 * (1 - w**2) / (7 - 5 * w)


def pso_stability(w: float, c1: float, c2: float) -> dict:
    """Check (w, c1, c2) against the PSO stability regions.

    Parameters
    ----------
    w : float
        Inertia weight.
    c1, c2 : float
        Cognitive and social acceleration coefficients.

    Returns
    -------
    dict
        ``deterministic``, ``first_order``, ``second_order`` (bool: inside each region),
        ``c`` (c1 + c2) and the bounds on c: ``deterministic_bound``,
        ``first_order_bound``, ``second_order_bound``.
    """
    c = float(c1) + float(c2)
    det, first, second = (float(b) for b in _bounds(w))
    inside_w = abs(w) < 1
    return {
        "c": c,
        "deterministic": bool(inside_w and 0 < c < det),
        "first_order": bool(inside_w and 0 < c < first),
        "second_order": bool(inside_w and 0 < c < second),
        "deterministic_bound": det,
        "first_order_bound": first,
        "second_order_bound": second,
    }


def plot_stability_region(ax=None, w=None, c=None):
    """Plot the three stability regions in the (w, c1 + c2) plane.

    Uses the object-oriented matplotlib API only (no pyplot state), so it works under the
    Agg backend and in worker processes.

    Parameters
    ----------
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new Figure with one Axes is created if None.
    w, c : float or sequence of float, optional
        Chosen inertia weight(s) and c1 + c2 value(s) to mark.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if ax is None:
        from matplotlib.figure import Figure

        ax = Figure(figsize=(5, 4)).add_subplot()
    ws = np.linspace(-0.999, 0.999, 400)
    det, first, second = _bounds(ws)
    ax.fill_between(ws, 0, first, color="C0", alpha=0.15, label="first order")
    ax.fill_between(ws, 0, second, color="C1", alpha=0.35, label="second order (Poli)")
    ax.plot(ws, det, "k--", lw=1, label="deterministic bound")
    if w is not None and c is not None:
        ax.plot(np.atleast_1d(w), np.atleast_1d(c), "r*", ms=12, label="chosen (w, c1 + c2)")
    ax.set_xlabel("inertia weight w")
    ax.set_ylabel("c1 + c2")
    ax.set_xlim(-1, 1)
    ax.set_ylim(0, 8)
    ax.legend(loc="upper left", fontsize="small")
    return ax
