"""FIR RTL generator: every output sample of the generated Verilog equals the bit-true model.

One entry per design under test, parametrized over designs and simulators. The bulk
comparison runs on the batch runner (builds shared through one build cache per session);
the cocotb protocol bench runs on one design per simulator.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from functools import cache

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bitsmith.rtl import (
    FirFilter,
    csd_digits,
    csd_nonzero_count,
    fir_latency,
    fir_verilog,
    write_coe,
)
from bitsmith.sim import (
    FirForm,
    FirSpec,
    Multiplier,
    Overflow,
    QFormat,
    Rounding,
    Symmetry,
    fir_filter,
)
from bitsmith.sim.hdl import (
    HdlToolError,
    StreamPorts,
    build_batch,
    ensure_verilator,
    random_gaps,
    random_stalls,
    run_batch,
    run_cocotb,
)
from bitsmith.sim.hdl.fir_bench import fir_ports, fir_protocol_bench, fir_stimulus, verify_fir

SIMS = ("verilator", "icarus")

# 11-tap even-symmetric and 10-tap odd-symmetric lowpass/differentiator-like integer taps
H_EVEN = (-3, 0, 12, -25, 70, 127, 70, -25, 12, 0, -3)
H_ODD = (2, -9, 17, -40, 99, -99, 40, -17, 9, -2)
H_NONE = (5, 0, -7, 31, -1, 0, 3)  # asymmetric, zeros inside


def _spec(h, **kw) -> FirSpec:
    base = dict(
        coefficients=h,
        coef_frac=7,
        coef_widths=(8,) * len(h),
        input_format=QFormat(1, 11),
        output_format=QFormat(1, 9),
    )
    base.update(kw)
    return FirSpec(**base)


# the designs under test: every form, folding (even/odd symmetry, odd/even L), both
# multipliers, pipeline 0/1/2, every rounding mode and both overflow modes
DESIGNS = {
    "direct-csd-p0-trunc-wrap": _spec(
        H_NONE, pipeline=0, rounding=Rounding.TRUNCATE, overflow=Overflow.WRAP
    ),
    "direct-dsp-p1-halfup-sat": _spec(H_EVEN, multiplier=Multiplier.DSP, pipeline=1),
    "direct-csd-p2-halfeven-sat": _spec(
        H_NONE, pipeline=2, rounding=Rounding.ROUND_HALF_EVEN, output_format=QFormat(0, 8)
    ),
    "folded-even-csd-p1-tozero-sat": _spec(
        H_EVEN, fold_symmetric=True, rounding=Rounding.ROUND_TO_ZERO, output_format=QFormat(1, 7)
    ),
    "folded-odd-dsp-p2-trunc-wrap": _spec(
        H_ODD,
        fold_symmetric=True,
        multiplier=Multiplier.DSP,
        pipeline=2,
        rounding=Rounding.TRUNCATE,
        overflow=Overflow.WRAP,
        output_format=QFormat(1, 10),
    ),
    "transposed-csd-p0-halfup-sat": _spec(H_NONE, form=FirForm.TRANSPOSED, pipeline=0),
    "transposed-dsp-p1-halfeven-wrap": _spec(
        H_ODD,
        form=FirForm.TRANSPOSED,
        multiplier=Multiplier.DSP,
        rounding=Rounding.ROUND_HALF_EVEN,
        overflow=Overflow.WRAP,
        output_format=QFormat(0, 9),
    ),
    "transposed-folded-csd-p1-tozero-sat": _spec(
        H_EVEN,
        form=FirForm.TRANSPOSED,
        fold_symmetric=True,
        rounding=Rounding.ROUND_TO_ZERO,
        output_format=QFormat(2, 14),  # more frac bits than the accumulator: exact left shift
    ),
}
N_RANDOM = 3000


@pytest.fixture(scope="session")
def hdl_cache(hdl_build_root):
    """One batch build cache for the session (Verilator's run-time library is built once)."""
    return hdl_build_root / "cache"


@pytest.fixture(scope="module")
def verified(hdl_cache, require_simulator):
    """verify_fir (batch runner) once per (design, simulator)."""

    @cache
    def run(name: str, sim: str):
        require_simulator(sim)
        return verify_fir(DESIGNS[name], sim, None, N_RANDOM, seed=1, cache_dir=hdl_cache)

    return run


# Verilator batch builds cost ~7 s each (plus ~25 s once for its run-time library) on a
# loaded 2-core machine: four designs that together cover every form, folding, both
# multipliers and pipeline 0/1/2 run by default, the other four are `slow`; Icarus (fast
# build) runs all eight.
_VERILATOR_DEFAULT = {
    "direct-csd-p0-trunc-wrap",
    "folded-odd-dsp-p2-trunc-wrap",
    "transposed-dsp-p1-halfeven-wrap",
    "folded-even-csd-p1-tozero-sat",
}
CASES = [
    pytest.param(
        name,
        sim,
        marks=[pytest.mark.slow] if sim == "verilator" and name not in _VERILATOR_DEFAULT else [],
    )
    for name in DESIGNS
    for sim in SIMS
]


@pytest.mark.hdl
@pytest.mark.parametrize(("name", "sim"), CASES)
def test_rtl_matches_model(name, sim, verified):
    spec = DESIGNS[name]
    r = verified(name, sim)
    x, _ = fir_stimulus(spec, N_RANDOM, np.random.default_rng(1))
    assert r.samples_checked == len(x)
    assert r.mismatches == 0, r.first_mismatch
    assert r.latency_errors == 0
    assert r.passed and r.backend == "batch"


@pytest.mark.hdl
def test_backends_agree_clock_for_clock(hdl_cache, require_simulator):
    """Same stimulus and gaps: both simulators give the same outputs on the same clocks."""
    for sim in SIMS:
        require_simulator(sim)
    spec = DESIGNS["folded-odd-dsp-p2-trunc-wrap"]
    x, _ = fir_stimulus(spec, 2000, np.random.default_rng(4))
    gaps = random_gaps(len(x), np.random.default_rng(5))
    v = fir_verilog(spec)
    r = {sim: run_batch(v, fir_ports(spec), x, sim, gaps=gaps, cache_dir=hdl_cache)
         for sim in SIMS}
    a, b = r["verilator"], r["icarus"]
    assert np.array_equal(a.y, b.y) and len(a.y) == len(x)
    assert np.array_equal(a.out_cycles, b.out_cycles)
    assert np.array_equal(a.in_cycles, b.in_cycles)
    assert a.cycles == b.cycles > len(x) + int(gaps.sum())
    assert np.array_equal(a.y, fir_filter(spec, x))  # SATURATE/WRAP: the model as it is
    # the build is cached: a second look-up builds nothing
    assert build_batch(v, fir_ports(spec), "verilator", cache_dir=hdl_cache).cached


@pytest.mark.hdl
@pytest.mark.parametrize("sim", SIMS)
def test_wrong_coefficient_is_caught(sim, hdl_cache, require_simulator):
    require_simulator(sim)
    spec = DESIGNS["direct-csd-p0-trunc-wrap"]
    h = list(spec.coefficients)
    h[3] += 1  # one LSB off in one coefficient
    wrong = fir_verilog(dataclasses.replace(spec, coefficients=tuple(h)))
    r = verify_fir(spec, sim, None, 500, seed=1, verilog=wrong, cache_dir=hdl_cache)
    assert not r.passed
    assert r.mismatches > 0 and r.first_mismatch is not None


# a register slice with back-pressure (i.ready = !o.valid || o.ready), o = 2 x + 1
RELAY_V = """
module relay(input clk, input rst, input [11:0] i__payload, input i__valid,
             output i__ready, output reg [12:0] o__payload, output reg o__valid,
             input o__ready);
  assign i__ready = !o__valid || o__ready;
  always @(posedge clk)
    if (rst) o__valid <= 1'b0;
    else if (i__ready) begin
      o__valid <= i__valid;
      if (i__valid) o__payload <= {i__payload, 1'b1};
    end
endmodule
"""


@pytest.mark.hdl
def test_batch_gaps_and_stalls_on_a_ready_design(hdl_cache, require_simulator):
    """Seeded input gaps and output stalls through valid/ready: nothing lost, duplicated
    or reordered, and the same clocks on both simulators."""
    for sim in SIMS:
        require_simulator(sim)
    ports = StreamPorts("relay", 12, 13, in_ready=True, out_ready=True)
    rng = np.random.default_rng(7)
    x = rng.integers(-2048, 2048, 3000)
    gaps, stalls = random_gaps(len(x), rng), random_stalls(rng, period=97, p_stall=0.4)
    r = {sim: run_batch(RELAY_V, ports, x, sim, gaps=gaps, stalls=stalls, cache_dir=hdl_cache)
         for sim in SIMS}
    for sim, res in r.items():
        assert np.array_equal(res.y, 2 * x + 1), sim
        assert not res.timed_out
    assert np.array_equal(r["verilator"].out_cycles, r["icarus"].out_cycles)
    # stalls really back-pressured the input: some sample waited past its gap
    assert r["icarus"].cycles > len(x) + int(gaps.sum())


@pytest.mark.hdl
def test_icarus_batch_reports_x_on_a_valid_output(hdl_cache, require_simulator):
    require_simulator("icarus")
    # o.payload is never driven: X while o.valid is high
    v = """
module undriven(input clk, input rst, input [3:0] i__payload, input i__valid,
                output [3:0] o__payload, output reg o__valid);
  reg [3:0] never;
  assign o__payload = never;
  always @(posedge clk) o__valid <= rst ? 1'b0 : i__valid;
endmodule
"""
    with pytest.raises(HdlToolError, match="output sample 0 is 'x'.*X or Z on o__payload"):
        run_batch(v, StreamPorts("undriven", 4, 4), np.arange(4), "icarus", cache_dir=hdl_cache)


def test_batch_argument_errors(tmp_path):
    with pytest.raises(ValueError, match="in_width must be between 1 and 64 bits, not 65"):
        StreamPorts("fir", 65, 8)
    ports = fir_ports(DESIGNS["direct-csd-p0-trunc-wrap"])
    from bitsmith.sim.hdl._batch import _check_stimulus

    with pytest.raises(ValueError, match=r"stimulus must fit 12 signed bits \[-2048, 2047\]"):
        _check_stimulus(ports, np.array([2048]), None, None)
    with pytest.raises(ValueError, match="output stalls need a design with an o__ready port"):
        _check_stimulus(ports, np.array([1]), None, np.array([True, False]))
    with pytest.raises(ValueError, match="gaps must be 2 non-negative idle counts"):
        _check_stimulus(ports, np.array([1, 2]), np.array([1]), None)


def test_cache_location(monkeypatch, tmp_path):
    from bitsmith.sim.hdl import hdl_cache_dir

    monkeypatch.setenv("BITSMITH_CACHE_DIR", str(tmp_path / "c"))
    assert hdl_cache_dir() == (tmp_path / "c" / "hdl").resolve()
    monkeypatch.delenv("BITSMITH_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert hdl_cache_dir() == (tmp_path / "x" / "bitsmith" / "hdl").resolve()
    # GNU make cannot build under a path with spaces: a space-free temporary folder instead
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "with space"))
    assert " " not in str(hdl_cache_dir())
    with pytest.raises(HdlToolError, match="the HDL build cache path must not contain spaces"):
        build_batch("", StreamPorts("fir", 4, 4), "icarus", cache_dir=tmp_path / "a b")


