"""The step quantizer: b-bit words on a power-of-two range, vectorized over candidates.

A value x with range exponent e and width b is quantized to the signed format
Q(e + 1, b - 1 - e) of :mod:`bitsmith.sim.fixed` (range [-2**e, 2**e), LSB 2**(e + 1 - b)).
Because e and b vary per candidate, data draw and block, the fast path scales x by the exact
power of two 2**(b - 1 - e), rounds it to an integer with one call to the fixed-point core
and narrows each integer to b bits: bit for bit what the per-element format gives
(``quantize_reference``, one core call per element, is that naive reference).
"""

from __future__ import annotations

import numpy as np

from ..fixed import MAX_WORD_BITS, Overflow, QFormat, Rounding, quantize, to_float

#: The integer format every element is first rounded into (one call to the core).
_WIDE = QFormat(MAX_WORD_BITS, 0)

__all__ = ["block_max_abs", "range_exponent", "quantize_blocks", "quantize_reference"]


def block_max_abs(x: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Largest |x| of each contiguous coordinate block, (..., K).

    Parameters
    ----------
    x : numpy.ndarray of float64, (..., d)
    starts : numpy.ndarray of int64, (K,)
        First coordinate of each block (increasing, starts[0] == 0).
    """
    return np.maximum.reduceat(np.abs(x), starts, axis=-1)


def range_exponent(max_abs: np.ndarray) -> np.ndarray:
    """Smallest integer e with max_abs < 2**e (0 for a zero block), int64.

    ``frexp`` gives max_abs = m 2**e with 0.5 <= m < 1, so the range [-2**e, 2**e) holds
    every value of the block with at most one octave of headroom wasted.
    """
    _, e = np.frexp(np.asarray(max_abs, dtype=np.float64))
    return e.astype(np.int64)


def quantize_blocks(x: np.ndarray, bits: np.ndarray, exponent: np.ndarray,
                    rounding: Rounding, overflow: Overflow) -> np.ndarray:
    """Quantize x coordinate-wise to ``bits``-bit words on ranges [-2**e, 2**e).

    Parameters
    ----------
    x : numpy.ndarray of float64, (n, M, d)
        Values (any unit), finite.
    bits : numpy.ndarray of int64, broadcastable to (n, M, d)
        Word width of each value (bits, sign included, >= 2).
    exponent : numpy.ndarray of int64, broadcastable to (n, M, d)
        Range exponent e of each value.
    rounding, overflow : Rounding, Overflow
        As in :func:`bitsmith.sim.fixed.quantize`.

    Returns
    -------
    numpy.ndarray of float64, (n, M, d)
        The quantized values (exact multiples of the LSB 2**(e + 1 - b)).
    """
    x = np.asarray(x, dtype=np.float64)
    b = np.asarray(bits, dtype=np.int64)
    e = np.asarray(exponent, dtype=np.int64)
    shift = b - 1 - e  # frac_bits of Q(e + 1, b - 1 - e), per element
    # One core call rounds every element at its own LSB: scaling by 2**shift is exact, and
    # the 62-bit integer format saturates (or wraps modulo 2**62) exactly; narrowing that to
    # b bits per element below composes exactly (clamps compose; 2**b divides 2**62).
    raw = quantize(np.ldexp(x, shift), _WIDE, rounding, overflow)
    half = np.left_shift(np.int64(1), b - 1)
    if overflow is Overflow.SATURATE:
        raw = np.clip(raw, -half, half - 1)
    else:
        raw = ((raw + half) & (2 * half - 1)) - half
    return np.ldexp(raw.astype(np.float64), -shift)


def quantize_reference(x, bits, exponent, rounding: Rounding, overflow: Overflow):
    """Element by element with the per-element format Q(e + 1, b - 1 - e) (slow; tests)."""
    x = np.asarray(x, dtype=np.float64)
    b = np.broadcast_to(np.asarray(bits, dtype=np.int64), x.shape)
    e = np.broadcast_to(np.asarray(exponent, dtype=np.int64), x.shape)
    out = np.empty_like(x)
    for i in np.ndindex(x.shape):
        fmt = QFormat(int(e[i]) + 1, int(b[i]) - 1 - int(e[i]))
        out[i] = to_float(quantize(np.array([x[i]]), fmt, rounding, overflow), fmt)[0]
    return out
