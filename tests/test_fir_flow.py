"""The FIR flow end to end, and its input checks (which fail before any search)."""

import json

import numpy as np
import pytest

from bitsmith.cli import main

SMALL = """\
kind: fir
seed: 2
filter: {response: lowpass, edges: [0.25, 0.45], numtaps: 21, method: remez,
         passband_ripple_db: 0.5, stopband_atten_db: 40}
input: {int_bits: 1, frac_bits: 11}
output: {frac_bits: 13}
allocation: {min_bits: 2, max_bits: 14, n_particles: 12, n_iter: 15, bisection_steps: 4,
             compare: [ppso, greedy, mckp_greedy, uniform]}
verification: {simulators: [SIM], random_samples: 3000, icarus_share: 1.0}
synthesis: {enabled: SYNTH}
report: {noise_samples: 20000}
"""


def _run(tmp_path, text, *extra):
    cfg = tmp_path / "fir.yaml"
    cfg.write_text(text)
    out = tmp_path / "out"
    return main(["run", str(cfg), "-o", str(out), "-q", *extra]), out


@pytest.mark.hdl
@pytest.mark.slow
def test_small_fir_end_to_end(tmp_path):
    code, out = _run(tmp_path, SMALL.replace("SIM", "icarus").replace("SYNTH", "true"))
    s = json.loads((out / "summary.json").read_text())
    assert code == 0, s.get("checks")
    assert s["meets_spec"] and s["spec_error"] <= 1
    # the RTL matched the bit-true model on every sample it saw
    v = s["verification"]["icarus"]
    assert v["mismatches"] == 0 and v["samples_checked"] >= 3000
    # mixed precision never costs more than the best uniform width meeting the spec
    assert s["estimated_luts"] <= s["uniform"]["luts"]
    assert s["synthesis"]["latches"] == 0 and s["synthesis"]["luts"] > 0
    assert abs(s["noise"]["prediction_error_db"]) < 1.0
    for name in ("report.md", "response.png", "allocation.png", "convergence.png",
                 "pareto.png", "rtl/fir.v", "rtl/fir.coe", "allocation.json"):
        assert (out / name).is_file(), name
    alloc = json.loads((out / "allocation.json").read_text())
    from bitsmith.sim import FirSpec  # noqa: F401
    from bitsmith.sim.fir._spec import spec_from_json

    spec = spec_from_json((out / "rtl" / "spec.json").read_text())
    assert list(spec.coefficients) == alloc["coefficients"]
    assert s["methods"]["gcpso"]["n_infeasible"] == 0


BAD = [
    ("edges: [0.25, 0.45]", "edges: [0.45, 0.25]", r"filter.edges: edges must increase"),
    ("numtaps: 21", "numtaps: 0", r"filter.numtaps: must be an integer between 3 and 1023 or null, not 0"),
    ("max_bits: 14", "max_bits: 40", r"allocation.max_bits: must be an integer between 2 and 32"),
    ("stopband_atten_db: 40", "stopband_atten_db: 150",
     r"float remez design with 21 taps does not meet the spec"),
    ("max_bits: 14", "max_bits: 4",
     r"allocation.max_bits: the spec cannot be met within the allowed widths"),
    ("numtaps: 21", "numtaps: .nan", r"filter.numtaps: must be an integer between 3 and 1023 or null, not nan"),
    ("numtaps: 21", "numtaps: 1", r"filter.numtaps: must be an integer between 3 and 1023 or null, not 1"),
    ("report: {", "target: {device: ice40}\nreport: {",
     r"target.device: the FIR cost model is calibrated for xc7 only, not 'ice40'"),
    ("min_bits: 2,", "min_bits: 8, allow_pruning: false, objective: max, budget_luts: 5,",
     r"allocation.budget_luts: budget_luts 5 is infeasible: the smallest achievable cost "
     r"is \d+ LUTs"),
    ("allocation: {", "allocation: {objective: rms, ",
     r"allocation.budget_luts: objective 'rms' needs a LUT budget"),
]


