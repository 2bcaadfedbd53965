"""FIR design, coefficient quantization, bit-true model and metrics against naive references."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import scipy.signal

from bitsmith.sim import (
    DesignMethod,
    FirDesign,
    FirModel,
    FirSpec,
    FixedOverflowError,
    Overflow,
    QFormat,
    Rounding,
    Symmetry,
    bands,
    batch_band_metrics,
    batch_response_error,
    coef_significant_bits,
    design_fir,
    expand_widths,
    fir_accumulate,
    fir_filter,
    fir_spec_from_design,
    frequency_response,
    impulse,
    measure_sqnr,
    meets,
    predict_output_noise,
    quantize_coefficient_batch,
    quantize_coefficients,
    random_full_scale,
    response_metrics,
    rounding_error_stats,
    step,
    symmetry,
    to_float,
    variable_map,
    worst_case_error_bound,
    worst_case_input,
)

# -- independent references (Python ints / Fractions, no numpy arithmetic) ----------------


def naive_round_shift(v: int, s: int, rounding: Rounding) -> int:
    """v / 2**s rounded, with Python's exact integers."""
    if s <= 0:
        return v << -s
    exact = Fraction(v, 1 << s)
    fl = math.floor(exact)
    rem = exact - fl
    if rounding is Rounding.TRUNCATE:
        return fl
    if rounding is Rounding.ROUND_TO_ZERO:
        return math.trunc(exact)
    if rounding is Rounding.ROUND_HALF_UP:
        return fl + (rem >= Fraction(1, 2))
    if rem != Fraction(1, 2):
        return fl + (rem > Fraction(1, 2))
    return fl + (fl % 2)  # tie: to even


def naive_fit(q: int, fmt: QFormat, mode: Overflow) -> int | None:
    """q brought into fmt's word; None means 'must raise'."""
    lo, hi = fmt.raw_min, fmt.raw_max
    if lo <= q <= hi:
        return q
    if mode is Overflow.SATURATE:
        return min(max(q, lo), hi)
    if mode is Overflow.WRAP:
        return (q - lo) % (1 << fmt.word_bits) + lo
    return None


def naive_fir(coefs, x, spec: FirSpec):
    """Accumulator and output by the definition, one Python-int sample at a time."""
    L = len(coefs)
    acc = [sum(coefs[k] * int(x[n - k]) for k in range(L) if n - k >= 0) for n in range(len(x))]
    s = spec.acc_format.frac_bits - spec.output_format.frac_bits
    out = [
        naive_fit(naive_round_shift(a, s, spec.rounding), spec.output_format, spec.overflow)
        for a in acc
    ]
    return acc, out


def random_format(rng, w: int) -> QFormat:
    """A signed w-bit format with a random binary point (int or frac part may be negative)."""
    i = int(rng.integers(-6, w + 10))
    return QFormat(i, w - i)


def random_spec(rng, rounding=None, overflow=None, taps=None) -> FirSpec:
    """A random valid FirSpec: taps 1-127, coefficient/input/output widths 2-24 bits."""
    L = int(taps if taps is not None else rng.integers(1, 128))
    widths = rng.integers(2, 25, size=L)
    coefs = []
    for w in widths:
        c = int(rng.integers(-(1 << (int(w) - 1)), 1 << (int(w) - 1)))
        coefs.append(c << int(rng.integers(0, 4)))  # a common LSB adds trailing zeros
    if not any(coefs):
        coefs[0] = 1
    return FirSpec(
        coefficients=tuple(coefs),
        coef_frac=int(rng.integers(-4, 30)),
        coef_widths=tuple(int(w) for w in widths),
        input_format=random_format(rng, int(rng.integers(2, 25))),
        output_format=random_format(rng, int(rng.integers(2, 25))),
        rounding=rounding if rounding is not None else list(Rounding)[rng.integers(4)],
        overflow=overflow if overflow is not None else list(Overflow)[rng.integers(3)],
    )


# -- bit-true model ----------------------------------------------------------------------


