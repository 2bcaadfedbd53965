"""What hardware costs: yosys synthesis runner and calibrated cost models (FIR)."""

from . import receiver
from .fir import FirCost, fir_cost, fir_features, fir_luts_batch, load_calibration
from .synth import SynthesisError, SynthResult, synthesize

__all__ = [
    "FirCost",
    "SynthResult",
    "SynthesisError",
    "fir_cost",
    "fir_features",
    "fir_luts_batch",
    "load_calibration",
    "receiver",
    "synthesize",
]
