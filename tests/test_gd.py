"""Quantized gradient descent: quantizer vs the fixed-point core, the unquantized limit,
schedules, the exact optimum against every heuristic, and the gd flow through the CLI."""

import json
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from bitsmith.cli import main
from bitsmith.flows import RunContext, load_config
from bitsmith.flows.gd import (
    GdProblem,
    count_feasible,
    enumerate_feasible,
    run,
    schedule,
)
from bitsmith.sim.fixed import Overflow, Rounding
from bitsmith.sim.gd import (
    GdSpec,
    Objective,
    RangeRule,
    Target,
    block_max_abs,
    descend,
    gradient,
    make_data,
    quantize_blocks,
    quantize_reference,
    range_exponent,
    relative_gap,
)

SMALL = """\
kind: gd
seed: 3
problem: {n_samples: 60, n_features: 6}
descent: {n_steps: 4}
allocation:
  min_bits: 2
  max_bits: 7
  budgets: [12, 18]
  methods: [constant, linear, logarithmic, exponential, greedy, ppso, gcpso, exact]
  max_evaluations: 150
  n_particles: 10
evaluation: {n_draws: 3, n_test_draws: 3, n_seeds: 2}
"""


def _write(tmp_path, text, name="c.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return p


# -- the step quantizer --------------------------------------------------------------------

@pytest.mark.parametrize("rounding", list(Rounding))
@pytest.mark.parametrize("overflow", [Overflow.SATURATE, Overflow.WRAP])
@pytest.mark.parametrize("seed", [0, 1])
def test_quantize_blocks_matches_per_element_fixed_point_reference(rounding, overflow, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((3, 4, 7)) * np.exp2(rng.integers(-30, 30, (3, 4, 7)))
    x[0, 0, :3] = [0.0, -0.0, 2.0 ** -5]  # zero and an exact power of two
    bits = rng.integers(2, 30, (3, 1, 7))
    exp = rng.integers(-35, 35, (1, 4, 7))  # ranges below and above the values: overflow
    got = quantize_blocks(x, bits, exp, rounding, overflow)
    ref = quantize_reference(x, bits, exp, rounding, overflow)
    np.testing.assert_array_equal(got, ref)


@pytest.mark.parametrize("d, starts", [(7, [0]), (7, [0, 3, 5]), (12, [0, 4, 8])])
def test_range_rule_max_abs_is_the_smallest_power_of_two_above(d, starts):
    rng = np.random.default_rng(d)
    x = rng.standard_normal((5, 2, d)) * 10.0 ** rng.uniform(-8, 8, (5, 2, 1))
    starts = np.array(starts)
    m = block_max_abs(x, starts)
    e = range_exponent(m)
    # naive reference: per block, the exponent by a loop over powers of two
    for i in np.ndindex(m.shape):
        k = -200
        while not m[i] < 2.0 ** k:
            k += 1
        assert e[i] == k
    assert range_exponent(np.zeros(1))[0] == 0


def test_max_abs_range_never_saturates_more_than_one_lsb():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 3, 9))
    e = range_exponent(block_max_abs(x, np.array([0])))
    for b in (2, 4, 8, 16):
        q = quantize_blocks(x, b, e, Rounding.ROUND_HALF_EVEN, Overflow.SATURATE)
        lsb = np.exp2(e + 1 - b)
        assert np.all(np.abs(q - x) <= lsb)  # <= LSB/2 except the clipped top code


# -- the descent -----------------------------------------------------------------------------

@pytest.mark.parametrize("rule", [RangeRule.MAX_ABS, RangeRule.FIXED])
@pytest.mark.parametrize("target", [Target.GRADIENT, Target.ITERATE])
def test_gd_with_very_many_bits_reaches_the_least_squares_solution(rule, target):
    rng = np.random.default_rng(0)
    data = make_data(Objective.LEAST_SQUARES, "synthetic", 3, 80, 5, 2.0, 0.3, 0.0, rng)
    # a fixed iterate range is set from w_1 = -eta g_0, far inside |w*|: it needs headroom
    # (without it the iterate saturates: the range rule is the user's to size)
    head = 6 if (target is Target.ITERATE and rule is RangeRule.FIXED) else 0
    spec = GdSpec(n_steps=300, range_rule=rule, target=target, headroom_bits=head)
    W = descend(spec, data, np.full((1, 300, 1), 52))
    for m in range(data.n_draws):
        closed, *_ = np.linalg.lstsq(data.A[m], data.y[m], rcond=None)
        np.testing.assert_allclose(W[0, m], closed, rtol=1e-9, atol=1e-11)


