"""DDC generators: CIC decimator, NCO, mixer and the composed chain."""

from ._chain import DdcChain, FrontEnd, Mixer
from ._cic import CicDecimator
from ._emit import component_verilog
from ._nco import Nco, NcoStream

__all__ = ["CicDecimator", "DdcChain", "FrontEnd", "Mixer", "Nco", "NcoStream", "component_verilog"]
