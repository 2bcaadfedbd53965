"""Bit-allocation search: choose per-variable bit-widths under integer budgets.

``search`` knows nothing of FIRs or networks: it sees a :class:`Problem`. Methods are
registered in :data:`METHODS` and driven by :func:`minimize`.
"""

from ._driver import METHODS, SearchResult, minimize
from ._problem import (
    FunctionProblem,
    InfeasibleBudgetError,
    Problem,
    SeparableProblem,
    random_separable,
)
from ._stability import StabilityWarning, plot_stability_region, pso_stability

__all__ = [
    "METHODS",
    "FunctionProblem",
    "InfeasibleBudgetError",
    "Problem",
    "SearchResult",
    "SeparableProblem",
    "StabilityWarning",
    "minimize",
    "plot_stability_region",
    "pso_stability",
    "random_separable",
]
