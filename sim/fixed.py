"""Fixed-point number formats and the quantizers every datapath stage uses.

Values are held as raw two's-complement integers in ``int64`` numpy arrays; a
:class:`QFormat` says what they mean (value = raw * 2**-frac_bits).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

import numpy as np

#: The widest word the int64 kernels handle bit-exactly (headroom for one carry/sign).
MAX_WORD_BITS = 62


class Rounding(enum.Enum):
    """How bits below the new LSB are discarded."""

    TRUNCATE = "truncate"  #: floor (toward -inf); hardware's natural default
    ROUND_HALF_UP = "round_half_up"  #: to nearest, ties toward +inf
    ROUND_HALF_EVEN = "round_half_even"  #: to nearest, ties to even (convergent)
    ROUND_TO_ZERO = "round_to_zero"  #: toward zero (magnitude truncation)


class Overflow(enum.Enum):
    """What happens to a value outside the target format's range."""

    WRAP = "wrap"  #: keep the low bits (two's complement wrap-around); hardware's default
    SATURATE = "saturate"  #: clamp to the largest/smallest representable value
    RAISE = "raise"  #: raise :class:`FixedOverflowError`


class FixedOverflowError(ArithmeticError):
    """A value did not fit its format and the overflow mode was :attr:`Overflow.RAISE`."""


@dataclass(frozen=True)
class QFormat:
    """A fixed-point format Q(int_bits, frac_bits).

    Follows the apytypes convention: the word has ``int_bits + frac_bits`` bits and, for a
    signed format, ``int_bits`` includes the sign bit. Either part may be negative (e.g.
    Q(-2, 10) is an 8-bit word whose MSB weighs 2**-3), but the word must have at least
    one bit (two for signed) and at most :data:`MAX_WORD_BITS`.

    Parameters
    ----------
    int_bits : int
        Bits above the binary point, sign included when ``signed`` (bits).
    frac_bits : int
        Bits below the binary point (bits); the LSB weighs 2**-frac_bits.
    signed : bool
        Two's complement if true, else unsigned.
    """

    int_bits: int
    frac_bits: int
    signed: bool = True

    def __post_init__(self):
        for name in ("int_bits", "frac_bits"):
            v = getattr(self, name)
            if not isinstance(v, (int,)) or isinstance(v, bool):
                raise TypeError(f"{name} must be an integer, not {v!r}")
        lo = 2 if self.signed else 1
        if not lo <= self.word_bits <= MAX_WORD_BITS:
            raise ValueError(
                f"word length int_bits + frac_bits must be between {lo} and {MAX_WORD_BITS} "
                f"bits for {'a signed' if self.signed else 'an unsigned'} format, "
                f"not {self.word_bits} (Q({self.int_bits}, {self.frac_bits}))"
            )

    @property
    def word_bits(self) -> int:
        """Total word length (bits)."""
        return self.int_bits + self.frac_bits

    @property
    def raw_min(self) -> int:
        """Smallest raw integer."""
        return -(1 << (self.word_bits - 1)) if self.signed else 0

    @property
    def raw_max(self) -> int:
        """Largest raw integer."""
        return (1 << (self.word_bits - 1)) - 1 if self.signed else (1 << self.word_bits) - 1

    @property
    def lsb(self) -> float:
        """Weight of the least significant bit."""
        return 2.0**-self.frac_bits

    @property
    def min(self) -> float:
        """Smallest representable value."""
        return self.raw_min * self.lsb

    @property
    def max(self) -> float:
        """Largest representable value."""
        return self.raw_max * self.lsb

    def __str__(self) -> str:
        return f"{'' if self.signed else 'U'}Q({self.int_bits},{self.frac_bits})"


# --------------------------------------------------------------------------------------
# Kernels. Everything below works on int64 raw integers (or on float64 values that are
# exact integers) so that results are bit-exact for every word up to MAX_WORD_BITS.
# --------------------------------------------------------------------------------------

_U64 = np.uint64


def _check_format(fmt: QFormat, name: str = "fmt") -> None:
    if not isinstance(fmt, QFormat):
        raise TypeError(f"{name} must be a QFormat, not {fmt!r}")


def _check_modes(rounding: Rounding, overflow: Overflow) -> None:
    if not isinstance(rounding, Rounding):
        raise TypeError(f"rounding must be a Rounding member, not {rounding!r}")
    if not isinstance(overflow, Overflow):
        raise TypeError(f"overflow must be an Overflow member, not {overflow!r}")


