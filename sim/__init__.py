"""Bit-true simulation: the exact integer arithmetic hardware does, and its error.

Layout: ``fixed`` is the fixed-point core every domain shares; each domain is a subpackage
(``fir``, ``dnn``: its names stay under ``bitsmith.sim.dnn``); ``hdl`` finds the HDL tools and runs the testbenches. The names below are
re-exported for convenience (``from bitsmith.sim import FirSpec``).
"""

from . import ddc, dnn, fir, fixed, gd, receiver
from .fir import *  # noqa: F403  (public FIR API, listed in fir.__all__)
from .fir import __all__ as _fir_all
from .fixed import (
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
    "FixedOverflowError",
    "Overflow",
    "QFormat",
    "Rounding",
    "overflow",
    "quantize",
    "requantize",
    "saturate",
    "to_float",
    "wrap",
    "ddc",
    "dnn",
    "fir",
    "fixed",
    "gd",
    "receiver",
    *_fir_all,
]
