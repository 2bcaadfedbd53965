"""Stage-by-stage error budget of the DDC: a float reference chain, the prediction of every
quantization point's output noise, and its measurement (that point alone quantized).

Every figure is a mean squared error per output channel (I or Q, fraction of full scale
squared) against :func:`float_reference`, the same chain in float arithmetic with the
designed (unquantized) filters and an exact oscillator, fed the analog (pre-ADC) signal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ._chain import DdcSpec, ddc_model
from ._cic import CicSpec
from ._design import (
    DdcDesign,
    DdcWidths,
    cfir_taps_float,
    cic_gain_correction,
    ddc_spec,
    halfband_taps_float,
)

__all__ = [
    "POINT_LABELS",
    "Component",
    "budget_points",
    "float_reference",
    "partial_spec",
    "measure_budget",
    "output_complex",
    "predict_budget",
    "wide_widths",
]

#: Widths of the "wide" chain every isolated measurement starts from (bits).
WIDE = {"adc": 28, "addr": 14, "amp": 28, "mixer": 30, "cic_out": 30, "coef": 24, "fir_out": 30}


def wide_widths(design: DdcDesign) -> DdcWidths:
    """Widths at which every quantization point is negligible (the isolation baseline)."""
    return DdcWidths(WIDE["addr"], WIDE["amp"], WIDE["mixer"], (0,) * (2 * design.cic_stages),
                     WIDE["cic_out"], WIDE["coef"], WIDE["fir_out"], WIDE["coef"],
                     WIDE["fir_out"])


def budget_points(design: DdcDesign) -> tuple[str, ...]:
    """Names of the quantization points, in chain order."""
    N = design.cic_stages
    pts = ["adc", "nco_phase", "nco_amp", "mixer"]
    pts += [f"cic_int{j + 1}" for j in range(N)] + [f"cic_comb{j + 1}" for j in range(N)]
    pts.append("cic_out")
    if design.halfband_taps:
        pts += ["hb_coef", "hb_out"]
    if design.cfir_taps:
        pts += ["cfir_coef", "out"]
    return tuple(pts)


POINT_LABELS = {"adc": "ADC", "nco_phase": "NCO phase (table address)",
                "nco_amp": "NCO amplitude", "mixer": "mixer output", "cic_out": "CIC output",
                "hb_coef": "half-band coefficients", "hb_out": "half-band output",
                "cfir_coef": "CFIR coefficients", "out": "final output"}


def partial_spec(design: DdcDesign, widths: DdcWidths, quantized) -> tuple[DdcSpec, int]:
    """The chain with the points in ``quantized`` at ``widths`` and every other point wide.

    Returns the spec and the ADC bits to feed it. A CIC register that is not quantized keeps
    the LSB of the register before it (it adds no truncation of its own).
    """
    from ._design import _fir
    from ._nco import NcoSpec

    q = set(quantized)
    unknown = q - set(budget_points(design))
    if unknown:
        raise ValueError(f"quantization points must be among {budget_points(design)}, "
                         f"not {sorted(unknown)}")
    w = widths
    adc = design.adc_bits if "adc" in q else WIDE["adc"]
    nco = NcoSpec(design.phase_bits, design.fcw,
                  w.addr_bits if "nco_phase" in q else WIDE["addr"],
                  w.amp_bits if "nco_amp" in q else WIDE["amp"],
                  w.dither_bits if "nco_phase" in q else 0)
    # wide: the whole product when it is narrower than WIDE (exact, no rounding)
    mixer = w.mixer_bits if "mixer" in q else min(WIDE["mixer"], adc + nco.amp_bits - 1)
    alloc = ddc_spec(design, widths).cic
    shift = mixer - alloc.input_bits
    N = design.cic_stages
    names = [f"cic_int{j + 1}" for j in range(N)] + [f"cic_comb{j + 1}" for j in range(N)]
    probe = CicSpec(N, design.cic_decimation, design.cic_diff_delay, mixer, mixer,
                    (0,) * (2 * N))
    wide_out = max(0, probe.b_max - WIDE["cic_out"])
    d, prev = [], 0
    for j, name in enumerate(names):
        if name in q:
            prev = max(prev, alloc.discards[j] + shift, 0)
        d.append(prev)
    out_disc = alloc.output_discard + shift if "cic_out" in q else wide_out
    out_disc = max(out_disc, prev)
    cic = CicSpec(N, design.cic_decimation, design.cic_diff_delay, mixer,
                  probe.b_max - out_disc, tuple(d))
    bits = cic.output_bits
    hb = cf = None
    if design.halfband_taps:
        cb = w.hb_coef_bits if "hb_coef" in q else WIDE["coef"]
        ob = w.hb_out_bits if "hb_out" in q else WIDE["fir_out"]
        hb = _fir(halfband_taps_float(design.halfband_taps), cb, bits, ob)
        bits = ob
    if design.cfir_taps:
        cb = w.cfir_coef_bits if "cfir_coef" in q else WIDE["coef"]
        ob = w.out_bits if "out" in q else WIDE["fir_out"]
        cf = _fir(cfir_taps_float(design, cic_gain_correction(design)), cb, bits, ob)
    return DdcSpec(adc, nco, mixer, cic, hb, cf, design.cfir_decimate if cf else 1), adc


def output_complex(spec: DdcSpec, out: dict) -> np.ndarray:
    """The model's output stream as complex fractions of full scale."""
    s = 2.0 ** -(spec.output_bits - 1)
    return (out["out_i"] + 1j * out["out_q"]) * s


