"""The DDC flow (``kind: ddc``): jointly sized NCO, mixer, CIC, half-band and CFIR ->
bit-true model, verified Verilog, hardware-in-the-loop report."""

from ._flow import FLOW, allocate, baseline, design_of, run, signal_of
from ._problem import DdcProblem, Signal

__all__ = ["FLOW", "DdcProblem", "Signal", "allocate", "baseline", "design_of", "run",
           "signal_of"]
