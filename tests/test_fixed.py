"""Bit-exactness of the fixed-point core against apytypes 0.5.1 and hand-checked literals.

apytypes (arbitrary-precision fixed point, C++) is the independent reference: inputs are
loaded into it *exactly* (a format wide enough to hold every float64 or raw integer, and
checked by converting back), then cast with the matching quantization and overflow
modes. apytypes has no unsigned type, so unsigned targets use a signed format one integer
bit wider (covers [-2**w, 2**w)), whose rounding and saturation are apytypes'; the
unsigned wrap/clamp on that exact integer is then a one-line modulo/clip.
"""

import math
from fractions import Fraction

import apytypes as apy
import numpy as np
import pytest

from bitsmith.sim import (
    MAX_WORD_BITS,
    FixedOverflowError,
    Overflow,
    QFormat,
    Rounding,
    overflow,
    quantize,
    requantize,
    saturate,
    to_float,
    wrap,
)

N = 100_000  # random values per format and rounding mode

APY_ROUNDING = {
    Rounding.TRUNCATE: apy.QuantizationMode.TO_NEG,
    Rounding.ROUND_HALF_UP: apy.QuantizationMode.TIES_POS,
    Rounding.ROUND_HALF_EVEN: apy.QuantizationMode.TIES_EVEN,
    Rounding.ROUND_TO_ZERO: apy.QuantizationMode.TO_ZERO,
}


def _apy_raw(arr: apy.APyFixedArray, word_bits: int) -> np.ndarray:
    """Decode apytypes' two's-complement bit patterns into signed int64."""
    bits = np.asarray(arr.to_bits(numpy=True)).astype(np.uint64)
    shift = np.uint64(64 - word_bits)
    return (bits << shift).view(np.int64) >> np.int64(64 - word_bits)


def _apy_reference(exact: apy.APyFixedArray, dst: QFormat, rounding: Rounding):
    """apytypes' (wrap, saturate, out_of_range) for casting ``exact`` into ``dst``."""
    q = APY_ROUNDING[rounding]
    w = dst.word_bits
    if dst.frac_bits > exact.frac_bits:
        # apytypes 0.5.1 wraps instead of saturating when one cast both gains fraction
        # bits and drops integer bits past 64 bits in total (e.g. Q(62,0) -> Q(4,58) SAT
        # gives 0 for -2**61). Gaining the fraction bits first is exact and sidesteps it.
        exact = exact.cast(int_bits=exact.int_bits, frac_bits=dst.frac_bits)
    # One integer bit more than a signed dst: saturation there keeps every out-of-range
    # value out of range, so it tells exactly which rounded values dst cannot hold.
    wide_sat = _apy_raw(
        exact.cast(dst.int_bits + 1, dst.frac_bits, quantization=q, overflow=apy.OverflowMode.SAT),
        w + 1,
    )
    if dst.signed:
        wrapped = _apy_raw(
            exact.cast(dst.int_bits, dst.frac_bits, quantization=q, overflow=apy.OverflowMode.WRAP),
            w,
        )
        sat = _apy_raw(
            exact.cast(dst.int_bits, dst.frac_bits, quantization=q, overflow=apy.OverflowMode.SAT),
            w,
        )
        # "Raise" must fire exactly where apytypes' saturation changes a value.
        bad = sat != wide_sat
    else:
        wide_wrap = _apy_raw(
            exact.cast(
                dst.int_bits + 1, dst.frac_bits, quantization=q, overflow=apy.OverflowMode.WRAP
            ),
            w + 1,
        )
        wrapped = wide_wrap & np.int64((1 << w) - 1)
        # Two bits wider ([-2**(w+1), 2**(w+1))): one bit would saturate at dst.raw_max.
        wider_sat = _apy_raw(
            exact.cast(
                dst.int_bits + 2, dst.frac_bits, quantization=q, overflow=apy.OverflowMode.SAT
            ),
            w + 2,
        )
        sat = np.clip(wider_sat, 0, dst.raw_max)
        bad = (wider_sat < 0) | (wider_sat > dst.raw_max)
    return wrapped, sat, bad