def float_reference(design: DdcDesign, analog) -> np.ndarray:
    """The chain in float: exact LO, designed filters, same delays and decimation phases."""
    x = np.asarray(analog, dtype=float)
    n = np.arange(len(x))
    ph = 2 * np.pi * ((n * design.fcw) % (1 << design.phase_bits)) / (1 << design.phase_bits)
    # the model's LO is sin/cos of the truncated phase + half a table step; the exact LO is
    # the untruncated phase (its mean error is zero)
    z = x * np.exp(-1j * ph)
    N, R, M = design.cic_stages, design.cic_decimation, design.cic_diff_delay
    h = np.ones(1)
    for _ in range(N):
        h = np.convolve(h, np.ones(R * M))
    h /= 2.0 ** math.ceil(math.log2((R * M) ** N) - 1e-12)
    zp = np.concatenate([np.zeros(N - 1), z])
    y = _lfilter(h, zp)[: len(x)][R - 1::R][: len(x) // R]
    if design.halfband_taps:
        y = _lfilter(np.array(halfband_taps_float(design.halfband_taps)), y)[::2]
    if design.cfir_taps:
        y = _lfilter(np.array(cfir_taps_float(design, cic_gain_correction(design))),
                     y)[::design.cfir_decimate]
    return y


def _lfilter(h, x):
    from scipy.signal import oaconvolve

    return oaconvolve(x, h)[: len(x)]


def _skip(design: DdcDesign) -> int:
    return 8 + (design.cfir_taps + design.halfband_taps) // 2


def measure_budget(design: DdcDesign, widths: DdcWidths, analog, adc_of) -> dict:
    """Measured MSE per channel that each point adds, in chain order, and the totals.

    Point k's figure is the MSE of the chain with points 1..k quantized minus that with
    points 1..k-1 (a telescoping sum: the figures add up to the whole chain's MSE less the
    wide chain's; a point far below the others can come out negative, within the noise).
    ``adc_of(bits)`` gives the ADC record at ``bits`` for the same analog signal.
    """
    ref = float_reference(design, analog)
    k = _skip(design)

    def mse(q):
        spec, bits = partial_spec(design, widths, q)
        y = output_complex(spec, ddc_model(spec, adc_of(bits)))
        return float(np.mean(np.abs((y - ref)[k:]) ** 2) / 2)

    pts = budget_points(design)
    wide = mse(())
    prev, per = wide, {}
    for j, p in enumerate(pts):
        cur = mse(pts[: j + 1])
        per[p] = cur - prev
        prev = cur
    return {"points": per, "total": prev, "wide": wide,
            "signal": float(np.mean(np.abs(ref[k:]) ** 2) / 2)}


@dataclass(frozen=True)
class Component:
    """A spectral component at the ADC: ``power`` (fraction^2) at ``freq`` (Hz) offset from
    the IF, spread over +-``half_band`` (Hz; 0 for a tone)."""

    freq: float
    power: float
    half_band: float = 0.0


def _h_eq(design: DdcDesign, hb=None, cfir=None) -> tuple[np.ndarray, np.ndarray]:
    """Equivalent impulse response from the mixer output (ADC rate) to one output phase,
    and the post-CIC filter at the CIC output rate; float designs unless ``hb``/``cfir``
    (coefficient values) are given."""
    N, R, M = design.cic_stages, design.cic_decimation, design.cic_diff_delay
    h = np.ones(1)
    for _ in range(N):
        h = np.convolve(h, np.ones(R * M))
    h /= 2.0 ** math.ceil(math.log2((R * M) ** N) - 1e-12)
    post = np.ones(1)
    up = 1
    if design.halfband_taps:
        post = np.array(hb if hb is not None else halfband_taps_float(design.halfband_taps))
        up = 2
    if design.cfir_taps:
        cf = np.array(cfir if cfir is not None
                      else cfir_taps_float(design, cic_gain_correction(design)))
        u = np.zeros((len(cf) - 1) * up + 1)
        u[::up] = cf
        post = np.convolve(post, u)
    upp = np.zeros((len(post) - 1) * R + 1)
    upp[::R] = post
    return np.convolve(h, upp), post


@lru_cache(maxsize=8)
def _float_filters(design: DdcDesign) -> tuple[np.ndarray, np.ndarray]:
    return _h_eq(design)


def _response(h: np.ndarray, f: np.ndarray, fs: float) -> np.ndarray:
    k = np.arange(len(h))
    return np.exp(-2j * np.pi * np.outer(f, k) / fs) @ h


@lru_cache(maxsize=1024)
def _coef_error(design: DdcDesign, which: str, coef_bits: int, comps: tuple) -> float:
    """Output MSE per channel of one filter's coefficient rounding: each component through
    the difference of the end-to-end responses (quantized minus designed)."""
    from ._design import quantize_taps

    if which == "hb":
        h = halfband_taps_float(design.halfband_taps)
    else:
        h = cfir_taps_float(design, cic_gain_correction(design))
    raw, frac = quantize_taps(h, coef_bits)
    vals = tuple(v * 2.0 ** -frac for v in raw)
    hq, _ = _h_eq(design, **{which: vals})
    hf, _ = _float_filters(design)
    err = 0.0
    for c in comps:
        f = np.linspace(c.freq - c.half_band, c.freq + c.half_band, 33) if c.half_band \
            else np.array([c.freq])
        d = _response(hq, f, design.fs) - _response(hf, f, design.fs)
        err += c.power / 4 * float(np.mean(np.abs(d) ** 2))  # per channel: P/4 after mixing
    return err


@lru_cache(maxsize=8)
def _cic_stage_gains(design: DdcDesign) -> tuple[float, ...]:
    """Noise gain from each CIC register (2N) and the output register to the chain output:
    sum of squares of the register's impulse response through the rest of the CIC and the
    post-CIC filters (input-LSB scale, the CIC's full gain included)."""
    N, R, M = design.cic_stages, design.cic_decimation, design.cic_diff_delay
    _, post = _float_filters(design)
    up = np.zeros((len(post) - 1) * R + 1)
    up[::R] = post
    box = np.ones(R * M)
    diff_hi = np.zeros(R * M + 1)
    diff_hi[0], diff_hi[-1] = 1.0, -1.0
    gains = []
    for j in range(1, N + 1):  # integrator j: at the ADC rate
        h = np.ones(1)
        for _ in range(N - j + 1):
            h = np.convolve(h, box)
        for _ in range(j - 1):
            h = np.convolve(h, diff_hi)
        gains.append(float(np.sum(np.convolve(h, up) ** 2)))
    for j in range(N + 1, 2 * N + 2):  # comb j (and the output register): at the CIC rate
        k = 2 * N + 1 - j
        h = np.ones(1)
        for _ in range(k):
            d = np.zeros(M + 1)
            d[0], d[-1] = 1.0, -1.0
            h = np.convolve(h, d)
        gains.append(float(np.sum(np.convolve(h, post) ** 2)))
    return tuple(gains)


_LO_FFT = 1 << 16


@lru_cache(maxsize=64)
def _lo_error_spectrum(design: DdcDesign, addr: int, amp: int, dither: int,
                       amp_ref: int | None) -> np.ndarray:
    """Power per FFT bin of the LO error (table LO minus the exact or the ``amp_ref`` LO),
    normalized so that the bins sum to the mean squared error (fraction^2)."""
    from ._nco import NcoSpec, nco_model

    n = _LO_FFT
    spec = NcoSpec(design.phase_bits, design.fcw, addr, amp, dither)
    c, s, _ = nco_model(spec, n)
    lo = (c - 1j * s) / 2.0 ** (amp - 1)
    if amp_ref is None:
        k = np.arange(n)
        ph = 2 * np.pi * ((k * design.fcw) % (1 << design.phase_bits)) / (1 << design.phase_bits)
        ref = np.exp(-1j * ph)
    else:
        c2, s2, _ = nco_model(NcoSpec(design.phase_bits, design.fcw, addr, amp_ref, dither), n)
        ref = (c2 - 1j * s2) / 2.0 ** (amp_ref - 1)
    E = np.fft.fft(lo - ref) / n
    return np.abs(E) ** 2


@lru_cache(maxsize=8)
def _h2_float(design: DdcDesign) -> tuple[np.ndarray, float]:
    """|H_eq|^2 of the float chain on the LO-error FFT grid, and its energy sum(h_eq^2)."""
    heq, _ = _float_filters(design)
    return np.abs(np.fft.fft(heq, _LO_FFT)) ** 2, float(np.sum(heq ** 2))


@lru_cache(maxsize=4096)
def _lo_term(design: DdcDesign, addr: int, amp: int, dither: int, amp_ref: int | None,
             comps: tuple, white: float) -> float:
    """Output MSE per channel of x * eps (eps: the LO error): each component of x (at
    +-(f_if + f)) shifted by every bin of eps, through |H_eq|^2; white input spreads evenly.
    The sum over bins is one circular cross-correlation (FFT) per error spectrum."""
    E2 = _lo_error_spectrum(design, addr, amp, dither, amp_ref)
    H2, g_eq = _h2_float(design)
    n = len(E2)
    corr = np.real(np.fft.ifft(np.conj(np.fft.fft(E2)) * np.fft.fft(H2)))  # sum_k E[k]H[k+b]
    total = white * float(np.sum(E2)) * g_eq
    for c in comps:
        fs_list = np.linspace(c.freq - c.half_band, c.freq + c.half_band, 9) if c.half_band \
            else np.array([c.freq])
        for sign in (1, -1):
            b = np.round(sign * (design.f_if + fs_list) / design.fs * n).astype(np.int64) % n
            total += c.power / 2 * float(np.mean(corr[b]))
    return total / 2


def predict_budget(design: DdcDesign, widths: DdcWidths, comps, adc_power: float) -> dict:
    """Predicted MSE per channel of each quantization point (white-noise model).

    ``comps`` are the spectral components at the ADC (offsets from the IF) used for the
    coefficient points; ``adc_power`` is the total ADC input power (fraction^2) that the LO's
    errors multiply (reciprocal mixing of the interferer included).
    """
    spec = ddc_spec(design, widths)
    heq, post = _float_filters(design)
    g_eq = float(np.sum(heq ** 2))
    out = {}
    qa = 2.0 ** -(design.adc_bits - 1)
    out["adc"] = qa * qa / 12 / 2 * g_eq
    # LO errors: the exact error sequence of the table (addr alone, then amplitude on top),
    # its spectrum convolved with the input's components and filtered (reciprocal mixing)
    white = max(adc_power - sum(c.power for c in comps), 0.0)
    comps = tuple(comps)
    out["nco_phase"] = _lo_term(design, widths.addr_bits, WIDE["amp"], widths.dither_bits,
                                None, comps, white)
    out["nco_amp"] = _lo_term(design, widths.addr_bits, widths.amp_bits, widths.dither_bits,
                              WIDE["amp"], comps, white)
    qm = 2.0 ** -(widths.mixer_bits - 1)
    out["mixer"] = qm * qm / 12 * g_eq
    stage_gain = _cic_stage_gains(design)
    G2 = 4.0 ** math.ceil(math.log2(spec.cic.gain) - 1e-12)
    scale = qm * qm / G2
    N = design.cic_stages
    names = [f"cic_int{j + 1}" for j in range(N)] + [f"cic_comb{j + 1}" for j in range(N)]
    names.append("cic_out")
    ds = [*spec.cic.discards, spec.cic.output_discard]
    # truncation means add coherently (a DC offset): each point is charged the growth of
    # the squared running offset, as the chain-order measurement charges it
    prev, dc = 0, 0.0
    dc_gain = float(np.sum(post)) * math.sqrt(scale)
    for j, name in enumerate(names):
        # the register's own truncation variance, shaped by the CIC from there on and then
        # by the half-band/CFIR (the CIC's high-pass shaping of inner-stage noise puts most
        # of it where the FIRs stop it: Hogenauer's F_j^2 alone is a bound, not the figure)
        v = (4.0 ** ds[j] - 4.0 ** prev) / 12 * stage_gain[j] * scale
        m = -(2.0 ** ds[j] - 2.0 ** prev) / 2
        if j == 0 or j == len(names) - 1:
            new_dc = dc + m * (spec.cic.gain if j == 0 else 1) * dc_gain
            v += new_dc ** 2 - dc ** 2
            dc = new_dc
        out[name] = v
        prev = ds[j]
    if design.halfband_taps:
        out["hb_coef"] = _coef_error(design, "hb", widths.hb_coef_bits, comps)
        qh = 2.0 ** -(widths.hb_out_bits - 1)
        cf = np.array(spec.cfir.values) if design.cfir_taps else np.ones(1)
        out["hb_out"] = qh * qh / 12 * float(np.sum(cf ** 2))
    if design.cfir_taps:
        out["cfir_coef"] = _coef_error(design, "cfir", widths.cfir_coef_bits, comps)
        qo = 2.0 ** -(widths.out_bits - 1)
        out["out"] = qo * qo / 12
    return {"points": out, "total": sum(out.values())}
