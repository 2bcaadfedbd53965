"""Digital down-converter bit-true: CIC decimator, NCO, mixer and the chain model."""

from ._cic import (
    CicSpec,
    cic_decimate,
    cic_noise,
    cic_reference,
    cic_variance_gains,
    hogenauer_discards,
)

__all__ = [
    "CicSpec",
    "cic_decimate",
    "cic_noise",
    "cic_reference",
    "cic_variance_gains",
    "hogenauer_discards",
]
