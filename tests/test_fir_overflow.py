"""Output overflow (L1 bound, counts, predicted error), never-negative costs, and the
uniform fallback of the FIR flow (issue 9, sections 2 and 4)."""

import json

import numpy as np
import pytest
import scipy.signal

from bitsmith.cli import main
from bitsmith.sim import (
    FirSpec,
    Overflow,
    QFormat,
    count_overflows,
    fir_accumulate,
    measure_sqnr,
    min_output_int_bits,
    predict_output_noise,
    predict_overflow,
    quantize_coefficients,
    random_full_scale,
    to_float,
    worst_case_input,
)


def _spec(h, out_int, overflow=Overflow.SATURATE, frac_in=15, frac_out=17, bits=16):
    raw, frac = quantize_coefficients(h, [bits] * len(h))
    return FirSpec(raw, frac, [bits] * len(h), QFormat(1, frac_in), QFormat(out_int, frac_out),
                   overflow=overflow)


# L1 norms 2.04 (highpass), 1.29 (short lowpass), 1.52 (halfband-like): all above 1
FILTERS = {
    "highpass31": scipy.signal.remez(31, [0, 0.3, 0.4, 1], [0, 1], fs=2),
    "lowpass15": scipy.signal.firwin(15, 0.5),
    "halfband23": scipy.signal.remez(23, [0, 0.4, 0.6, 1], [1, 0], fs=2),
}


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_min_output_int_bits_is_the_l1_bound(name):
    h = FILTERS[name]
    spec = _spec(h, 8)
    need = min_output_int_bits(spec)
    # independent: the exact bound on Python ints, rounded half up to the output LSB
    c = spec.coefficients
    xmin, xmax = spec.input_format.raw_min, spec.input_format.raw_max
    hi = sum(k * (xmax if k > 0 else xmin) for k in c)
    lo = sum(k * (xmin if k > 0 else xmax) for k in c)
    shift = spec.acc_format.frac_bits - 17
    hi_r, lo_r = (hi + (1 << (shift - 1))) >> shift, (lo + (1 << (shift - 1))) >> shift
    w = next(w for w in range(2, 64) if -(1 << (w - 1)) <= lo_r and hi_r < (1 << (w - 1)))
    assert need == w - 17
    assert need >= 2  # every one of these has L1 > 1
    # the bound is reached: the worst-case sign sequences overflow one bit narrower, not at it
    wc = np.concatenate([worst_case_input(spec, 1), worst_case_input(spec, -1)])
    assert count_overflows(_spec(h, need), wc) == 0
    assert count_overflows(_spec(h, need - 1), wc) >= 1


def test_count_overflows_matches_a_naive_count():
    h = FILTERS["highpass31"]
    spec = _spec(h, 1)
    x = random_full_scale(spec, 20000, np.random.default_rng(3))
    acc = fir_accumulate(spec, x)
    shift = spec.acc_format.frac_bits - 17
    y = [(int(a) + (1 << (shift - 1))) >> shift for a in acc]  # round half up
    naive = sum(1 for v in y if not -(1 << 17) <= v < (1 << 17))
    assert naive > 0
    assert count_overflows(spec, x) == naive


@pytest.mark.parametrize("name", sorted(FILTERS))
@pytest.mark.parametrize("mode", [Overflow.SATURATE, Overflow.WRAP])
def test_noise_prediction_includes_overflow(name, mode):
    """With int_bits 1 these filters overflow on 0.2-2 % of random full-scale samples; the
    prediction with the overflow term stays within 0.5 dB of the bit-true measurement
    (without it, it is off by 50-90 dB)."""
    h = FILTERS[name]
    spec = _spec(h, 1, mode)
    x = random_full_scale(spec, 200_000, np.random.default_rng(1))
    meas = measure_sqnr(spec, h, x)
    p_in = float(np.mean(to_float(x, spec.input_format) ** 2))
    base = predict_output_noise(spec, h, p_in).total_power
    ovf = predict_overflow(spec)
    rate = count_overflows(spec, x) / x.size
    assert 1e-3 < rate < 0.05
    assert ovf.rate == pytest.approx(rate, rel=0.1)
    assert abs(10 * np.log10((base + ovf.error_power) / meas.error_power)) < 0.5
    assert 10 * np.log10(meas.error_power / base) > 30  # the term is what matters here
    assert ovf.bound_ratio > 1


def test_no_overflow_predicted_within_the_bound():
    h = FILTERS["lowpass15"]
    spec = _spec(h, min_output_int_bits(_spec(h, 8)))
    p = predict_overflow(spec)
    assert p.rate == 0 and p.error_power == 0 and p.bound_ratio <= 1


