"""Allocation on the digits model's accelerator tables, the evolution method, and the
``dnn_allocation`` flow through the CLI (bad input: exit 2, nothing written)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

torch = pytest.importorskip("torch")

from bitsmith.cli import main  # noqa: E402
from bitsmith.search import minimize, random_separable  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
W_BITS = [2, 3, 4, 5, 6, 7, 8]


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    """Bit Fusion cost table and HAWQ error table of the digits CNN (4 training epochs)."""
    from bitsmith.hwmodels.dnn import cost_table, load_accelerator, trace_model
    from bitsmith.sim import dnn

    torch.set_num_threads(1)
    data = dnn.load_digits_split(0)
    model, _ = dnn.load_or_train("digits_cnn", data, 0, 4,
                                 cache_dir=tmp_path_factory.mktemp("c"))
    calib = dnn.calibrate(model, data.x_calib)
    tr = dnn.hutchinson_traces(model, data.x_calib, data.y_calib, max_probes=32, rel_tol=0.2)
    layers = trace_model(model, torch.zeros(1, 1, 8, 8))
    table = cost_table(layers, load_accelerator("bitfusion"), W_BITS, [8])
    err = dnn.hawq_omega(calib, tr, W_BITS)[:, :, None]
    return table, err


def _problem(table, err, metric, frac, extra=None, ties=(), pins=None):
    from bitsmith.flows.dnn_alloc._problem import _columns, build_problem, resolution_for

    cols = _columns(table, W_BITS, [8], pins or {})
    budgets = {}
    for m, f in {metric: frac, **(extra or {})}.items():
        flat = table.flat(m)
        lo = sum(flat[i, c].min() for i, c in enumerate(cols))
        hi = sum(flat[i, c].max() for i, c in enumerate(cols))
        budgets[m] = lo + f * (hi - lo)
    res = {m: resolution_for(table, m, cols) for m in budgets}
    return build_problem(table, err, W_BITS, [8], budgets, res, pins, ties)


FRACS = np.linspace(0.02, 0.98, 17)


@pytest.mark.parametrize("metric", ["weight_bytes", "bops", "energy_uj", "latency_cycles"])
def test_dp_and_ilp_agree_and_greedy_is_close(tables, metric):
    table, err = tables
    gaps = []
    for f in FRACS:
        p = _problem(table, err, metric, f)
        dp, ilp, gr = (minimize(p, m) for m in ("mckp_dp", "ilp", "mckp_greedy"))
        assert dp.feasible and ilp.feasible and gr.feasible
        assert ilp.error == pytest.approx(dp.error, rel=1e-9)
        assert gr.error >= dp.error * (1 - 1e-12)
        gaps.append((gr.error - dp.error) / dp.error)
    # typical budgets: the greedy hull solution is within 1 % of the optimum
    assert np.median(gaps) <= 0.01


def test_greedy_within_one_percent_at_every_budget(tables):
    """The greedy-class heuristic (hull greedy + depth-one enumeration + exchange local
    search) is within 1 % of the exact optimum at all 17 budgets of every metric; the plain
    hull greedy (LP relaxation rounded down) is not: on these 6 very unequal layers it is
    off by more than 10 % somewhere for weight bytes (measured 31 %) and energy (146 %)."""
    table, err = tables
    for metric in ("weight_bytes", "bops", "energy_uj", "latency_cycles"):
        plain_worst = 0.0
        for f in FRACS:
            p = _problem(table, err, metric, f)
            opt = minimize(p, "mckp_dp").error
            gr = minimize(p, "mckp_greedy")
            assert gr.feasible
            assert opt * (1 - 1e-12) <= gr.error <= 1.01 * opt, (metric, f)
            plain = minimize(p, "mckp_greedy", fix_one=False, polish=0)
            assert plain.feasible and plain.error >= gr.error * (1 - 1e-12)
            plain_worst = max(plain_worst, (plain.error - opt) / opt)
        if metric in ("weight_bytes", "energy_uj"):
            assert plain_worst > 0.10, (metric, plain_worst)


def test_greedy_stages_each_help_and_are_seed_free(tables):
    """Each stage can only improve on the previous one (same starts, then polished)."""
    table, err = tables
    for f in FRACS[::4]:
        p = _problem(table, err, "weight_bytes", f)
        e = [minimize(p, "mckp_greedy", fix_one=a, polish=b, seed=s).error
             for a, b, s in ((False, 0, 0), (True, 0, 1), (True, 64, 2))]
        assert e[0] >= e[1] * (1 - 1e-12) and e[1] >= e[2] * (1 - 1e-12)
        assert minimize(p, "mckp_greedy", seed=5).x == minimize(p, "mckp_greedy", seed=9).x


def test_ilp_several_budgets_pins_and_ties(tables):
    table, err = tables
    pins = {0: (8, 8), 5: (8, 8)}
    p = _problem(table, err, "weight_bytes", 0.4,
                 extra={"bops": 0.4, "energy_uj": 0.5, "latency_cycles": 0.6},
                 ties=[(2, 3)], pins=pins)
    r = minimize(p, "ilp")
    assert r.feasible and p.n_budgets == 4
    assert r.x[0] == r.x[5] == 808 and r.x[2] == r.x[3]
    # brute force over the 7^3 free choices (layers 1, 2=3, 4) confirms the optimum
    best = np.inf
    for a in W_BITS:
        for b in W_BITS:
            for c in W_BITS:
                x = np.array([[808, 100 * a + 8, 100 * b + 8, 100 * b + 8, 100 * c + 8, 808]])
                e, cost = p.evaluate(x)
                if np.all(cost[0] <= np.asarray(p.budgets)):
                    best = min(best, e[0])
    assert r.error == pytest.approx(best, rel=1e-12)


def test_evolution_feasible_and_seeded():
    rng = np.random.default_rng(4)
    p = random_separable(rng, 10, 5, n_budgets=2, budget_fraction=0.4)
    a = minimize(p, "evolution", seed=3, pop_size=12, n_gen=15)
    b = minimize(p, "evolution", seed=3, pop_size=12, n_gen=15)
    assert a.feasible and a.x == b.x and a.error == b.error
    opt = minimize(p, "ilp")
    assert a.error >= opt.error * (1 - 1e-12)
    assert a.error <= minimize(p, "random", seed=3, n_evals=12 * 16).error * (1 + 1e-12)


# -- the flow through the CLI ----------------------------------------------------------------

@pytest.fixture()
def workdir(tmp_path, monkeypatch):
    shutil.copytree(REPO / "configs", tmp_path / "configs")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BITSMITH_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


def _cfg(workdir, **patch):
    d = yaml.safe_load((workdir / "configs/dnn/digits_cnn.yaml").read_text())
    small = {"model": {"arch": "digits_cnn", "epochs": 3, "seeds": [0]},
             "sensitivity": {"kind": "hessian", "max_probes": 16, "rel_tol": 0.5},
             "allocation": {**d["allocation"], "sweep": [0.3],
                            "methods": ["mckp_greedy", "mckp_dp", "ilp", "uniform", "gcpso"],
                            "search_evals": 20, "search_images": 40},
             "mqbench": {"enabled": False}, "multipoint": {"enabled": False}}
    d.update(small)
    for k, v in patch.items():
        d[k] = {**d.get(k, {}), **v} if isinstance(v, dict) else v
    p = workdir / "t.yaml"
    p.write_text(yaml.safe_dump(d))
    return p


def test_flow_small_run_and_reproducible(workdir, capsys):
    cfg = _cfg(workdir)
    assert main(["run", str(cfg), "-o", "a", "-q"]) == 0
    # a corrupt checkpoint is retrained (deterministically: same results), not fatal
    ckpts = list((workdir / "cache" / "dnn").glob("*.pt"))
    assert len(ckpts) == 1
    ckpts[0].write_bytes(b"\x00garbage")
    assert main(["run", str(cfg), "-o", "b", "-q"]) == 0
    summary = json.loads((workdir / "b/summary.json").read_text())
    assert "unreadable" in json.dumps(summary)
    for f in ("results.json", "report.md", "accuracy_vs_budget.png", "bits_per_layer.png",
              "hessian_traces.png"):
        assert (workdir / "a" / f).read_bytes() == (workdir / "b" / f).read_bytes(), f
    doc = json.loads((workdir / "a/results.json").read_text())
    assert doc["solver_gaps"]["dp_ilp_agree"]
    assert {r["method"] for r in doc["per_seed"][0]["results"]} == {
        "mckp_greedy", "mckp_dp", "ilp", "uniform", "gcpso"}


@pytest.mark.slow
def test_flow_with_mqbench_and_multipoint(workdir, capsys):
    cfg = _cfg(workdir, mqbench={"enabled": True, "n_configs": 20, "generations": 2},
               multipoint={"enabled": True, "bits": 2},
               sensitivity={"kind": "mpqco", "min_probes": 4, "max_probes": 8,
                            "rel_tol": 0.5})
    assert main(["run", str(cfg), "-o", "a", "-q"]) == 0
    doc = json.loads((workdir / "a/results.json").read_text())
    sp = doc["mqbench"]["spearman"]
    assert {"hessian", "fisher", "snip", "plain", "synflow", "ompq", "params", "hawq_omega",
            "mpqco_omega", "evolved"} <= set(sp)
    assert all(len(v) == 3 for v in sp.values())
    assert doc["multipoint"]["rows"]
    report = (workdir / "a/report.md").read_text()
    assert "Spearman" in report and "Multipoint" in report


BAD_FACTORY = '''
from collections import OrderedDict
from torch import nn
def make():
    return nn.Sequential(OrderedDict([("conv", nn.Conv2d(1, 4, 3)),
                                      ("bn", nn.BatchNorm2d(4)), ("flat", nn.Flatten()),
                                      ("fc", nn.Linear(144, 10))]))
'''


@pytest.mark.parametrize(("patch", "match"), [
    ({"allocation": {"w_bits": [0, 3]}}, r"allocation\.w_bits: every width must be "
                                         r"between 1 and 16 bits, not 0"),
    ({"allocation": {"w_bits": [2, 17]}}, r"allocation\.w_bits: .*between 1 and 16 bits, "
                                          r"not 17"),
    ({"allocation": {"a_bits": [1, 8]}}, r"allocation\.a_bits: .*between 2 and 16 bits, "
                                         r"not 1"),
    ({"allocation": {"budgets": {"weight_bytes": 100.0}}},
     r"allocation\.budgets\.weight_bytes: must be at least the all-minimum-bits cost "
     r"\d+\.?\d* \(bytes\), not 100"),
    ({"allocation": {"ties": [["conv2", "nope"]]}}, r"allocation\.ties\[0\]\[1\]: must "
                                                    r"name a weight layer"),
    ({"model": {"factory": "bad_model.py:make"}}, r"model\.factory: layer 'bn' is a "
                                                  r"BatchNorm2d"),
    ({"model": {"arch": "digits_mlp"}, "mqbench": {"enabled": True, "n_configs": 100}},
     r"mqbench\.n_configs: must not exceed the 27 distinct"),
])
def test_bad_input_exit_2_nothing_written(workdir, capsys, patch, match):
    (workdir / "bad_model.py").write_text(BAD_FACTORY)
    cfg = _cfg(workdir, **patch)
    assert main(["run", str(cfg), "-o", "o", "-q"]) == 2
    err = capsys.readouterr().err
    assert __import__("re").search(match, err), err
    assert not (workdir / "o").exists()
    assert not (workdir / "cache" / "dnn").exists()  # nothing trained either