def _check_all_overflow_modes(ours, wrapped, sat, bad, inputs, must_overflow=True):
    """Compare ``ours(inputs, mode)`` with the reference for WRAP, SATURATE and RAISE."""
    np.testing.assert_array_equal(ours(inputs, Overflow.WRAP), wrapped)
    np.testing.assert_array_equal(ours(inputs, Overflow.SATURATE), sat)
    # Where the range can be exceeded, the data must exercise both sides, or the RAISE
    # check would prove nothing.
    assert not bad.all()
    assert bad.any() or not must_overflow
    if bad.any():
        first = int(np.argmax(bad))
        with pytest.raises(
            FixedOverflowError,
            match=rf"{int(bad.sum())} of {bad.size} do not; first at index {first}:",
        ):
            ours(inputs, Overflow.RAISE)
    np.testing.assert_array_equal(ours(inputs[~bad], Overflow.RAISE), wrapped[~bad])


# ------------------------------------------------------------------------------- quantize

QUANTIZE_FORMATS = [
    QFormat(4, 4),
    QFormat(1, 7),
    QFormat(-2, 10),  # negative int_bits: MSB weighs 2**-3
    QFormat(8, -3),  # negative frac_bits: LSB weighs 8
    QFormat(16, 15),
    QFormat(40, 22),
    QFormat(2, 60),  # 62-bit word
    QFormat(62, 0),  # 62-bit integer: raw values beyond 2**53
    QFormat(8, 0, signed=False),
    QFormat(0, 8, signed=False),
    QFormat(-3, 12, signed=False),
    QFormat(33, 29, signed=False),  # 62-bit unsigned word
]


def _quantize_inputs(fmt: QFormat, n: int, seed: int):
    """Float64 values spanning below-LSB to beyond-range, with many exact ties.

    Returns the values and the (int_bits, frac_bits) of a format holding all exactly.
    """
    rng = np.random.default_rng(seed)
    ib, fb = fmt.int_bits, fmt.frac_bits
    n_a, n_b = n // 2, n // 4
    n_c = n - n_a - n_b
    # A: random 53-bit mantissas at magnitudes 2**(-fb-3) .. 2**(ib+3).
    mant = rng.integers(-(2**52), 2**52, n_a)
    exps = rng.integers(-fb - 55, ib - 49, n_a)
    a = np.ldexp(mant.astype(np.float64), exps)
    # B: exact grid points and exact ties (k + 1/2 LSB), |k| up to 2x the range.
    k_max = min(2 * max(abs(fmt.raw_min), fmt.raw_max), 2**51)
    k = rng.integers(-k_max, k_max + 1, n_b)
    grid = np.ldexp(k.astype(np.float64), -fb)
    ties = np.ldexp((2 * k + 1).astype(np.float64), -fb - 1)
    b = np.where(rng.random(n_b) < 0.5, grid, ties)
    # C: uniform over 1.5x the range, snapped to 2**-(fb + 55) so they stay exact.
    lo = 1.5 * fmt.min if fmt.signed else -0.5 * fmt.max
    c = rng.uniform(lo, 1.5 * fmt.max, n_c)
    c = np.ldexp(np.rint(np.ldexp(c, fb + 55)), -fb - 55)
    x = rng.permutation(np.concatenate([a, b, c]))
    x[:8] = [
        0.0,
        -0.0,
        fmt.min,
        fmt.max,
        fmt.max + fmt.lsb,
        fmt.min - fmt.lsb,
        fmt.lsb / 2,
        -fmt.lsb / 2,
    ]
    return x, (ib + 5, fb + 56)


