"""What hardware is: Amaranth generators built from the specs, and their Verilog.

Shared helpers (CSD recoding, Verilog emission) live at this level; each domain is a
subpackage (``fir``).
"""

from . import ddc, fir
from ._csd import csd_digits, csd_nonzero_count
from ._verilog import to_verilog
from .fir import (
    FirFilter,
    FirInterface,
    fir_latency,
    fir_verilog,
    instantiation_template,
    interface_summary,
    write_coe,
)

__all__ = [
    "FirFilter",
    "FirInterface",
    "csd_digits",
    "csd_nonzero_count",
    "ddc",
    "fir",
    "fir_latency",
    "fir_verilog",
    "instantiation_template",
    "interface_summary",
    "to_verilog",
    "write_coe",
]
