"""FIR cost model and yosys runner: parser, structure rules, batch == scalar, vs synthesis."""

import numpy as np
import pytest
from scipy import signal

from bitsmith.hwmodels import SynthResult, fir_cost, fir_luts_batch, synthesize
from bitsmith.hwmodels.fir import fir_features, load_calibration
from bitsmith.hwmodels.fir._corpus import (
    TAP_STRATA,
    fit_luts,
    quantize_per_coefficient,
    random_spec,
    row_to_spec,
    stratified_specs,
)
from bitsmith.hwmodels.fir._struct import LUT_FEATURES, dsp_blocks
from bitsmith.sim import FirForm, FirSpec, Multiplier, QFormat

MUL8 = """module m(input clk, input signed [7:0] a, input signed [7:0] b,
          output reg signed [15:0] p);
always @(posedge clk) p <= a * b;
endmodule"""


def _spec(coefs, xw=16, **kw):
    widths = [max(2, abs(c).bit_length() + 1) for c in coefs]
    fmt = QFormat(1, xw - 1)
    probe = FirSpec(tuple(coefs), 15, tuple(widths), fmt, fmt)
    return FirSpec(tuple(coefs), 15, tuple(widths), fmt, probe.acc_format, **kw)


@pytest.mark.slow
def test_synthesize_8x8_multiplier_matches_hardware_facts():
    # HARDWARE_FACTS "FPGA cost" (yosys 0.70 synth_xilinx): 8x8 signed -> 134 LUTs / 1 DSP48E1
    soft = synthesize(MUL8, "m", dsp=False)
    assert isinstance(soft, SynthResult)
    assert "0.70" in soft.tool
    assert abs(soft.luts - 134) <= 13  # 10 % margin for other yosys versions
    assert soft.ffs == 16 and soft.dsps == 0 and soft.latches == 0
    hard = synthesize(MUL8, "m", dsp=True)
    assert hard.dsps == 1 and hard.luts == 0


def test_synthesize_rejects_unknown_target():
    with pytest.raises(ValueError, match=r"target must be one of \('xc7', 'ice40'\), not 'ecp5'"):
        synthesize(MUL8, "m", target="ecp5")


def test_fir_cost_rejects_unknown_target():
    with pytest.raises(ValueError, match="target must be one of .*not 'ice40'"):
        fir_cost(_spec([3, 5, 3]), target="ice40")


@pytest.mark.parametrize(("wa", "wb", "n"), [(8, 8, 1), (25, 18, 1), (18, 25, 1), (26, 18, 2),
                                             (32, 32, 4)])
def test_dsp_rule_matches_hardware_facts(wa, wb, n):
    # HARDWARE_FACTS "FPGA cost" DSP48E1 row (yosys 0.70)
    assert dsp_blocks(wa, wb) == n


def test_more_csd_digits_cost_more():
    # 0b1000001 (2 digits) vs 0b1010101 (4 digits): same width, more shift-add adders
    few = fir_cost(_spec([65, 65, 65, 65, 65]))
    many = fir_cost(_spec([85, 85, 85, 85, 85]))
    assert many.luts > few.luts
    assert many.energy_pj_per_sample > few.energy_pj_per_sample


def test_wider_coefficients_cost_more():
    h = signal.firwin(31, 0.2)
    costs = []
    for w in (6, 10, 14, 18):
        c, frac = quantize_per_coefficient(h, [w] * 31)
        fmt = QFormat(1, 15)
        probe = FirSpec(c, frac, (w,) * 31, fmt, fmt)
        costs.append(fir_cost(FirSpec(c, frac, (w,) * 31, fmt, probe.acc_format)).luts)
    assert costs == sorted(costs) and costs[0] < costs[-1]


