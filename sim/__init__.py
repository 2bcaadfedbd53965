"""Bit-true simulation: the exact integer arithmetic hardware does, and its error."""

from ._firspec import FirForm, FirSpec, Multiplier, Symmetry, coef_significant_bits
from ._fixed import (
    MAX_WORD_BITS,
    FixedOverflowError,
    Overflow,
    QFormat,
    Rounding,
    overflow,
    quantize,
    requantize,
    saturate,
    to_float,
    wrap,
)

__all__ = [
    "MAX_WORD_BITS",
    "FirForm",
    "FirSpec",
    "FixedOverflowError",
    "Multiplier",
    "Overflow",
    "QFormat",
    "Rounding",
    "Symmetry",
    "coef_significant_bits",
    "overflow",
    "quantize",
    "requantize",
    "saturate",
    "to_float",
    "wrap",
]
