"""Digital down-converter bit-true: CIC decimator, NCO, mixer and the chain model."""

from ._chain import DdcSpec, ddc_model, mix
from ._cic import (
    CicSpec,
    cic_decimate,
    cic_noise,
    cic_reference,
    cic_variance_gains,
    hogenauer_discards,
)
from ._design import (
    DdcDesign,
    DdcWidths,
    cfir_taps_float,
    cic_gain_correction,
    cic_response,
    ddc_spec,
    halfband_taps_float,
    quantize_taps,
)
from ._io import pack_pair, unpack_pair
from ._nco import (
    LFSR_MASK,
    LFSR_SEED,
    NcoSpec,
    lfsr_sequence,
    measure_sfdr,
    nco_model,
    nco_predicted,
    nco_table,
)

__all__ = [
    "LFSR_MASK",
    "LFSR_SEED",
    "CicSpec",
    "DdcDesign",
    "DdcSpec",
    "DdcWidths",
    "NcoSpec",
    "cfir_taps_float",
    "cic_decimate",
    "cic_gain_correction",
    "cic_noise",
    "cic_reference",
    "cic_response",
    "cic_variance_gains",
    "ddc_model",
    "ddc_spec",
    "halfband_taps_float",
    "hogenauer_discards",
    "lfsr_sequence",
    "measure_sfdr",
    "mix",
    "nco_model",
    "nco_predicted",
    "nco_table",
    "pack_pair",
    "unpack_pair",
    "quantize_taps",
]