@pytest.mark.hdl
@pytest.mark.parametrize("sim", SIMS)
def test_failed_build_raises_and_leaves_nothing(sim, tmp_path, require_simulator):
    require_simulator(sim)
    cache = tmp_path / "cache"
    bad = "module fir(input clk); wire [3:0] a = ; endmodule\n"
    with pytest.raises(HdlToolError, match=f"^{'verilator' if sim == 'verilator' else 'icarus'}"
                       r": .*failed \(exit status"):
        build_batch(bad, StreamPorts("fir", 4, 4), sim, cache_dir=cache)
    assert list(cache.iterdir()) == []  # no half entry, no temporary folder


@pytest.mark.hdl
@pytest.mark.parametrize(
    "sim", [pytest.param("verilator", marks=pytest.mark.slow), "icarus"]
)
def test_cocotb_protocol_bench(sim, hdl_build_root, require_simulator):
    """Garbage while idle, reset mid-stream, no X/Z (cocotb, per clock)."""
    require_simulator(sim)
    spec = DESIGNS["direct-dsp-p1-halfup-sat"]
    ok, summary = fir_protocol_bench(spec, sim, hdl_build_root / f"protocol-{sim}", seed=3)
    assert ok, summary
    assert summary["after_reset_ok"] and summary["before_reset_ok"]
    assert summary["x_errors"] == 0