def test_dsp_multipliers_use_dsp_blocks_csd_none():
    coefs = [-3, 17, 101, 17, -3]
    assert fir_cost(_spec(coefs, multiplier=Multiplier.CSD)).dsps == 0
    # 16-bit input x 4/6/8-bit constants: one DSP48E1 each (25x18 fits)
    assert fir_cost(_spec(coefs, multiplier=Multiplier.DSP)).dsps == 5


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_batch_equals_scalar(seed):
    rng = np.random.default_rng(seed)
    template = random_spec(rng, max_taps=40)
    rows, want = [], []
    for _ in range(6):  # candidates: the template's coefficients with random digit changes
        c = np.array(template.coefficients)
        c = c + rng.integers(-3, 4, size=c.size) * (c != 0)
        if template.fold_symmetric:
            half = c[: (c.size + 1) // 2]
            sign = 1 if template.coefficients[0] == template.coefficients[-1] else -1
            c = np.concatenate([half, sign * half[: c.size // 2][::-1]])
            if sign < 0 and c.size % 2:
                c[c.size // 2] = 0
        if not c.any():
            continue
        widths = [max(2, int(abs(v)).bit_length() + 1) for v in c]
        spec = FirSpec(tuple(int(v) for v in c), template.coef_frac, tuple(widths),
                       template.input_format, template.output_format,
                       rounding=template.rounding, overflow=template.overflow,
                       form=template.form, fold_symmetric=template.fold_symmetric,
                       multiplier=template.multiplier, pipeline=template.pipeline)
        rows.append(c)
        want.append(fir_cost(spec).luts)
    got = fir_luts_batch(np.array(rows), template)
    assert got.dtype == np.int64
    assert got.tolist() == want


def test_batch_rejects_wrong_shape():
    with pytest.raises(ValueError, match=r"coefficients must have shape \(n, 3\) .* not \(2, 4\)"):
        fir_luts_batch(np.ones((2, 4), dtype=int), _spec([3, 5, 3]))


@pytest.mark.slow
@pytest.mark.parametrize("form", [FirForm.DIRECT, FirForm.TRANSPOSED])
def test_estimate_within_15_percent_of_yosys(form):
    from bitsmith.rtl import fir_verilog

    c, frac = quantize_per_coefficient(signal.firwin(11, 0.25), [8] * 11)
    fmt = QFormat(1, 9)
    probe = FirSpec(c, frac, (8,) * 11, fmt, fmt)
    spec = FirSpec(c, frac, (8,) * 11, fmt, QFormat(probe.acc_format.int_bits, 10), form=form)
    res = synthesize(fir_verilog(spec), "fir", dsp=False)
    est = fir_cost(spec)
    assert abs(est.luts - res.luts) <= 0.15 * res.luts
    assert abs(est.ffs - res.ffs) <= 0.15 * res.ffs
    assert est.dsps == res.dsps == 0


def _calibration_rows():
    import csv
    from importlib import resources

    cal = load_calibration("xc7")
    path = resources.files("bitsmith.hwmodels.fir") / "data" / cal["corpus_csv"]
    with path.open() as f:
        return cal, list(csv.DictReader(f))


def test_calibration_corpus_matches_model_and_fit():
    # the committed corpus (yosys figures) must be what the current model structure sees,
    # and refitting it must give the committed coefficients (the fit is re-runnable)
    cal, rows = _calibration_rows()
    assert len(rows) == cal["n_designs"] >= 24
    X, y = [], []
    for r in rows:
        f = fir_features(row_to_spec(r))
        assert [f[k] for k in LUT_FEATURES] == [int(r[k]) for k in LUT_FEATURES]
        assert f["ff_bits"] == int(r["ff_bits"])
        X.append([f[k] for k in LUT_FEATURES])
        y.append(int(r["luts"]))
    theta = fit_luts(X, y)
    np.testing.assert_allclose(theta[:-1], cal["coef"], rtol=1e-9, atol=1e-9)
    assert theta[-1] == pytest.approx(cal["intercept"], abs=1e-9)


def test_dsp_count_exact_on_calibration_corpus():
    # DSP48E1 counts yosys reported for the committed corpus (24 designs, half with DSPs)
    _, rows = _calibration_rows()
    dsp_rows = [r for r in rows if r["multiplier"] == "dsp"]
    assert len(dsp_rows) >= 10
    for r in rows:
        assert fir_cost(row_to_spec(r)).dsps == int(r["dsps"]), r["index"]


def test_stratified_corpus_balances_every_factor():
    specs = stratified_specs(0, 24)
    assert len(specs) == 24
    strata = [next(i for i, (lo, hi) in enumerate(TAP_STRATA) if lo <= s.taps <= hi)
              for s in specs]
    assert sorted(np.bincount(strata).tolist()) == [6, 6, 6, 6]
    assert sum(s.multiplier is Multiplier.DSP for s in specs) == 12
    assert sum(s.form is FirForm.DIRECT for s in specs) == 12
    assert np.bincount([s.pipeline for s in specs]).tolist() == [8, 8, 8]
    assert min(s.taps for s in specs) >= 7 and max(s.taps for s in specs) <= 127
    assert all(4 <= w <= 20 for s in specs for w in s.coef_widths)


def test_products_that_wrap_away_cost_nothing():
    from bitsmith.hwmodels.fir._struct import structure

    # 8-bit wrapping output at the accumulator LSB: products by 2**20 are 0 modulo 2**8
    f = structure((1 << 20, 1 << 20), 8, 0, 8, "truncate", "wrap", True, False, False, 0)
    assert [f[k] for k in LUT_FEATURES] == [0] * len(LUT_FEATURES)
    assert f["dsp_blocks"] == 0 and f["ff_bits"] == 1
