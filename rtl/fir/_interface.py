"""The Verilog interface of an emitted FIR: module name, ports, handshake, reset, header.

:class:`FirInterface` says how :func:`~bitsmith.rtl.fir_verilog` presents a
:class:`~bitsmith.rtl.FirFilter` to an FPGA design: the module name, the prefix of any helper
module, the stream protocol (AXI4-Stream with back-pressure, or a plain valid strobe) and
what the reset clears. :func:`fir_ports` lists the ports in declaration order (clock, reset,
input stream, output stream) with their widths, signedness and meaning;
:func:`verilog_header` and :func:`instantiation_template` write them down for a reader.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ...sim.fir._spec import FirSpec
from ._generator import RESET_POLICIES, fir_latency

__all__ = [
    "PROTOCOLS",
    "VERILOG_KEYWORDS",
    "FirInterface",
    "FirPort",
    "check_verilog_identifier",
    "fir_ports",
    "instantiation_template",
    "interface_summary",
    "verilog_header",
]

#: Stream protocols: AXI4-Stream (tdata/tvalid/tready, back-pressure) or a valid strobe.
PROTOCOLS = ("axis", "valid")

#: Reserved words of Verilog-2005 (IEEE 1364) and SystemVerilog-2017 (IEEE 1800, which
#: includes them): none may name a module or a port.
VERILOG_KEYWORDS = frozenset("""
accept_on alias always always_comb always_ff always_latch and assert assign assume automatic
before begin bind bins binsof bit break buf bufif0 bufif1 byte case casex casez cell chandle
checker class clocking cmos config const constraint context continue cover covergroup
coverpoint cross deassign default defparam design disable dist do edge else end endcase
endchecker endclass endclocking endconfig endfunction endgenerate endgroup endinterface
endmodule endpackage endprimitive endprogram endproperty endspecify endsequence endtable
endtask enum event eventually expect export extends extern final first_match for force
foreach forever fork forkjoin function generate genvar global highz0 highz1 if iff ifnone
ignore_bins illegal_bins implements implies import incdir include initial inout input inside
instance int integer interconnect interface intersect join join_any join_none large let
liblist library local localparam logic longint macromodule matches medium modport module nand
negedge nettype new nexttime nmos nor noshowcancelled not notif0 notif1 null or output package
packed parameter pmos posedge primitive priority program property protected pull0 pull1
pulldown pullup pulsestyle_ondetect pulsestyle_onevent pure rand randc randcase randsequence
rcmos real realtime ref reg reject_on release repeat restrict return rnmos rpmos rtran
rtranif0 rtranif1 s_always s_eventually s_nexttime s_until s_until_with scalared sequence
shortint shortreal showcancelled signed small soft solve specify specparam static string
strong strong0 strong1 struct super supply0 supply1 sync_accept_on sync_reject_on table
tagged task this throughout time timeprecision timeunit tran tranif0 tranif1 tri tri0 tri1
triand trior trireg type typedef union unique unique0 unsigned until until_with untyped use
uwire var vectored virtual void wait wait_order wand weak weak0 weak1 while wildcard wire
with within wor xnor xor
""".split())

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def check_verilog_identifier(name: str, what: str = "module name") -> str:
    """Return ``name`` if it is a simple Verilog identifier and no reserved word; else raise.

    Simple identifiers here are ``[A-Za-z_][A-Za-z0-9_]*`` (Verilog also allows ``$`` after
    the first character; tools and file names handle it badly, so it is refused).

    Raises
    ------
    ValueError
        Naming what must hold and what was given.
    """
    if not isinstance(name, str) or not _IDENT.match(name):
        raise ValueError(f"{what} must be a Verilog identifier (a letter or _, then letters, "
                         f"digits or _), not {name!r}")
    if name in VERILOG_KEYWORDS:
        raise ValueError(f"{what} must not be a Verilog/SystemVerilog keyword, not {name!r}")
    return name


@dataclass(frozen=True)
class FirInterface:
    """How the emitted Verilog module looks from outside.

    Parameters
    ----------
    module_name : str
        Verilog module name (a simple identifier, not a keyword).
    prefix : str, optional
        Prefix of every helper module the file declares besides ``module_name`` (default
        ``module_name + "_"``), so two filters can share one design. The FIR is emitted as
        one flat module today, so no helper module exists yet; the prefix is checked and
        applied to any module other than the top (:func:`~bitsmith.rtl.fir_verilog`).
    protocol : {"axis", "valid"}
        ``axis``: AXI4-Stream slave ``s_axis_*`` in, master ``m_axis_*`` out, with
        back-pressure (``m_axis_tready``). ``valid``: ``in_data``/``in_valid`` in,
        ``out_data``/``out_valid`` out, the sink must always accept.
    reset : {"control", "all"}
        What the synchronous active-high ``rst`` clears: the control path only (valid and
        handshake registers; data registers start from their initial value 0) or every
        register.
    """

    module_name: str = "fir"
    prefix: str | None = None
    protocol: str = "axis"
    reset: str = "control"

    def __post_init__(self):
        check_verilog_identifier(self.module_name, "module name")
        if self.prefix is None:
            object.__setattr__(self, "prefix", f"{self.module_name}_")
        if not isinstance(self.prefix, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*",
                                                                 self.prefix):
            raise ValueError(f"module prefix must start a Verilog identifier (a letter or _, "
                             f"then letters, digits or _), not {self.prefix!r}")
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {PROTOCOLS}, not {self.protocol!r}")
        if self.reset not in RESET_POLICIES:
            raise ValueError(f"reset must be one of {RESET_POLICIES}, not {self.reset!r}")

    @property
    def backpressure(self) -> bool:
        """The output stream has a ready input (AXI4-Stream)."""
        return self.protocol == "axis"

    def port_names(self) -> dict[str, str]:
        """Verilog port name of each role: ``clk``, ``rst``, ``i_data``, ``i_valid``,
        ``i_ready``, ``o_data``, ``o_valid``, ``o_ready`` (the ready roles only for AXI)."""
        if self.protocol == "axis":
            return {"clk": "clk", "rst": "rst", "i_data": "s_axis_tdata",
                    "i_valid": "s_axis_tvalid", "i_ready": "s_axis_tready",
                    "o_data": "m_axis_tdata", "o_valid": "m_axis_tvalid",
                    "o_ready": "m_axis_tready"}
        return {"clk": "clk", "rst": "rst", "i_data": "in_data", "i_valid": "in_valid",
                "o_data": "out_data", "o_valid": "out_valid"}


@dataclass(frozen=True)
class FirPort:
    """One port of the emitted module.

    Attributes
    ----------
    name : str
    direction : {"input", "output"}
    width : int
        Bits.
    signed : bool
    role : str
        ``clk``, ``rst``, ``i_data``, ``i_valid``, ``i_ready``, ``o_data``, ``o_valid``,
        ``o_ready``.
    description : str
    """

    name: str
    direction: str
    width: int
    signed: bool
    role: str
    description: str

    def declaration(self) -> str:
        """The ANSI declaration, e.g. ``input wire signed [15:0] s_axis_tdata``."""
        rng = f" [{self.width - 1}:0]" if self.width > 1 else ""
        return f"{self.direction} wire{' signed' if self.signed else ''}{rng} {self.name}"


def fir_ports(spec: FirSpec, interface: FirInterface) -> tuple[FirPort, ...]:
    """The emitted module's ports in declaration order: clock, reset, input, output stream."""
    n = interface.port_names()
    wi, wo = spec.input_format.word_bits, spec.output_format.word_bits
    axis = interface.backpressure
    ports = [
        FirPort(n["clk"], "input", 1, False, "clk", "clock; every register is on its rising "
                "edge"),
        FirPort(n["rst"], "input", 1, False, "rst", f"synchronous reset, active high; clears "
                f"{_clears(interface)}"),
        FirPort(n["i_data"], "input", wi, True, "i_data", f"input sample, "
                f"{spec.input_format} two's complement"),
        FirPort(n["i_valid"], "input", 1, False, "i_valid",
                "input sample valid" + (" (taken when tready is high too)" if axis
                                        else " (taken on every clock it is high)")),
    ]
    if axis:
        ports.append(FirPort(n["i_ready"], "output", 1, False, "i_ready",
                             "filter can take a sample; from a register and rst only (no "
                             "path from the output ready), low during reset"))
    ports += [
        FirPort(n["o_data"], "output", wo, True, "o_data", f"output sample, "
                f"{spec.output_format} two's complement; held while valid is low"),
        FirPort(n["o_valid"], "output", 1, False, "o_valid", "output sample valid"
                + (" (held with the data until tready)" if axis else " (for one clock)")),
    ]
    if axis:
        ports.append(FirPort(n["o_ready"], "input", 1, False, "o_ready",
                             "sink takes the output sample; low stalls the filter"))
    return tuple(ports)


