"""What a FIR datapath costs: LUTs, FFs, DSPs and energy of the ``bitsmith.rtl.FirFilter``
a :class:`bitsmith.sim.FirSpec` describes, calibrated against yosys (``data/``)."""

from ._cost import (
    FirCost,
    calibrated_targets,
    fir_cost,
    fir_features,
    fir_luts_batch,
    load_calibration,
)

__all__ = [
    "FirCost",
    "calibrated_targets",
    "fir_cost",
    "fir_features",
    "fir_luts_batch",
    "load_calibration",
]