# -- through the CLI -------------------------------------------------------------------------

HIGHPASS = """\
kind: fir
seed: 3
filter: {response: highpass, edges: [0.3, 0.4], numtaps: 31, method: remez,
         passband_ripple_db: 0.5, stopband_atten_db: 40}
input: {int_bits: 1, frac_bits: 11}
output: OUTPUT
allocation: {min_bits: 2, max_bits: 14, n_particles: 10, n_iter: 10, bisection_steps: 3,
             compare: [uniform]}
verification: {simulators: [verilator], random_samples: 5000, lint: false}
synthesis: {enabled: false}
report: {noise_samples: 50000, pareto_points: 0}
"""


def _run(tmp_path, output, *extra):
    cfg = tmp_path / "hp.yaml"
    cfg.write_text(HIGHPASS.replace("OUTPUT", output))
    out = tmp_path / "out"
    return main(["run", str(cfg), "-o", str(out), "-q", *extra]), out


@pytest.mark.hdl
@pytest.mark.slow
def test_auto_int_bits_never_overflows(tmp_path):
    code, out = _run(tmp_path, "{frac_bits: 13}")
    s = json.loads((out / "summary.json").read_text())
    assert code == 0, s["checks"]
    o = s["output"]
    assert o["int_bits_auto"] and o["int_bits"] == o["int_bits_needed"] == 3  # L1 2.0
    assert o["random"]["overflows"] == 0 and o["worst_case"]["overflows"] == 0
    assert s["checks"]["no_output_overflow"] and "warnings" not in s
    assert s["verification"]["verilator"]["mismatches"] == 0
    assert abs(s["noise"]["prediction_error_db"]) < 0.5


@pytest.mark.hdl
@pytest.mark.slow
def test_explicit_width_that_overflows_warns_with_the_rate(tmp_path, capsys):
    code, out = _run(tmp_path, "{int_bits: 1, frac_bits: 13}")
    err = capsys.readouterr().err
    s = json.loads((out / "summary.json").read_text())
    assert code == 0
    o = s["output"]
    assert o["can_overflow"] and o["random"]["overflows"] > 0
    assert o["worst_case"]["overflows"] >= 2  # both ends of the bound
    assert "warning: output Q1.13 can overflow" in err and "saturated" in err
    assert len(s["warnings"]) == 1
    # the prediction includes the saturation error: still within 0.5 dB
    assert s["noise"]["predicted_overflow_power"] > 0
    assert abs(s["noise"]["prediction_error_db"]) < 0.5
    # the RTL saturates exactly as the model does
    assert s["verification"]["verilator"]["mismatches"] == 0
    assert "**Warning:**" in (out / "report.md").read_text()


def test_wrap_that_can_overflow_is_an_error_unless_allowed(tmp_path, capsys):
    code, out = _run(tmp_path, "{int_bits: 1, frac_bits: 13, overflow: wrap}")
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and not out.exists()
    assert len(err) == 1 and "Traceback" not in err[0]
    assert "output.int_bits: Q1.13 can overflow" in err[0] and "allow_overflow" in err[0]


@pytest.mark.hdl
@pytest.mark.slow
def test_wrap_allowed_runs_and_warns(tmp_path, capsys):
    code, out = _run(tmp_path, "{int_bits: 1, frac_bits: 13, overflow: wrap, "
                               "allow_overflow: true}")
    s = json.loads((out / "summary.json").read_text())
    assert code == 0
    assert s["output"]["random"]["overflows"] > 0 and "wrapped" in s["warnings"][0]
    assert s["verification"]["verilator"]["mismatches"] == 0


# -- costs never negative, unreachable budgets -----------------------------------------------

