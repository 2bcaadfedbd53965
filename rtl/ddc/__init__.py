"""DDC generators: CIC decimator, NCO, mixer and the composed chain."""

from ._cic import CicDecimator
from ._emit import component_verilog
from ._nco import Nco, NcoStream

__all__ = ["CicDecimator", "Nco", "NcoStream", "component_verilog"]