@pytest.mark.parametrize("rounding", list(Rounding), ids=lambda r: r.name)
@pytest.mark.parametrize("fmt", QUANTIZE_FORMATS, ids=str)
def test_quantize_matches_apytypes(fmt, rounding):
    x, (exact_ib, exact_fb) = _quantize_inputs(fmt, N, seed=fmt.word_bits * 7 + fmt.frac_bits)
    exact = apy.APyFixedArray.from_float(x, int_bits=exact_ib, frac_bits=exact_fb)
    np.testing.assert_array_equal(exact.to_numpy(), x)  # loaded without rounding
    wrapped, sat, bad = _apy_reference(exact, fmt, rounding)
    _check_all_overflow_modes(
        lambda v, mode: quantize(v, fmt, rounding, mode), wrapped, sat, bad, x
    )


# ----------------------------------------------------------------------------- requantize

REQUANTIZE_PAIRS = [
    (QFormat(8, 8), QFormat(4, 4)),  # lose fraction and integer bits
    (QFormat(4, 4), QFormat(3, 9)),  # gain fraction bits: left shift, overflows
    (QFormat(-2, 10), QFormat(3, 3)),
    (QFormat(20, -4), QFormat(10, 8)),
    (QFormat(12, 4), QFormat(8, -2)),
    (QFormat(2, 60), QFormat(10, 20)),  # 62-bit source
    (QFormat(32, 30), QFormat(40, 22)),  # 62-bit to 62-bit
    (QFormat(62, 0), QFormat(4, 58)),  # 58-bit left shift of 62-bit words
    (QFormat(62, 0), QFormat(12, -5)),
    (QFormat(8, 8), QFormat(6, 4, signed=False)),  # signed to unsigned
    (QFormat(16, 8, signed=False), QFormat(4, 4, signed=False)),
    (QFormat(62, 0, signed=False), QFormat(30, 10, signed=False)),
    (QFormat(40, 20, signed=False), QFormat(20, 30)),  # unsigned to signed
]


def _requantize_inputs(src: QFormat, dst: QFormat, n: int, seed: int) -> np.ndarray:
    """Raw integers of ``src`` at all magnitudes, with exact ties at dst's LSB."""
    rng = np.random.default_rng(seed)
    raw = rng.integers(src.raw_min, src.raw_max, n, endpoint=True)
    raw >>= rng.integers(0, src.word_bits, n)  # spread magnitudes (negatives stay < 0)
    s = src.frac_bits - dst.frac_bits
    if 1 <= s <= 62:
        tie = rng.random(n) < 0.25
        raw[tie] = ((raw[tie] >> s) << s) | (1 << (s - 1))
        raw = np.clip(raw, src.raw_min, src.raw_max)
    raw[:5] = [src.raw_min, src.raw_max, 0, 1, src.raw_max - 1]
    return raw


@pytest.mark.parametrize("rounding", list(Rounding), ids=lambda r: r.name)
@pytest.mark.parametrize("src, dst", REQUANTIZE_PAIRS, ids=lambda f: str(f))
def test_requantize_matches_apytypes(src, dst, rounding):
    raw = _requantize_inputs(src, dst, N, seed=src.word_bits * 31 + dst.word_bits)
    # A signed container one bit wider holds unsigned raws too; int64 input (not uint64)
    # because apytypes 0.5.1 does not sign-extend uint64 bit patterns.
    ib = src.int_bits + (0 if src.signed else 1)
    exact = apy.APyFixedArray(raw, int_bits=ib, frac_bits=src.frac_bits)
    np.testing.assert_array_equal(_apy_raw(exact, ib + src.frac_bits), raw)
    wrapped, sat, bad = _apy_reference(exact, dst, rounding)
    _check_all_overflow_modes(
        lambda v, mode: requantize(v, src, dst, rounding, mode),
        wrapped,
        sat,
        bad,
        raw,
        must_overflow=src.min < dst.min or src.max > dst.max,
    )


# ------------------------------------------------- int64 extremes against Python integers


def _python_round(x: int, s: int, rounding: Rounding) -> int:
    """x / 2**s rounded, in exact rational arithmetic."""
    q = Fraction(x, 2**s)
    floor = math.floor(q)
    frac = q - floor
    if rounding is Rounding.TRUNCATE:
        return floor
    if rounding is Rounding.ROUND_TO_ZERO:
        return math.trunc(q)
    if rounding is Rounding.ROUND_HALF_UP:
        return floor + (frac >= Fraction(1, 2))
    return round(q)  # Python rounds Fractions half to even


