"""The receiver flow through the CLI: a small run, reproducibility, bad input, dask."""

import json

import pytest

from bitsmith.cli import main

SMALL = """\
kind: receiver
seed: 2
system: {n_rx: 8, n_users: 2, modulation: qpsk, snr_db: [0.0, 5.0], design_snr_db: 5.0}
budget: {values: [1.5, 3.0]}
search: {max_evaluations: 200, n_particles: 10, n_seeds: 2}
monte_carlo: {min_errors: 20, max_batches: 2, channels_per_batch: 4, symbols_per_block: 64}
small_instance: {n_rx: 4, n_users: 2}
"""


def _write(tmp_path, text, name="rx.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_receiver_run_methods_side_by_side(tmp_path):
    out = tmp_path / "out"
    assert main(["run", str(_write(tmp_path, SMALL)), "-o", str(out), "-q"]) == 0
    res = json.loads((out / "results.json").read_text())
    for piece in res["pieces"]:
        assert piece["methods"]["gcpso"]["n_infeasible"] == 0
        for m in ("gcpso", "uniform", "greedy", "mixed"):
            r = piece["methods"][m]
            assert r["feasible"] and r["cost"] <= piece["budget"]
            assert r["sum_rate"] <= piece["rate_unquantized"]
            assert sorted(r["bits_by_gain"]) == sorted(r["bits"])
        small = piece["small"]
        for m, r in small["methods"].items():
            if r["feasible"]:  # no heuristic beats the exact optimum
                assert r["gap"] >= -1e-9, m
    summary = res["summary"]["budgets"]
    assert {"gcpso-ppso", "gcpso-uniform"} <= set(summary[0]["paired"])
    names = {p.name for p in out.iterdir()}
    assert {"report.md", "results.json", "summary.json", "rate_vs_budget.png",
            "ber_vs_budget.png", "ber_vs_snr.png", "allocation.png",
            "convergence.png"} <= names
    report = (out / "report.md").read_text()
    assert "gap to optimum" in report and "infeasible" in report


def test_receiver_same_seed_same_bytes(tmp_path):
    cfg = _write(tmp_path, SMALL.replace("n_seeds: 2", "n_seeds: 1"))
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["run", str(cfg), "-o", str(a), "-q"]) == 0
    assert main(["run", str(cfg), "-o", str(b), "-q"]) == 0
    for f in ("results.json", "report.md", "rate_vs_budget.png", "allocation.png"):
        assert (a / f).read_bytes() == (b / f).read_bytes(), f
    assert main(["run", str(cfg), "-o", str(b), "-q", "--seed", "3"]) == 0
    assert (a / "results.json").read_bytes() != (b / "results.json").read_bytes()


@pytest.mark.parametrize("system, adc", [
    ({"channel": "exp_corr", "correlation": 0.7, "modulation": "qpsk",
      "quantizer": "lloyd_max"}, {"cost_model": "total_bits", "max_bits": 6}),
    ({"modulation": "16qam"}, {"min_bits": 2, "fom_fj": 100.0}),
])
def test_receiver_variants_run(system, adc):
    from bitsmith.config import validate
    from bitsmith.flows.receiver import ReceiverConfig, run_piece

    cfg = validate(ReceiverConfig, {
        "kind": "receiver", "system": {"n_rx": 8, "n_users": 3, "snr_db": [5.0], **system},
        "adc": adc, "budget": {"values": [float(adc.get("min_bits", 1)) + 0.5]},
        "search": {"max_evaluations": 100, "n_particles": 10, "n_seeds": 1},
        "monte_carlo": {"max_batches": 1, "channels_per_batch": 2, "symbols_per_block": 32},
        "small_instance": {"n_rx": 4, "n_users": 2}}).model_dump()
    piece = run_piece(cfg, 0, 0)
    for m, r in piece["methods"].items():
        if m != "ppso":
            assert r["feasible"] and r["cost"] <= piece["budget"], m
            assert min(r["bits"]) >= adc.get("min_bits", 1)
            assert r["ber"][0]["bussgang"]["bits"] > 0
    assert piece["small"]["methods"]["gcpso"]["gap"] >= -1e-9


@pytest.mark.parametrize("patch, message", [
    ("system: {n_rx: 4, n_users: 8}",
     r"system.n_users: n_users must not exceed n_rx \(4\).*not 8"),
    ("adc: {max_bits: 11}", r"adc.max_bits: must be an integer between 1 and 10, not 11"),
    ("adc: {min_bits: 0}", r"adc.min_bits: must be an integer between 1 and 10, not 0"),
    ("budget: {values: [2.0, 0.5]}",
     r"budget.values\[1\]: every budget must be at least the all-1-bit consumption "
     r"1 uniform bits, not 0.5"),
    ("budget: {unit: native, values: [50.0]}",
     r"budget.values\[0\]: every budget must be at least the all-1-bit consumption "
     r"63.232 mW, not 50"),
    ("system: {snr_db: []}", r"system.snr_db: must have at least 1"),
    ("system: {snr_db: [0.0, .nan]}", r"system.snr_db\[1\]: must be a finite number, not nan"),
    ("system: {snr_db: [.inf]}", r"system.snr_db\[0\]: must be a finite number, not inf"),
])
def test_receiver_bad_input_exit_2_nothing_written(tmp_path, capsys, patch, message):
    cfg = _write(tmp_path, f"kind: receiver\n{patch}\n")
    out = tmp_path / "out"
    assert main(["run", str(cfg), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert str(cfg) in err
    import re

    assert re.search(message, err), err
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rx.yaml"]


@pytest.mark.slow
def test_receiver_two_worker_cluster_identical(tmp_path):
    pytest.importorskip("dask.distributed")
    cfg = _write(tmp_path, SMALL)
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["run", str(cfg), "-o", str(a), "-q"]) == 0
    assert main(["run", str(cfg), "-o", str(b), "-q", "--scheduler", "local:2"]) == 0
    for f in ("results.json", "report.md", "rate_vs_budget.png", "ber_vs_budget.png"):
        assert (a / f).read_bytes() == (b / f).read_bytes(), f