@pytest.mark.parametrize("rounding", list(Rounding))
@pytest.mark.parametrize("overflow", list(Overflow))
@pytest.mark.parametrize("seed", range(6))
def test_model_matches_naive_python_int_loop(rounding, overflow, seed):
    rng = np.random.default_rng(seed)
    spec = random_spec(rng, rounding, overflow)
    fmt = spec.input_format
    n = spec.taps + 40
    x = rng.integers(fmt.raw_min, fmt.raw_max, size=n, endpoint=True)
    x[:3] = [fmt.raw_min, fmt.raw_max, fmt.raw_min]  # the extremes always appear
    acc_ref, out_ref = naive_fir(spec.coefficients, x, spec)
    assert fir_accumulate(spec, x).tolist() == acc_ref
    if overflow is Overflow.RAISE and None in out_ref:
        with pytest.raises(FixedOverflowError, match="values must lie within"):
            fir_filter(spec, x)
    else:
        assert fir_filter(spec, x).tolist() == out_ref


@pytest.mark.parametrize("seed", range(8))
def test_model_at_wide_accumulators(seed):
    """Accumulators near the 62-bit limit stay exact (int64 convolve, no overflow)."""
    rng = np.random.default_rng(100 + seed)
    L = int(rng.integers(1, 128))
    coefs = [int(c) for c in rng.integers(-(1 << 23), 1 << 23, size=L)]
    spec = FirSpec(
        coefficients=coefs,
        coef_frac=30,
        coef_widths=[24] * L,
        input_format=QFormat(1, 31),
        output_format=QFormat(8, 16),
        rounding=Rounding.ROUND_HALF_EVEN,
        overflow=Overflow.WRAP,
    )
    assert spec.acc_width >= 50
    x = np.concatenate([worst_case_input(spec, +1), worst_case_input(spec, -1)])
    x = np.concatenate([x, random_full_scale(spec, 30, rng)])
    acc_ref, out_ref = naive_fir(spec.coefficients, x, spec)
    assert fir_accumulate(spec, x).tolist() == acc_ref
    assert fir_filter(spec, x).tolist() == out_ref


@pytest.mark.parametrize("seed", range(10))
def test_worst_case_input_reaches_both_ends_of_acc_range(seed):
    rng = np.random.default_rng(200 + seed)
    spec = random_spec(rng)
    L = spec.taps
    lo, hi = spec.acc_range
    assert fir_accumulate(spec, worst_case_input(spec, +1))[L - 1] == hi
    assert fir_accumulate(spec, worst_case_input(spec, -1))[L - 1] == lo
    # No other input goes beyond: random full-scale samples stay inside.
    acc = fir_accumulate(spec, random_full_scale(spec, 2000, rng))
    assert lo <= acc.min() and acc.max() <= hi


@pytest.mark.parametrize("seed", range(8))
def test_streaming_equals_one_shot(seed):
    rng = np.random.default_rng(300 + seed)
    spec = random_spec(rng, overflow=Overflow.SATURATE)
    x = random_full_scale(spec, 700, rng)
    cuts = np.sort(rng.integers(0, x.size + 1, size=int(rng.integers(1, 12))))
    model = FirModel(spec)
    chunks = np.split(x, cuts)  # includes empty and 1-sample chunks
    y = np.concatenate([model.process(c) for c in chunks])
    np.testing.assert_array_equal(y, fir_filter(spec, x))
    model.reset()
    np.testing.assert_array_equal(model.process(x[:50]), fir_filter(spec, x[:50]))


def test_stimuli_shapes_and_values():
    spec = FirSpec((3, -1, 2), 2, (3, 2, 3), QFormat(1, 7), QFormat(4, 8))
    assert impulse(spec, 4).tolist() == [127, 0, 0, 0]
    assert step(spec, 3).tolist() == [127, 127, 127]
    # c reversed = (2, -1, 3): +1 -> (max, min, max); -1 -> (min, max, min)
    assert worst_case_input(spec, +1).tolist() == [127, -128, 127]
    assert worst_case_input(spec, -1).tolist() == [-128, 127, -128]
    # impulse response is the coefficients times full scale
    assert fir_accumulate(spec, impulse(spec, 5)).tolist() == [381, -127, 254, 0, 0]
    a = random_full_scale(spec, 50, np.random.default_rng(7))
    b = random_full_scale(spec, 50, np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)


