"""Flows wire the subsystems together: config -> search -> simulation -> RTL -> report.

Importing this package registers every flow (and its config schema) by its ``kind``.
"""

from ._base import FLOWS, Flow, ProgressBar, RunContext, register_flow
from . import synthetic  # noqa: E402,F401  (registers kind "synthetic")

__all__ = ["FLOWS", "Flow", "ProgressBar", "RunContext", "register_flow"]
