"""The FIR flow (``kind: fir``): spec -> coefficient-width allocation -> verified Verilog.

``_flow`` holds the steps, ``_problem`` the allocation problem the searches see, and
``_report`` the report and its plots.
"""

from ._flow import (
    FLOW,
    SCHEMA,
    _spec,  # noqa: F401  (the benchmark builds specs the way the flow does)
    least_luts_meeting_spec,
    polish,
    run,
    setup,
    solve_with,
    spec_json,
    uniform_baselines,
)
from ._problem import OBJECTIVES, FirAllocationProblem

__all__ = [
    "FLOW",
    "OBJECTIVES",
    "SCHEMA",
    "FirAllocationProblem",
    "least_luts_meeting_spec",
    "polish",
    "run",
    "setup",
    "solve_with",
    "spec_json",
    "uniform_baselines",
]
