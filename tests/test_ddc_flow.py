"""The DDC flow: config checks (exit 2, nothing written), allocation determinism, and a
small end-to-end run (RTL == model, HIL, budget, lint)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from bitsmith.cli import main

SMALL = """\
kind: ddc
seed: 1
adc: {bits: 12, sample_rate_hz: 30720000.0}
carrier_hz: 5000000.0
decimation: {total: 32, cic_stages: 3, cic_diff_delay: 1, halfband_taps: 7, cfir_taps: 15,
             cfir_decimate: 2}
band: {passband_hz: 160000.0, stopband_hz: 330000.0}
allocation: {snr_target_db: 50.0, n_particles: 10, n_iter: 8, bisection_steps: 3}
channel: {samples: 65536, symbol_rate_hz: 192000.0, offset_hz: 20000.0,
          interferer_offset_hz: 1000000.0}
verification: {simulators: [SIMS], verilator_samples: 131072, icarus_samples: 8192}
synthesis: {enabled: false}
"""


def _run(tmp_path, text):
    cfg = tmp_path / "ddc.yaml"
    cfg.write_text(text)
    out = tmp_path / "out"
    return main(["run", str(cfg), "-o", str(out), "-q"]), out


BAD = [
    ("total: 32", "total: 34",
     r"decimation.total: the total decimation must be divisible by the half-band and CFIR "
     r"rate changes \(4\), not 34"),
    ("carrier_hz: 5000000.0", "carrier_hz: 20000000.0",
     r"carrier_hz: the carrier must lie below Nyquist \(1.536e\+07 Hz\), not 2e\+07"),
    ("stopband_hz: 330000.0", "stopband_hz: 100000.0",
     r"band.stopband_hz: the stopband edge must lie above the passband edge"),
    ("bits: 12,", "bits: 63,", r"adc.bits: must be an integer between 2 and 62"),
    ("allocation: {", "allocation: {ranges: {data_bits: [8, 63]}, ",
     r"allocation.ranges.data_bits: data_bits must be at most 62 bits, not 63"),
    ("halfband_taps: 7", "halfband_taps: 9",
     r"decimation.halfband_taps: a half-band has 4k\+3 taps"),
]


@pytest.mark.parametrize("old, new, message", BAD)
def test_bad_config_exits_2_and_writes_nothing(tmp_path, capsys, old, new, message):
    text = SMALL.replace("SIMS", "icarus")
    assert old in text
    code, out = _run(tmp_path, text.replace(old, new))
    err = capsys.readouterr().err
    assert code == 2, err
    assert re.search(message, err), err
    assert not out.exists()


def _problem():
    from bitsmith.config import load_yaml
    from bitsmith.flows.ddc import DdcProblem, design_of, signal_of
    from bitsmith.flows.ddc._config import DdcConfig

    cfg = DdcConfig(**load_yaml("configs/receiver/ddc.yaml")).model_dump()
    return cfg, DdcProblem(design_of(cfg), signal_of(cfg), cfg["allocation"]["ranges"])


def test_default_config_loads_and_baseline_uses_hogenauer():
    cfg, p = _problem()
    from bitsmith.flows.ddc import baseline
    from bitsmith.sim.ddc import ddc_spec

    b = baseline(p, cfg["allocation"]["snr_target_db"], None)["best"]
    assert b["snr_db"] >= 60
    spec = ddc_spec(p.design, p.widths(b["x"]))
    from bitsmith.sim.ddc import CicSpec

    c = spec.cic
    assert c.discards == CicSpec(c.n_stages, c.decimation, c.diff_delay, c.input_bits,
                                 c.output_bits).discards


def test_same_seed_same_allocation():
    from bitsmith import search

    _, p = _problem()
    runs = [search.minimize(p.problem(2600), method="gcpso", seed=3, n_particles=8, n_iter=5)
            for _ in range(2)]
    assert np.array_equal(runs[0].x, runs[1].x) and runs[0].error == runs[1].error


@pytest.mark.slow
def test_small_ddc_end_to_end(tmp_path):
    code, out = _run(tmp_path, SMALL.replace("SIMS", "verilator, icarus"))
    s = json.loads((out / "summary.json").read_text())
    assert code == 0, s.get("checks")
    for sim in ("verilator", "icarus"):
        v = s["verification"][sim]
        assert v["mismatches"] == 0 and v["samples_checked"] > 0
    assert s["verification"]["verilator"]["samples_checked"] == 131072 // 32
    h = s["hil"]
    assert h["rtl_equals_model"] and h["rtl"]["evm_percent"] == h["model"]["evm_percent"]
    assert h["rtl"]["ber"] == 0.0
    assert s["lint"]["warnings"] == 0
    assert s["snr"]["measured_db"] >= 50 - 0.5
    # the budget's predicted total is within 3 dB of the measured one
    assert abs(s["snr"]["measured_db"] - s["snr"]["predicted_db"]) < 3
    for name in ("report.md", "spectrum.png", "snr_budget.png", "rtl/ddc.v", "rtl/spec.json",
                 "model_outputs.npz"):
        assert (out / name).is_file(), name
    z = np.load(out / "model_outputs.npz")
    assert len(z["out_i"]) == 65536 // 32
