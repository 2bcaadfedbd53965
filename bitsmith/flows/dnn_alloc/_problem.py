"""From a network's sensitivities and an accelerator's cost table to search problems.

Variables are weight layers; a choice is the code ``100*bw + ba`` of one (weight,
activation) pair. Pinned layers have one choice; tied layers share theirs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ...search import Problem, SeparableProblem

__all__ = ["MeasuredProblem", "build_problem", "resolution_for", "uniform_point"]


def resolution_for(table, metric: str, cols: list[np.ndarray]) -> float:
    """Integer cost unit of ``metric``: exact bits for weight bytes, else the span / 20000."""
    if metric == "weight_bytes":
        return 0.125
    flat = table.flat(metric)
    lo = sum(float(flat[i, c].min()) for i, c in enumerate(cols))
    hi = sum(float(flat[i, c].max()) for i, c in enumerate(cols))
    span = max(hi - lo, 1e-30)
    return span / 20000.0


def _columns(table, w_bits, a_bits, pins: Mapping[int, tuple[int, int]]):
    codes = list(table.codes)
    cols = []
    for i in range(len(table.layer_names)):
        if i in pins:
            bw, ba = pins[i]
            cols.append(np.array([codes.index(100 * bw + ba)]))
        else:
            cols.append(np.array([codes.index(100 * w + a) for w in w_bits for a in a_bits]))
    return cols


def build_problem(table, error: np.ndarray, w_bits: Sequence[int], a_bits: Sequence[int],
                  budgets: Mapping[str, float], resolutions: Mapping[str, float],
                  pins: Mapping[int, tuple[int, int]] | None = None,
                  ties: Sequence[Sequence[int]] = ()) -> SeparableProblem:
    """The separable allocation problem.

    Parameters
    ----------
    table : bitsmith.hwmodels.dnn.CostTable
        Costs on a grid containing ``w_bits`` x ``a_bits`` (and the pins).
    error : numpy.ndarray (L, n_bw, n_ba)
        Error of every layer and grid pair (the table's grid).
    w_bits, a_bits : sequence of int
        Admissible widths (bits) of unpinned layers.
    budgets : mapping metric -> float
        Budgets in the metrics' units (bytes, bit-ops, uJ, cycles).
    resolutions : mapping metric -> float
        Integer cost unit per metric.
    pins : mapping layer index -> (bw, ba), optional
    ties : sequence of sequence of layer indices
    """
    pins = dict(pins or {})
    cols = _columns(table, w_bits, a_bits, pins)
    err = np.asarray(error, dtype=float).reshape(len(cols), -1)
    codes = np.array(table.codes)
    errs, costs, choices = [], [], []
    for i, c in enumerate(cols):
        order = np.argsort(codes[c])
        c = c[order]
        errs.append(err[i, c])
        choices.append(tuple(int(v) for v in codes[c]))
        costs.append(np.stack([np.ceil(table.flat(m)[i, c] / resolutions[m] - 1e-9)
                               for m in budgets]).astype(np.int64))
    b = [int(np.floor(budgets[m] / resolutions[m] + 1e-9)) for m in budgets]
    return SeparableProblem(errs, costs, b, choices, ties=ties)


def uniform_point(problem: SeparableProblem, pins: Mapping[int, tuple[int, int]]):
    """The widest all-equal point (pins kept) that fits every budget, or None."""
    free = [i for i in range(problem.n_var) if i not in pins]
    common = sorted(set.intersection(*(set(problem.choices[i]) for i in free)))
    best = None
    for code in common:
        x = np.array([problem.choices[i][0] if i in pins else code
                      for i in range(problem.n_var)], dtype=np.int64)
        if np.all(problem.cost(x[None])[0] <= np.asarray(problem.budgets)):
            best = x
    return best


class MeasuredProblem(Problem):
    """The same choices and costs, with the error measured: 1 - top-1 accuracy of the
    fake-quant network on evaluation images (non-separable; what gcpso, evolution and
    random search see). Module-level and picklable."""

    def __init__(self, base: SeparableProblem, calib, x, y, rounding):
        super().__init__(base.choices, base.budgets, base.ties)
        self.cost_table = base.cost_table
        self.calib, self.x, self.y, self.rounding = calib, x, y, rounding
        self.check_budgets()

    def cost(self, X):
        idx = self.to_index(X)
        return self.cost_table[:, np.arange(self.n_var), idx].sum(axis=2).T.copy()

    def error(self, X):
        from ...sim.dnn import quantize_network, quantized_accuracy

        out = np.empty(len(X))
        for r, x in enumerate(np.asarray(X)):
            q = quantize_network(self.calib, [int(c) // 100 for c in x],
                                 [int(c) % 100 for c in x], self.rounding)
            out[r] = 1.0 - quantized_accuracy(q, self.x, self.y)
        return out
