"""FIR generator: an Amaranth component specialized to a :class:`bitsmith.sim.FirSpec`."""

from ._emit import fir_verilog, write_coe
from ._generator import FirFilter, fir_latency

__all__ = ["FirFilter", "fir_latency", "fir_verilog", "write_coe"]
