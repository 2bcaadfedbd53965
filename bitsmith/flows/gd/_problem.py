"""The bit allocation of a quantized descent as a :class:`bitsmith.search.Problem`.

Variables are the widths of the descent's steps (or blocks); the error is the relative
optimality gap after T steps averaged over the data draws; the consumption is the total
number of bits, sum_i b_i, a separable cost the problem also exposes as ``cost_table`` (so
GC-PSO repairs exactly). No hardware model beyond the sum of bits: the words are what a
gradient link or register file carries, and nothing else in this domain is costed.
"""

from __future__ import annotations

import numpy as np

from ...search import Problem
from ...sim.gd import GdData, GdSpec, relative_gap

__all__ = ["GdProblem"]

#: candidates simulated at once (memory: chunk x draws x samples floats)
_CHUNK = 1024


class GdProblem(Problem):
    """Choose per-step (or per-block) widths minimizing the mean relative optimality gap.

    Parameters
    ----------
    spec : GdSpec
        The descent.
    data : GdData
        The draws the gap is averaged over.
    min_bits, max_bits : int
        Admissible widths of every variable (bits).
    budget : int
        Total bits sum_i b_i (bits).
    """

    def __init__(self, spec: GdSpec, data: GdData, min_bits: int, max_bits: int,
                 budget: int):
        n = spec.n_vars
        choices = [tuple(range(min_bits, max_bits + 1))] * n
        super().__init__(choices, (int(budget),))
        self.spec = spec
        self.data = data
        self.cost_table = np.broadcast_to(
            self.width_table[None], (1, *self.width_table.shape)).copy()
        self.check_budgets()

    def error(self, X):
        X = np.asarray(X, dtype=np.int64)
        out = np.empty(len(X))
        for i in range(0, len(X), _CHUNK):
            out[i:i + _CHUNK] = relative_gap(self.spec, self.data, X[i:i + _CHUNK]).mean(axis=1)
        return out

    def cost(self, X):
        return np.asarray(X, dtype=np.int64).sum(axis=1)[:, None]
