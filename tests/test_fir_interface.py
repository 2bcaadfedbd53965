"""The emitted FIR as an FPGA design instantiates it (issue 9, section 3).

Module name and prefix, ANSI ports in the order clock, reset, input, output stream with
``signed`` on the samples, AXI4-Stream back-pressure (random ``m_axis_tready`` stalls and
``s_axis_tvalid`` gaps, every sample compared at 0 LSB on both simulators, batch runner and
cocotb), the reset policies (bit-true from power-up in both), the header comment, the
instantiation template, lint, and two differently named filters in one hand-written top.
"""

from __future__ import annotations

import dataclasses
import re
import subprocess

import numpy as np
import pytest

from bitsmith import __version__
from bitsmith.config import ConfigError, validate
from bitsmith.flows.fir._config import FirConfig
from bitsmith.rtl import (
    FirFilter,
    FirInterface,
    fir_latency,
    fir_verilog,
    instantiation_template,
    interface_summary,
)
from bitsmith.rtl.fir import VERILOG_KEYWORDS, fir_ports, prefix_modules
from bitsmith.sim import FirForm, FirSpec, Multiplier, Overflow, QFormat, Rounding, fir_filter
from bitsmith.sim.hdl import (
    HdlToolError,
    build_batch,
    ensure_verilator,
    random_gaps,
    random_stalls,
)
from bitsmith.sim.hdl.fir_bench import (
    fir_backpressure_bench,
    fir_protocol_bench,
    fir_stimulus,
    model_spec,
    verify_fir,
)
from bitsmith.sim.hdl.fir_bench import fir_ports as batch_ports

SIMS = ("verilator", "icarus")
H_EVEN = (-3, 0, 12, -25, 70, 127, 70, -25, 12, 0, -3)
H_NONE = (5, 0, -7, 31, -1, 0, 3)


def _spec(h, **kw) -> FirSpec:
    base = dict(coefficients=h, coef_frac=7, coef_widths=(8,) * len(h),
                input_format=QFormat(1, 11), output_format=QFormat(1, 9))
    base.update(kw)
    return FirSpec(**base)


# pipeline depths 1 to 3 (direct p0, transposed p1, folded direct p2), both multipliers
SPECS = {
    "direct-p0": _spec(H_NONE, pipeline=0, rounding=Rounding.TRUNCATE, overflow=Overflow.WRAP),
    "transposed-dsp-p1": _spec(H_NONE, form=FirForm.TRANSPOSED, multiplier=Multiplier.DSP),
    "folded-p2": _spec(H_EVEN, fold_symmetric=True, pipeline=2,
                       rounding=Rounding.ROUND_HALF_EVEN, output_format=QFormat(1, 7)),
}
COMBOS = [(p, r) for p in ("axis", "valid") for r in ("control", "all")]


@pytest.fixture(scope="module")
def cache(hdl_build_root):
    return hdl_build_root / "cache"


def _iface(protocol="axis", reset="control", name=None) -> FirInterface:
    return FirInterface(name or f"fir_{protocol}_{reset}", protocol=protocol, reset=reset)


# -- names and validation -------------------------------------------------------------------


@pytest.mark.parametrize("bad, match", [
    ("2fir", "module name must be a Verilog identifier"),
    ("fir-a", "module name must be a Verilog identifier"),
    ("", "module name must be a Verilog identifier"),
    ("fir$1", "module name must be a Verilog identifier"),
    ("module", "must not be a Verilog/SystemVerilog keyword, not 'module'"),
    ("logic", "must not be a Verilog/SystemVerilog keyword"),
])
def test_module_name_must_be_identifier_and_not_keyword(bad, match):
    with pytest.raises(ValueError, match=match):
        FirInterface(bad)
    with pytest.raises(ConfigError, match=match):
        validate(FirConfig, {"kind": "fir", "filter": {"edges": [0.2, 0.3]},
                             "interface": {"module_name": bad}})