def _python_overflow(v: int, fmt: QFormat, mode: Overflow) -> int:
    if mode is Overflow.SATURATE:
        return min(max(v, fmt.raw_min), fmt.raw_max)
    v %= 2**fmt.word_bits
    return v - 2**fmt.word_bits if fmt.signed and v > fmt.raw_max else v


@pytest.mark.parametrize("shift", [-70, -63, -40, -1, 1, 2, 30, 61, 62, 63, 64, 65, 100])
@pytest.mark.parametrize("rounding", list(Rounding), ids=lambda r: r.name)
def test_requantize_full_int64_range_matches_python_ints(rounding, shift):
    # requantize accepts any int64 (e.g. an accumulator wider than src's word); adding
    # the rounding half or shifting left must not overflow.
    rng = np.random.default_rng(abs(shift))
    raw = rng.integers(np.iinfo(np.int64).min, np.iinfo(np.int64).max, 2000, endpoint=True)
    raw >>= rng.integers(0, 64, raw.size)
    raw[:6] = [np.iinfo(np.int64).min, np.iinfo(np.int64).max, -1, 1, 0, -(2**62)]
    src = QFormat(62, 0)
    # dst.frac_bits = -shift, so requantize shifts right by `shift` (left if negative).
    for dst in (
        QFormat(62 + shift, -shift),
        QFormat(4 + shift, -shift),
        QFormat(40 + shift, -shift, signed=False),
    ):
        for mode in (Overflow.WRAP, Overflow.SATURATE):
            expected = [
                _python_overflow(
                    _python_round(int(v), shift, rounding) if shift > 0 else int(v) << -shift,
                    dst,
                    mode,
                )
                for v in raw
            ]
            got = requantize(raw, src, dst, rounding, mode)
            assert got.tolist() == expected, (dst, mode)


# ------------------------------------------------------------------- hand-checked literals

TIE_VALUES = [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5]
TIE_EXPECTED = {  # value rounded to an integer, by the definition of each mode
    Rounding.TRUNCATE: [-3, -2, -1, 0, 1, 2],
    Rounding.ROUND_HALF_UP: [-2, -1, 0, 1, 2, 3],
    Rounding.ROUND_HALF_EVEN: [-2, -2, 0, 0, 2, 2],
    Rounding.ROUND_TO_ZERO: [-2, -1, 0, 0, 1, 2],
}


@pytest.mark.parametrize("rounding", list(Rounding), ids=lambda r: r.name)
def test_ties_quantize_and_requantize(rounding):
    fmt = QFormat(8, 0)
    assert quantize(TIE_VALUES, fmt, rounding).tolist() == TIE_EXPECTED[rounding]
    half_lsb = QFormat(8, 1)  # raw -5 means -2.5
    raw = [-5, -3, -1, 1, 3, 5]
    assert requantize(raw, half_lsb, fmt, rounding).tolist() == TIE_EXPECTED[rounding]
    # Same ties one LSB-scale up: Q(4,4) raw 0.5 LSB = 1/32.
    scaled = [v / 16 for v in TIE_VALUES]
    assert quantize(scaled, QFormat(4, 4), rounding).tolist() == TIE_EXPECTED[rounding]


def test_round_half_up_has_no_addition_rounding():
    # floor(y + 0.5) gives 1 for the largest double below 0.5 (the sum rounds up to 1.0).
    below_half = np.nextafter(0.5, 0.0)
    assert quantize([below_half], QFormat(8, 0), Rounding.ROUND_HALF_UP).tolist() == [0]
    # 2**52 - 0.5 and 2**52 - 1.5 are exact ties next to the float64 integer limit.
    ties = [2.0**52 - 0.5, 2.0**52 - 1.5]
    assert quantize(ties, QFormat(62, 0), Rounding.ROUND_HALF_EVEN).tolist() == [
        2**52,
        2**52 - 2,
    ]
    assert quantize(ties, QFormat(62, 0), Rounding.ROUND_HALF_UP).tolist() == [2**52, 2**52 - 1]