def test_logistic_optimum_is_stationary_and_many_bits_approach_it():
    rng = np.random.default_rng(1)
    for dataset, d in (("synthetic", 4), ("breast_cancer", 31)):
        data = make_data(Objective.LOGISTIC, dataset, 2, 120, d, 2.0, 0.0, 0.05, rng)
        g = gradient(data, data.w_star[None])
        assert np.max(np.abs(g)) < 1e-10
        spec = GdSpec(objective=Objective.LOGISTIC, n_steps=60, range_rule=RangeRule.MAX_ABS)
        gaps = [relative_gap(GdSpec(objective=Objective.LOGISTIC, n_steps=t,
                                    range_rule=RangeRule.MAX_ABS), data,
                             np.full((1, t), 40)).mean() for t in (10, 30, 60)]
        assert 0 < gaps[2] < gaps[1] < gaps[0] < 1
        assert spec.n_vars == 60


def test_fewer_bits_cost_accuracy_under_a_fixed_range():
    rng = np.random.default_rng(2)
    data = make_data(Objective.LEAST_SQUARES, "synthetic", 4, 100, 8, 3.0, 0.1, 0.0, rng)
    spec = GdSpec(n_steps=20, range_rule=RangeRule.FIXED)
    gaps = relative_gap(spec, data, np.array([[b] * 20 for b in (2, 4, 8, 16)])).mean(axis=1)
    assert np.all(np.diff(gaps) < 0)


@pytest.mark.parametrize("kw, message", [
    ({"n_steps": 0}, "n_steps must be between 1 and 100000, not 0"),
    ({"step_scale": float("nan")}, r"step_scale must lie in \(0, 2\), not nan"),
    ({"range_decay": 1.5}, r"range_decay must lie in \(0, 1\], not 1.5"),
    ({"overflow": Overflow.RAISE}, "overflow must be SATURATE or WRAP, not RAISE"),
])
def test_spec_rejects_bad_values(kw, message):
    with pytest.raises(ValueError, match=message):
        GdSpec(**kw)


def test_blocks_and_grid():
    spec = GdSpec(n_steps=3, n_blocks=3, allocation=__import__(
        "bitsmith.sim.gd", fromlist=["Allocation"]).Allocation.STEP_BLOCK)
    np.testing.assert_array_equal(spec.blocks(7), [0, 0, 0, 1, 1, 2, 2])
    grid = spec.bits_grid(np.arange(9)[None] + 2)
    assert grid.shape == (1, 3, 3) and grid[0, 1, 2] == 7
    with pytest.raises(ValueError, match="n_blocks must not exceed the number of coordinates 2"):
        spec.blocks(2)


# -- schedules and the exact enumeration ------------------------------------------------------

@pytest.mark.parametrize("shape", ["constant", "linear", "logarithmic", "exponential"])
@pytest.mark.parametrize("T, budget", [(1, 5), (7, 20), (24, 144), (24, 380), (10, 160)])
def test_schedules_spend_exactly_the_budget_and_rise(shape, T, budget):
    b = schedule(shape, T, budget, 2, 16, 8.0)
    assert b.sum() == min(budget, T * 16)
    assert b.min() >= 2 and b.max() <= 16
    assert np.all(np.diff(b) >= 0) or shape == "constant"
    if shape == "constant":
        assert b.max() - b.min() <= 1


def test_schedule_rejects_a_budget_below_the_minimum():
    with pytest.raises(ValueError, match="budget must be at least 20 bits"):
        schedule("linear", 10, 19, 2, 8, 4.0)


@pytest.mark.parametrize("n, lo, hi, budget", [(3, 2, 5, 9), (4, 2, 6, 14), (2, 3, 3, 6)])
def test_enumeration_is_every_feasible_point(n, lo, hi, budget):
    import itertools

    brute = [p for p in itertools.product(range(lo, hi + 1), repeat=n) if sum(p) <= budget]
    pts = enumerate_feasible(n, range(lo, hi + 1), budget)
    assert [tuple(p) for p in pts] == brute
    assert count_feasible(n, range(lo, hi + 1), budget) == len(brute)


