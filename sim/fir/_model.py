"""Bit-true FIR model: the exact integer arithmetic of a :class:`FirSpec`, and its stimuli.

The reference the RTL is checked against (0 LSB tolerance): products and accumulator at
full precision, one output rounding point ``requantize(acc, acc_format, output_format,
rounding, overflow)``. All samples are raw integers (int64) of the spec's formats.
"""

from __future__ import annotations

import numpy as np

from ..fixed import requantize
from ._spec import FirSpec

__all__ = [
    "FirModel",
    "fir_accumulate",
    "fir_filter",
    "impulse",
    "random_full_scale",
    "step",
    "worst_case_input",
]


def _check_input(spec: FirSpec, x_raw) -> np.ndarray:
    x = np.asarray(x_raw)
    if x.ndim != 1:
        raise ValueError(f"input samples must be a 1-D array, not shape {x.shape}")
    if x.dtype == np.bool_ or not np.issubdtype(x.dtype, np.integer):
        raise TypeError(f"input samples must be raw integers, not dtype {x.dtype}")
    x = x.astype(np.int64)
    fmt = spec.input_format
    if x.size:
        lo, hi = int(x.min()), int(x.max())
        if lo < fmt.raw_min or hi > fmt.raw_max:
            bad = lo if lo < fmt.raw_min else hi
            raise ValueError(
                f"input samples must lie in the raw range [{fmt.raw_min}, {fmt.raw_max}] of "
                f"{fmt}, not {bad}"
            )
    return x


def _coefficients(spec: FirSpec) -> np.ndarray:
    c = np.array(spec.coefficients, dtype=np.int64)
    # Every product |c_k x| and every partial sum of np.convolve is bounded by
    # sum|c_k| * 2**(w_in - 1) = -acc_range[0] < 2**61 (FirSpec keeps acc_width <= 62), so
    # int64 arithmetic is exact. Checked here because it is what makes the model bit-true.
    bound = spec.l1_norm * (1 << (spec.input_format.word_bits - 1))
    if bound >= 1 << 62:
        raise ValueError(
            f"sum|c| * 2**(w_in-1) must stay below 2**62 for exact int64 arithmetic, not {bound}"
        )
    return c


def _accumulate(c: np.ndarray, x: np.ndarray, history: np.ndarray) -> np.ndarray:
    """acc[n] = sum_k c[k] x[n-k], with ``history`` the L-1 samples before x[0]."""
    if x.size == 0:
        return np.zeros(0, dtype=np.int64)
    ext = np.concatenate([history, x])
    # 'valid' gives exactly one output per new sample: len(ext) - L + 1 = len(x).
    return np.convolve(ext, c, mode="valid")


def fir_accumulate(spec: FirSpec, x_raw) -> np.ndarray:
    """Full-precision accumulator values, zero initial state (exact).

    Parameters
    ----------
    spec : FirSpec
        The filter.
    x_raw : array_like of int, shape (N,)
        Input samples, raw integers of ``spec.input_format``.

    Returns
    -------
    numpy.ndarray of int64, shape (N,)
        ``acc[n] = sum_k coefficients[k] * x[n-k]`` in units of 2**-acc_format.frac_bits.
    """
    x = _check_input(spec, x_raw)
    c = _coefficients(spec)
    return _accumulate(c, x, np.zeros(spec.taps - 1, dtype=np.int64))


def fir_filter(spec: FirSpec, x_raw) -> np.ndarray:
    """Bit-true output: the accumulator requantized to the output format.

    Parameters
    ----------
    spec : FirSpec
        The filter (its ``rounding`` and ``overflow`` apply at the output).
    x_raw : array_like of int, shape (N,)
        Input samples, raw integers of ``spec.input_format``.

    Returns
    -------
    numpy.ndarray of int64, shape (N,)
        Output samples, raw integers of ``spec.output_format``.

    Raises
    ------
    FixedOverflowError
        If ``spec.overflow`` is RAISE and an output does not fit.
    """
    acc = fir_accumulate(spec, x_raw)
    return requantize(acc, spec.acc_format, spec.output_format, spec.rounding, spec.overflow)