def test_model_input_errors():
    spec = FirSpec((3, -1, 2), 2, (3, 2, 3), QFormat(1, 7), QFormat(4, 8))
    with pytest.raises(
        ValueError, match=r"input samples must lie in the raw range \[-128, 127\].*not 128"
    ):
        fir_filter(spec, np.array([0, 128]))
    with pytest.raises(TypeError, match="input samples must be raw integers, not dtype float64"):
        fir_filter(spec, np.array([0.5]))
    with pytest.raises(ValueError, match=r"input samples must be a 1-D array, not shape \(2, 2\)"):
        fir_accumulate(spec, np.zeros((2, 2), dtype=np.int64))
    with pytest.raises(ValueError, match="sign must be \\+1 or -1, not 0"):
        worst_case_input(spec, 0)
    with pytest.raises(ValueError, match="stimulus length must be a non-negative integer, not -1"):
        step(spec, -1)


# -- coefficient quantization ------------------------------------------------------------


def brute_force_coefficient(h: float, b: int, rounding: Rounding) -> Fraction:
    """h rounded to b signed bits at the smallest exponent where it fits (exact Fractions)."""
    if h == 0:
        return Fraction(0)
    hf = Fraction(h)
    for int_bits in range(-1100, 1100):
        frac = b - int_bits
        y = hf * Fraction(2) ** frac
        fl = math.floor(y)
        if rounding is Rounding.TRUNCATE:
            q = fl
        elif rounding is Rounding.ROUND_TO_ZERO:
            q = math.trunc(y)
        elif rounding is Rounding.ROUND_HALF_UP:
            q = fl + (y - fl >= Fraction(1, 2))
        else:
            q = fl + (y - fl > Fraction(1, 2) or (y - fl == Fraction(1, 2) and fl % 2 == 1))
        if -(1 << (b - 1)) <= q <= (1 << (b - 1)) - 1:
            return q / Fraction(2) ** frac
    raise AssertionError("unreachable")


def nearest_b_bit_distance(h: float, b: int) -> Fraction:
    """Distance from h to the nearest value q * 2**e of any b-bit signed q and integer e."""
    hf = Fraction(h)
    best = abs(hf)
    e0 = math.frexp(h)[1]
    for frac in range(b - e0 - 3, b - e0 + 4):
        for q in range(-(1 << (b - 1)), 1 << (b - 1)):
            best = min(best, abs(hf - Fraction(q) / Fraction(2) ** frac))
    return best


def random_taps(rng, L):
    mag = 2.0 ** rng.uniform(-20, 2, size=L)
    h = mag * rng.choice([-1.0, 1.0], size=L)
    h[rng.random(L) < 0.1] = 0.0
    special = [0.9999, -0.5, -0.50001, 0.49999, 1.0, -1.0, 0.75, -0.9999]
    for i in range(min(L, len(special))):
        h[rng.integers(L)] = special[i]
    if not np.any(h):
        h[0] = 0.3
    return h


@pytest.mark.parametrize("rounding", list(Rounding))
@pytest.mark.parametrize(("L", "seed"), [(1, 0), (7, 1), (32, 2), (127, 3)])
def test_quantize_coefficients_matches_brute_force(rounding, L, seed):
    rng = np.random.default_rng(400 + seed)
    h = random_taps(rng, L)
    widths = rng.integers(2, 17, size=L)
    raw, F = quantize_coefficients(h, widths, rounding)
    for k in range(L):
        assert coef_significant_bits(raw[k]) <= widths[k]
        assert Fraction(raw[k]) / Fraction(2) ** F == brute_force_coefficient(
            h[k], int(widths[k]), rounding
        )
        if h[k] == 0:
            assert raw[k] == 0


@pytest.mark.parametrize("seed", range(3))
def test_quantize_coefficients_is_the_nearest_b_bit_value(seed):
    rng = np.random.default_rng(500 + seed)
    h = random_taps(rng, 12)
    widths = rng.integers(2, 9, size=12)
    raw, F = quantize_coefficients(h, widths, Rounding.ROUND_HALF_EVEN)
    for k in range(12):
        err = abs(Fraction(raw[k]) / Fraction(2) ** F - Fraction(h[k]))
        assert err == nearest_b_bit_distance(h[k], int(widths[k]))