def test_costs_never_negative_over_the_whole_width_range_of_a_127_tap_design():
    from bitsmith.flows._base import load_config
    from bitsmith.flows.fir import _flow

    _, cfg, _ = load_config("configs/fir/lowpass.yaml")
    for mult in ("csd", "dsp"):
        cfg = {**cfg, "filter": {**cfg["filter"], "numtaps": 127, "stopband_atten_db": 70},
               "implementation": {**cfg["implementation"], "multiplier": mult}}
        p = _flow.setup(cfg, "x").problem
        k = p.n_choices
        T = p.cost_table[0]
        first = np.array([c[0] for c in p.choices])
        cheapest = sum(int(T[j, : k[j]].min()) for j in range(p.n_var))
        # the table's cheapest combination is the cheapest point, at its true cost, >= 0
        assert cheapest == int(p.cost(first[None, :])[0, 0]) == int(p.full_cost(first[None])[0])
        assert cheapest >= 0
        rng = np.random.default_rng(0)
        for lo, hi in ((0, 3), (0, 8), (2, 32)):  # pruned-heavy, narrow, whole range
            X = np.array([[rng.choice([w for w in ch if lo <= w <= hi] or [ch[0]])
                           for ch in p.choices] for _ in range(60)])
            assert (p.cost(X) >= 0).all() and (p.full_cost(X) >= 0).all()
        for b in range(2, 21):  # every uniform width: the table stays within 20 % of the model
            x = np.array([min(ch, key=lambda w, b=b: abs(w - b)) for ch in p.choices])
            sep, full = int(p.cost(x[None])[0, 0]), int(p.full_cost(x[None])[0])
            assert sep > 0 and abs(sep - full) <= 0.2 * full, (mult, b, sep, full)


def test_budget_below_the_cheapest_design_is_exit_2(tmp_path, capsys):
    text = HIGHPASS.replace("OUTPUT", "{frac_bits: 13}").replace(
        "allocation: {", "allocation: {objective: max, budget_luts: 1, ")
    cfg = tmp_path / "b.yaml"
    cfg.write_text(text)
    code = main(["run", str(cfg), "-o", str(tmp_path / "out"), "-q"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and not (tmp_path / "out").exists()
    assert "budget_luts 1 is infeasible: the smallest achievable cost is" in err
    assert int(err.split("cost is ")[1].split()[0]) >= 2


# -- ship uniform when mixed does not beat it ----------------------------------------------

def test_equal_cost_ships_the_uniform_design():
    from bitsmith.flows._base import load_config
    from bitsmith.flows.fir import _flow

    _, cfg, _ = load_config("configs/fir/lowpass.yaml")
    cfg = {**cfg, "synthesis": {"enabled": False}}
    st = _flow.setup(cfg, "x")
    u = min((r for r in _flow.uniform_baselines(st.problem, st.spec_problem, st.widths)
             if r["meets"]), key=lambda r: r["luts"])
    uni = _flow._uniform_spec(st.problem, u, cfg, st.fmt_in, st.fmt_out)
    log = []
    ctx = type("Ctx", (), {"log": log.append, "warn": log.append})()
    # a "mixed" design that is the uniform one: no saving, so uniform is shipped
    c = _flow._mixed_or_uniform(uni, uni, st.problem, np.asarray(u["x"]), u, cfg, ctx)
    assert c["shipped"] == "uniform" and "does not beat" in c["reason"]
    # one that is wider everywhere costs more: uniform again
    wide = next(r for r in _flow.uniform_baselines(st.problem, st.spec_problem, st.widths)
                if r["bits"] == u["bits"] + 3 and r["scaling"] == u["scaling"])
    wspec = _flow._uniform_spec(st.problem, wide, cfg, st.fmt_in, st.fmt_out)
    c = _flow._mixed_or_uniform(wspec, uni, st.problem, np.asarray(wide["x"]), u, cfg, ctx)
    assert c["shipped"] == "uniform"
    assert c["mixed_luts_estimate"] > c["uniform_luts_estimate"]


@pytest.mark.hdl
@pytest.mark.slow
def test_dsp_flow_never_ships_a_design_dearer_than_uniform(tmp_path):
    text = HIGHPASS.replace("OUTPUT", "{frac_bits: 13}").replace(
        "synthesis: {enabled: false}", "synthesis: {enabled: true}\n"
        "implementation: {multiplier: dsp}")
    cfg = tmp_path / "d.yaml"
    cfg.write_text(text)
    out = tmp_path / "out"
    assert main(["run", str(cfg), "-o", str(out), "-q"]) == 0
    s = json.loads((out / "summary.json").read_text())
    mu = s["mixed_vs_uniform"]
    if s["shipped"] == "mixed":
        assert mu["mixed_luts_estimate"] < mu["uniform_luts_estimate"]
        assert mu["mixed_luts_yosys"] < mu["uniform_luts_yosys"]
        assert s["lut_saving_vs_uniform"] > 0
    else:
        assert s["lut_saving_vs_uniform"] == 0
        assert s["estimated_luts"] == mu["uniform_luts_estimate"]
    assert s["synthesis"]["luts"] == min(mu.get("mixed_luts_yosys", 1 << 30),
                                         mu.get("uniform_luts_yosys", 1 << 30)) \
        or "mixed_luts_yosys" not in mu

