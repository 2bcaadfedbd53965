"""ADC quantizers for a unit-variance Gaussian input, their Bussgang gain and distortion.

Automatic gain control (stated once, used everywhere): each antenna scales its I and Q
inputs by 1 / sigma_i, where sigma_i**2 = (Es * ||h_i||**2 + N0) / 2 is the per-dimension
power of antenna i's received signal averaged over the symbols for the current channel
(an ideal, block-wise AGC that knows its average input power). The quantizers below are
designed for that unit-variance input; the output is scaled back by sigma_i.

Two quantizers:

* ``uniform``: b-bit mid-rise uniform quantizer, levels +-(k + 1/2) * step for
  k = 0 .. 2**(b-1) - 1, saturating beyond. The step is the MSE-optimal step for a
  N(0, 1) input, computed by minimizing the exact MSE (golden-section search on closed-form
  cell integrals); it reproduces Max (1960), "Quantizing for minimum distortion", IRE
  Trans. IT-6, table of optimum uniform quantizers: 1.596, 0.9957, 0.5860, 0.3352 for
  2, 4, 8, 16 levels (:data:`MAX_1960_UNIFORM_STEP`).
* ``lloyd_max``: the MSE-optimal non-uniform quantizer (Lloyd-Max iteration). Its MSE is
  the distortion factor rho_b of the additive quantization noise model (AQNM):
  0.3634, 0.1175, 0.03454, 0.009497, 0.002499 for b = 1..5 (Max 1960; the table used by
  Fan et al., IEEE Commun. Lett. 2015, and Mo et al., IEEE TWC 2017) and
  (pi sqrt(3) / 2) 2**(-2 b) above (Panter-Dite high-resolution formula),
  :func:`aqnm_rho`.

For a quantizer Q and x ~ N(0, 1): Bussgang gain g = E[x Q(x)], distortion variance
delta = E[Q(x)**2] - g**2 (the part of Q(x) uncorrelated with x), so Q(x) = g x + d.
For Lloyd-Max g = 1 - rho and delta = rho (1 - rho) (the AQNM relations).
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
from scipy.special import ndtr

#: Max (1960), optimum uniform quantizer step for N(0, 1), by number of bits (1..4).
MAX_1960_UNIFORM_STEP = {1: 1.596, 2: 0.9957, 3: 0.5860, 4: 0.3352}

#: AQNM distortion factors rho_b for b = 1..5 (Lloyd-Max MSE, Max 1960).
AQNM_RHO_TABLE = {1: 0.3634, 2: 0.1175, 3: 0.03454, 4: 0.009497, 5: 0.002499}

_SQRT2PI = math.sqrt(2.0 * math.pi)


def aqnm_rho(bits: int) -> float:
    """AQNM distortion factor rho_b: the table for 1..5 bits, (pi sqrt 3 / 2) 4**-b above."""
    if bits < 1:
        raise ValueError(f"bits must be at least 1, not {bits}")
    if bits in AQNM_RHO_TABLE:
        return AQNM_RHO_TABLE[bits]
    return math.pi * math.sqrt(3.0) / 2.0 * 2.0 ** (-2 * bits)


def _phi(x):
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.exp(-0.5 * x * x) / _SQRT2PI
    return np.where(np.isfinite(x), out, 0.0)


def _x_phi(x):
    x = np.asarray(x, dtype=np.float64)
    fin = np.isfinite(x)
    xs = np.where(fin, x, 0.0)
    return np.where(fin, xs * np.exp(-0.5 * xs * xs) / _SQRT2PI, 0.0)


def cell_moments(thresholds: np.ndarray, levels: np.ndarray) -> dict[str, float]:
    """Exact Gaussian moments of a scalar quantizer with N(0, 1) input.

    Parameters
    ----------
    thresholds : numpy.ndarray, float64 (L - 1,)
        Increasing decision thresholds.
    levels : numpy.ndarray, float64 (L,)
        Output level of each cell.

    Returns
    -------
    dict
        ``mse`` = E[(x - Q)**2], ``gain`` = E[x Q], ``power`` = E[Q**2] and
        ``distortion`` = power - gain**2 (all for unit input variance).
    """
    a = np.concatenate([[-np.inf], thresholds])
    b = np.concatenate([thresholds, [np.inf]])
    p = ndtr(b) - ndtr(a)
    m1 = _phi(a) - _phi(b)                       # int_a^b x phi
    m2 = p + _x_phi(a) - _x_phi(b)               # int_a^b x^2 phi
    y = np.asarray(levels, dtype=np.float64)
    mse = float(np.sum(m2 - 2 * y * m1 + y * y * p))
    gain = float(np.sum(y * m1))
    power = float(np.sum(y * y * p))
    return {"mse": mse, "gain": gain, "power": power, "distortion": power - gain * gain}


def uniform_quantizer(bits: int, step: float) -> tuple[np.ndarray, np.ndarray]:
    """Thresholds and levels of the b-bit mid-rise uniform quantizer with step ``step``."""
    half = 2 ** (bits - 1)
    k = np.arange(-half + 1, half)
    thresholds = k * step
    levels = (np.arange(-half, half) + 0.5) * step
    return thresholds.astype(np.float64), levels.astype(np.float64)


@cache
def optimal_uniform_step(bits: int) -> float:
    """MSE-optimal step of the b-bit mid-rise uniform quantizer for N(0, 1) (unit: sigma)."""
    if not 1 <= bits <= 16:
        raise ValueError(f"bits must be between 1 and 16, not {bits}")

    def mse(step):
        return cell_moments(*uniform_quantizer(bits, step))["mse"]

    # the optimum lies well inside (0, 8 / 2**(b-1)]: golden-section search, then refine
    lo, hi = 1e-4, 8.0 / 2 ** (bits - 1) + 1.0
    g = (math.sqrt(5) - 1) / 2
    c, d = hi - g * (hi - lo), lo + g * (hi - lo)
    fc, fd = mse(c), mse(d)
    for _ in range(200):
        if fc < fd:
            hi, d, fd = d, c, fc
            c = hi - g * (hi - lo)
            fc = mse(c)
        else:
            lo, c, fc = c, d, fd
            d = lo + g * (hi - lo)
            fd = mse(d)
        if hi - lo < 1e-12:
            break
    return float((lo + hi) / 2)


@cache
def lloyd_max(bits: int, n_iter: int = 20000, tol: float = 1e-13) -> tuple[np.ndarray, np.ndarray]:
    """Lloyd-Max quantizer for N(0, 1): ``(thresholds, levels)`` (unit: sigma).

    Alternates midpoint thresholds and centroid levels from the optimal uniform quantizer
    until the levels move less than ``tol``.
    """
    if not 1 <= bits <= 12:
        raise ValueError(f"bits must be between 1 and 12, not {bits}")
    t, y = uniform_quantizer(bits, optimal_uniform_step(bits))
    for _ in range(n_iter):
        t = (y[1:] + y[:-1]) / 2
        a = np.concatenate([[-np.inf], t])
        b = np.concatenate([t, [np.inf]])
        p = ndtr(b) - ndtr(a)
        y_new = (_phi(a) - _phi(b)) / np.maximum(p, 1e-300)
        done = np.max(np.abs(y_new - y)) < tol
        y = y_new
        if done:
            break
    t = (y[1:] + y[:-1]) / 2
    t.setflags(write=False)
    y.setflags(write=False)
    return t, y


def quantizer_tables(kind: str, bits: int) -> tuple[np.ndarray, np.ndarray]:
    """``(thresholds, levels)`` of the ``kind`` quantizer at ``bits`` (unit-variance input)."""
    if kind == "uniform":
        return uniform_quantizer(bits, optimal_uniform_step(bits))
    if kind == "lloyd_max":
        return lloyd_max(bits)
    raise ValueError(f"quantizer must be 'uniform' or 'lloyd_max', not {kind!r}")


def quantizer_stats(kind: str, bits: int) -> dict[str, float]:
    """Bussgang gain, distortion variance and MSE (= rho) of a quantizer, unit input variance.

    Returns
    -------
    dict
        ``gain`` g, ``distortion`` delta, ``mse`` (rho), ``power`` E[Q**2] and
        ``noise_to_signal`` delta / g**2 (the distortion referred to the input).
    """
    return dict(_stats(kind, bits))


@cache
def _stats(kind: str, bits: int) -> dict[str, float]:
    s = cell_moments(*quantizer_tables(kind, bits))
    s["noise_to_signal"] = s["distortion"] / s["gain"] ** 2
    return s


def stats_arrays(kind: str, max_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """Gain g_b and distortion delta_b indexed by b = 0..max_bits (index 0 unused: NaN)."""
    g = np.full(max_bits + 1, np.nan)
    d = np.full(max_bits + 1, np.nan)
    for b in range(1, max_bits + 1):
        s = quantizer_stats(kind, b)
        g[b], d[b] = s["gain"], s["distortion"]
    return g, d


def quantize_real(x, thresholds, levels):
    """Quantize a real torch tensor (unit-variance scale) with the given quantizer tables."""
    import torch

    # copies: the cached Lloyd-Max tables are read-only numpy arrays
    t = torch.tensor(np.array(thresholds), dtype=x.dtype, device=x.device)
    y = torch.tensor(np.array(levels), dtype=x.dtype, device=x.device)
    return y[torch.bucketize(x, t)]