def test_interface_options_are_checked():
    with pytest.raises(ValueError, match="protocol must be one of"):
        FirInterface(protocol="axi")
    with pytest.raises(ValueError, match="reset must be one of"):
        FirInterface(reset="data")
    with pytest.raises(ValueError, match="module prefix must start a Verilog identifier"):
        FirInterface(prefix="1_")
    with pytest.raises(ValueError, match="reset must be one of"):
        FirFilter(SPECS["direct-p0"], reset="none")
    assert FirInterface("lp").prefix == "lp_"
    assert {"module", "wire", "logic", "always_ff", "endmodule"} <= VERILOG_KEYWORDS
    cfg = validate(FirConfig, {"kind": "fir", "filter": {"edges": [0.2, 0.3]}})
    assert cfg.interface.model_dump() == {"module_name": "fir", "prefix": None,
                                          "protocol": "axis", "reset": "control"}


def test_cli_rejects_a_keyword_module_name_with_one_line_exit_2(tmp_path, capsys):
    from bitsmith.cli import main

    cfg = tmp_path / "bad.yaml"
    cfg.write_text("kind: fir\nfilter: {edges: [0.2, 0.3]}\ninterface: {module_name: wire}\n")
    assert main(["run", str(cfg), "-o", str(tmp_path / "out")]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "interface.module_name" in lines[0] and "keyword" in lines[0]


def test_prefix_renames_every_helper_module():
    v = ("module top(a);\n  input a;\n  \\top.sub  u0 (.a(a));\n  helper u1 (.a(a));\n"
         "endmodule\nmodule \\top.sub (a);\n  input a;\nendmodule\n"
         "module helper(a);\n  input a;\nendmodule\n")
    out = prefix_modules(v, "top", "lp_")
    assert re.findall(r"^module (\S+?)\s*\(", out, re.M) == ["top", "lp_top_sub", "lp_helper"]
    assert "  lp_top_sub u0 (" in out and "  lp_helper u1 (" in out
    assert "\\top.sub" not in out and re.search(r"\bhelper u1", out) is None


# -- the emitted text -------------------------------------------------------------------------


def _header_ports(v: str, name: str) -> list[str]:
    m = re.search(rf"^module {name} \(\n(.*?)\n\);", v, re.M | re.S)
    assert m, "no ANSI module header"
    return [line.strip().rstrip(",") for line in m[1].splitlines()]


def test_axis_ports_ansi_signed_in_order():
    spec = SPECS["transposed-dsp-p1"]
    v = fir_verilog(spec, interface=FirInterface("lp_axis"), config_hash="0123abcd")
    assert _header_ports(v, "lp_axis") == [
        "input wire clk", "input wire rst",
        "input wire signed [11:0] s_axis_tdata", "input wire s_axis_tvalid",
        "output wire s_axis_tready",
        "output wire signed [9:0] m_axis_tdata", "output wire m_axis_tvalid",
        "input wire m_axis_tready"]
    assert re.findall(r"^module (\w+)", v, re.M) == ["lp_axis"]  # one flat module
    # no non-ANSI direction declaration is left in the body
    assert re.search(r"^\s*(input|output)\b", v.split(");", 1)[1], re.M) is None


def test_valid_ports_and_legacy_form():
    spec = SPECS["direct-p0"]
    v = fir_verilog(spec, interface=_iface("valid", "all", "lp_valid"))
    assert _header_ports(v, "lp_valid") == [
        "input wire clk", "input wire rst", "input wire signed [11:0] in_data",
        "input wire in_valid", "output wire signed [9:0] out_data", "output wire out_valid"]
    # without an interface: the generator's own module (what the cost model is fitted on)
    legacy = fir_verilog(spec)
    assert re.search(r"^module fir\((.*)\);", legacy, re.M)[1].count("__") == 4
    assert "bitsmith" not in legacy.split("module", 1)[0]


def test_header_states_formats_latency_handshake_reset():
    spec = SPECS["folded-p2"]
    for protocol, reset in COMBOS:
        i = _iface(protocol, reset)
        head = fir_verilog(spec, interface=i, config_hash="feedbeef").split("module ", 1)[0]
        text = " ".join(" ".join(line.lstrip("/ ") for line in head.splitlines()).split())
        assert f"bitsmith {__version__}" in text and "config hash feedbeef" in text
        assert "input: Q(1,11) signed, 12 bits" in text
        assert "output: Q(1,7) signed, 8 bits; rounding round_half_even, overflow saturate" \
            in text
        assert "x 2^-7" in text and "8 8 8 8 8 8 8 8 8 8 8" in text  # coefficient formats
        assert f"latency: {fir_latency(spec)} clock(s)" in text and fir_latency(spec) == 3
        assert "active high" in text and "synchronous" in text
        assert ("AXI4-Stream" in text) == (protocol == "axis")
        assert ("clears every register" in text) == (reset == "all")
        s = interface_summary(spec, i, config_hash="feedbeef")
        assert s["latency_clocks"] == 3 and s["reset"]["policy"] == reset
        assert [p["name"] for p in s["ports"]] == [p.name for p in fir_ports(spec, i)]


@pytest.mark.parametrize("protocol, reset", COMBOS)
def test_lint_clean_all_protocols_and_reset_policies(protocol, reset, tmp_path):
    verilator = ensure_verilator() / "bin" / "verilator"
    for key, spec in SPECS.items():
        i = _iface(protocol, reset)
        (tmp_path / key).mkdir()
        path = tmp_path / key / f"{i.module_name}.v"  # -Wall: DECLFILENAME
        path.write_text(fir_verilog(spec, interface=i))
        r = subprocess.run([str(verilator), "--lint-only", "-Wall", "--top-module",
                            i.module_name, str(path)], capture_output=True, text=True)
        assert r.returncode == 0 and r.stderr.strip() == "", (key, r.stderr)


def test_instantiation_template_compiles(tmp_path, require_simulator):
    require_simulator("icarus")
    spec = SPECS["direct-p0"]
    for protocol in ("axis", "valid"):
        i = _iface(protocol, "control", f"lp_{protocol}")
        (tmp_path / f"{i.module_name}.v").write_text(fir_verilog(spec, interface=i))
        inst = instantiation_template(spec, i)
        assert f"{i.module_name} u_{i.module_name} (" in inst
        for p in fir_ports(spec, i):
            assert f".{p.name}" in inst
        (tmp_path / "inst.v").write_text(inst)
        (tmp_path / "wrap.v").write_text('module wrap;\n`include "inst.v"\nendmodule\n')
        r = subprocess.run(["iverilog", "-g2005", "-Wall", "-I", str(tmp_path), "-o",
                            str(tmp_path / "a.out"), "-s", "wrap", str(tmp_path / "wrap.v"),
                            str(tmp_path / f"{i.module_name}.v")], capture_output=True,
                           text=True)
        assert r.returncode == 0, r.stderr


# -- back-pressure and reset: batch runner -------------------------------------------------


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("reset", ["control", "all"])
def test_batch_backpressure_every_sample(sim, reset, cache, require_simulator):
    require_simulator(sim)
    for key, spec in SPECS.items():
        r = verify_fir(spec, sim, None, 2000, seed=5, interface=_iface("axis", reset),
                       p_stall=0.35, p_idle=0.3, cache_dir=cache)
        n = 4 * spec.taps + 1 + 2000  # impulse, step, worst case +/-, random
        assert r.passed and r.samples_checked == n and r.mismatches == 0, (key, r)
        assert r.stall_clocks > 500 and r.input_wait_clocks > 100 and r.idle_clocks > 500, r


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("reset", ["control", "all"])
def test_batch_valid_protocol(sim, reset, cache, require_simulator):
    require_simulator(sim)
    for key, spec in SPECS.items():
        r = verify_fir(spec, sim, None, 2000, seed=6, interface=_iface("valid", reset),
                       cache_dir=cache)
        assert r.passed and r.latency_errors == 0 and r.stall_clocks == 0, (key, r)
    with pytest.raises(ValueError, match="sink stalls need a design with back-pressure"):
        verify_fir(spec, sim, None, 10, interface=_iface("valid", reset), p_stall=0.1,
                   cache_dir=cache)


@pytest.mark.parametrize("sim", SIMS)
def test_batch_catches_broken_handshakes(sim, cache, require_simulator):
    """The comparison fails when the design drops or repeats samples under back-pressure."""
    require_simulator(sim)
    spec = SPECS["transposed-dsp-p1"]
    good = fir_verilog(spec, interface=_iface())
    mutants = {
        # ready regardless of the skid buffer: samples taken while the pipeline is stalled
        "ready-always": good.replace("assign s_axis_tready = i__ready;",
                                     "assign s_axis_tready = 1'b1;"),
        # the filter ignores the sink: outputs replaced while the sink stalls
        "ignores-tready": good.replace("assign o__ready = m_axis_tready;",
                                       "assign o__ready = 1'b1;"),
    }
    for name, v in mutants.items():
        assert v != good
        r = verify_fir(spec, sim, None, 1500, seed=2, verilog=v, interface=_iface(),
                       p_stall=0.3, cache_dir=cache)
        assert not r.passed and r.mismatches > 0, name


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("protocol", ["axis", "valid"])
def test_control_reset_bit_true_from_power_up(sim, protocol, cache, require_simulator):
    """Reset policy ``control`` leaves data registers unreset: their initial value 0 makes
    the model hold from power-up, with no reset at all and with one."""
    require_simulator(sim)
    spec = SPECS["folded-p2"]
    i = _iface(protocol, "control")
    v = fir_verilog(spec, interface=i)
    assert re.search(r"always @\(posedge clk\)\s+if \(rst\) x_d1", v) is None
    rng = np.random.default_rng(9)
    x, _ = fir_stimulus(spec, 1500, rng, gaps=False)
    b = build_batch(v, batch_ports(spec, interface=i), sim, cache_dir=cache)
    for reset_cycles in (0, 3):
        r = b.run(x, gaps=random_gaps(len(x), rng), reset_cycles=reset_cycles,
                  stalls=random_stalls(rng) if protocol == "axis" else None,
                  tail=fir_latency(spec) + 2)
        assert not r.timed_out
        assert np.array_equal(r.y, fir_filter(model_spec(spec), x)), reset_cycles


def test_ready_has_no_combinational_path_from_the_sink():
    """``s_axis_tready`` (``i.ready``) is the same whatever ``o.ready`` is, on every clock
    of a stalled, gappy stream (Amaranth's simulator settles the logic after each set)."""
    from amaranth.sim import Simulator

    spec = SPECS["direct-p0"]
    dut = FirFilter(spec, backpressure=True, reset="control")
    rng = np.random.default_rng(4)
    seen = {"differs": 0, "low": 0, "clocks": 0}

    async def bench(ctx):
        w = spec.input_format.word_bits
        for _ in range(600):
            ctx.set(dut.i.valid, int(rng.random() < 0.7))
            ctx.set(dut.i.payload, int(rng.integers(-(1 << (w - 1)), 1 << (w - 1))))
            ctx.set(dut.o.ready, 0)
            r0 = ctx.get(dut.i.ready)
            ctx.set(dut.o.ready, 1)
            r1 = ctx.get(dut.i.ready)
            seen["differs"] += r0 != r1
            seen["low"] += not r0
            seen["clocks"] += 1
            ctx.set(dut.o.ready, int(rng.random() < 0.5))
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    assert seen["clocks"] == 600 and seen["low"] > 50  # the sink did stall the input
    assert seen["differs"] == 0


# -- cocotb: the back-pressure and protocol benches ---------------------------------------


@pytest.mark.parametrize("sim", SIMS)
def test_cocotb_backpressure_bench(sim, hdl_build_root, require_simulator):
    require_simulator(sim)
    spec = SPECS["folded-p2"]
    r = fir_backpressure_bench(spec, _iface("axis", "control", "lp_bp"), sim,
                               hdl_build_root / f"iface-bp-{sim}", n_random=600, seed=7)
    assert r.passed and r.samples_checked == 4 * spec.taps + 1 + 600, r
    assert r.stall_clocks > 50 and r.input_wait_clocks > 20, r


@pytest.mark.parametrize("reset", ["control", "all"])
def test_cocotb_protocol_bench_reset_policies(reset, hdl_build_root, require_simulator):
    """Mid-stream reset with garbage and valid high: ``all`` restarts from zero, ``control``
    keeps the delay line; a ``control`` design judged as ``all`` fails (the bench can tell)."""
    require_simulator("icarus")
    spec = SPECS["transposed-dsp-p1"]
    i = _iface("axis", reset)
    ok, s = fir_protocol_bench(spec, "icarus", hdl_build_root / f"iface-proto-{reset}",
                               seed=3, interface=i)
    assert ok and s["ready_errors"] == 0 and s["reset_policy"] == reset, s
    if reset == "control":
        wrong = dataclasses.replace(i, reset="all")
        with pytest.raises(HdlToolError, match="'after_reset_ok': False"):
            fir_protocol_bench(spec, "icarus", hdl_build_root / "iface-proto-wrong", seed=3,
                               interface=wrong, verilog=fir_verilog(spec, interface=i))


# -- acceptance: two differently named filters in one hand-written top ----------------------

_TOP = r"""
`timescale 1ns/1ps
module two_filters_tb;
  reg clk = 1'b0, rst = 1'b1;
  // one shared input stream (both filters must take a sample before the next one)
  reg signed [@WI@-1:0] x_mem [0:@N@-1];
  reg signed [@WI@-1:0] tdata = 0;
  reg tvalid = 1'b0;
  wire a_tready, b_tready;
  wire signed [@WA@-1:0] a_tdata;
  wire signed [@WB@-1:0] b_tdata;
  wire a_tvalid, b_tvalid;
  reg a_sink = 1'b0, b_sink = 1'b0;
  reg a_taken = 1'b0, b_taken = 1'b0;
  integer k = 0, k_last = 0, na = 0, nb = 0, cycle = 0, fa, fb;
  integer seed = 12345;

  lp_alpha u_alpha (
    .clk(clk), .rst(rst),
    .s_axis_tdata(tdata), .s_axis_tvalid(tvalid & !a_taken), .s_axis_tready(a_tready),
    .m_axis_tdata(a_tdata), .m_axis_tvalid(a_tvalid), .m_axis_tready(a_sink));
  hp_beta u_beta (
    .clk(clk), .rst(rst),
    .s_axis_tdata(tdata), .s_axis_tvalid(tvalid & !b_taken), .s_axis_tready(b_tready),
    .m_axis_tdata(b_tdata), .m_axis_tvalid(b_tvalid), .m_axis_tready(b_sink));

  always #5 clk = !clk;
  initial begin
    $readmemh("x.hex", x_mem);
    fa = $fopen("a.txt", "w");
    fb = $fopen("b.txt", "w");
    repeat (3) @(posedge clk);
    @(negedge clk) rst = 1'b0;
    while ((na < @N@ || nb < @N@) && cycle < 40 * @N@) begin
      // drive away from the rising edge: random gaps (an offered sample stays offered
      // until both filters took it, as AXI4-Stream requires), random sink stalls
      if (k != k_last) begin tvalid = 1'b0; k_last = k; end
      if (!tvalid) tvalid = (k < @N@) && ($random(seed) % 4 != 0);
      tdata = x_mem[k < @N@ ? k : 0];
      a_sink = ($random(seed) % 3) != 0;
      b_sink = ($random(seed) % 2) != 0;
      @(posedge clk);
      #1;
      cycle = cycle + 1;
    end
    $fclose(fa); $fclose(fb);
    $display("two_filters: a=%0d b=%0d cycles=%0d", na, nb, cycle);
    $finish;
  end
  // transfers, seen at the rising edge that makes them
  always @(posedge clk) if (!rst) begin
    if (a_tvalid && a_sink) begin $fwrite(fa, "%0d\n", a_tdata); na = na + 1; end
    if (b_tvalid && b_sink) begin $fwrite(fb, "%0d\n", b_tdata); nb = nb + 1; end
    if (tvalid) begin
      if (!a_taken && a_tready) a_taken <= 1'b1;
      if (!b_taken && b_tready) b_taken <= 1'b1;
      if ((a_taken || a_tready) && (b_taken || b_tready)) begin
        k <= k + 1; a_taken <= 1'b0; b_taken <= 1'b0;
      end
    end
  end
endmodule
"""


def test_two_named_filters_in_one_top_on_icarus(tmp_path, require_simulator):
    """Acceptance (issue 9): instantiate two emitted modules by name with named ports in a
    hand-written top; both outputs equal the bit-true model, every sample."""
    require_simulator("icarus")
    spec_a = _spec(H_EVEN, fold_symmetric=True, pipeline=2)  # lowpass-like, 3 clocks
    spec_b = _spec((1, -4, 6, -4, 1), coef_frac=4, coef_widths=(4,) * 5, pipeline=0,
                   output_format=QFormat(3, 9), rounding=Rounding.TRUNCATE)  # highpass
    ia = FirInterface("lp_alpha", reset="control")
    ib = FirInterface("hp_beta", reset="all")
    files = []
    for spec, i in ((spec_a, ia), (spec_b, ib)):
        path = tmp_path / f"{i.module_name}.v"
        path.write_text(fir_verilog(spec, interface=i))
        files.append(str(path))
    n = 1500
    rng = np.random.default_rng(11)
    x, _ = fir_stimulus(spec_a, n - 3 * spec_a.taps - 1, rng, gaps=False)
    w = spec_a.input_format.word_bits
    (tmp_path / "x.hex").write_text("".join(f"{int(v) & ((1 << w) - 1):03x}\n" for v in x))
    top = (_TOP.replace("@WI@", str(w)).replace("@N@", str(len(x)))
           .replace("@WA@", str(spec_a.output_format.word_bits))
           .replace("@WB@", str(spec_b.output_format.word_bits)))
    (tmp_path / "top.v").write_text(top)
    r = subprocess.run(["iverilog", "-g2005", "-o", "sim.vvp", "-s", "two_filters_tb",
                        "top.v", *files], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    r = subprocess.run(["vvp", "-n", "sim.vvp"], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0 and "two_filters:" in r.stdout, r.stdout + r.stderr
    ya = np.loadtxt(tmp_path / "a.txt", dtype=np.int64)
    yb = np.loadtxt(tmp_path / "b.txt", dtype=np.int64)
    assert len(ya) == len(yb) == len(x)
    assert np.array_equal(ya, fir_filter(model_spec(spec_a), x))
    assert np.array_equal(yb, fir_filter(model_spec(spec_b), x))
    assert not np.array_equal(ya[: len(yb)], yb)  # two different filters


def test_flow_interface_config_hash_and_report_section():
    from bitsmith.flows.fir._flow import config_hash, interface
    from bitsmith.flows.fir._report import interface_section

    data = {"kind": "fir", "filter": {"edges": [0.2, 0.3]},
            "interface": {"module_name": "lp_q", "protocol": "valid", "reset": "all"}}
    cfg = validate(FirConfig, data).model_dump()
    i = interface(cfg)
    assert i == FirInterface("lp_q", prefix="lp_q_", protocol="valid", reset="all")
    h = config_hash(cfg)
    assert re.fullmatch(r"[0-9a-f]{16}", h) and h == config_hash(dict(cfg))
    other = validate(FirConfig, {**data, "seed": 1}).model_dump()
    assert config_hash(other) != h
    spec = SPECS["direct-p0"]
    lines = "\n".join(interface_section(interface_summary(spec, i, config_hash=h)))
    assert lines.startswith("## Interface") and f"config hash `{h}`" in lines
    assert "| `in_data` | input | 12 | yes |" in lines and "| latency | 1 clocks" in lines
    assert "every register" in lines and "rtl/lp_q_inst.v" in lines