@pytest.mark.parametrize(
    "fmt", [QFormat(4, 4), QFormat(-2, 10), QFormat(0, 8, signed=False)], ids=str
)
def test_min_max_and_one_beyond(fmt):
    vals = [fmt.min, fmt.max, fmt.max + fmt.lsb, fmt.min - fmt.lsb]
    wrapped_beyond = [fmt.raw_min, fmt.raw_max]  # one past either end wraps to the other
    assert quantize(vals, fmt).tolist() == [fmt.raw_min, fmt.raw_max, *wrapped_beyond]
    assert quantize(vals, fmt, overflow=Overflow.SATURATE).tolist() == [
        fmt.raw_min,
        fmt.raw_max,
        fmt.raw_max,
        fmt.raw_min,
    ]


def test_wide_words_beyond_float_and_int64():
    fmt = QFormat(62, 0)
    # 2**61 is one past raw_max (2**61 - 1, not a float64); -2**61 is raw_min exactly.
    assert quantize([2.0**61, -(2.0**61)], fmt).tolist() == [-(2**61), -(2**61)]
    assert quantize([2.0**61], fmt, overflow=Overflow.SATURATE).tolist() == [2**61 - 1]
    # Beyond int64: 2**64 + 20480 wraps mod 2**62 to 20480; 2**63 + 2**61 to -2**61.
    assert quantize([2.0**64 + 20480, 2.0**63 + 2.0**61], fmt).tolist() == [20480, -(2**61)]
    assert quantize([1e300, -1e300], fmt).tolist() == [0, 0]  # multiples of 2**62
    assert quantize([1e300, -1e300], fmt, overflow=Overflow.SATURATE).tolist() == [
        2**61 - 1,
        -(2**61),
    ]
    # Scaling overflows float64 (1e300 * 2**100 = inf): the value is still a multiple of 2**w.
    huge_frac = QFormat(-90, 100)
    assert quantize([1e300], huge_frac).tolist() == [0]
    assert quantize([1e300], huge_frac, overflow=Overflow.SATURATE).tolist() == [huge_frac.raw_max]
    # Unsigned wraps modulo 2**w.
    assert quantize([-1.0, 256.0, 257.0], QFormat(8, 0, signed=False)).tolist() == [255, 0, 1]


def test_negative_frac_bits_with_tiny_negative_values():
    # -5e-324 * 2**-10 underflows to -0.0, but its floor is still -1 LSB.
    fmt = QFormat(20, -10)
    tiny = [-5e-324, -0.0, 5e-324]
    assert quantize(tiny, fmt, Rounding.TRUNCATE).tolist() == [-1, 0, 0]
    for rounding in (Rounding.ROUND_HALF_UP, Rounding.ROUND_HALF_EVEN, Rounding.ROUND_TO_ZERO):
        assert quantize(tiny, fmt, rounding).tolist() == [0, 0, 0]


def test_left_shift_past_int64():
    src, dst = QFormat(62, 0), QFormat(2, 60)
    raw = [2**61 - 1, -(2**61), 3]
    expected_wrap = [_python_overflow(v << 60, dst, Overflow.WRAP) for v in raw]
    assert requantize(raw, src, dst).tolist() == expected_wrap
    assert requantize(raw, src, dst, overflow=Overflow.SATURATE).tolist() == [
        dst.raw_max,
        dst.raw_min,
        dst.raw_max,
    ]
    with pytest.raises(FixedOverflowError, match=r"3 of 3 do not; first at index 0: input raw"):
        requantize(raw, src, dst, overflow=Overflow.RAISE)


