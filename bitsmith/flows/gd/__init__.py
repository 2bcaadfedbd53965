"""The quantized gradient-descent flow (``kind: gd``): bits per step (or block) of a
descent under a total-bits budget, every method side by side over seeds.

``_config`` holds the config models, ``_problem`` the allocation problem the searches see,
``_schedules`` the literature schedules and the exact enumeration, ``_flow`` the steps and
``_report`` the report and its plots.
"""

from ._config import METHOD_NAMES, SCHEDULES, GdConfig
from ._flow import FLOW, SCHEMA, data_from, run, solve_piece, spec_from, summarize
from ._problem import GdProblem
from ._schedules import SHAPES, count_feasible, enumerate_feasible, schedule

__all__ = [
    "FLOW",
    "METHOD_NAMES",
    "SCHEDULES",
    "SCHEMA",
    "SHAPES",
    "GdConfig",
    "GdProblem",
    "count_feasible",
    "data_from",
    "enumerate_feasible",
    "run",
    "schedule",
    "solve_piece",
    "spec_from",
    "summarize",
]
