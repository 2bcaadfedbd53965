"""DDC cost model (LUT/FF/DSP per stage), calibrated against yosys ``synth_xilinx``."""

from ._corpus import calibrate, synthesize_stages
from ._cost import (
    DdcCost,
    StageCost,
    cic_cost,
    cic_features,
    ddc_cost,
    dsp_tiles,
    fir_stage_cost,
    nco_features,
    nco_mixer_cost,
)

__all__ = ["DdcCost", "StageCost", "calibrate", "cic_cost", "cic_features", "ddc_cost",
           "dsp_tiles", "fir_stage_cost", "nco_features", "nco_mixer_cost",
           "synthesize_stages"]