def _as_raw(raw, name: str = "raw") -> np.ndarray:
    """Return ``raw`` as an int64 array; refuse floats and unsigned 64-bit (lossy)."""
    arr = np.asarray(raw)
    if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must hold integers, not dtype {arr.dtype}")
    if arr.dtype == np.uint64:
        if arr.size and int(arr.max()) > np.iinfo(np.int64).max:
            i = int(np.argmax(arr > np.iinfo(np.int64).max))
            raise ValueError(
                f"{name} values must fit int64, not {int(arr.reshape(-1)[i])} at index "
                f"{_index(arr.shape, i)}"
            )
    return arr.astype(np.int64, copy=False)


def _index(shape: tuple[int, ...], flat: int):
    """Human-readable index of flat position ``flat`` in an array of ``shape``."""
    if len(shape) <= 1:
        return int(flat)
    return tuple(int(i) for i in np.unravel_index(flat, shape))


def _range_text(fmt: QFormat) -> str:
    return f"{fmt} range [{fmt.min!r}, {fmt.max!r}] (raw [{fmt.raw_min}, {fmt.raw_max}])"


def _raise_overflow(bad: np.ndarray, fmt: QFormat, describe) -> None:
    """Raise :class:`FixedOverflowError` naming how many values and the first one."""
    count = int(np.count_nonzero(bad))
    first = int(np.argmax(bad.reshape(-1)))
    raise FixedOverflowError(
        f"values must lie within {_range_text(fmt)}, but {count} of {bad.size} do not; "
        f"first at index {_index(bad.shape, first)}: {describe(first)}"
    )


def wrap(raw, fmt: QFormat) -> np.ndarray:
    """Wrap raw integers into ``fmt``'s word, keeping the low ``word_bits`` bits.

    Two's complement wrap-around for a signed format, modulo 2**word_bits for an
    unsigned one. Exact for any int64 input.

    Parameters
    ----------
    raw : array_like of int
        Raw integers at ``fmt``'s LSB (units of 2**-frac_bits).
    fmt : QFormat
        Target format.

    Returns
    -------
    numpy.ndarray of int64
        Raw integers within ``[fmt.raw_min, fmt.raw_max]``, same shape as ``raw``.
    """
    _check_format(fmt)
    arr = _as_raw(raw)
    w = fmt.word_bits
    # uint64 arithmetic is modular (mod 2**64), and 2**w divides 2**64, so the low w
    # bits are right even where the int64 value would have overflowed.
    low = arr.astype(_U64) & _U64((1 << w) - 1)
    if not fmt.signed:
        return low.astype(np.int64)
    half = 1 << (w - 1)
    return ((low + _U64(half)) & _U64((1 << w) - 1)).astype(np.int64) - np.int64(half)


def saturate(raw, fmt: QFormat) -> np.ndarray:
    """Clamp raw integers to ``[fmt.raw_min, fmt.raw_max]``.

    Parameters
    ----------
    raw : array_like of int
        Raw integers at ``fmt``'s LSB (units of 2**-frac_bits).
    fmt : QFormat
        Target format.

    Returns
    -------
    numpy.ndarray of int64
        Clamped raw integers, same shape as ``raw``.
    """
    _check_format(fmt)
    return np.clip(_as_raw(raw), fmt.raw_min, fmt.raw_max)


def overflow(raw, fmt: QFormat, mode: Overflow = Overflow.WRAP) -> np.ndarray:
    """Bring raw integers already at ``fmt``'s LSB into ``fmt``'s word.

    Parameters
    ----------
    raw : array_like of int
        Raw integers in units of 2**-fmt.frac_bits; any int64 value is accepted.
    fmt : QFormat
        Target format.
    mode : Overflow
        WRAP keeps the low bits, SATURATE clamps, RAISE raises
        :class:`FixedOverflowError` if any value lies outside the range.

    Returns
    -------
    numpy.ndarray of int64
        Raw integers within ``[fmt.raw_min, fmt.raw_max]``.

    Raises
    ------
    FixedOverflowError
        With ``mode=Overflow.RAISE``, naming the count of offending values, the first
        one (index, raw integer, value) and the format's range.
    """
    _check_format(fmt)
    _check_modes(Rounding.TRUNCATE, mode)
    arr = _as_raw(raw)
    if mode is Overflow.WRAP:
        return wrap(arr, fmt)
    if mode is Overflow.SATURATE:
        return np.clip(arr, fmt.raw_min, fmt.raw_max)
    bad = (arr < fmt.raw_min) | (arr > fmt.raw_max)
    if bad.any():
        flat = arr.reshape(-1)
        _raise_overflow(
            bad,
            fmt,
            lambda i: f"raw {int(flat[i])} (value {math.ldexp(int(flat[i]), -fmt.frac_bits)!r})",
        )
    return arr.copy()