@pytest.mark.parametrize("old, new, message", BAD)
def test_bad_spec_fails_before_search(tmp_path, capsys, old, new, message):
    text = SMALL.replace("SIM", "icarus").replace("SYNTH", "false")
    assert old in text
    code, out = _run(tmp_path, text.replace(old, new))
    err = capsys.readouterr().err
    assert code == 2, err
    assert __import__("re").search(message, err), err
    assert not out.exists()
    assert "gcpso" not in err  # no search started


def test_allocation_problem_cost_matches_spec_cost():
    """The batch cost equals fir_cost of the spec built from the point; the separable table
    the search uses stays close to it."""
    from bitsmith.flows.fir._flow import _BatchCost, _spec
    from bitsmith.flows.fir._problem import FirAllocationProblem
    from bitsmith.hwmodels.fir import fir_cost
    from bitsmith.sim import FirDesign, QFormat, design_fir, symmetry, variable_map

    d = FirDesign("lowpass", (0.2, 0.35), numtaps=31, method="remez")
    h = design_fir(d)
    vm = variable_map(h.size, symmetry(h))
    ch = tuple((0, *range(2, 17)) for _ in vm)
    cfg = {"implementation": {"form": "direct", "fold_symmetric": True, "multiplier": "csd",
                              "pipeline": 1},
           "output": {"rounding": "round_half_up", "overflow": "saturate"},
           "target": {"device": "xc7"}}
    fi, fo = QFormat(1, 15), QFormat(1, 17)
    cost = _BatchCost(fi, fo, "round_half_up", "saturate", "direct", True, "csd", 1, "xc7")
    p = FirAllocationProblem(h, d, vm, ch, 10**9, cost)
    rng = np.random.default_rng(0)
    X = rng.choice(ch[0], size=(12, len(vm)))
    X[:, len(vm) // 2] = 12  # keep the centre tap
    full = p.full_cost(X)
    for x, c in zip(X, full, strict=True):
        assert fir_cost(_spec(p, x, cfg, fi, fo)).luts == c
    # the separable table the search uses: exact at the uniform reference point and for
    # one-variable moves from it, within a few percent elsewhere (measured: < 1 %)
    sep = p.cost(X)[:, 0]
    assert np.max(np.abs(sep - full) / full) < 0.03
    ref = np.full((1, len(vm)), 12)
    assert p.cost(ref)[0, 0] == p.full_cost(ref)[0]
    one = ref.copy()
    one[0, 3] = 5
    assert p.cost(one)[0, 0] == p.full_cost(one)[0]


@pytest.mark.slow
def test_default_lowpass_allocation_meets_spec_and_noise_prediction(tmp_path):
    """The flagship config (search, bit-true model, noise; no HDL): spec met, fewer LUTs
    than the cheapest uniform width, and predicted output noise within 1 dB of the
    bit-true simulation (200k samples)."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "configs/fir/lowpass.yaml").read_text()
    text = text.replace("simulators: [verilator, icarus]", "simulators: []")
    text = text.replace("enabled: true", "enabled: false")
    code, out = _run(tmp_path, text)
    s = json.loads((out / "summary.json").read_text())
    assert code == 0, s["checks"]
    assert s["taps"] == 63 and s["meets_spec"]
    assert s["response"]["stopband_atten_db"] >= 60 and s["response"]["passband_ripple_db"] <= 0.1
    assert abs(s["noise"]["prediction_error_db"]) < 1.0
    assert s["estimated_luts"] < s["uniform"]["luts"]
    assert s["methods"]["gcpso"]["n_infeasible"] == 0
    assert s["methods"]["ppso"]["n_infeasible"] >= 0


def test_same_seed_same_bytes(tmp_path):
    """Same config and seed: identical summary, allocation, report and Verilog."""
    text = SMALL.replace("simulators: [SIM]", "simulators: []").replace("SYNTH", "false")
    cfg = tmp_path / "fir.yaml"
    cfg.write_text(text)
    outs = []
    for name in ("a", "b"):
        out = tmp_path / name
        assert main(["run", str(cfg), "-o", str(out), "-q"]) == 0
        outs.append(out)
    for f in ("summary.json", "allocation.json", "report.md", "rtl/fir.v", "rtl/fir.coe"):
        assert (outs[0] / f).read_bytes() == (outs[1] / f).read_bytes(), f
    assert (outs[0] / "timings.json").is_file()
