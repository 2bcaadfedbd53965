"""The FIR coefficient-width allocation as a :class:`bitsmith.search.Problem`.

Variables are the coefficient widths, one per symmetric pair (or per tap); the admissible
widths may include 0, which prunes the coefficient (no multiplier, no adder). The integer
consumption constraint is the LUT estimate of :func:`bitsmith.hwmodels.fir_luts_batch`.
"""

from __future__ import annotations

import numpy as np

from ...search import Problem, SeparableProblem
from ...sim import FirDesign, Rounding, bands, quantize_coefficient_batch, quantize_coefficients

# the batch path needs the quantizer's integer significands and exponents, which the public
# quantize_coefficient_batch folds into float values
from ...sim.fir._design import _cleaned, _quantize_own_exponent
from ...sim.fir._metrics import batch_band_metrics, frequency_response

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
    separable_ref : int or None
        Build the separable LUT table around a uniform point of this width (bits) and cost
        candidates from it (see :meth:`_separable_table`); None costs every candidate with
        the full model (exact, but the search's repair is then ~100x slower).
    use_sensitivity : bool
        Offer GC-PSO the coefficient-error sensitivities (:meth:`sensitivity`) instead of
        letting it estimate them by evaluations.
    """

    def __init__(self, h, design: FirDesign, vmap, choices, budget: int, cost_fn,
                 objective: str = "spec", coef_rounding: Rounding = Rounding.ROUND_HALF_EVEN,
                 n_freq: int = 1024, separable_ref: int | None = 12,
                 use_sensitivity: bool = True):
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
        # taps no variable covers are exact zeros of the design (a halfband's every other
        # tap): they map to a constant width-0 column (pruned, never searched)
        self._tap_var = np.full(self.h.size, len(self.vmap), dtype=np.int64)
        for j, taps in enumerate(self.vmap):
            self._tap_var[list(taps)] = j
        uncovered = self._tap_var == len(self.vmap)
        if np.any(_cleaned(self.h)[uncovered] != 0):
            raise ValueError("taps no variable covers must be exact zeros of the design")
        w, H = frequency_response(self.h, n_freq)
        self._H = H
        self.delta_p = 10 ** (design.passband_ripple_db / 20) - 1
        self.delta_s = 10 ** (-design.stopband_atten_db / 20)
        self._has_mask = bool(bands(design))
        # max_error_db: |H_q - H| relative to the float design's peak gain
        self._max_err = (None if design.max_error_db is None
                         else float(np.abs(H).max()) * 10 ** (design.max_error_db / 20))

        self.use_sensitivity = use_sensitivity
        self._amp = None
        self.cost_table = None
        if separable_ref is not None:
            self.cost_table = self._separable_table(int(separable_ref))

    def _separable_table(self, ref_bits: int) -> np.ndarray:
        """Marginal LUT cost of each variable's choices around a uniform reference point.

        ``C_sep(x) = C(ref) + sum_j [C(ref with x_j) - C(ref)]``: exact at the reference and
        for single-variable moves, approximate elsewhere (adder widths couple the taps).
        The first choices are then corrected so the table is also exact at the cheapest
        point (all first choices), and the table never sums to a negative cost.
        The search then costs and repairs candidates from this table (fast and exact for
        it); the flow reports the full model and yosys for the chosen design.
        """
        N, kmax = self.n_var, int(self.n_choices.max())
        ref = np.array([min(c, key=lambda w: abs(w - ref_bits)) for c in self.choices])
        rows = []
        for j in range(N):
            X = np.tile(ref, (kmax, 1))
            X[:, j] = self.width_table[j]
            rows.append(X)
        full = self.full_cost(np.concatenate(rows)).reshape(N, kmax)
        c_ref = int(self.full_cost(ref[None, :])[0])
        table = full - c_ref
        # Second anchor: the cheapest point, every variable at its first choice (pruned
        # where pruning is allowed). Single moves from the reference miss how the adder tree
        # shrinks when many coefficients go at once, so the plain sum can fall far from the
        # true cost there, even below 0 LUTs. First choices are lowered to their row's
        # minimum (the model's +-2 LUT wobbles, or a narrow constant in LUTs costing more
        # than a wide one in a DSP, must not make a wider choice cheaper than the first),
        # then the difference to the true cost is spread over them in proportion to what
        # each saves, as far as each row allows: the table is then exact at both anchors (up
        # to what no anchor entry could take), and it never sums to a negative cost.
        k = self.n_choices
        for j in range(N):
            table[j, 0] = table[j, : k[j]].min()
        first = np.array([c[0] for c in self.choices])
        fi = np.zeros(N, dtype=np.int64)  # index of each row's anchor entry
        if not first.any():  # every variable may be pruned: keep the largest coefficient
            j = int(self._tap_var[int(np.argmax(np.abs(self.h)))])
            first[j], fi[j] = self.choices[j][1], 1
        c_min = int(self.full_cost(first[None, :])[0])
        ar = np.arange(N)
        gap = c_min - (c_ref + int(table[ar, fi].sum()))
        moves = first != ref
        if gap and moves.any():
            w = np.where(moves, np.maximum(-table[ar, fi], 0), 0).astype(np.float64)
            if w.sum() == 0:
                w = moves.astype(np.float64)
            share = np.trunc(gap * w / w.sum()).astype(np.int64)
            share[np.argmax(w)] += gap - int(share.sum())  # integer shares summing to gap
            if gap > 0:  # raise an anchor entry at most to its row's next cheapest one
                room = np.array([np.delete(table[j, : k[j]], fi[j]).min() - table[j, fi[j]]
                                 if k[j] > 1 else 0 for j in range(N)])
                share = np.minimum(share, np.maximum(room, 0))
            table[ar, fi] += share
        # (what the anchor entries could not take stays out: the reference point must stay
        # exact, so the table may underestimate the cheapest point by that much)
        table[0] += c_ref
        # never negative, whatever the rows' shapes: the cheapest combination with at least
        # one coefficient kept must cost >= 0. A deficit goes onto the pruned entries (the
        # reference stays exact), as often as the minima move; a constant only if that
        # cannot cover it.
        pruned = np.array([self.width_table[j][0] == 0 for j in range(N)])

        def floor():
            mins = np.array([table[j, : k[j]].min() for j in range(N)])
            kept = np.array([table[j, : k[j]][self.width_table[j][: k[j]] > 0].min()
                             for j in range(N)])
            return int(mins.sum() + (kept - mins).min())

        for _ in range(4):
            deficit = -floor()
            if deficit <= 0 or not pruned.any():
                break
            table[pruned, 0] += -(-deficit // int(pruned.sum()))  # ceil
        table[0] += max(0, -floor())
        return table[None, :, :].astype(np.int64)

    def surrogate(self) -> SeparableProblem:
        """The separable noise-power surrogate of this problem (an MCKP).

        Error of variable j at width b: the squared quantization error of its coefficients,
        sum_k (Q_b(h_k) - h_k)^2 over its taps -- by Parseval, the surrogate's total is the
        squared RMS response error over the whole band, exactly, since each coefficient is
        quantized on its own. Cost: this problem's separable LUT table.
        """
        if self.cost_table is None:
            raise ValueError("the surrogate needs the separable cost table (separable_ref)")
        errs = []
        for j, ch in enumerate(self.choices):
            x = np.array([c[-1] for c in self.choices])
            X = np.tile(x, (len(ch), 1))
            X[:, j] = ch
            taps = list(self.vmap[j])
            Q = self.quantized(X)[:, taps]
            errs.append(np.sum((Q - self.h[taps]) ** 2, axis=1))
        k = self.n_choices
        costs = [self.cost_table[:, j, : k[j]] for j in range(self.n_var)]
        return SeparableProblem(errs, costs, self.budgets, self.choices)

    def common_lsb(self, word_bits: int) -> tuple[np.ndarray, int, tuple[int, ...]]:
        """The classic uniform quantization: every coefficient a ``word_bits`` word on ONE LSB.

        The LSB is set by the largest coefficient (it uses the whole word); smaller ones
        have fewer significant bits, and those below half an LSB become 0 (pruned).

        Returns
        -------
        (raw (L,) int64, coef_frac, tap widths)
            Tap widths are each coefficient's significant bits (0 for zeros).
        """
        from ...sim import coef_significant_bits

        h = _cleaned(self.h)
        # the LSB the largest coefficient gets at this width caps every other one
        _, frac = _quantize_own_exponent(h[np.argmax(np.abs(h))], np.array(word_bits),
                                         self.coef_rounding, None)
        raw, F = quantize_coefficients(h, [word_bits] * h.size, self.coef_rounding,
                                       max_frac=int(frac))
        widths = tuple(max(2, coef_significant_bits(c)) if c else 0 for c in raw)
        return np.array(raw, dtype=np.int64), F, widths

    def _amplitude_table(self) -> np.ndarray:
        """(N, Kmax): RMS amplitude of each variable's coefficient error at each width."""
        if getattr(self, "_amp", None) is None:
            sur = self.surrogate()
            self._amp = np.sqrt(sur.error_table)
        return self._amp

    def sensitivity(self, x) -> np.ndarray | None:
        """GC-PSO's repair hint: coefficient-error amplitude added by lowering each variable.

        The response error grows with the amplitude of the coefficient errors (not their
        power), so the repair ranks one-step decreases by the increase of
        sqrt(sum of squared coefficient errors) of the variable; None without the
        separable cost table (``use_sensitivity`` False).
        """
        if not self.use_sensitivity or self.cost_table is None:
            return None
        amp = self._amplitude_table()
        idx = self.to_index(np.asarray(x)[None, :])[0]
        ar = np.arange(self.n_var)
        return amp[ar, np.maximum(idx - 1, 0)] - amp[ar, idx]

    def with_budget(self, budget: int) -> FirAllocationProblem:
        """The same problem under another LUT budget (sharing the cost table)."""
        other = object.__new__(FirAllocationProblem)
        other.__dict__.update(self.__dict__)
        other.budgets = (int(budget),)
        return other

    # -- views ----------------------------------------------------------------------------
    def tap_widths(self, X) -> np.ndarray:
        """Per-tap widths (n, L) of per-variable widths X (n, N) (bits; 0 = pruned)."""
        X = np.atleast_2d(np.asarray(X, dtype=np.int64))
        X = np.concatenate([X, np.zeros((X.shape[0], 1), dtype=np.int64)], axis=1)
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
        """Normalized Chebyshev spec error of tap values Q (n, L): met when <= 1.

        The mask part (stopband |H| / delta_s, passband deviation / delta_p) where the
        design has bands; the response-error part max |H_q - H| / (peak |H| 10**(db/20))
        where it has ``max_error_db``; the larger of the two.
        """
        Q = np.atleast_2d(Q)
        out = np.zeros(Q.shape[0])
        if self._has_mask:
            atten_db, ripple_db = batch_band_metrics(Q, self.design, self.n_freq)
            stop = 10 ** (-atten_db / 20) / self.delta_s
            passband = (10 ** (ripple_db / 20) - 1) / self.delta_p
            out = np.maximum(stop, passband)
        if self._max_err is not None:
            out = np.maximum(out, self.response_error(Q, "max") / self._max_err)
        return out

    def response_error(self, Q, kind: str) -> np.ndarray:
        """max or RMS |H_q - H| (linear) of tap values Q (n, L)."""
        _, Hq = frequency_response(Q, self.n_freq)
        err = np.abs(Hq - self._H)
        return err.max(axis=1) if kind == "max" else np.sqrt(np.mean(err**2, axis=1))

    def error_of_values(self, Q) -> np.ndarray:
        """The objective of tap values Q (n, L)."""
        if self.objective == "spec":
            return self.spec_error(Q)
        return self.response_error(Q, self.objective)

    def error(self, X) -> np.ndarray:
        return self.error_of_values(self.quantized(X))

    def full_cost(self, X) -> np.ndarray:
        """LUTs (n,) of the full cost model (not the separable table)."""
        return np.asarray(self.cost_fn(*self.raw_batch(X)), dtype=np.int64).reshape(-1)

    def cost(self, X) -> np.ndarray:
        if self.cost_table is None:
            return self.full_cost(X).reshape(-1, 1)
        idx = self.to_index(X)
        return self.cost_table[:, np.arange(self.n_var), idx].sum(axis=2).T.copy()