def test_quantize_coefficients_known_values():
    # 0.9999 at 4 bits rounds up to 1.0 = 0b0100 * 2**-2 (int_bits 2, not 1)
    # -0.5 at 2 bits = 0b10 * 2**-2; 0.3 at 5 bits = 10 * 2**-5 = 0.3125
    raw, F = quantize_coefficients([0.9999, -0.5, 0.0, 0.3], [4, 2, 4, 5])
    assert F == 5
    assert raw == (32, -16, 0, 10)


def test_symmetric_pairs_get_identical_ints_and_round_off_zeros_vanish():
    d = FirDesign("lowpass", (0.2, 0.3), numtaps=75)
    h = design_fir(d)  # cutoff 0.25: every 4th tap is ~1e-18, a zero of the sinc
    assert symmetry(h) is Symmetry.EVEN
    vmap = variable_map(len(h), True)
    widths = expand_widths(np.random.default_rng(0).integers(4, 14, size=len(vmap)), vmap, len(h))
    raw, F = quantize_coefficients(h, widths)
    assert raw == raw[::-1]
    # h ~ sin(pi (k - 37) / 4) / (k - 37): zeros at k - 37 = 4m, m != 0, and only there.
    zeros = [k for k in range(75) if (k - 37) % 4 == 0 and k != 37]
    assert [k for k in range(75) if raw[k] == 0] == zeros
    assert all(abs(h[k]) < 1e-12 for k in zeros)
    spec = fir_spec_from_design(h, widths, QFormat(1, 15), QFormat(2, 14))
    assert spec.symmetry is Symmetry.EVEN
    assert spec.acc_width <= 62


def test_antisymmetric_design():
    h = scipy.signal.remez(31, [0.05, 0.95], [1], type="hilbert", fs=2.0)
    assert symmetry(h) is Symmetry.ODD
    raw, _ = quantize_coefficients(h, [10] * 31)
    assert raw == tuple(-c for c in raw[::-1])
    assert variable_map(31, Symmetry.ODD)[-1] == (15,)


@pytest.mark.parametrize("rounding", list(Rounding))
@pytest.mark.parametrize(("n", "L", "seed"), [(1, 1, 0), (20, 9, 1), (200, 63, 2)])
def test_coefficient_batch_equals_single(rounding, n, L, seed):
    rng = np.random.default_rng(600 + seed)
    h = random_taps(rng, L)
    W = rng.integers(2, 25, size=(n, L))
    Q = quantize_coefficient_batch(h, W, rounding)
    for i in range(n):
        raw, F = quantize_coefficients(h, W[i], rounding)
        np.testing.assert_array_equal(Q[i], np.ldexp(np.array(raw, dtype=np.float64), -F))


def test_max_frac_caps_the_common_lsb():
    h = [0.4, 3e-6, -0.2]
    raw, F = quantize_coefficients(h, [8, 8, 8])
    assert F == 8 + 17  # 3e-6 = 0.79 * 2**-18 has int_bits -17, so frac 8 + 17
    raw, F = quantize_coefficients(h, [8, 8, 8], max_frac=12)
    assert F == 9 and raw[1] == 0  # 3e-6 < half an LSB of 2**-12
    Q = quantize_coefficient_batch(h, [[8, 8, 8]], max_frac=12)
    np.testing.assert_array_equal(Q[0], np.array(raw) * 2.0**-F)


def test_coefficient_quantizer_errors():
    with pytest.raises(ValueError, match="widths must have one width per tap \\(3\\), not 2"):
        quantize_coefficients([0.1, 0.2, 0.3], [8, 8])
    with pytest.raises(ValueError, match="coefficient width must be between 2 and 52 bits, not 1"):
        quantize_coefficients([0.1, 0.2], [8, 1])
    with pytest.raises(ValueError, match="taps must be finite numbers"):
        quantize_coefficients([0.1, np.nan], [8, 8])
    with pytest.raises(
        ValueError, match=r"W must be a 2-D \(n_candidates, L\) array, not shape \(2,\)"
    ):
        quantize_coefficient_batch([0.1, 0.2], [8, 8])


