"""Shared helpers for the multiple-choice knapsack methods (separable problems only)."""

from __future__ import annotations


def require_separable(problem, method: str, single_budget: bool = True) -> None:
    """Raise unless the problem has separable error and cost tables (and one budget)."""
    if problem.error_table is None or problem.cost_table is None:
        raise TypeError(
            f"method {method!r} needs a separable problem (per-variable error and cost "
            f"tables, e.g. SeparableProblem), not {type(problem).__name__}; "
            f"use 'gcpso', 'ppso' or 'greedy' for a general problem"
        )
    if single_budget and problem.n_budgets != 1:
        raise ValueError(
            f"method {method!r} handles exactly one budget, not {problem.n_budgets}; "
            f"use method='ilp' for several budgets"
        )