def _shift_right_round(x: np.ndarray, s: int, rounding: Rounding) -> np.ndarray:
    """Divide int64 ``x`` by 2**s (s >= 1) and round; exact, never overflows."""
    if s >= 64:
        # |x| < 2**63 <= 2**(s-1): every value is below half an output LSB.
        if rounding is Rounding.TRUNCATE:
            return np.where(x < 0, np.int64(-1), np.int64(0))
        return np.zeros_like(x)
    q = x >> np.int64(s)  # floor
    if rounding is Rounding.TRUNCATE:
        return q
    # The discarded bits, as a non-negative remainder: x = q * 2**s + r, 0 <= r < 2**s.
    # Comparing r with half avoids the int64 overflow of the usual (x + half) >> s.
    r = x & np.int64((1 << s) - 1)
    if rounding is Rounding.ROUND_TO_ZERO:
        inc = (r != 0) & (x < 0)
    else:
        half = np.int64(1 << (s - 1))
        if rounding is Rounding.ROUND_HALF_UP:
            inc = r >= half
        else:  # ROUND_HALF_EVEN
            inc = (r > half) | ((r == half) & ((q & 1) == 1))
    # q <= (2**63 - 1) >> 1 for s >= 1, so the increment cannot overflow.
    return q + inc


def requantize(
    raw,
    src: QFormat,
    dst: QFormat,
    rounding: Rounding = Rounding.TRUNCATE,
    overflow: Overflow = Overflow.WRAP,
) -> np.ndarray:
    """Move raw integers from ``src`` to ``dst``: shift to dst's LSB, round, fit the word.

    This is what every datapath stage does. Losing fractional bits shifts right with
    ``rounding``; gaining them shifts left (exact). The result is then brought into
    ``dst``'s word with ``overflow``. Exact for every int64 input, including shifts that
    would overflow int64: a wrapped result keeps the right low bits, a saturated one
    clamps, and RAISE reports the value.

    Parameters
    ----------
    raw : array_like of int
        Raw integers in units of 2**-src.frac_bits (src's word is not checked).
    src : QFormat
        Format ``raw`` is in.
    dst : QFormat
        Target format.
    rounding : Rounding
        How discarded fractional bits round (only used when dst has fewer frac bits).
    overflow : Overflow
        How values outside dst's range are handled.

    Returns
    -------
    numpy.ndarray of int64
        Raw integers in units of 2**-dst.frac_bits within dst's range.

    Raises
    ------
    FixedOverflowError
        With ``overflow=Overflow.RAISE`` if any rounded value lies outside dst's range.
    """
    _check_format(src, "src")
    _check_format(dst, "dst")
    _check_modes(rounding, overflow)
    arr = _as_raw(raw)
    s = src.frac_bits - dst.frac_bits
    if s > 0:
        return _overflow_with_source(_shift_right_round(arr, s, rounding), dst, overflow, arr, src)
    if s == 0:
        return _overflow_with_source(arr, dst, overflow, arr, src)
    t = -s
    if overflow is Overflow.WRAP:
        if t >= 64:
            return np.zeros_like(arr)
        # Modular uint64 shift keeps the low 64 >= word_bits bits exactly.
        return wrap((arr.astype(_U64) << _U64(t)).astype(np.int64), dst)
    # x << t > raw_max  <=>  x > floor(raw_max / 2**t);  x << t < raw_min  <=>
    # x < ceil(raw_min / 2**t). Python ints keep the thresholds exact for any t.
    hi = dst.raw_max >> t
    lo = -((-dst.raw_min) >> t)
    over = arr > hi
    under = arr < lo
    if overflow is Overflow.RAISE:
        bad = over | under
        if bad.any():
            _raise_overflow(bad, dst, _describe_source(arr, src))
    # In-range values shift without overflow; |out-of-range| ones are replaced below.
    inside = np.where(over | under, np.int64(0), arr)
    shifted = inside << np.int64(min(t, 62))
    out = np.where(over, np.int64(dst.raw_max), shifted)
    return np.where(under, np.int64(dst.raw_min), out)


def _describe_source(arr: np.ndarray, src: QFormat):
    flat = arr.reshape(-1)
    return lambda i: (
        f"input raw {int(flat[i])} in {src} (value {math.ldexp(int(flat[i]), -src.frac_bits)!r})"
    )


def _overflow_with_source(q, dst, mode, arr, src):
    """Like :func:`overflow`, but a RAISE message names the input value, not q."""
    if mode is Overflow.RAISE:
        bad = (q < dst.raw_min) | (q > dst.raw_max)
        if bad.any():
            _raise_overflow(bad, dst, _describe_source(arr, src))
        return q.copy() if q is arr else q
    if mode is Overflow.SATURATE:
        return np.clip(q, dst.raw_min, dst.raw_max)
    return wrap(q, dst)


