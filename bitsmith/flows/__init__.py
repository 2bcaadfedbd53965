"""Flows wire the subsystems together: config -> search -> simulation -> RTL -> report.

Importing this package registers every flow (and its config schema) by its ``kind``.
"""

from . import (  # noqa: E402,F401  (register their kinds)
    dnn,  # "dnn_estimate"
    fir,  # "fir"
    synthetic,  # "synthetic"
)
from ._base import FLOWS, Flow, ProgressBar, RunContext, register_flow

__all__ = ["FLOWS", "Flow", "ProgressBar", "RunContext", "register_flow"]