def test_variable_map_and_expand_widths():
    assert variable_map(5, True) == [(0, 4), (1, 3), (2,)]
    assert variable_map(4, Symmetry.EVEN) == [(0, 3), (1, 2)]
    assert variable_map(3, Symmetry.NONE) == [(0,), (1,), (2,)]
    assert expand_widths([5, 6, 7], variable_map(5, True), 5) == (5, 6, 7, 6, 5)
    with pytest.raises(
        ValueError, match="var_widths must have one width per variable \\(3\\), not 2"
    ):
        expand_widths([5, 6], variable_map(5, True), 5)
    with pytest.raises(ValueError, match=r"variable map must cover every tap 0..4; missing \[4\]"):
        expand_widths([5, 6], [(0,), (1, 2, 3)], 5)
    with pytest.raises(ValueError, match="taps must be at least 1, not 0"):
        variable_map(0, False)


# -- design ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(response="lowpass", edges=(0.3, 0.2)), "band edges must increase: 0.3 then 0.2"),
        (
            dict(response="lowpass", edges=(0.2, 1.0)),
            "band edges must lie strictly between 0 and 1 .*not 1",
        ),
        (
            dict(response="lowpass", edges=(0.0, 0.2)),
            "band edges must lie strictly between 0 and 1 .*not 0",
        ),
        (
            dict(response="lowpass", edges=(1000, 5000), fs=8000),
            r"between 0 and 4000 Hz \(fs/2 = 4000 Hz\), not 5000",
        ),
        (dict(response="bandpass", edges=(0.1, 0.2)), "a bandpass needs 4 band edges, not 2"),
        (
            dict(response="lowpass", edges=(0.2, 0.3), numtaps=0),
            "numtaps must be at least 1, not 0",
        ),
        (
            dict(response="highpass", edges=(0.2, 0.3), numtaps=64),
            "a highpass needs an odd number of taps .*not 64",
        ),
        (
            dict(response="bandstop", edges=(0.1, 0.2, 0.3, 0.4), numtaps=10),
            "a bandstop needs an odd number of taps",
        ),
        (
            dict(response="notch", edges=(0.2, 0.3)),
            "response must be one of lowpass, highpass, bandpass, bandstop, halfband, multiband, not 'notch'",
        ),
        (
            dict(response="lowpass", edges=(0.2, 0.3), method="ls"),
            "method must be one of firwin, remez, firls, kaiser, not 'ls'",
        ),
        (
            dict(response="lowpass", edges=(0.2, 0.3), passband_ripple_db=0),
            "passband_ripple_db must be a positive number of dB, not 0",
        ),
        (
            dict(response="lowpass", edges=(0.2, 0.3), stopband_atten_db=-3),
            "stopband_atten_db must be a positive number of dB, not -3",
        ),
        (
            dict(response="lowpass", edges=(0.2, 0.3), method="remez", window="hann"),
            "window applies to method firwin only, not remez",
        ),
        (
            dict(response="lowpass", edges=(0.2, 0.3), fs=-1.0),
            "fs must be a positive number of Hz, not -1.0",
        ),
    ],
)
def test_design_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        FirDesign(**kwargs)


def test_bands_mask():
    d = FirDesign(
        "bandstop", (1000, 2000, 3000, 3500), fs=8000, passband_ripple_db=0.5, stopband_atten_db=50
    )
    b = bands(d)
    assert [(x.kind, x.f_lo, x.f_hi, x.gain, x.limit_db) for x in b] == [
        ("pass", 0.0, 0.25, 1.0, 0.5),
        ("stop", 0.5, 0.75, 0.0, 50.0),
        ("pass", 0.875, 1.0, 1.0, 0.5),
    ]