def quantize(
    x,
    fmt: QFormat,
    rounding: Rounding = Rounding.TRUNCATE,
    overflow: Overflow = Overflow.WRAP,
) -> np.ndarray:
    """Quantize real values to raw integers of ``fmt``.

    Exact for every finite float64 input: x * 2**frac_bits is exact (power-of-two
    scale), rounding a float64 to an integer is exact, and overflow is handled on the
    exact float integer before converting to int64 (saturation clamps in the float
    domain; wrap-around reduces modulo 2**word_bits with the exact ``fmod``), so values
    beyond 2**53 or beyond int64 still give the right bits.

    The input precision limit is float64's: a Python int or int64 wider than 53
    significant bits is rounded to float64 before quantizing. Quantize such integers
    exactly with :func:`requantize` from an integer format instead.

    Parameters
    ----------
    x : array_like of float
        Real values (units of the format's value, i.e. raw * 2**-frac_bits).
    fmt : QFormat
        Target format.
    rounding : Rounding
        How bits below the LSB are discarded.
    overflow : Overflow
        How values outside fmt's range are handled.

    Returns
    -------
    numpy.ndarray of int64
        Raw integers (units of 2**-frac_bits), same shape as ``x``.

    Raises
    ------
    ValueError
        If ``x`` holds NaN or infinity.
    FixedOverflowError
        With ``overflow=Overflow.RAISE`` if any rounded value lies outside fmt's range.
    """
    _check_format(fmt)
    _check_modes(rounding, overflow)
    xa = np.asarray(x, dtype=np.float64)
    finite = np.isfinite(xa)
    if not finite.all():
        i = int(np.argmin(finite.reshape(-1)))
        raise ValueError(
            f"cannot quantize NaN/inf value at index {_index(xa.shape, i)}: values must "
            f"be finite, not {float(xa.reshape(-1)[i])!r}"
        )
    with np.errstate(over="ignore"):  # +-inf is handled below: a multiple of 2**w
        y = np.ldexp(xa, fmt.frac_bits)
    if rounding is Rounding.TRUNCATE:
        r = np.floor(y)
        if fmt.frac_bits < 0:
            # A negative value scaled into the subnormal range may underflow to -0.0,
            # whose floor is 0; its true floor is -1.
            r[(r == 0) & (xa < 0)] = -1.0
    elif rounding is Rounding.ROUND_TO_ZERO:
        r = np.trunc(y)
    elif rounding is Rounding.ROUND_HALF_EVEN:
        r = np.rint(y)  # IEEE round-to-nearest-even, exact
    else:
        # floor(y + 0.5) would round in the addition; y - floor(y) is exact.
        r = np.floor(y)
        r += (y - r) >= 0.5
    # r holds exact integers (possibly +-inf if the scaling overflowed float64).
    lo_f = float(fmt.raw_min)  # 0 or -2**(w-1): exact in float64
    hi_f = float(fmt.raw_max + 1)  # 2**(w-1) or 2**w: exact, unlike raw_max itself
    if overflow is Overflow.WRAP:
        # |r| >= 2**(w+53) (or inf) is a multiple of 2**w, so wraps to 0; fmod is exact.
        with np.errstate(invalid="ignore"):
            m = np.fmod(r, 2.0 * hi_f if fmt.signed else hi_f)
        m[~np.isfinite(m)] = 0.0
        return wrap(m.astype(np.int64), fmt)
    if overflow is Overflow.RAISE:
        bad = (r < lo_f) | (r >= hi_f)
        if bad.any():
            flat = xa.reshape(-1)
            _raise_overflow(bad, fmt, lambda i: f"value {float(flat[i])!r}")
    # Clamp to [raw_min, raw_max + 1] in floats (both ends exact), then fix the top.
    out = np.clip(r, lo_f, hi_f).astype(np.int64)
    return np.minimum(out, np.int64(fmt.raw_max), out=out)


def to_float(raw, fmt: QFormat) -> np.ndarray:
    """Real values of raw integers: raw * 2**-frac_bits.

    Exact when |raw| < 2**53; wider raw integers round to the nearest float64.

    Parameters
    ----------
    raw : array_like of int
        Raw integers (units of 2**-fmt.frac_bits).
    fmt : QFormat
        Their format.

    Returns
    -------
    numpy.ndarray of float64
        The values, same shape as ``raw``.
    """
    _check_format(fmt)
    return np.ldexp(_as_raw(raw).astype(np.float64), -fmt.frac_bits)