def test_overflow_helpers():
    fmt = QFormat(4, 0)
    raw = np.array([-9, -8, 7, 8, 2**62, -(2**63)])
    assert wrap(raw, fmt).tolist() == [7, -8, 7, -8, 0, 0]
    assert saturate(raw, fmt).tolist() == [-8, -8, 7, 7, 7, -8]
    assert overflow(raw, fmt, Overflow.WRAP).tolist() == wrap(raw, fmt).tolist()
    assert overflow(raw[1:3], fmt, Overflow.RAISE).tolist() == [-8, 7]
    with pytest.raises(
        FixedOverflowError,
        match=r"within Q\(4,0\) range \[-8.0, 7.0\] \(raw \[-8, 7\]\), but 4 of 6 do not; "
        r"first at index 0: raw -9 \(value -9.0\)",
    ):
        overflow(raw, fmt, Overflow.RAISE)
    assert wrap([-1, 16, 17], QFormat(4, 0, signed=False)).tolist() == [15, 0, 1]


def test_to_float_matches_apytypes_and_roundtrips():
    rng = np.random.default_rng(5)
    for fmt in (QFormat(4, 4), QFormat(-2, 10), QFormat(8, -3), QFormat(20, 30)):
        raw = rng.integers(fmt.raw_min, fmt.raw_max, 10_000, endpoint=True)
        ref = apy.APyFixedArray(raw, int_bits=fmt.int_bits, frac_bits=fmt.frac_bits).to_numpy()
        np.testing.assert_array_equal(to_float(raw, fmt), ref)
        np.testing.assert_array_equal(quantize(to_float(raw, fmt), fmt), raw)
    assert to_float(np.array([[3, -4]]), QFormat(4, 2)).tolist() == [[0.75, -1.0]]


# ------------------------------------------------------------------------------ errors


def test_nan_and_inf_rejected_with_index():
    with pytest.raises(ValueError, match=r"cannot quantize NaN/inf value at index 2: .*not nan"):
        quantize([0.0, 1.0, np.nan], QFormat(4, 4))
    with pytest.raises(
        ValueError, match=r"cannot quantize NaN/inf value at index \(1, 0\): .*-inf"
    ):
        quantize([[0.0], [-np.inf]], QFormat(4, 4))


def test_quantize_raise_message():
    with pytest.raises(
        FixedOverflowError,
        match=r"within Q\(4,4\) range \[-8.0, 7.9375\] \(raw \[-128, 127\]\), but 2 of 3 do "
        r"not; first at index 1: value 9.0",
    ):
        quantize([1.0, 9.0, -100.0], QFormat(4, 4), overflow=Overflow.RAISE)
    # Rounding happens first: 7.96875 rounds half up to 8.0, which overflows.
    with pytest.raises(FixedOverflowError, match="1 of 1 do not"):
        quantize([7.96875], QFormat(4, 4), Rounding.ROUND_HALF_UP, Overflow.RAISE)
    assert quantize([7.96875], QFormat(4, 4), overflow=Overflow.RAISE).tolist() == [127]


def test_word_length_limits():
    with pytest.raises(ValueError, match=rf"between 2 and {MAX_WORD_BITS} bits .* not 63"):
        QFormat(40, 23)
    with pytest.raises(ValueError, match=r"between 1 and 62 bits for an unsigned format, not 0"):
        QFormat(-4, 4, signed=False)
    with pytest.raises(TypeError, match=r"frac_bits must be an integer, not 2.0"):
        QFormat(4, 2.0)


def test_bad_arguments():
    fmt = QFormat(4, 4)
    with pytest.raises(TypeError, match=r"raw must hold integers, not dtype float64"):
        requantize(np.array([1.0]), fmt, fmt)
    with pytest.raises(TypeError, match=r"rounding must be a Rounding member, not 'floor'"):
        quantize([1.0], fmt, "floor")
    with pytest.raises(TypeError, match=r"overflow must be an Overflow member, not 'sat'"):
        overflow([1], fmt, "sat")
    with pytest.raises(TypeError, match=r"dst must be a QFormat, not \(4, 4\)"):
        requantize([1], fmt, (4, 4))
    with pytest.raises(ValueError, match=r"raw values must fit int64, not 18446744073709551615"):
        wrap(np.array([0, 2**64 - 1], dtype=np.uint64), fmt)
