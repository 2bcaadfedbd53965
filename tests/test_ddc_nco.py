"""NCO: table and phase model vs float references, SFDR vs prediction, RTL == model."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bitsmith.sim.ddc import (
    NcoSpec,
    lfsr_sequence,
    measure_sfdr,
    nco_model,
    nco_predicted,
    nco_table,
    unpack_pair,
)


def test_table_is_rounded_quarter_sine():
    s = NcoSpec(16, 1, 6, 12)
    t = np.array(nco_table(s))
    a = (1 << 11) - 1
    ref = np.round(a * np.sin(np.pi / 2 * (np.arange(64) + 0.5) / 64))
    assert np.array_equal(t, ref)


def test_model_equals_float_sine_of_truncated_phase():
    # an independent route: numpy sin of the P-bit phase (+ half step), rounded
    s = NcoSpec(20, 123_457, 8, 16)
    cos, sin, p = nco_model(s, 5000)
    n = np.arange(5000)
    ptrue = ((n * s.fcw) % (1 << 20)) >> (20 - 10)
    assert np.array_equal(p, ptrue)
    ang = 2 * np.pi * (ptrue + 0.5) / 1024
    a = (1 << 15) - 1
    assert np.array_equal(sin, np.round(a * np.sin(ang)))
    assert np.array_equal(cos, np.round(a * np.cos(ang)))


@pytest.mark.parametrize("P_addr,fcw", [(6, 1237), (8, 4321), (6, 1240), (9, 3)])
def test_sfdr_within_1db_of_prediction(P_addr, fcw):
    # phase-truncation spur ~ -6.02 P dBc (Nicholas & Samueli 1987); table wide enough that
    # amplitude rounding does not matter; one whole period (coherent FFT)
    s = NcoSpec(16, fcw, P_addr, P_addr + 12)
    cos, sin, _ = nco_model(s, 1 << 16)
    pred = nco_predicted(s)["sfdr_db"]
    assert abs(pred - 6.02 * (P_addr + 2)) < 0.1
    assert abs(measure_sfdr(cos, sin) - pred) < 1.0


def test_amplitude_limited_sfdr_does_not_exceed_bound():
    s = NcoSpec(16, 1237, 12, 8)  # 8-bit table: amplitude rounding dominates
    cos, sin, _ = nco_model(s, 1 << 16)
    assert measure_sfdr(cos, sin) >= nco_predicted(s)["sfdr_db"] - 1.0  # bound holds


def test_dither_spreads_the_truncation_spur():
    plain = NcoSpec(16, 1237, 6, 18)
    dith = NcoSpec(16, 1237, 6, 18, dither_bits=8)
    a = measure_sfdr(*nco_model(plain, 1 << 16)[:2])
    b = measure_sfdr(*nco_model(dith, 1 << 16)[:2])
    assert b > a + 20  # measured here: 48.1 -> 76.2 dB


def test_lfsr_is_the_galois_recurrence():
    seq = lfsr_sequence(5)
    s = int(seq[0])
    for k in range(1, 5):
        s = (s >> 1) ^ (0x80200003 if s & 1 else 0)
        assert seq[k] == s


def test_spec_errors():
    with pytest.raises(ValueError, match="addr_bits \\+ 2 must be at most phase_bits"):
        NcoSpec(8, 1, 7, 12)
    with pytest.raises(ValueError, match="fcw must be in"):
        NcoSpec(8, 256, 4, 12)


NCO_SPECS = [NcoSpec(16, 1237, 6, 18), NcoSpec(24, 1_234_567, 8, 14, dither_bits=10)]


@pytest.fixture(scope="module")
def nco_verilog():
    from bitsmith.rtl.ddc import NcoStream, component_verilog

    return {s: component_verilog(NcoStream(s), "nco") for s in NCO_SPECS}


@pytest.mark.parametrize("simulator", ["verilator", "icarus"])
@pytest.mark.parametrize("idx", range(len(NCO_SPECS)))
def test_rtl_equals_model(nco_verilog, require_simulator, simulator, idx):
    from bitsmith.sim.hdl import StreamPorts, random_gaps, run_batch

    require_simulator(simulator)
    s = NCO_SPECS[idx]
    n = (1 << 16) if simulator == "verilator" else 6000
    rng = np.random.default_rng(idx)
    r = run_batch(nco_verilog[s], StreamPorts("nco", 1, 2 * s.amp_bits, out_signed=False),
                  np.zeros(n, dtype=np.int64), simulator, gaps=random_gaps(n, rng))
    cos, sin = unpack_pair(r.y, s.amp_bits)
    rc, rs, _ = nco_model(s, n)
    assert np.array_equal(cos, rc) and np.array_equal(sin, rs)
    if simulator == "verilator" and not s.dither_bits:
        # SFDR measured on the RTL's own samples, against the prediction
        assert abs(measure_sfdr(cos, sin) - nco_predicted(s)["sfdr_db"]) < 1.0
        assert math.isclose(nco_predicted(s)["sfdr_db"], 6.02 * 8, abs_tol=0.1)
