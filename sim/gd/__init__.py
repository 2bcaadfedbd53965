"""Quantized gradient descent bit-true: least squares and logistic regression solved by
gradient descent whose gradient (or iterate) is rounded at step t to b_t bits on a
power-of-two dynamic range, driven by one frozen :class:`GdSpec`."""

from ._data import DATASETS, GdData, gradient, loss, make_data
from ._descent import GAP_CAP, descend, optimality_gap, relative_gap
from ._quantize import block_max_abs, quantize_blocks, quantize_reference, range_exponent
from ._spec import (
    MAX_GD_BITS,
    MIN_GD_BITS,
    Allocation,
    GdSpec,
    Objective,
    RangeRule,
    Target,
)

__all__ = [
    "DATASETS",
    "GAP_CAP",
    "MAX_GD_BITS",
    "MIN_GD_BITS",
    "Allocation",
    "GdData",
    "GdSpec",
    "Objective",
    "RangeRule",
    "Target",
    "block_max_abs",
    "descend",
    "gradient",
    "loss",
    "make_data",
    "optimality_gap",
    "quantize_blocks",
    "quantize_reference",
    "range_exponent",
    "relative_gap",
]