class FirModel:
    """Streaming bit-true model: keeps the delay line between chunks.

    ``FirModel(spec).process(a)`` then ``.process(b)`` returns the same samples as
    ``fir_filter(spec, concatenate([a, b]))`` (what a hardware-in-the-loop test streams).

    Parameters
    ----------
    spec : FirSpec
        The filter.
    """

    def __init__(self, spec: FirSpec):
        self.spec = spec
        self._c = _coefficients(spec)
        self._history = np.zeros(spec.taps - 1, dtype=np.int64)

    def reset(self) -> None:
        """Clear the delay line (zero state)."""
        self._history = np.zeros(self.spec.taps - 1, dtype=np.int64)

    def accumulate(self, chunk) -> np.ndarray:
        """Full-precision accumulator values of the next chunk, advancing the state."""
        x = _check_input(self.spec, chunk)
        acc = _accumulate(self._c, x, self._history)
        if self.spec.taps > 1 and x.size:
            self._history = np.concatenate([self._history, x])[-(self.spec.taps - 1) :]
        return acc

    def process(self, chunk) -> np.ndarray:
        """Bit-true output samples (raw, output format) of the next chunk of raw inputs."""
        s = self.spec
        return requantize(
            self.accumulate(chunk), s.acc_format, s.output_format, s.rounding, s.overflow
        )


# -- stimuli -----------------------------------------------------------------------------


def _check_length(n: int) -> int:
    if isinstance(n, bool) or int(n) != n or n < 0:
        raise ValueError(f"stimulus length must be a non-negative integer, not {n!r}")
    return int(n)


def impulse(spec: FirSpec, n: int) -> np.ndarray:
    """Full-scale impulse: x[0] = input raw_max, then zeros (raw, int64, length n)."""
    x = np.zeros(_check_length(n), dtype=np.int64)
    if x.size:
        x[0] = spec.input_format.raw_max
    return x


def step(spec: FirSpec, n: int) -> np.ndarray:
    """Full-scale step: n samples of input raw_max (raw, int64)."""
    return np.full(_check_length(n), spec.input_format.raw_max, dtype=np.int64)


def random_full_scale(spec: FirSpec, n: int, rng: np.random.Generator) -> np.ndarray:
    """White input uniform over every raw value of the input format (raw, int64, length n).

    Parameters
    ----------
    spec : FirSpec
        The filter (its input format).
    n : int
        Number of samples.
    rng : numpy.random.Generator
        Source of randomness (same seed, same samples).
    """
    fmt = spec.input_format
    return rng.integers(
        fmt.raw_min, fmt.raw_max, size=_check_length(n), endpoint=True, dtype=np.int64
    )


def worst_case_input(spec: FirSpec, sign: int = +1) -> np.ndarray:
    """The L samples that drive the accumulator to an end of ``spec.acc_range``.

    x[n] = raw_max where sign * c[L-1-n] > 0, raw_min where sign * c[L-1-n] < 0, 0 where
    c = 0 (two's complement is asymmetric, so "full scale" is raw_max for a positive product
    and raw_min for a negative one). Then ``fir_accumulate(spec, x)[L-1]`` equals
    ``acc_range[1]`` for sign = +1 and ``acc_range[0]`` for sign = -1.

    Parameters
    ----------
    spec : FirSpec
        The filter.
    sign : {+1, -1}
        Which end of the range to reach.

    Returns
    -------
    numpy.ndarray of int64, shape (L,)
        Raw input samples.
    """
    if sign not in (1, -1):
        raise ValueError(f"sign must be +1 or -1, not {sign!r}")
    c = np.array(spec.coefficients[::-1], dtype=np.int64) * sign
    fmt = spec.input_format
    x = np.zeros(spec.taps, dtype=np.int64)
    x[c > 0] = fmt.raw_max
    x[c < 0] = fmt.raw_min
    return x
