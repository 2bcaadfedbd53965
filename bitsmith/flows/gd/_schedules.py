"""Precision schedules from the literature, scaled to a total-bits budget, and the exact
optimum of a small instance by enumeration.

A schedule has a shape s(u) on u = t / (T - 1) in [0, 1], rising from 0 to 1:

* constant: s = 0 (the uniform allocation);
* linear: s = u;
* logarithmic: s = log(1 + 9 u) / log(10) (fast rise, then flat: most of the extra
  precision early);
* exponential: s = (exp(3 u) - 1) / (exp(3) - 1) (slow, then fast: three e-folds).

(Increasing-precision training and quantized-gradient schedules in the literature use these
shapes; the exact constants are not fixed there, so the ones above are parameters of this
module, stated here.) The real widths b_t = clip(lam + span * s_t, min_bits, max_bits) rise
by ``span`` bits from start to end; the level lam is found by bisection so that
sum_t b_t equals the budget, and the widths are made integers by largest-remainder rounding
(floors, then one bit more to the largest fractional parts, ties to later steps), so the
integer schedule spends exactly min(budget, T max_bits) bits.
"""

from __future__ import annotations

import numpy as np

__all__ = ["SHAPES", "schedule", "count_feasible", "enumerate_feasible"]

SHAPES = {
    "constant": lambda u: np.zeros_like(u),
    "linear": lambda u: u,
    "logarithmic": lambda u: np.log1p(9.0 * u) / np.log(10.0),
    "exponential": lambda u: np.expm1(3.0 * u) / np.expm1(3.0),
}


def schedule(shape: str, n_steps: int, budget: int, min_bits: int, max_bits: int,
             span_bits: float) -> np.ndarray:
    """Integer widths per step of a schedule scaled to ``budget`` total bits, int64 (T,).

    Parameters
    ----------
    shape : str
        One of :data:`SHAPES`.
    n_steps : int
        Steps T.
    budget : int
        Total bits, at least T * min_bits (bits).
    min_bits, max_bits : int
        Width limits (bits).
    span_bits : float
        End minus start width before clipping (bits); ignored by ``constant``.
    """
    if shape not in SHAPES:
        raise ValueError(f"shape must be one of {', '.join(SHAPES)}, not {shape!r}")
    T = int(n_steps)
    if budget < T * min_bits:
        raise ValueError(f"budget must be at least {T * min_bits} bits ({T} steps at "
                         f"{min_bits} bits), not {budget}")
    target = min(int(budget), T * max_bits)
    u = np.linspace(0.0, 1.0, T) if T > 1 else np.zeros(1)
    s = SHAPES[shape](u) * (0.0 if shape == "constant" else float(span_bits))

    def total(lam):
        return np.clip(lam + s, min_bits, max_bits).sum()

    lo, hi = float(min_bits) - s.max(), float(max_bits)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if total(mid) < target:
            lo = mid
        else:
            hi = mid
    real = np.clip(hi + s, min_bits, max_bits)
    b = np.floor(real + 1e-9).astype(np.int64)
    b = np.minimum(b, max_bits)
    short = target - int(b.sum())
    if short > 0:
        frac = real - b
        frac[b >= max_bits] = -np.inf
        order = np.lexsort((-np.arange(T), -frac))  # largest fraction first, later steps first
        b[order[:short]] += 1
    elif short < 0:
        frac = real - b
        frac[b <= min_bits] = np.inf
        order = np.lexsort((np.arange(T), frac))
        b[order[:-short]] -= 1
    return b


def count_feasible(n_var: int, widths, budget: int) -> int:
    """Number of allocations in widths^n_var whose sum is at most ``budget`` (by DP)."""
    widths = [int(w) for w in widths]
    ways = np.zeros(budget + 1, dtype=object)
    ways[0] = 1
    for _ in range(n_var):
        nxt = np.zeros_like(ways)
        for w in widths:
            if w <= budget:
                nxt[w:] += ways[: budget + 1 - w]
        ways = nxt
    return int(ways.sum())


def enumerate_feasible(n_var: int, widths, budget: int) -> np.ndarray:
    """Every allocation in widths^n_var with sum <= budget, int64 (P, n_var), lexicographic.

    Prefixes that cannot be completed within the budget (even with every remaining variable
    at the narrowest width) are pruned as they are built.
    """
    widths = np.asarray(sorted(int(w) for w in widths), dtype=np.int64)
    lo = int(widths[0])
    pts = np.zeros((1, 0), dtype=np.int64)
    for i in range(n_var):
        rest = (n_var - i - 1) * lo
        ext = np.concatenate(
            [np.repeat(pts, len(widths), axis=0),
             np.tile(widths, len(pts))[:, None]], axis=1)
        pts = ext[ext.sum(axis=1) + rest <= budget]
    return pts
