"""FIR generator: an Amaranth component specialized to a :class:`bitsmith.sim.FirSpec`."""

from ._emit import fir_verilog, instantiation_template, prefix_modules, write_coe
from ._generator import RESET_POLICIES, FirFilter, fir_latency
from ._interface import (
    PROTOCOLS,
    VERILOG_KEYWORDS,
    FirInterface,
    FirPort,
    check_verilog_identifier,
    fir_ports,
    interface_summary,
    verilog_header,
)

__all__ = [
    "PROTOCOLS",
    "RESET_POLICIES",
    "VERILOG_KEYWORDS",
    "FirFilter",
    "FirInterface",
    "FirPort",
    "check_verilog_identifier",
    "fir_latency",
    "fir_ports",
    "fir_verilog",
    "instantiation_template",
    "interface_summary",
    "prefix_modules",
    "verilog_header",
    "write_coe",
]
