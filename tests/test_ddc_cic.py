"""CIC decimator: Hogenauer pruning, bit-true model vs independent references, RTL == model."""

from __future__ import annotations

import numpy as np
import pytest

from bitsmith.sim.ddc import (
    CicSpec,
    cic_decimate,
    cic_noise,
    cic_reference,
    cic_variance_gains,
    hogenauer_discards,
)


def test_hogenauer_check_from_hardware_facts():
    # Hogenauer 1981 / HARDWARE_FACTS.md: N=4, R=16, M=1, 18 bits in and out (Hermes-Lite 2)
    s = CicSpec(4, 16, 1, 18, 18)
    assert s.b_max == 34
    assert s.widths == (33, 30, 27, 24, 23, 22, 21, 20)
    assert s.output_discard == 16
    assert hogenauer_discards(4, 16, 1, 18, 18) == (1, 4, 7, 10, 11, 12, 13, 14)


def test_variance_gains_match_impulse_responses():
    # F_j^2 from an independent route: the impulse response of a unit impulse injected at
    # stage j of a full-precision CIC (combs: binomial), here by direct convolution
    N, R, M = 3, 5, 1
    f2 = cic_variance_gains(N, R, M)
    box = np.ones(R * M)
    h1 = np.ones(1)
    for _ in range(N):
        h1 = np.convolve(h1, box)
    assert f2[0] == int(np.sum(h1 ** 2))
    assert f2[N] == 20 and f2[2 * N - 1] == 2 and f2[2 * N] == 1  # C(3,k)^2 sum = 20


@pytest.mark.parametrize("N,R,M,bin_,bout", [(4, 16, 1, 18, 18), (3, 5, 2, 12, 14),
                                             (5, 8, 1, 10, 20), (2, 3, 1, 8, 8)])
def test_model_equals_naive_loop(N, R, M, bin_, bout):
    s = CicSpec(N, R, M, bin_, bout)
    rng = np.random.default_rng(N * 100 + R)
    x = rng.integers(-(1 << (bin_ - 1)), 1 << (bin_ - 1), 3000)
    assert np.array_equal(cic_decimate(s, x), np.array(cic_reference(s, x)))


@pytest.mark.parametrize("N,R,M", [(4, 16, 1), (3, 7, 2), (5, 4, 1)])
def test_full_precision_equals_boxcar_convolution(N, R, M):
    # no pruning: the CIC is (RM-boxcar)^N then decimation, with the model's N-1 sample delay
    bin_ = 12
    s = CicSpec(N, R, M, bin_, CicSpec(N, R, M, bin_, bin_).b_max, discards=(0,) * (2 * N))
    rng = np.random.default_rng(7)
    x = rng.integers(-(1 << (bin_ - 1)), 1 << (bin_ - 1), 4000)
    h = np.ones(1, dtype=np.int64)
    for _ in range(N):
        h = np.convolve(h, np.ones(R * M, dtype=np.int64))
    y = np.convolve(np.concatenate([np.zeros(N - 1, dtype=np.int64), x]), h)
    ref = y[R - 1:len(x)][::R][: len(x) // R]
    assert np.array_equal(cic_decimate(s, x), ref)


def test_full_scale_constant_reaches_gain_and_wraps_correctly():
    s = CicSpec(4, 16, 1, 18, 34, discards=(0,) * 8)
    for v in ((1 << 17) - 1, -(1 << 17)):
        y = cic_decimate(s, np.full(400, v))
        assert y[-1] == v * 16 ** 4  # exact despite the integrators wrapping many times


def test_pruning_noise_prediction_matches_measurement():
    s = CicSpec(4, 16, 1, 18, 18)
    full = CicSpec(4, 16, 1, 18, 34, discards=(0,) * 8)
    rng = np.random.default_rng(3)
    x = rng.integers(-(1 << 17), 1 << 17, 400_000)
    err = cic_decimate(s, x) * 2.0 ** s.output_discard - cic_decimate(full, x)
    pred = cic_noise(s)
    meas = float(np.mean(err ** 2))
    assert abs(10 * np.log10(meas / pred["total_mse"])) < 0.5
    assert abs(np.mean(err) - pred["mean"]) < 0.1 * abs(pred["mean"])


def test_spec_errors():
    with pytest.raises(ValueError, match="decimation must be at least 2, not 1"):
        CicSpec(4, 1, 1, 18, 18)
    with pytest.raises(ValueError, match="non-decreasing"):
        CicSpec(2, 4, 1, 8, 8, discards=(2, 1, 2, 2))
    with pytest.raises(ValueError, match="more than the 62-bit limit"):
        CicSpec(8, 1024, 1, 18, 18)


# -- RTL ------------------------------------------------------------------------------------

RTL_SPECS = [CicSpec(4, 16, 1, 18, 18), CicSpec(3, 5, 2, 12, 14)]


@pytest.fixture(scope="module")
def cic_verilog():
    from bitsmith.rtl.ddc import CicDecimator, component_verilog

    return {s: component_verilog(CicDecimator(s), "cic") for s in RTL_SPECS}


def _stimulus(s: CicSpec, n: int, seed: int) -> np.ndarray:
    lo, hi = -(1 << (s.input_bits - 1)), (1 << (s.input_bits - 1)) - 1
    rng = np.random.default_rng(seed)
    return np.concatenate([
        np.full(40 * s.decimation, hi), np.full(40 * s.decimation, lo),  # full-scale constants
        np.where(np.arange(2000) % (2 * s.decimation) < s.decimation, hi, lo),  # sign runs
        np.where(rng.random(2000) < 0.5, hi, lo),  # random signs
        rng.integers(lo, hi + 1, n),
    ])


@pytest.mark.parametrize("simulator", ["verilator", "icarus"])
@pytest.mark.parametrize("idx", range(len(RTL_SPECS)))
def test_rtl_equals_model(cic_verilog, require_simulator, simulator, idx):
    from bitsmith.sim.hdl import StreamPorts, random_gaps, run_batch

    require_simulator(simulator)
    s = RTL_SPECS[idx]
    x = _stimulus(s, 40_000 if simulator == "verilator" else 8_000, idx)
    rng = np.random.default_rng(idx)
    r = run_batch(cic_verilog[s], StreamPorts("cic", s.input_bits, s.output_bits), x,
                  simulator, gaps=random_gaps(len(x), rng), n_expected=len(x) // s.decimation)
    ref = cic_decimate(s, x)
    assert not r.timed_out
    assert len(r.y) == len(ref)
    assert np.array_equal(r.y, ref)
    # the decimated strobe: one output per R inputs
    assert np.all(np.diff(r.out_cycles) >= s.decimation)
