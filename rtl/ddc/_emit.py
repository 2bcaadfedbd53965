"""Verilog of the DDC components (flattened, then lint-cleaned by :func:`to_verilog`)."""

from __future__ import annotations

from .._verilog import to_verilog

__all__ = ["component_verilog"]


def _flatten(rtlil: str, top: str) -> str:
    from amaranth._toolchain.yosys import find_yosys

    yosys = find_yosys(lambda ver: ver >= (0, 40))
    return yosys.run(
        ["-q", "-"],
        f"read_rtlil <<rtlil\n{rtlil}\nrtlil\nhierarchy -top {top}\nproc\nflatten\n"
        "opt_clean -purge\n"
        "write_rtlil\n",
        ignore_warnings=True,
    )


def component_verilog(component, name: str) -> str:
    """Verilog of a streaming component with ports ``i``/``o`` (always-ready valid strobes).

    Parameters
    ----------
    component : amaranth.lib.wiring.Component
        With ``i`` and ``o`` stream members (``i.ready`` constant, not a port).
    name : str
        Verilog module name.

    Returns
    -------
    str
        One flat module; ports ``clk``, ``rst``, ``i__payload``, ``i__valid``,
        ``o__payload``, ``o__valid``.
    """
    if not name.isidentifier():
        raise ValueError(f"module name must be a Verilog identifier, not {name!r}")
    from amaranth.back import rtlil

    ports = [component.i.payload, component.i.valid, component.o.payload, component.o.valid]
    text = rtlil.convert(component, name=name, ports=ports, emit_src=False)
    return to_verilog(_flatten(text, name))
