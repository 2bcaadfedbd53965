"""Flows wire the subsystems together: config -> search -> simulation -> RTL -> report.

Importing this package registers every flow (and its config schema) by its ``kind``.
"""

from . import fir, synthetic  # noqa: E402,F401  (register kinds "fir", "synthetic")
from ._base import FLOWS, Flow, ProgressBar, RunContext, register_flow

__all__ = ["FLOWS", "Flow", "ProgressBar", "RunContext", "register_flow"]