@pytest.mark.hdl
@pytest.mark.slow
def test_255_taps_build_and_verify_on_verilator(hdl_cache, require_simulator):
    """A design Verilator splits into several files (precompiled header, parallel make)."""
    require_simulator("verilator")
    from bitsmith.sim import FirDesign, design_fir, fir_spec_from_design

    h = design_fir(FirDesign("lowpass", (0.1, 0.12), 255, 0.5, 50, "firwin"))
    spec = fir_spec_from_design(h, (12,) * 255, QFormat(1, 15), QFormat(1, 17),
                                fold_symmetric=True, pipeline=1)
    r = verify_fir(spec, "verilator", None, 20_000, seed=1, cache_dir=hdl_cache)
    assert r.passed and r.samples_checked == 20_000 + 4 * 255 + 1, r.first_mismatch


def _lint(path) -> tuple[list[str], str]:
    ensure_verilator()
    out = subprocess.run(
        ["verilator", "--lint-only", "-Wall", str(path), "--top-module", "fir"],
        capture_output=True,
        text=True,
        check=False,
    )
    return re.findall(r"%(?:Warning|Error)-(\w+): [^\n]*", out.stderr), out.stderr


def _random_spec(seed: int) -> FirSpec:
    """A seeded random spec over the generator's whole range (taps 1-127, widths 2-24)."""
    rng = np.random.default_rng(seed)
    L = int(rng.integers(1, 128))
    cw = int(rng.integers(2, 25))
    lim = 1 << (cw - 1)
    fold = L > 1 and bool(rng.integers(2))
    if fold:
        sign = int(rng.choice([1, -1]))
        first = [int(v) for v in rng.integers(-lim + 1, lim, size=L // 2)]
        mid = [int(rng.integers(-lim + 1, lim)) if sign == 1 else 0] if L % 2 else []
        h = first + mid + [sign * c for c in reversed(first)]
    else:
        h = [int(v) for v in rng.integers(-lim, lim, size=L)]
    if not any(h):
        h[0] = h[-1] = 1
    wi, wo = (int(v) for v in rng.integers(2, 25, size=2))
    fi, fo = int(rng.integers(0, wi)), int(rng.integers(-4, 25))
    spec = FirSpec(
        coefficients=tuple(h),
        coef_frac=cw - 1,
        coef_widths=(cw,) * L,
        input_format=QFormat(wi - fi, fi),
        output_format=QFormat(wo - fo, fo),
        rounding=list(Rounding)[int(rng.integers(4))],
        overflow=[Overflow.WRAP, Overflow.SATURATE][int(rng.integers(2))],
        form=list(FirForm)[int(rng.integers(2))],
        multiplier=list(Multiplier)[int(rng.integers(2))],
        pipeline=int(rng.integers(0, 3)),
    )
    if fold and spec.symmetry is not Symmetry.NONE:
        spec = dataclasses.replace(spec, fold_symmetric=True)
    return spec


def _lint_specs() -> dict[str, FirSpec]:
    """Every rounding x overflow x form, folding/multiplier/pipeline rotating through them,
    edge widths and shapes, and seeded random specs."""
    specs = dict(DESIGNS)
    combos = [
        (r, o, f) for r in Rounding for o in (Overflow.WRAP, Overflow.SATURATE) for f in FirForm
    ]
    for i, (r, o, f) in enumerate(combos):
        specs[f"grid-{r.value}-{o.value}-{f.value}"] = _spec(
            H_EVEN if i % 2 else H_NONE,
            rounding=r,
            overflow=o,
            form=f,
            fold_symmetric=bool(i % 2) and i % 4 == 1,
            multiplier=list(Multiplier)[(i // 2) % 2],
            pipeline=i % 3,
            output_format=[QFormat(1, 9), QFormat(1, 5), QFormat(3, 13), QFormat(0, 4)][i % 4],
        )
    specs["one-tap"] = _spec((-77,), output_format=QFormat(1, 3))
    specs["power-of-two-taps-wrap"] = _spec(
        (64, 0, -32, 4), overflow=Overflow.WRAP, rounding=Rounding.TRUNCATE
    )
    specs["output-wider-than-value"] = _spec(H_ODD, output_format=QFormat(10, 9))
    specs["more-frac-bits-out"] = _spec(H_NONE, output_format=QFormat(1, 20))
    specs["every-product-wraps-away"] = FirSpec(
        coefficients=(1024, 8191, -3508),
        coef_frac=13,
        coef_widths=(14,) * 3,
        input_format=QFormat(1, 1),
        output_format=QFormat(-19, 22),
        rounding=Rounding.ROUND_HALF_EVEN,
        overflow=Overflow.WRAP,
    )
    specs["wide-24bit-127-taps"] = FirSpec(
        coefficients=tuple(int(v) for v in np.random.default_rng(5).integers(-(2**23), 2**23, 127)),
        coef_frac=23,
        coef_widths=(24,) * 127,
        input_format=QFormat(1, 23),
        output_format=QFormat(2, 22),
        form=FirForm.TRANSPOSED,
        pipeline=2,
    )
    for seed in range(8):
        specs[f"random-{seed}"] = _random_spec(seed)
    return specs


LINT_SPECS = _lint_specs()


@pytest.mark.hdl
@pytest.mark.parametrize("name", list(LINT_SPECS))
def test_verilator_lint_clean(name, tmp_path):
    """`verilator --lint-only -Wall` reports nothing at all: no warning of any kind."""
    path = tmp_path / "fir.v"  # Verilator wants the file named after the module
    path.write_text(fir_verilog(LINT_SPECS[name]))
    kinds, text = _lint(path)
    assert kinds == [], text


# lint-only shapes whose arithmetic differs from DESIGNS (wrap-width cap, dropped products,
# round-to-zero under wrap, shifted output): simulated on Icarus (fast build) as well
EDGE_SIM = [
    "one-tap",
    "power-of-two-taps-wrap",
    "output-wider-than-value",
    "more-frac-bits-out",
    "every-product-wraps-away",
    "grid-round_to_zero-wrap-direct",
    "grid-round_half_even-wrap-transposed",
    "random-1",
    "random-3",
]


@pytest.mark.hdl
@pytest.mark.parametrize("name", EDGE_SIM)
def test_edge_specs_match_model(name, hdl_cache, require_simulator):
    require_simulator("icarus")
    spec = LINT_SPECS[name]
    r = verify_fir(spec, "icarus", None, n_random=500, seed=3, cache_dir=hdl_cache)
    assert r.mismatches == 0 and r.latency_errors == 0, (name, r.first_mismatch)
    assert r.passed


def test_verilog_ports_and_no_waivers():
    """Readable top-level ports; no lint pragma or `*unused*` wire beyond the dropped bits."""
    v = fir_verilog(DESIGNS["direct-dsp-p1-halfup-sat"])
    header = re.search(r"module fir\(([^)]*)\);", v)[1]
    assert set(header.replace(" ", "").split(",")) == {
        "clk",
        "rst",
        "i__payload",
        "i__valid",
        "o__payload",
        "o__valid",
    }
    assert "lint_off" not in v and "verilator" not in v.lower().replace("yosys", "")
    # the only deliberately unused wire: the accumulator LSBs half-up rounding ignores
    assert re.findall(r"wire \[\d+:0\] (unused\w*);", v) == ["unused_acc_lsbs"]


def _yosys(verilog: str, synth: str, tmp_path) -> str:
    if shutil.which("yosys") is None:
        pytest.skip("yosys is not installed (apt-get install yosys)")
    src = tmp_path / "fir.v"
    src.write_text(verilog)
    out = subprocess.run(
        [
            "yosys",
            "-q",
            "-p",
            f"read_verilog {src}; {synth} -top fir; check -assert; tee -o /dev/stdout stat",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


@pytest.mark.hdl
@pytest.mark.parametrize("synth", ["synth_xilinx", "synth_ice40"])
@pytest.mark.parametrize(
    "name",
    ["direct-dsp-p1-halfup-sat", "folded-odd-dsp-p2-trunc-wrap", "transposed-csd-p0-halfup-sat"],
)
def test_synthesizes_without_latches(name, synth, tmp_path):
    stat = _yosys(fir_verilog(DESIGNS[name]), synth, tmp_path)
    assert "Number of cells" in stat
    assert not re.search(r"LATCH|LDCE|LDPE|\$_DLATCH", stat), stat


def test_coe_file(tmp_path):
    spec = DESIGNS["direct-csd-p0-trunc-wrap"]
    path = write_coe(spec, tmp_path / "h.coe")
    text = path.read_text()
    assert text == "radix=10;\ncoefdata=\n5,\n0,\n-7,\n31,\n-1,\n0,\n3;\n"


@cache
def _min_weight(c: int) -> int:
    """Fewest nonzero digits of any {-1,0,1} radix-2 form of c (naive recursion)."""
    if c < 0:
        return _min_weight(-c)  # negating every digit
    if c <= 1:
        return c
    if c % 2 == 0:
        return _min_weight(c // 2)
    return 1 + min(_min_weight((c - 1) // 2), _min_weight((c + 1) // 2))


def test_csd_against_brute_force():
    for c in range(-4100, 4100):
        d = csd_digits(c)
        assert sum(s << k for k, s in d) == c, c
        shifts = [k for k, _ in d]
        assert all(b - a >= 2 for a, b in zip(shifts, shifts[1:], strict=False)), c
        assert all(s in (-1, 1) for _, s in d), c
        assert len(d) == csd_nonzero_count(c) == _min_weight(c), c


def test_csd_large_and_errors():
    c = -(2**40) + 12345
    assert sum(s << k for k, s in csd_digits(c)) == c
    with pytest.raises(TypeError, match="CSD recoding needs an int, not 1.5"):
        csd_digits(1.5)


def test_generator_errors_and_structure():
    with pytest.raises(TypeError, match="spec must be a FirSpec, not tuple"):
        FirFilter((1, 2, 3))
    with pytest.raises(ValueError, match="module name must be a Verilog identifier, not '2fir'"):
        fir_verilog(DESIGNS["direct-csd-p0-trunc-wrap"], name="2fir")
    with pytest.raises(ValueError, match="simulator must be one of"):
        run_cocotb([], "fir", "x", "questa", "build")
    # zero coefficients build no multiplier; folding halves them
    assert len(FirFilter(DESIGNS["direct-csd-p0-trunc-wrap"]).terms) == 5
    assert len(FirFilter(DESIGNS["folded-even-csd-p1-tozero-sat"]).terms) == 5
    assert len(FirFilter(DESIGNS["folded-odd-dsp-p2-trunc-wrap"]).terms) == 5
    # latency: output register, product register, tree registers every `pipeline` levels
    assert fir_latency(DESIGNS["direct-csd-p0-trunc-wrap"]) == 1
    assert fir_latency(DESIGNS["direct-dsp-p1-halfup-sat"]) == 1 + 1 + 3  # 9 terms, 4 levels
    assert fir_latency(DESIGNS["transposed-dsp-p1-halfeven-wrap"]) == 2


@st.composite
def random_specs(draw):
    L = draw(st.integers(3, 127))
    cw = draw(st.integers(2, 24))
    lim = 1 << (cw - 1)
    form = draw(st.sampled_from(list(FirForm)))
    fold = draw(st.booleans())
    if fold:  # symmetric taps (even or odd symmetry); -lim is excluded so -c fits
        sign = draw(st.sampled_from([1, -1]))
        first = draw(st.lists(st.integers(-lim + 1, lim - 1), min_size=L // 2, max_size=L // 2))
        mid = [draw(st.integers(-lim + 1, lim - 1)) if sign == 1 else 0] if L % 2 else []
        h = first + mid + [sign * c for c in reversed(first)]
    else:
        h = draw(st.lists(st.integers(-lim, lim - 1), min_size=L, max_size=L))
    if not any(h):
        h[0] = h[-1] = 1
    wi = draw(st.integers(2, 24))
    wo = draw(st.integers(2, 24))
    fi = draw(st.integers(0, wi - 1))
    fo = draw(st.integers(-4, 24))
    spec = FirSpec(
        coefficients=tuple(h),
        coef_frac=cw - 1,
        coef_widths=(cw,) * L,
        input_format=QFormat(wi - fi, fi),
        output_format=QFormat(wo - fo, fo),
        rounding=draw(st.sampled_from(list(Rounding))),
        overflow=draw(st.sampled_from([Overflow.WRAP, Overflow.SATURATE])),
        form=form,
        multiplier=draw(st.sampled_from(list(Multiplier))),
        pipeline=draw(st.integers(0, 2)),
    )
    if fold and spec.symmetry is not Symmetry.NONE:
        spec = dataclasses.replace(spec, fold_symmetric=True)
    return spec


@pytest.mark.hdl
@pytest.mark.slow
@settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=random_specs())
def test_random_specs_match_model(spec, hdl_cache, require_simulator):
    require_simulator("icarus")
    r = verify_fir(spec, "icarus", None, n_random=300, seed=2, cache_dir=hdl_cache)
    assert r.mismatches == 0 and r.latency_errors == 0, (spec, r.first_mismatch)
    assert r.passed
