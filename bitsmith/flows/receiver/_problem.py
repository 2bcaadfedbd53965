"""The per-antenna ADC allocation problem the searches see, and the baselines the search
package does not have (mixed 1-bit / high-resolution, exhaustive optimum).

Error = AQNM sum-rate loss R_unquantized - R(b) (bit/s/Hz, >= 0) of one channel
realization at the design SNR with the Bussgang LMMSE receiver; cost = the integer ADC
consumption from ``hwmodels.receiver`` (separable, so it is also given as ``cost_table``).
The error is not separable: an antenna's bits matter through the whole K x K MMSE matrix.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from ...hwmodels import receiver as hwr
from ...search import Problem
from ...sim import receiver as rx


class ReceiverProblem(Problem):
    """ADC bits per antenna for one channel realization under one integer budget.

    Parameters
    ----------
    spec : ReceiverSpec
    H : numpy.ndarray complex (Nr, K)
        Channel realization.
    snr_db : float
        Design Es/N0 per antenna (dB).
    budget : int
        Integer consumption budget (``hwmodels.receiver`` units).
    """

    def __init__(self, spec, H, snr_db: float, budget: int):
        super().__init__([spec.widths] * spec.n_rx, (int(budget),))
        self.spec = spec
        self.H = np.asarray(H, dtype=np.complex128)
        self.snr_db = float(snr_db)
        self.cost_table = hwr.cost_table(spec)[None].astype(np.int64)
        self.nu = rx.noise_to_signal(spec.quantizer, spec.max_bits)
        self.rate_unquantized = float(rx.aqnm_sum_rate(None, self.H, snr_db)[0])
        self._sens_cache: dict[bytes, np.ndarray] = {}
        self.check_budgets()

    def rate(self, X) -> np.ndarray:
        """AQNM sum rate (bit/s/Hz) of allocations X (n, Nr)."""
        return rx.aqnm_sum_rate(X, self.H, self.snr_db, self.spec.quantizer,
                                self.spec.max_bits)

    def error(self, X):
        return self.rate_unquantized - self.rate(X)

    def cost(self, X):
        return hwr.allocation_cost(self.spec, X)[:, None]

    def sensitivity(self, x):
        """First-order rate loss of lowering each antenna by one bit at ``x``.

        With A = I + H^H diag(w) H, the sum rate R = -sum_k log2 [A^-1]_kk has
        dR/dw_i = sum_k |(A^-1 h_i^*)_k|**2 / ([A^-1]_kk ln 2); one step down changes w_i by
        w_i(b_i - 1) - w_i(b_i). One K x K inverse per call: cheap, and not an evaluation.
        """
        x = np.asarray(x, dtype=np.int64)
        key = x.tobytes()
        hit = self._sens_cache.get(key)
        if hit is not None:
            return hit.copy()
        n0 = 10.0 ** (-self.snr_db / 10.0)
        p = (np.abs(self.H) ** 2).sum(axis=1) + n0
        w = 1.0 / (n0 + self.nu[x] * p)
        lower = np.maximum(x - 1, self.spec.min_bits)
        dw = 1.0 / (n0 + self.nu[lower] * p) - w
        A = np.eye(self.H.shape[1]) + (self.H.conj().T * w) @ self.H
        Ainv = np.linalg.inv(A)
        U = Ainv @ self.H.conj().T                   # (K, Nr): A^-1 h_i^*
        grad = (np.abs(U) ** 2 / np.real(np.diag(Ainv))[:, None]).sum(axis=0) / math.log(2)
        s = -grad * dw
        self._sens_cache[key] = s
        return s.copy()


def channel_gains(H) -> np.ndarray:
    """||h_i||**2 per antenna (Nr,)."""
    return (np.abs(np.asarray(H)) ** 2).sum(axis=1)


def mixed_baseline(problem: ReceiverProblem) -> dict:
    """Mixed-ADC baseline: the n strongest antennas at b_high bits, the rest at the minimum.

    For every b_high above the minimum, n is the largest count that fits the budget; every
    such point is evaluated and the best kept (at most max_bits - min_bits evaluations).
    """
    spec = problem.spec
    order = np.argsort(-channel_gains(problem.H), kind="stable")
    budget = problem.budgets[0]
    lo = spec.min_bits
    c_lo = int(hwr.antenna_cost(spec, lo))
    cands = [np.full(spec.n_rx, lo, dtype=np.int64)]
    for b in spec.widths[1:]:
        extra = int(hwr.antenna_cost(spec, b)) - c_lo
        n = min(spec.n_rx, (budget - spec.n_rx * c_lo) // extra)
        if n >= 1:
            x = np.full(spec.n_rx, lo, dtype=np.int64)
            x[order[:n]] = b
            cands.append(x)
    X = np.array(cands)
    err, cost = problem.evaluate(X)
    j = int(np.argmin(err))
    return {"x": X[j], "error": float(err[j]), "cost": int(cost[j, 0]), "n_evals": len(X),
            "n_infeasible": int(np.count_nonzero(cost[:, 0] > budget))}


@lru_cache(maxsize=4)
def _grid(spec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every allocation of a small spec, its cost and each antenna's one-step raise cost."""
    n, lo, hi = spec.n_rx, spec.min_bits, spec.max_bits
    G = (np.indices((hi - lo + 1,) * n, dtype=np.int8).reshape(n, -1).T + lo).astype(np.int8)
    table = hwr.antenna_cost(spec, np.arange(hi + 2))
    cost = table[G].sum(axis=1)
    step = table[np.minimum(G + 1, hi + 1)] - table[G]
    at_top = G == hi
    for a in (G, cost, step, at_top):
        a.setflags(write=False)
    return G, cost, np.where(at_top, np.iinfo(np.int64).max // 4, step)


def exhaustive(problem: ReceiverProblem, max_points: int = 2_000_000) -> dict:
    """Exact optimum by enumeration (small instances: (max-min+1)**Nr <= ``max_points``).

    Only maximal feasible points are evaluated (no antenna can be raised within the budget):
    the AQNM rate is non-decreasing in every antenna's bits (nu_b decreases with b, checked
    here), so the optimum is among them.
    """
    spec = problem.spec
    n_pts = len(spec.widths) ** spec.n_rx
    if n_pts > max_points:
        raise ValueError(f"exhaustive search needs at most {max_points} points, not {n_pts}")
    nu = problem.nu[spec.min_bits:]
    if np.any(np.diff(nu) >= 0):
        raise ValueError("exhaustive pruning needs nu_b decreasing in b")
    G, cost, step = _grid(spec)
    budget = problem.budgets[0]
    feas = cost <= budget
    # maximal: every antenna is at the top (step = huge) or its raise breaks the budget
    slack = budget - cost
    maximal = feas & (step.min(axis=1) > slack)
    X = G[maximal].astype(np.int64)
    err, c = problem.evaluate(X)
    j = int(np.argmin(err))
    return {"x": X[j], "error": float(err[j]), "cost": int(c[j, 0]),
            "n_evals": int(len(X)), "n_infeasible": 0, "n_feasible": int(feas.sum())}