def _clears(interface: FirInterface) -> str:
    if interface.reset == "all":
        return "every register (filter state, pipeline, output)"
    return ("the valid bits and the handshake only; data registers keep their value and "
            "power up to 0")


def interface_summary(spec: FirSpec, interface: FirInterface, *, config_hash: str | None = None,
                      version: str | None = None) -> dict:
    """What a user of the module needs to know, as JSON-ready values (header, report)."""
    if version is None:
        from ... import __version__ as version
    latency = fir_latency(spec)
    n_nonzero = sum(1 for c in spec.coefficients if c)
    handshake = (
        "AXI4-Stream: a sample moves where tvalid and tready are both high; m_axis_tvalid "
        "and m_axis_tdata hold until m_axis_tready. Back-pressure stalls the whole pipeline "
        "(clock enable) behind a 2-entry output skid buffer, so s_axis_tready is a register "
        "output (gated by rst), with no combinational path from m_axis_tready"
        if interface.backpressure else
        "valid strobe: a sample is taken on every clock in_valid is high (no ready); "
        "out_valid is high for one clock per output sample and the sink must always accept")
    return {
        "module": interface.module_name,
        "prefix": interface.prefix,
        "protocol": interface.protocol,
        "bitsmith_version": version,
        "config_hash": config_hash,
        "ports": [{"name": p.name, "direction": p.direction, "width": p.width,
                   "signed": p.signed, "role": p.role, "description": p.description}
                  for p in fir_ports(spec, interface)],
        "input_format": str(spec.input_format),
        "output_format": str(spec.output_format),
        "coefficients": {"taps": spec.taps, "nonzero": n_nonzero,
                         "lsb": f"2^-{spec.coef_frac}",
                         "widths_bits": list(spec.coef_widths),
                         "format": f"signed raw integers x 2^-{spec.coef_frac}; tap k has "
                                   "widths_bits[k] significant bits, sign included (0: pruned)"},
        "accumulator": f"{spec.acc_format} ({spec.acc_width} bits, full precision)",
        "rounding": spec.rounding.value,
        "overflow": ("saturate (raise is built as saturate)" if spec.overflow.value == "raise"
                     else spec.overflow.value),
        "latency_clocks": latency,
        "throughput": "1 sample per clock" + (" while m_axis_tready is high"
                                              if interface.backpressure else ""),
        "handshake": handshake,
        "reset": {"signal": interface.port_names()["rst"], "polarity": "active high",
                  "kind": "synchronous", "policy": interface.reset,
                  "clears": _clears(interface)},
    }


