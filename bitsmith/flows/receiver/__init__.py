"""The receiver flow (``kind: receiver``): per-antenna ADC bits under a power budget.

``_config`` holds the models, ``_problem`` the allocation problem and the baselines the
search package lacks (mixed ADCs, exhaustive), ``_flow`` the steps and ``_report`` the
statistics, report and plots.
"""

from ._config import METHOD_NAMES, SCHEMA, ReceiverConfig, budget_errors
from ._flow import FLOW, channel, integer_budget, make_spec, run, run_piece, small_piece
from ._problem import ReceiverProblem, channel_gains, exhaustive, mixed_baseline
from ._report import mean_ci, summarize

__all__ = [
    "FLOW",
    "METHOD_NAMES",
    "SCHEMA",
    "ReceiverConfig",
    "ReceiverProblem",
    "budget_errors",
    "channel",
    "channel_gains",
    "exhaustive",
    "integer_budget",
    "make_spec",
    "mean_ci",
    "mixed_baseline",
    "run",
    "run_piece",
    "small_piece",
    "summarize",
]