def test_exact_optimum_is_not_beaten_by_any_heuristic(tmp_path):
    cfg = _write(tmp_path, SMALL)
    out = tmp_path / "out"
    assert main(["run", str(cfg), "-o", str(out), "-q"]) == 0
    res = json.loads((out / "results.json").read_text())
    for piece in res["pieces"]:
        ms = piece["methods"]
        exact = ms["exact"]["train_gap"]
        assert ms["exact"]["n_evals"] == count_feasible(4, range(2, 8), piece["budget"])
        for name, r in ms.items():
            assert r["feasible"] or name == "ppso"
            if r["feasible"]:
                assert exact <= r["train_gap"] * (1 + 1e-12), name
        assert ms["gcpso"]["n_infeasible"] == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["ok"] and summary["checks"]["exact_not_beaten"]
    for name in ("report.md", "gap_vs_budget.png", "bits.png", "convergence.png"):
        assert (out / name).stat().st_size > 500
    assert "gap to exact" in (out / "report.md").read_text()


def test_problem_cost_is_the_sum_of_bits():
    rng = np.random.default_rng(4)
    data = make_data(Objective.LEAST_SQUARES, "synthetic", 2, 30, 3, 2.0, 0.1, 0.0, rng)
    p = GdProblem(GdSpec(n_steps=5), data, 2, 8, 20)
    X = np.array([[2, 3, 4, 5, 6], [2, 2, 2, 2, 2]])
    err, cost = p.evaluate(X)
    np.testing.assert_array_equal(cost[:, 0], [20, 10])
    assert err[0] < err[1]
    assert p.cost_table.shape == (1, 5, 7) and p.cost_table[0, 0, 0] == 2


# -- the flow through the CLI -------------------------------------------------------------------

