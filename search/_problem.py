"""Bit-allocation problems: what a search method sees.

A problem has N variables (quantizers); variable i takes a bit-width from its ordered set
``choices[i]``. Candidates are passed as ``(n, N)`` int64 arrays of *bit-widths* (not
indices). ``evaluate`` returns the error (distortion, any float unit) and the integer
consumption per budget (LUTs, bits, ...) of every candidate.

Ties (groups of variables forced to the same width) are part of the problem: the ``ilp``
method enforces them as constraints; the driver hands every other method a reduced problem
with one variable per tie group (:func:`collapse_ties`) and expands its answer.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

#: Largest admissible bit-width; widths index a lookup table (bits).
MAX_WIDTH = 4096


class InfeasibleBudgetError(ValueError):
    """A budget is below the smallest consumption any candidate can achieve."""


def _as_choices(choices) -> tuple[tuple[int, ...], ...]:
    out = []
    if len(choices) == 0:
        raise ValueError("choices must hold at least one variable, not an empty sequence")
    for i, ch in enumerate(choices):
        ch = tuple(int(c) for c in ch)
        if len(ch) == 0:
            raise ValueError(f"choices[{i}] must hold at least one bit-width, not ()")
        if any(b <= a for a, b in zip(ch, ch[1:], strict=False)):
            raise ValueError(f"choices[{i}] must be strictly increasing, not {ch}")
        if ch[0] < 0 or ch[-1] > MAX_WIDTH:
            raise ValueError(
                f"choices[{i}] bit-widths must lie in [0, {MAX_WIDTH}], not {ch}"
            )
        out.append(ch)
    return tuple(out)


def _as_budgets(budgets) -> tuple[int, ...]:
    if np.isscalar(budgets):
        budgets = (budgets,)
    budgets = tuple(budgets)
    if len(budgets) == 0:
        raise ValueError("budgets must hold at least one integer budget, not ()")
    out = []
    for b in budgets:
        if int(b) != b:
            raise ValueError(f"budgets must be integers, not {budgets}")
        out.append(int(b))
    return tuple(out)


def _as_ties(ties, choices) -> tuple[tuple[int, ...], ...]:
    n = len(choices)
    seen: set[int] = set()
    out = []
    for g in ties:
        g = tuple(sorted(int(i) for i in g))
        if len(g) < 2:
            raise ValueError(f"each tie group must name at least two variables, not {g}")
        for i in g:
            if not 0 <= i < n:
                raise ValueError(f"tie group {g}: variable indices must lie in [0, {n}), not {i}")
            if i in seen:
                raise ValueError(f"tie groups must be disjoint, variable {i} appears twice")
            seen.add(i)
            if choices[i] != choices[g[0]]:
                raise ValueError(
                    f"tied variables must have identical choices, variable {i} has "
                    f"{choices[i]} but variable {g[0]} has {choices[g[0]]}"
                )
        out.append(g)
    return tuple(out)


class Problem:
    """Base bit-allocation problem.

    Subclasses implement :meth:`error` and :meth:`cost` (or override :meth:`evaluate`).
    ``cost`` must be cheap and monotone non-decreasing in every width; the smallest
    achievable cost is then the cost of the all-minimum point.

    Parameters
    ----------
    choices : sequence of sequence of int
        Strictly increasing admissible bit-widths per variable (bits).
    budgets : int or sequence of int
        Integer consumption budgets (the unit of ``cost``, e.g. LUTs).
    ties : sequence of sequence of int, optional
        Disjoint groups of variable indices forced to the same width.

    Attributes
    ----------
    error_table, cost_table : numpy.ndarray or None
        Separable tables when known (see :class:`SeparableProblem`); None otherwise.
        ``cost_table`` alone may be given by a problem whose cost is separable but whose
        error is not; GC-PSO repair then uses it.
    """

    error_table: np.ndarray | None = None
    cost_table: np.ndarray | None = None

    def __init__(self, choices, budgets, ties=()):
        self.choices = _as_choices(choices)
        self.budgets = _as_budgets(budgets)
        self.ties = _as_ties(ties, self.choices)
        n = len(self.choices)
        self.n_choices = np.array([len(c) for c in self.choices], dtype=np.int64)
        kmax = int(self.n_choices.max())
        # Padded (N, Kmax) width table; padding repeats the top width.
        self.width_table = np.array(
            [c + (c[-1],) * (kmax - len(c)) for c in self.choices], dtype=np.int64
        )
        top = max(c[-1] for c in self.choices)
        lut = np.full((n, top + 1), -1, dtype=np.int64)
        for i, c in enumerate(self.choices):
            lut[i, list(c)] = np.arange(len(c))
        self._index_lut = lut

    @property
    def n_var(self) -> int:
        """Number of variables N."""
        return len(self.choices)

    @property
    def n_budgets(self) -> int:
        """Number of budgets."""
        return len(self.budgets)

    @property
    def min_widths(self) -> np.ndarray:
        """The all-minimum point, int64 (N,) (bits)."""
        return self.width_table[:, 0].copy()

    @property
    def max_widths(self) -> np.ndarray:
        """The all-maximum point, int64 (N,) (bits)."""
        return self.width_table[np.arange(self.n_var), self.n_choices - 1]

    def to_index(self, X) -> np.ndarray:
        """Convert bit-widths to choice indices.

        Parameters
        ----------
        X : array_like of int, shape (n, N) or (N,)
            Bit-widths (bits); each must be one of the variable's choices.

        Returns
        -------
        numpy.ndarray
            int64 indices into ``choices[i]``, same shape.
        """
        X = np.asarray(X)
        squeeze = X.ndim == 1
        X = np.atleast_2d(X).astype(np.int64)
        if X.ndim != 2 or X.shape[1] != self.n_var:
            raise ValueError(
                f"candidates must be an (n, {self.n_var}) array of bit-widths, "
                f"not shape {np.shape(X)}"
            )
        top = self._index_lut.shape[1] - 1
        clipped = np.clip(X, 0, top)
        idx = self._index_lut[np.arange(self.n_var), clipped]
        bad = (idx < 0) | (X != clipped)
        if bad.any():
            r, c = np.argwhere(bad)[0]
            raise ValueError(
                f"variable {c} must take a width in {self.choices[c]}, not {X[r, c]}"
            )
        return idx[0] if squeeze else idx

    def to_width(self, index) -> np.ndarray:
        """Convert choice indices (int64, (n, N) or (N,)) to bit-widths (bits)."""
        index = np.asarray(index, dtype=np.int64)
        return self.width_table[np.arange(self.n_var), index]

    def error(self, X: np.ndarray) -> np.ndarray:
        """Error of each candidate, float64 (n,); subclasses implement this."""
        raise NotImplementedError(f"{type(self).__name__} must implement error() or evaluate()")

    def cost(self, X: np.ndarray) -> np.ndarray:
        """Consumption of each candidate, int64 (n, n_budgets); subclasses implement this."""
        raise NotImplementedError(f"{type(self).__name__} must implement cost()")

    def evaluate(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Error and consumption of a batch of candidates.

        Parameters
        ----------
        X : numpy.ndarray of int64, shape (n, N)
            Bit-widths (bits).

        Returns
        -------
        error : numpy.ndarray of float64, shape (n,)
        cost : numpy.ndarray of int64, shape (n, n_budgets)
        """
        X = np.asarray(X, dtype=np.int64)
        return (
            np.asarray(self.error(X), dtype=np.float64).reshape(len(X)),
            np.asarray(self.cost(X), dtype=np.int64).reshape(len(X), self.n_budgets),
        )

    def sensitivity(self, x: np.ndarray) -> np.ndarray | None:
        """Estimated error increase of lowering each variable by one step at ``x``.

        Optional hook used by GC-PSO repair. Return float64 (N,) (error units; entries for
        variables already at their minimum are ignored), or None when not available (the
        default): GC-PSO then estimates sensitivities by evaluations.
        """
        return None

    def min_cost(self) -> np.ndarray:
        """Smallest achievable consumption per budget, int64 (n_budgets,).

        For a separable cost the sum of per-variable minima; otherwise the cost of the
        all-minimum point (cost is assumed monotone non-decreasing in every width).
        """
        if self.cost_table is not None:
            return self.cost_table.min(axis=2).sum(axis=1).astype(np.int64)
        return np.asarray(self.cost(self.min_widths[None, :]), dtype=np.int64).reshape(-1)

    def check_budgets(self) -> None:
        """Raise :class:`InfeasibleBudgetError` if some budget is below the smallest cost."""
        lo = self.min_cost()
        for b, (budget, m) in enumerate(zip(self.budgets, lo, strict=True)):
            if budget < m:
                raise InfeasibleBudgetError(
                    f"budget {b} must be at least the smallest achievable cost {int(m)}, "
                    f"not {budget}"
                )


