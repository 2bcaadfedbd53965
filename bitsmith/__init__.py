"""bitsmith: hardware-aware mixed-precision co-design.

Subsystems (each a folder at the repository root, installed under this namespace):

- :mod:`bitsmith.hwmodels` -- what hardware costs (LUTs, DSPs, FFs, area, energy, latency);
- :mod:`bitsmith.search` -- how bits are chosen (GC-PSO, PPSO, MCKP, ILP, baselines);
- :mod:`bitsmith.sim` -- what hardware computes, bit for bit, and its error;
- :mod:`bitsmith.rtl` -- what hardware is (Amaranth generators -> Verilog).
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