def test_same_seed_same_bytes_and_executor_gives_the_same_result(tmp_path):
    text = SMALL.replace("greedy, ppso, gcpso, exact", "gcpso")
    cfg = _write(tmp_path, text)
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["run", str(cfg), "-o", str(a), "-q"]) == 0
    assert main(["run", str(cfg), "-o", str(b), "-q"]) == 0
    for name in ("results.json", "summary.json", "report.md", "gap_vs_budget.png",
                 "bits.png", "convergence.png"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    # the pieces on an executor (threads here; dask in `--scheduler`) give the same numbers
    _, data, _ = load_config(cfg)
    outdir = tmp_path / "c"
    outdir.mkdir()
    with ThreadPoolExecutor(2) as pool:
        ctx = RunContext(config_path=cfg, out_dir=outdir, seed=3, quiet=True, executor=pool)
        ctx.log = lambda msg: None
        run(data, ctx)
    assert (outdir / "results.json").read_bytes() == (a / "results.json").read_bytes()
    assert main(["run", str(cfg), "-o", str(b), "-q", "--seed", "4"]) == 0
    assert (a / "results.json").read_bytes() != (b / "results.json").read_bytes()


@pytest.mark.parametrize("patch, message", [
    ({"budgets: [12, 18]": "budgets: []"},
     "allocation.budgets: must have at least 1 and at most 64 items, not 0"),
    ({"descent: {n_steps: 4}": "descent: {n_steps: 4, step_scale: .nan}"},
     "descent.step_scale: must be a finite number"),
    ({"descent: {n_steps: 4}": "descent: {n_steps: 4, step_scale: .inf}"},
     "descent.step_scale: must be a finite number"),
    ({"budgets: [12, 18]": "budgets: [7, 18]"},
     r"allocation.budgets\[0\]: must lie between 8 bits \(all 4 variables at min_bits 2\) "
     r"and 28 bits \(all at max_bits 7\), not 7"),
    ({"budgets: [12, 18]": "budgets: [18, 12]"},
     r"allocation.budgets: budgets must increase, not \[18, 12\]"),
    ({"max_bits: 7": "max_bits: 60"},
     "allocation.max_bits: must be an integer between 2 and 52, not 60"),
    ({"descent: {n_steps: 4}": "descent: {n_steps: 4, n_blocks: 9}"},
     "descent.n_blocks: must be at most the number of coordinates 6, not 9"),
    ({"descent: {n_steps: 4}": "descent: {n_steps: 12}",
      "budgets: [12, 18]": "budgets: [24, 60]"},
     r"allocation.methods: exact enumeration of 12 variables under budget 60 would "
     r"evaluate \d+ allocations: it must be at most exact_max_points 200000"),
    ({"problem: {n_samples: 60, n_features: 6}":
      "problem: {dataset: breast_cancer, n_samples: 60, n_features: null}"},
     "problem.dataset: breast_cancer is a classification set: it needs objective logistic, "
     "not 'least_squares'"),
    ({"descent: {n_steps: 4}": "descent: {n_steps: 4, allocation: block, n_blocks: 2}",
      "budgets: [12, 18]": "budgets: [6, 8]"},
     r"allocation.methods: schedules \['linear', 'logarithmic', 'exponential'\] run over "
     r"the steps: they need allocation step or step_block, not 'block'"),
])
def test_bad_input_exits_2_and_writes_nothing(tmp_path, capsys, patch, message):
    text = SMALL
    for old, new in patch.items():
        assert old in text
        text = text.replace(old, new)
    cfg = _write(tmp_path, text)
    out = tmp_path / "out"
    assert main(["run", str(cfg), "-o", str(out), "-q"]) == 2
    err = capsys.readouterr().err
    assert str(cfg) in err
    assert __import__("re").search(message, err), err
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml"]


@pytest.mark.parametrize("allocation, n_blocks", [("step", 1), ("block", 3), ("step_block", 2)])
@pytest.mark.parametrize("rule", list(RangeRule))
def test_noise_model_sensitivity_has_one_positive_value_per_variable(allocation, n_blocks,
                                                                     rule):
    from bitsmith.sim.gd import Allocation

    rng = np.random.default_rng(6)
    data = make_data(Objective.LOGISTIC, "synthetic", 2, 40, 6, 2.0, 0.0, 0.1, rng)
    spec = GdSpec(objective=Objective.LOGISTIC, n_steps=5, allocation=Allocation(allocation),
                  n_blocks=n_blocks, range_rule=rule, range_decay=0.7)
    p = GdProblem(spec, data, 2, 8, spec.n_vars * 4, use_sensitivity=True)
    x = np.full(spec.n_vars, 4)
    s = p.sensitivity(x)
    assert s.shape == (spec.n_vars,) and np.all(s > 0)
    x[0] = 6  # two more bits: a quarter of a quarter of the sensitivity
    s2 = p.sensitivity(x)
    if allocation != "block":
        assert s2[0] == pytest.approx(s[0] / 16)
    assert GdProblem(spec, data, 2, 8, spec.n_vars * 4).sensitivity(x) is None


@pytest.mark.slow
def test_two_worker_local_cluster_gives_the_same_bytes(tmp_path):
    pytest.importorskip("dask.distributed")
    cfg = _write(tmp_path, SMALL.replace("greedy, ppso, gcpso, exact", "gcpso, exact"))
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["run", str(cfg), "-o", str(a), "-q"]) == 0
    assert main(["run", str(cfg), "-o", str(b), "-q", "--scheduler", "local:2"]) == 0
    for name in ("results.json", "summary.json", "report.md", "gap_vs_budget.png"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


@pytest.mark.parametrize("descent, problem", [
    ("{n_steps: 3, allocation: block, n_blocks: 2, range_rule: max_abs}",
     "{n_samples: 40, n_features: 5}"),
    ("{n_steps: 2, allocation: step_block, n_blocks: 2, target: iterate, headroom_bits: 3}",
     "{objective: logistic, n_samples: 40, n_features: 4}"),
    ("{n_steps: 4, range_rule: geometric, range_decay: 0.7, overflow: wrap}",
     "{objective: logistic, dataset: breast_cancer, n_samples: 50, n_features: null}"),
])
def test_flow_variants_run(tmp_path, descent, problem):
    text = (SMALL.replace("descent: {n_steps: 4}", f"descent: {descent}")
            .replace("problem: {n_samples: 60, n_features: 6}", f"problem: {problem}")
            .replace("budgets: [12, 18]", "budgets: [9, 12]")
            .replace("constant, linear, logarithmic, exponential, greedy", "constant, greedy"))
    cfg = _write(tmp_path, text)
    out = tmp_path / "out"
    assert main(["run", str(cfg), "-o", str(out), "-q"]) == 0
    res = json.loads((out / "results.json").read_text())
    for piece in res["pieces"]:
        for name, r in piece["methods"].items():
            assert len(r["x"]) == res["n_vars"]
            assert r["feasible"] or name == "ppso"
            assert r["train_gap"] >= piece["methods"]["exact"]["train_gap"] * (1 - 1e-12)
