"""Flows wire the subsystems together: config -> search -> simulation -> RTL -> report.

Importing this package registers every flow (and its config model) by its ``kind``.
"""

from . import (  # noqa: F401  (each registers its kind)
    ddc,  # "ddc"
    dnn,  # "dnn_estimate"
    dnn_alloc,  # "dnn_allocation"
    fir,  # "fir"
    gd,  # "gd"
    receiver,  # "receiver"
    synthetic,  # "synthetic"
)
from ._base import FLOWS, Flow, ProgressBar, RunContext, load_config, register_flow

__all__ = ["FLOWS", "Flow", "ProgressBar", "RunContext", "load_config", "register_flow"]
