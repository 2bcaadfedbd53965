"""The FIR coefficient-width allocation as a :class:`bitsmith.search.Problem`.

Variables are the coefficient widths, one per symmetric pair (or per tap); the admissible
widths may include 0, which prunes the coefficient (no multiplier, no adder). The integer
consumption constraint is the LUT estimate of :func:`bitsmith.hwmodels.fir_luts_batch`.
"""

from __future__ import annotations

import numpy as np

from ..search import Problem
from ..sim import FirDesign, Rounding, quantize_coefficient_batch, quantize_coefficients

# the batch path needs the quantizer's integer significands and exponents, which the public
# quantize_coefficient_batch folds into float values
from ..sim._firdesign import _cleaned, _quantize_own_exponent
from ..sim._firmetrics import batch_band_metrics, frequency_response

__all__ = ["FirAllocationProblem", "OBJECTIVES"]

#: objective name -> meaning
OBJECTIVES = {
    "spec": "normalized Chebyshev spec error max(stopband |H| / delta_s, passband |H|-1 / "
            "delta_p): the spec is met when <= 1",
    "max": "max |H_q - H| over the pass and stop bands (linear)",
    "rms": "RMS |H_q - H| over the whole band (linear)",
}


class FirAllocationProblem(Problem):
    """Choose coefficient widths (bits) to minimize response error under a LUT budget.

    Parameters
    ----------
    h : array_like of float, shape (L,)
        Float taps of the design.
    design : FirDesign
        Requirements (band edges, ripple and attenuation targets).
    vmap : sequence of tuple of int
        Taps of each variable (a symmetric pair is one variable).
    choices : tuple of tuple of int
        Admissible widths per variable (bits); 0 prunes the coefficient.
    budget : int
        LUT budget.
    cost_fn : callable
        ``cost_fn(raw (n, L) int64, coef_frac (n,) int64, widths (n, L) int64) -> LUTs (n,)``.
    objective : {"spec", "max", "rms"}
        See :data:`OBJECTIVES`.
    coef_rounding : Rounding
        Rounding of each coefficient to its width.
    n_freq : int
        Frequency grid of the response metrics.
    """

    def __init__(self, h, design: FirDesign, vmap, choices, budget: int, cost_fn,
                 objective: str = "spec", coef_rounding: Rounding = Rounding.ROUND_HALF_EVEN,
                 n_freq: int = 1024):
        super().__init__(choices, (int(budget),))
        if objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {', '.join(OBJECTIVES)}, "
                             f"not {objective!r}")
        self.h = np.asarray(h, dtype=np.float64)
        self.design = design
        self.vmap = tuple(tuple(v) for v in vmap)
        self.cost_fn = cost_fn
        self.objective = objective
        self.coef_rounding = coef_rounding
        self.n_freq = n_freq
        self._tap_var = np.empty(self.h.size, dtype=np.int64)
        for j, taps in enumerate(self.vmap):
            self._tap_var[list(taps)] = j
        w, H = frequency_response(self.h, n_freq)
        self._H = H
        self.delta_p = 10 ** (design.passband_ripple_db / 20) - 1
        self.delta_s = 10 ** (-design.stopband_atten_db / 20)

    def with_budget(self, budget: int) -> FirAllocationProblem:
        """The same problem under another LUT budget."""
        return FirAllocationProblem(self.h, self.design, self.vmap, self.choices, budget,
                                    self.cost_fn, self.objective, self.coef_rounding,
                                    self.n_freq)

    # -- views ----------------------------------------------------------------------------
    def tap_widths(self, X) -> np.ndarray:
        """Per-tap widths (n, L) of per-variable widths X (n, N) (bits; 0 = pruned)."""
        X = np.atleast_2d(np.asarray(X, dtype=np.int64))
        return X[:, self._tap_var]

    def quantized(self, X) -> np.ndarray:
        """Quantized tap values (n, L) of widths X (pruned taps are 0)."""
        W = self.tap_widths(X)
        Q = quantize_coefficient_batch(self.h, np.maximum(W, 2), self.coef_rounding)
        return np.where(W == 0, 0.0, Q)

    def raw(self, x) -> tuple[tuple[int, ...], int, tuple[int, ...]]:
        """Raw integer coefficients, common fractional bits and tap widths of one point."""
        W = self.tap_widths(x)[0]
        h = np.where(W == 0, 0.0, self.h)
        raw, frac = quantize_coefficients(h, np.maximum(W, 2), self.coef_rounding)
        return raw, frac, tuple(int(w) for w in W)

    def raw_batch(self, X) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Raw integers (n, L), each candidate's common fractional bits F (n,), tap widths.

        Row i equals ``quantize_coefficients`` of candidate i (same common LSB F), so a
        batch cost agrees exactly with the cost of the :class:`FirSpec` built from it.
        """
        W = self.tap_widths(X)
        h = np.where(W == 0, 0.0, _cleaned(self.h)[None, :])
        q, frac = _quantize_own_exponent(h, np.maximum(W, 2), self.coef_rounding, None)
        nz = q != 0
        F = np.where(nz, frac, np.iinfo(np.int64).min).max(axis=1, keepdims=True)
        F = np.where(nz.any(axis=1, keepdims=True), F, 0)
        raw = np.where(nz, q.astype(np.int64) << np.where(nz, F - frac, 0), 0)
        return raw, F[:, 0], W

    # -- Problem ----------------------------------------------------------------------------
    def spec_error(self, Q) -> np.ndarray:
        """Normalized Chebyshev spec error of tap values Q (n, L): met when <= 1."""
        atten_db, ripple_db = batch_band_metrics(Q, self.design, self.n_freq)
        stop = 10 ** (-atten_db / 20) / self.delta_s
        passband = (10 ** (ripple_db / 20) - 1) / self.delta_p
        return np.maximum(stop, passband)

    def response_error(self, Q, kind: str) -> np.ndarray:
        """max or RMS |H_q - H| (linear) of tap values Q (n, L)."""
        _, Hq = frequency_response(Q, self.n_freq)
        err = np.abs(Hq - self._H)
        return err.max(axis=1) if kind == "max" else np.sqrt(np.mean(err**2, axis=1))

    def error(self, X) -> np.ndarray:
        Q = self.quantized(X)
        if self.objective == "spec":
            return self.spec_error(Q)
        return self.response_error(Q, self.objective)

    def cost(self, X) -> np.ndarray:
        return np.asarray(self.cost_fn(*self.raw_batch(X)), dtype=np.int64).reshape(-1, 1)
