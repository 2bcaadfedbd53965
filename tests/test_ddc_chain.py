"""DDC chain: spec checks, model stages vs independent references, composed RTL == model."""

from __future__ import annotations

import numpy as np
import pytest

from bitsmith.sim.ddc import (
    DdcDesign,
    DdcWidths,
    cic_decimate,
    cic_response,
    ddc_model,
    ddc_spec,
    halfband_taps_float,
    mix,
    unpack_pair,
)
from bitsmith.sim.fir import fir_filter

DESIGN = DdcDesign(fs=61.44e6, f_if=10.7e6, adc_bits=14, cic_stages=4, cic_decimation=16,
                   cic_diff_delay=1, halfband_taps=11, cfir_taps=31, cfir_decimate=2,
                   passband=170e3, stopband=350e3)
WIDTHS = DdcWidths(addr_bits=10, amp_bits=16, mixer_bits=18, cic_extra=(0,) * 8,
                   cic_out_bits=18, hb_coef_bits=16, hb_out_bits=18, cfir_coef_bits=16,
                   out_bits=16)


@pytest.fixture(scope="module")
def spec():
    return ddc_spec(DESIGN, WIDTHS)


def test_stages_compose(spec):
    rng = np.random.default_rng(0)
    x = rng.integers(-(1 << 13), 1 << 13, 64 * 300)
    out = ddc_model(spec, x)
    # mixer: round half up of the exact product (Python ints), then saturation
    s = spec.product_bits - spec.mixer_bits
    p = [int(a) * int(b) for a, b in zip(x[:500], out["cos"][:500], strict=True)]
    ref = [min(max((v + (1 << (s - 1))) >> s, -(1 << 17)), (1 << 17) - 1) for v in p]
    assert out["mix_i"][:500].tolist() == ref
    assert np.array_equal(out["cic_q"], cic_decimate(spec.cic, mix(spec, x, out["msin"])))
    assert np.array_equal(out["hb_i"], fir_filter(spec.halfband, out["cic_i"])[::2])
    assert np.array_equal(out["out_q"], fir_filter(spec.cfir, out["hb_q"])[::2])
    assert len(out["out_i"]) == len(x) // 64 == len(x) // spec.decimation


def test_halfband_has_exact_zeros_and_cfir_flattens_the_droop(spec):
    h = np.array(halfband_taps_float(11))
    assert np.all(h[[1, 3, 7, 9]] == 0) and np.all(spec.halfband.coefficients[1::2][:2] == (0, 0))
    from scipy.signal import freqz

    f = np.linspace(0, DESIGN.passband, 50)
    _, H = freqz(spec.cfir.values, worN=f, fs=DESIGN.cfir_rate)
    total = np.abs(H) * cic_response(f, DESIGN.fs, 4, 16, 1)
    assert np.max(np.abs(20 * np.log10(total))) < 0.2  # passband ripple (dB), CIC + CFIR


def test_tone_comes_out_at_baseband(spec):
    # a tone at IF + 50 kHz appears at +50 kHz on I + jQ (down-conversion by e^-jwn)
    n = 64 * 2048
    t = np.arange(n) / DESIGN.fs
    x = np.round(0.5 * 8191 * np.cos(2 * np.pi * (DESIGN.f_if + 50e3) * t)).astype(np.int64)
    out = ddc_model(spec, x)
    z = (out["out_i"] + 1j * out["out_q"])[256:]
    f = np.fft.fftfreq(len(z), 1 / DESIGN.output_rate)
    peak = f[np.argmax(np.abs(np.fft.fft(z * np.hanning(len(z)))))]
    assert abs(peak - 50e3) < 2 * DESIGN.output_rate / len(z)
    amp = np.sqrt(np.mean(np.abs(z) ** 2)) / 2 ** 15
    assert abs(amp - 0.25) < 0.01  # a real tone of 0.5 full scale: 0.25 after mixing


def test_spec_errors(spec):
    from dataclasses import replace

    with pytest.raises(ValueError, match="CIC input_bits must equal mixer_bits"):
        replace(spec, mixer_bits=17)
    with pytest.raises(ValueError, match="cfir_decimate must be 1 or 2, not 3"):
        replace(spec, cfir_decimate=3)


@pytest.fixture(scope="module")
def chain_verilog(spec):
    from bitsmith.rtl.ddc import DdcChain, component_verilog

    return component_verilog(DdcChain(spec), "ddc")


def _adc_stimulus(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    lo, hi = -(1 << 13), (1 << 13) - 1
    k = np.arange(n)
    tone = 0.6 * hi * np.cos(2 * np.pi * (DESIGN.f_if + 40e3) / DESIGN.fs * k)
    x = np.clip(np.round(tone + rng.normal(0, 800, n)), lo, hi).astype(np.int64)
    x[:20_000] = np.where(rng.random(20_000) < 0.5, hi, lo)  # full-scale random signs
    x[20_000:30_000] = hi
    return x


@pytest.mark.slow
@pytest.mark.parametrize("simulator,n", [("verilator", 1_048_576), ("icarus", 40_000)])
def test_rtl_equals_model(spec, chain_verilog, require_simulator, simulator, n):
    from bitsmith.sim.hdl import StreamPorts, random_gaps, run_batch

    require_simulator(simulator)
    x = _adc_stimulus(n, 1)
    gaps = random_gaps(n, np.random.default_rng(2), p_idle=0.1) if simulator == "icarus" \
        else None
    B = spec.output_bits
    r = run_batch(chain_verilog, StreamPorts("ddc", spec.adc_bits, 2 * B, out_signed=False),
                  x, simulator, gaps=gaps, n_expected=n // spec.decimation, timeout=1000)
    ref = ddc_model(spec, x)
    i, q = unpack_pair(r.y, B)
    assert not r.timed_out
    assert len(i) == len(ref["out_i"]) == n // 64
    assert np.array_equal(i, ref["out_i"]) and np.array_equal(q, ref["out_q"])