def _wrap(text: str, width: int = 88, indent: str = "//   ") -> list[str]:
    words, lines, line = text.split(), [], ""
    for w in words:
        if line and len(indent) + len(line) + 1 + len(w) > width:
            lines.append(indent + line)
            line = w
        else:
            line = f"{line} {w}" if line else w
    if line:
        lines.append(indent + line)
    return lines


def verilog_header(spec: FirSpec, interface: FirInterface, *, config_hash: str | None = None
                   ) -> str:
    """The comment block at the top of the emitted file: formats, latency, handshake, reset."""
    s = interface_summary(spec, interface, config_hash=config_hash)
    c = s["coefficients"]
    r = s["reset"]
    lines = [
        f"// {s['module']}: {spec.taps}-tap FIR filter ({spec.form.value} form, "
        f"{spec.multiplier.value} multipliers, pipeline {spec.pipeline})",
        f"// generated by bitsmith {s['bitsmith_version']}; config hash "
        f"{config_hash or 'none (not emitted by a flow)'}",
        f"// input:  {s['input_format']} signed, {spec.input_format.word_bits} bits",
        f"// output: {s['output_format']} signed, {spec.output_format.word_bits} bits; "
        f"rounding {s['rounding']}, overflow {s['overflow']}",
        f"// coefficients: {c['taps']} taps ({c['nonzero']} nonzero),",
        *_wrap(f"signed raw integers x 2^-{spec.coef_frac}, each with the significant "
               "bits (sign included, 0: pruned) listed by tap:"),
        *_wrap(" ".join(str(w) for w in c["widths_bits"])),
        f"// accumulator: {s['accumulator']}",
        f"// latency: {s['latency_clocks']} clock(s) from an accepted input sample to its output "
        "valid",
        f"// throughput: {s['throughput']}",
        "// handshake:",
        *_wrap(s["handshake"]),
        f"// reset: {r['signal']}, {r['kind']}, {r['polarity']}, policy '{r['policy']}': "
        "clears",
        *_wrap(r["clears"]),
        "// ports:",
    ]
    for p in fir_ports(spec, interface):
        lines += _wrap(f"{p.name} ({p.direction}, {p.width} bit"
                       f"{' signed' if p.signed else ''}): {p.description}")
    return "\n".join(lines) + "\n"


def instantiation_template(spec: FirSpec, interface: FirInterface, *,
                           config_hash: str | None = None) -> str:
    """A Verilog instantiation template (``<module>_inst.v``): copy it into a design."""
    ports = fir_ports(spec, interface)
    name = interface.module_name
    w = max(len(p.name) for p in ports)
    lines = [f"// Instantiation template of {name} (bitsmith; config hash "
             f"{config_hash or 'none'}). Copy into your design and connect the nets.",
             f"// {name}: latency {fir_latency(spec)} clocks, {interface.protocol} protocol, "
             f"reset policy '{interface.reset}'.", ""]
    for p in ports:
        rng = f" [{p.width - 1}:0]" if p.width > 1 else ""
        lines.append(f"wire{' signed' if p.signed else ''}{rng} {p.name};")
    lines += ["", f"{name} u_{name} ("]
    for i, p in enumerate(ports):
        sep = "," if i < len(ports) - 1 else " "
        lines.append(f"  .{p.name:<{w}} ({p.name:<{w}}){sep} // {p.direction} "
                     f"{p.width} bit{' signed' if p.signed else ''}: {p.description}")
    lines.append(");")
    return "\n".join(lines) + "\n"