@pytest.mark.parametrize("method", list(DesignMethod))
@pytest.mark.parametrize(
    ("response", "edges"),
    [
        ("lowpass", (0.2, 0.3)),
        ("highpass", (0.3, 0.4)),
        ("bandpass", (0.2, 0.3, 0.5, 0.6)),
        ("bandstop", (0.2, 0.3, 0.5, 0.6)),
    ],
)
def test_designs_meet_their_targets(method, response, edges):
    """Estimated length plus a margin meets the mask (the estimates are only estimates)."""
    d0 = FirDesign(response, edges, passband_ripple_db=0.2, stopband_atten_db=50, method=method)
    n = d0.estimated_numtaps()
    assert n % 2 == 1
    # Least squares spends its error budget on average, not peak: Bellanger's equiripple
    # estimate is short for it, so it gets half again as many taps.
    n = (3 * n // 2) | 1 if method is DesignMethod.FIRLS else n + 20
    d = FirDesign(
        response, edges, numtaps=n, passband_ripple_db=0.2, stopband_atten_db=50, method=method
    )
    h = design_fir(d)
    assert h.shape == (n,)
    assert symmetry(h) is Symmetry.EVEN
    m = response_metrics(h, h, d)
    assert meets(d, m), m
    assert m.max_error == 0.0


# -- metrics -----------------------------------------------------------------------------


def test_frequency_response_equals_freqz():
    h = np.random.default_rng(1).normal(size=31)
    w, H = frequency_response(h, 1024)
    _, Href = scipy.signal.freqz(h, worN=np.pi * w)
    np.testing.assert_allclose(H, Href, rtol=0, atol=1e-12)
    with pytest.raises(
        ValueError, match="n_freq must be at least half the filter length \\(31\\), not 8"
    ):
        frequency_response(h, 8)


@pytest.mark.parametrize("kind", ["max", "rms"])
@pytest.mark.parametrize(("n", "seed"), [(1, 0), (16, 1), (64, 2)])
def test_batch_response_error_equals_freqz(kind, n, seed):
    rng = np.random.default_rng(700 + seed)
    d = FirDesign("lowpass", (0.2, 0.3), numtaps=41, stopband_atten_db=50)
    h = design_fir(d)
    W = rng.integers(3, 14, size=(n, 41))
    Q = quantize_coefficient_batch(h, W)
    n_freq = 1024
    w = np.arange(n_freq + 1) / n_freq
    weights = 1.0 + rng.random(n_freq + 1)
    got = batch_response_error(h, Q, weights=weights, design=d, kind=kind, n_freq=n_freq)
    inband = ((w <= 0.2) | (w >= 0.3)).astype(float)
    for i in range(n):
        _, Hq = scipy.signal.freqz(Q[i], worN=np.pi * w)
        _, Hf = scipy.signal.freqz(h, worN=np.pi * w)
        e = np.abs(Hq - Hf)
        wt = weights * inband
        ref = np.max(wt * e) if kind == "max" else np.sqrt(np.sum(wt * e**2) / np.sum(wt))
        assert got[i] == pytest.approx(ref, rel=1e-9, abs=1e-15)


def test_batch_band_metrics_equal_single_response_metrics():
    rng = np.random.default_rng(8)
    d = FirDesign(
        "bandpass", (0.2, 0.3, 0.5, 0.6), numtaps=61, stopband_atten_db=50, method="remez"
    )
    h = design_fir(d)
    Q = quantize_coefficient_batch(h, rng.integers(4, 16, size=(10, 61)))
    atten, ripple = batch_band_metrics(Q, d, n_freq=4096)
    for i in range(10):
        m = response_metrics(Q[i], h, d, n_freq=4096)
        assert atten[i] == pytest.approx(m.stopband_atten_db, rel=1e-12)
        assert ripple[i] == pytest.approx(m.passband_ripple_db, rel=1e-12)


def test_metric_errors():
    d = FirDesign("lowpass", (0.2, 0.3), numtaps=11)
    h = design_fir(d)
    with pytest.raises(ValueError, match="kind must be 'max' or 'rms', not 'mean'"):
        batch_response_error(h, h[None, :], kind="mean")
    with pytest.raises(
        ValueError, match=r"Q must be \(n_candidates, 11\) for 11 taps, not shape \(1, 10\)"
    ):
        batch_response_error(h, h[None, :10])
    with pytest.raises(ValueError, match="n_freq must be at least 1024 for band metrics, not 512"):
        response_metrics(h, h, d, n_freq=512)
    with pytest.raises(ValueError, match="weights must have n_freq \\+ 1 = 2049 entries"):
        batch_response_error(h, h[None, :], weights=np.ones(10))


# -- noise: prediction against the bit-true simulation -----------------------------------


def test_rounding_error_stats_match_enumeration():
    """Closed forms against enumerating the 2**d discarded-bit patterns (exact Fractions)."""
    for rounding in (Rounding.TRUNCATE, Rounding.ROUND_HALF_UP, Rounding.ROUND_HALF_EVEN):
        for d in range(1, 7):
            errs = []
            for kept_lsb in (0, 1):  # half-even ties depend on the kept LSB's parity
                for r in range(1 << d):
                    v = (kept_lsb << d) + r
                    errs.append(Fraction(naive_round_shift(v, d, rounding) * (1 << d) - v, 1 << d))
            mean = sum(errs) / len(errs)
            var = sum((e - mean) ** 2 for e in errs) / len(errs)
            m, v, mx = rounding_error_stats(rounding, 1.0, d)
            assert m == pytest.approx(float(mean), abs=1e-15)
            assert v == pytest.approx(float(var), rel=1e-12)
            assert mx == pytest.approx(float(max(abs(e) for e in errs)), rel=1e-12)
    assert rounding_error_stats(Rounding.TRUNCATE, 1.0, 0) == (0.0, 0.0, 0.0)


@pytest.mark.parametrize("rounding", list(Rounding))
@pytest.mark.parametrize(
    ("coef_bits", "out_bits"), [(6, 14), (8, 12), (10, 10), (12, 16), (16, 20)]
)
def test_predicted_noise_within_1db_and_bound_holds(rounding, coef_bits, out_bits):
    d = FirDesign("lowpass", (0.2, 0.3), numtaps=63, stopband_atten_db=60)
    h = design_fir(d)
    # Output int bits from the L1 bound (sum|h| < 2): no overflow, as the model assumes.
    spec = fir_spec_from_design(
        h, [coef_bits] * 63, QFormat(1, 15), QFormat(2, out_bits - 2), rounding=rounding
    )
    x = random_full_scale(spec, 100_000, np.random.default_rng(coef_bits * 100 + out_bits))
    power = float(np.mean(to_float(x, spec.input_format) ** 2))
    meas = measure_sqnr(spec, h, x)
    pred = predict_output_noise(spec, h, power)
    assert abs(10 * np.log10(pred.total_power / meas.error_power)) < 1.0
    assert meas.max_abs_error <= worst_case_error_bound(spec, h)
    assert meas.sqnr_db == pytest.approx(10 * np.log10(meas.signal_power / meas.error_power))


def test_worst_case_error_bound_is_tight_for_coefficient_error():
    """The sign input of the coefficient error reaches max|x| * sum|dh| (up to one input LSB)."""
    d = FirDesign("lowpass", (0.2, 0.3), numtaps=31)
    h = design_fir(d)
    spec = fir_spec_from_design(h, [6] * 31, QFormat(1, 15), QFormat(8, 40))
    assert spec.acc_format.frac_bits <= spec.output_format.frac_bits  # no output rounding
    dh = np.asarray(spec.values) - h
    x = np.where(dh[::-1] < 0, spec.input_format.raw_max, spec.input_format.raw_min)
    meas_err = abs(
        to_float(fir_filter(spec, x), spec.output_format)[-1]
        - np.dot(h[::-1], to_float(x, spec.input_format))
    )
    bound = worst_case_error_bound(spec, h)
    assert meas_err <= bound
    assert meas_err >= bound * (1 - 2.0**-14)


def test_design_in_hz_and_estimated_length():
    """Edges in Hz normalize by fs/2; numtaps=None designs at the estimated (odd) length."""
    d_hz = FirDesign("lowpass", (1000.0, 1500.0), fs=8000.0, stopband_atten_db=40)
    d_n = FirDesign("lowpass", (0.25, 0.375), stopband_atten_db=40)
    assert d_hz.normalized_edges == (0.25, 0.375)
    h = design_fir(d_hz)
    np.testing.assert_array_equal(h, design_fir(d_n))
    assert h.size == d_hz.estimated_numtaps() and h.size % 2 == 1
    # scipy.signal.kaiserord, the reference for the firwin estimate (made odd)
    n_ref, _ = scipy.signal.kaiserord(40.0, 0.125)
    assert h.size in (n_ref, n_ref + 1)


def test_spec_builder_reports_an_accumulator_too_wide():
    """A tap of 2**-28 at 24 bits puts the common LSB at 2**-51: the spec refuses it."""
    h = [0.4, 2.0**-28, 0.4]
    with pytest.raises(
        ValueError, match="full-precision accumulator needs .* bits, more than the 62-bit"
    ):
        fir_spec_from_design(h, [24, 24, 24], QFormat(1, 15), QFormat(2, 14))
    spec = fir_spec_from_design(h, [24, 24, 24], QFormat(1, 15), QFormat(2, 14), max_coef_frac=20)
    assert spec.coefficients[1] == 0 and spec.coef_frac == 20
