"""Output overflow of a FIR: the L1 bound, counts on given input, and its predicted error.

A FIR's accumulator is exact (sized by the L1 bound), so the only place a sample can
overflow is the output requantization. :func:`min_output_int_bits` gives the fewest
integer bits for which no input can overflow; :func:`count_overflows` counts the output
samples of an input that do; :func:`predict_overflow` predicts, for the white uniform
full-scale input the flow measures with, how often the output overflows and the mean
square error saturation (or wrap-around) adds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..fixed import Overflow, QFormat, requantize
from ._model import fir_accumulate
from ._spec import FirSpec, signed_width_for

__all__ = [
    "OverflowPrediction",
    "count_overflows",
    "min_output_int_bits",
    "predict_overflow",
    "rounded_output_range",
]


def rounded_output_range(spec: FirSpec) -> tuple[int, int]:
    """(min, max) raw output value over all inputs before the output word is applied.

    The accumulator's exact range (:attr:`FirSpec.acc_range`, the L1 bound) rounded to the
    output LSB with ``spec.rounding`` (raw units of ``spec.output_format``).
    """
    lo, hi = _wide_output(spec, np.array(spec.acc_range, dtype=np.int64))
    return int(lo), int(hi)


def _wide_output(spec: FirSpec, acc: np.ndarray) -> np.ndarray:
    """Accumulator values rounded to the output LSB, in a word wide enough for all."""
    frac = spec.output_format.frac_bits
    wide = QFormat(62 - frac, frac)
    return requantize(acc, spec.acc_format, wide, spec.rounding, Overflow.SATURATE)


def min_output_int_bits(spec: FirSpec) -> int:
    """Fewest output integer bits (sign included) for which no input can overflow.

    With ``spec.output_format.frac_bits`` kept, the word must hold every rounded
    accumulator value (:func:`rounded_output_range`): the L1 bound
    max|x| * sum_k |h_k| plus the rounding's carry.

    Parameters
    ----------
    spec : FirSpec
        The filter (its output ``frac_bits`` and rounding).

    Returns
    -------
    int
        ``int_bits`` such that ``QFormat(int_bits, frac_bits)`` never overflows.
    """
    return signed_width_for(*rounded_output_range(spec)) - spec.output_format.frac_bits


def count_overflows(spec: FirSpec, x_raw) -> int:
    """Output samples of ``x_raw`` (zero initial state) whose rounded value overflows.

    These are the samples the output stage saturates (or wraps); 0 means the output format
    held every exact result.
    """
    y = _wide_output(spec, fir_accumulate(spec, x_raw))
    fmt = spec.output_format
    return int(np.count_nonzero((y < fmt.raw_min) | (y > fmt.raw_max)))


@dataclass(frozen=True)
class OverflowPrediction:
    """Predicted output overflow for white input uniform over the input's full scale.

    Attributes
    ----------
    rate : float
        Probability that an output sample overflows (0 when the L1 bound fits).
    error_power : float
        Mean square error the overflow handling adds (value units squared): saturation
        clips to the nearest end of the range, wrap-around moves by whole ranges.
    bound_ratio : float
        L1 bound over the output format's largest value (> 1: overflow is possible).
    """

    rate: float
    error_power: float
    bound_ratio: float


def predict_overflow(spec: FirSpec, n_grid: int = 1 << 16) -> OverflowPrediction:
    """Overflow rate and error power of the output for uniform full-scale white input.

    The exact output y = sum_k h_k x_k of independent inputs x_k uniform over the input's
    full scale (what :func:`~bitsmith.sim.random_full_scale` draws) has the characteristic
    function prod_k phi(h_k t), phi the input's (a uniform density on
    [min - lsb/2, max + lsb/2], the standard continuous model of a uniform discrete
    input). Its density, recovered by FFT on a grid over the L1 bound, gives
    P(|y| outside the output range) and E[(y - g(y))^2], g the saturation or the
    wrap-around of ``spec.overflow``. Rounding and coefficient error are small next to an
    overflow and are neglected here (they are the other terms of the noise prediction).

    Parameters
    ----------
    spec : FirSpec
        The filter (quantized coefficients, input and output formats, overflow mode).
    n_grid : int
        Grid points of the density (power of two).

    Returns
    -------
    OverflowPrediction
    """
    h = np.asarray(spec.values, dtype=np.float64)
    h = h[h != 0]
    fin, fout = spec.input_format, spec.output_format
    lsb = fin.lsb
    lo_x, hi_x = fin.min - lsb / 2, fin.max + lsb / 2
    mid, half = (lo_x + hi_x) / 2, (hi_x - lo_x) / 2
    out_lo, out_hi = fout.min - fout.lsb / 2, fout.max + fout.lsb / 2  # rounding boundaries
    l1 = float(np.abs(h).sum())
    bound = l1 * max(-fin.min, fin.max)
    ratio = bound / fout.max if fout.max > 0 else math.inf
    if bound + abs(mid) * l1 <= min(-out_lo, out_hi):
        return OverflowPrediction(0.0, 0.0, ratio)
    # y = mean + sum h_k u_k with u_k uniform on [-half, half]
    mean = mid * float(h.sum())
    span = 2.0 * (l1 * half) * 1.05 + 4 * fout.lsb  # period > support width: no aliasing
    n = int(n_grid)
    dy = span / n
    t = 2 * np.pi * np.fft.rfftfreq(n, d=dy)
    phi = np.ones_like(t)
    for hk in h:
        phi *= np.sinc(hk * half * t / np.pi)  # np.sinc(x) = sin(pi x)/(pi x)
    f = np.fft.irfft(phi, n=n) / dy  # density of sum h_k u_k, centred at index 0
    y = np.fft.fftfreq(n, d=1 / span)  # grid positions matching that layout
    f = np.clip(f, 0.0, None)
    f /= f.sum() * dy
    y = y + mean
    outside = (y < out_lo) | (y > out_hi)
    rate = float(f[outside].sum() * dy)
    if spec.overflow is Overflow.WRAP:
        period = fout.max - fout.min + fout.lsb
        g = (y - fout.min) % period + fout.min
    else:
        g = np.clip(y, fout.min, fout.max)
    err = np.where(outside, y - g, 0.0)
    return OverflowPrediction(rate, float(np.sum(err**2 * f) * dy), ratio)