class FunctionProblem(Problem):
    """A problem from two batch functions.

    Parameters
    ----------
    choices : sequence of sequence of int
        Admissible bit-widths per variable (bits).
    budgets : int or sequence of int
        Consumption budgets.
    error_fn : callable
        ``error_fn(X) -> float64 (n,)`` for an (n, N) int64 array of bit-widths.
    cost_fn : callable
        ``cost_fn(X) -> int64 (n, n_budgets)`` (or (n,) for one budget); monotone
        non-decreasing in every width. Must be picklable (module-level) to use a process
        pool.
    ties : sequence of sequence of int, optional
        Groups of variables forced equal.
    sensitivity_fn : callable, optional
        ``sensitivity_fn(x) -> float64 (N,)``, see :meth:`Problem.sensitivity`.
    """

    def __init__(
        self,
        choices,
        budgets,
        error_fn: Callable,
        cost_fn: Callable,
        ties=(),
        sensitivity_fn: Callable | None = None,
    ):
        super().__init__(choices, budgets, ties)
        self.error_fn = error_fn
        self.cost_fn = cost_fn
        self.sensitivity_fn = sensitivity_fn
        self.check_budgets()

    def error(self, X):
        return self.error_fn(X)

    def cost(self, X):
        return np.asarray(self.cost_fn(X), dtype=np.int64).reshape(len(X), self.n_budgets)

    def sensitivity(self, x):
        return None if self.sensitivity_fn is None else self.sensitivity_fn(x)


class SeparableProblem(Problem):
    """A problem whose error and cost are sums of per-variable table entries.

    This is the multiple-choice knapsack that ``mckp_greedy``, ``mckp_dp`` and ``ilp``
    solve exactly or nearly; GC-PSO takes its repair sensitivities from the tables.

    Parameters
    ----------
    error_table : sequence of 1-D array_like of float
        Per variable, the error contribution of each choice (error units).
    cost_table : sequence of array_like of int
        Per variable, the consumption of each choice: shape (n_choices,) for one budget,
        (n_budgets, n_choices) for several.
    budgets : int or sequence of int
        Consumption budgets.
    choices : sequence of sequence of int
        Admissible bit-widths per variable (bits), one per table entry.
    ties : sequence of sequence of int, optional
        Groups of variables forced equal.

    Attributes
    ----------
    error_table : numpy.ndarray, float64 (N, Kmax)
        Padded with each variable's last entry.
    cost_table : numpy.ndarray, int64 (n_budgets, N, Kmax)
        Padded with each variable's last entry.
    """

    def __init__(self, error_table, cost_table, budgets, choices, ties=()):
        super().__init__(choices, budgets, ties)
        n, nb, kmax = self.n_var, self.n_budgets, int(self.n_choices.max())
        if len(error_table) != n or len(cost_table) != n:
            raise ValueError(
                f"error_table and cost_table must have one entry per variable ({n}), "
                f"not {len(error_table)} and {len(cost_table)}"
            )
        et = np.empty((n, kmax))
        ct = np.empty((nb, n, kmax), dtype=np.int64)
        for i, (e, c) in enumerate(zip(error_table, cost_table, strict=True)):
            k = len(self.choices[i])
            e = np.asarray(e, dtype=np.float64)
            c = np.asarray(c)
            if e.shape != (k,):
                raise ValueError(
                    f"error_table[{i}] must have shape ({k},) (one entry per choice), "
                    f"not {e.shape}"
                )
            if c.ndim == 1 and nb == 1:
                c = c[None, :]
            if c.shape != (nb, k):
                raise ValueError(
                    f"cost_table[{i}] must have shape ({nb}, {k}) (budgets x choices), "
                    f"not {np.shape(cost_table[i])}"
                )
            if not np.all(np.isfinite(e)):
                raise ValueError(f"error_table[{i}] must be finite, not {e}")
            if np.any(c != np.round(c)):
                raise ValueError(f"cost_table[{i}] must hold integers, not {c}")
            et[i, :k], et[i, k:] = e, e[-1]
            ct[:, i, :k], ct[:, i, k:] = c, c[:, -1:]
        self.error_table = et
        self.cost_table = ct
        self.check_budgets()

    def error(self, X):
        idx = self.to_index(X)
        return self.error_table[np.arange(self.n_var), idx].sum(axis=1)

    def cost(self, X):
        idx = self.to_index(X)
        return self.cost_table[:, np.arange(self.n_var), idx].sum(axis=2).T.copy()

    def evaluate(self, X):
        idx = self.to_index(X)
        ar = np.arange(self.n_var)
        return (
            self.error_table[ar, idx].sum(axis=1),
            self.cost_table[:, ar, idx].sum(axis=2).T.copy(),
        )

    def tables(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Unpadded tables: per variable error (K_i,) and cost (n_budgets, K_i)."""
        ks = self.n_choices
        return (
            [self.error_table[i, : ks[i]].copy() for i in range(self.n_var)],
            [self.cost_table[:, i, : ks[i]].copy() for i in range(self.n_var)],
        )


class _TiedProblem(Problem):
    """A general problem seen with one variable per tie group (module-level: picklable)."""

    def __init__(self, base: Problem, groups: tuple[tuple[int, ...], ...]):
        super().__init__([base.choices[g[0]] for g in groups], base.budgets)
        self.base = base
        self.groups = groups
        self.expand_index = _expand_index(groups, base.n_var)
        if base.cost_table is not None:
            self.cost_table = _sum_groups(base.cost_table, groups, axis=1)

    def evaluate(self, X):
        return self.base.evaluate(np.asarray(X)[:, self.expand_index])

    def cost(self, X):
        return self.base.cost(np.asarray(X)[:, self.expand_index])

    def sensitivity(self, x):
        s = self.base.sensitivity(np.asarray(x)[self.expand_index])
        if s is None:
            return None
        return np.array([np.sum(np.asarray(s)[list(g)]) for g in self.groups])


def _expand_index(groups, n_full) -> np.ndarray:
    owner = np.empty(n_full, dtype=np.int64)
    for j, g in enumerate(groups):
        owner[list(g)] = j
    return owner


def _sum_groups(table: np.ndarray, groups, axis: int) -> np.ndarray:
    return np.stack([np.take(table, list(g), axis=axis).sum(axis=axis) for g in groups], axis)


def collapse_ties(problem: Problem) -> tuple[Problem, np.ndarray | None]:
    """Reduce a problem with ties to one variable per tie group.

    Returns
    -------
    reduced : Problem
        The problem itself if it has no ties; a :class:`SeparableProblem` with summed tables
        for a separable one; otherwise a wrapper that expands candidates before evaluation.
    expand_index : numpy.ndarray of int64 (N,) or None
        ``x_full = x_reduced[expand_index]``; None when there are no ties.
    """
    if not problem.ties:
        return problem, None
    tied = {i for g in problem.ties for i in g}
    groups = list(problem.ties) + [(i,) for i in range(problem.n_var) if i not in tied]
    groups.sort(key=lambda g: g[0])
    groups = tuple(groups)
    if isinstance(problem, SeparableProblem):
        ks = [problem.n_choices[g[0]] for g in groups]
        et = _sum_groups(problem.error_table, groups, axis=0)
        ct = _sum_groups(problem.cost_table, groups, axis=1)
        reduced = SeparableProblem(
            [et[j, :k] for j, k in enumerate(ks)],
            [ct[:, j, :k] for j, k in enumerate(ks)],
            problem.budgets,
            [problem.choices[g[0]] for g in groups],
        )
        return reduced, _expand_index(groups, problem.n_var)
    reduced = _TiedProblem(problem, groups)
    return reduced, reduced.expand_index


def random_separable(
    rng: np.random.Generator,
    n_var: int,
    max_choices: int,
    n_budgets: int = 1,
    budget_fraction: float | None = None,
) -> SeparableProblem:
    """A random quantization-like separable problem (for tests and benchmarks).

    Variable i has K_i ~ U{2..max_choices} consecutive widths starting at 2 bits,
    error a_i * 4**-b (quantization noise power, a_i log-uniform over 4 decades) plus a
    small random non-convexity, and cost m_i * b (m_i ~ U{1..8}, e.g. LUTs per bit).

    Parameters
    ----------
    rng : numpy.random.Generator
    n_var : int
        Number of variables N.
    max_choices : int
        Largest number of choices per variable (>= 2).
    n_budgets : int
        Number of budgets; extra budgets use independent multipliers.
    budget_fraction : float in [0, 1], optional
        Budget = min + fraction * (max - min) cost; drawn U(0.05, 0.95) if None.
    """
    choices, errs, costs = [], [], []
    mult = rng.integers(1, 9, size=(n_budgets, n_var))
    scale = 10.0 ** rng.uniform(0, 4, size=n_var)
    for i in range(n_var):
        k = int(rng.integers(2, max_choices + 1))
        b0 = 2
        w = np.arange(b0, b0 + k)
        e = scale[i] * 4.0 ** (-(w - b0)) * (1 + 0.3 * rng.random(k))
        choices.append(tuple(int(v) for v in w))
        errs.append(np.sort(e)[::-1].copy())
        costs.append(mult[:, i : i + 1] * w[None, :])
    lo = sum(c[:, 0] for c in costs)
    hi = sum(c[:, -1] for c in costs)
    frac = rng.uniform(0.05, 0.95) if budget_fraction is None else budget_fraction
    budgets = tuple(int(v) for v in lo + np.floor(frac * (hi - lo)))
    return SeparableProblem(errs, costs, budgets, choices)


__all__ = [
    "MAX_WIDTH",
    "FunctionProblem",
    "InfeasibleBudgetError",
    "Problem",
    "SeparableProblem",
    "collapse_ties",
    "random_separable",
]
