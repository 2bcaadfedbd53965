"""FIR quality metrics: frequency response against the spec mask, batch response errors for
search, measured output SQNR, and the predicted output noise of a :class:`FirSpec`.

Frequencies are normalized to Nyquist = 1. Gains are linear (response error) or in dB.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.fft

from ..fixed import Rounding, to_float
from ._design import FirDesign, bands
from ._model import fir_filter
from ._spec import FirSpec

__all__ = [
    "NoisePrediction",
    "ResponseMetrics",
    "SqnrMeasurement",
    "batch_band_metrics",
    "batch_response_error",
    "frequency_response",
    "measure_sqnr",
    "meets",
    "predict_output_noise",
    "response_metrics",
    "rounding_error_stats",
    "worst_case_error_bound",
]

#: Response magnitudes are floored here before taking dB, so a zero gives -300 dB, not -inf.
_TINY = 1e-15


def _grid(n_freq: int, taps: int) -> np.ndarray:
    if isinstance(n_freq, bool) or int(n_freq) != n_freq or n_freq < 1:
        raise ValueError(f"n_freq must be a positive integer, not {n_freq!r}")
    if 2 * n_freq < taps:
        raise ValueError(f"n_freq must be at least half the filter length ({taps}), not {n_freq}")
    return np.arange(n_freq + 1) / n_freq


def frequency_response(h, n_freq: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Frequency response on a uniform grid from 0 to Nyquist inclusive.

    Parameters
    ----------
    h : array_like of float, shape (L,) or (n, L)
        Taps (one filter per row for 2-D input).
    n_freq : int
        Grid intervals: n_freq + 1 points, spacing 1/n_freq (Nyquist = 1); 2 n_freq >= L.

    Returns
    -------
    w : numpy.ndarray of float64, shape (n_freq + 1,)
        Frequencies (Nyquist = 1).
    H : numpy.ndarray of complex128, shape (n_freq + 1,) or (n, n_freq + 1)
        Complex response sum_k h[k] exp(-j pi w k), as ``scipy.signal.freqz``.
    """
    h = np.asarray(h, dtype=np.float64)
    w = _grid(n_freq, h.shape[-1])
    return w, scipy.fft.rfft(h, n=2 * n_freq, axis=-1)


def _band_masks(design: FirDesign, w: np.ndarray):
    """(pass mask, stop mask) over the grid w."""
    pm = np.zeros(w.shape, dtype=bool)
    sm = np.zeros(w.shape, dtype=bool)
    for b in bands(design):
        m = (w >= b.f_lo) & (w <= b.f_hi)
        if b.kind == "pass":
            pm |= m
        else:
            sm |= m
    return pm, sm


def _pass_gain(design: FirDesign, w: np.ndarray) -> np.ndarray:
    """Desired gain at each grid frequency (1 outside the passbands): passband ripple is
    measured relative to it (a multiband passband may want a gain other than 1)."""
    g = np.ones(w.shape)
    for b in bands(design):
        if b.kind == "pass":
            g[(w >= b.f_lo) & (w <= b.f_hi)] = b.gain
    return g


@dataclass(frozen=True)
class ResponseMetrics:
    """How a quantized response compares with the spec mask and the float design.

    Attributes
    ----------
    passband_ripple_db : float
        max over the passbands of |20 log10 |H_q||: deviation from unity gain (dB).
    stopband_atten_db : float
        min over the stopbands of -20 log10 |H_q|: attenuation below unity gain (dB).
    max_error : float
        max over the whole grid of |H_q - H_float| (linear).
    rms_error : float
        RMS over the whole grid of |H_q - H_float| (linear).
    """

    passband_ripple_db: float
    stopband_atten_db: float
    max_error: float
    rms_error: float


def response_metrics(h_q, h_float, design: FirDesign, n_freq: int = 4096) -> ResponseMetrics:
    """Spec-mask metrics of quantized taps and their error against the float design.

    Parameters
    ----------
    h_q : array_like of float, shape (L,)
        Quantized tap values (e.g. ``FirSpec.values``).
    h_float : array_like of float, shape (L,)
        Float design.
    design : FirDesign
        Requirements (band edges).
    n_freq : int
        Grid intervals, at least 1024.

    Returns
    -------
    ResponseMetrics
    """
    h_q = np.asarray(h_q, dtype=np.float64)
    h_float = np.asarray(h_float, dtype=np.float64)
    if h_q.shape != h_float.shape or h_q.ndim != 1:
        raise ValueError(
            f"h_q and h_float must be 1-D of the same length, not shapes {h_q.shape} and "
            f"{h_float.shape}"
        )
    if n_freq < 1024:
        raise ValueError(f"n_freq must be at least 1024 for band metrics, not {n_freq}")
    w, H = frequency_response(np.stack([h_q, h_float]), n_freq)
    pm, sm = _band_masks(design, w)
    mag = np.maximum(np.abs(H[0]), _TINY)
    err = np.abs(H[0] - H[1])
    # no passband (stopband): no ripple (attenuation) to measure -- 0 dB ripple (inf dB)
    rel = mag[pm] / _pass_gain(design, w)[pm]
    return ResponseMetrics(
        passband_ripple_db=float(np.max(np.abs(20 * np.log10(rel)))) if pm.any() else 0.0,
        stopband_atten_db=float(-20 * np.log10(np.max(mag[sm]))) if sm.any() else np.inf,
        max_error=float(np.max(err)),
        rms_error=float(np.sqrt(np.mean(err**2))),
    )


def meets(design: FirDesign, metrics: ResponseMetrics) -> bool:
    """Whether the metrics meet the requirements' ripple and attenuation targets."""
    return (
        metrics.passband_ripple_db <= design.passband_ripple_db
        and metrics.stopband_atten_db >= design.stopband_atten_db
    )


def batch_response_error(
    h, Q, *, weights=None, design: FirDesign | None = None, kind: str = "max", n_freq: int = 2048
) -> np.ndarray:
    """Response error |H_q - H_float| of many quantized candidates at once (for search).

    One real FFT of the (n, L) difference matrix; only the candidates' coefficient error
    matters, since the response is linear in the taps.

    Parameters
    ----------
    h : array_like of float, shape (L,)
        Float design.
    Q : array_like of float, shape (n, L)
        Quantized tap values per candidate (e.g. :func:`quantize_coefficient_batch`).
    weights : array_like of float, shape (n_freq + 1,), optional
        Non-negative weight per grid frequency (Nyquist = 1 grid of :func:`frequency_response`).
    design : FirDesign, optional
        Restrict the error to the pass and stop bands (transition bands ignored); combined
        with ``weights`` by multiplication.
    kind : {"max", "rms"}
        ``max``: max_w weight |E|; ``rms``: sqrt(sum weight |E|^2 / sum weight).
    n_freq : int
        Grid intervals.

    Returns
    -------
    numpy.ndarray of float64, shape (n,)
        Error per candidate (linear gain).
    """
    if kind not in ("max", "rms"):
        raise ValueError(f"kind must be 'max' or 'rms', not {kind!r}")
    h = np.asarray(h, dtype=np.float64)
    Q = np.asarray(Q, dtype=np.float64)
    if Q.ndim != 2 or h.ndim != 1 or Q.shape[1] != h.size:
        raise ValueError(
            f"Q must be (n_candidates, {h.size}) for {h.size} taps, not shape {Q.shape}"
        )
    w, E = frequency_response(Q - h, n_freq)
    wt = np.ones(w.shape)
    if weights is not None:
        wt = np.asarray(weights, dtype=np.float64)
        if wt.shape != w.shape:
            raise ValueError(f"weights must have n_freq + 1 = {w.size} entries, not {wt.shape}")
        if np.any(wt < 0):
            raise ValueError("weights must be non-negative")
    if design is not None:
        pm, sm = _band_masks(design, w)
        wt = wt * (pm | sm)
    if not np.any(wt > 0):
        raise ValueError("weights (and design bands) must leave at least one frequency")
    sel = wt > 0
    mag = np.abs(E[:, sel])
    if kind == "max":
        return np.max(mag * wt[sel], axis=1)
    return np.sqrt((mag**2) @ wt[sel] / wt[sel].sum())


def batch_band_metrics(Q, design: FirDesign, n_freq: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """Stopband attenuation and passband ripple of many candidates (dB each).

    Parameters
    ----------
    Q : array_like of float, shape (n, L)
        Tap values per candidate.
    design : FirDesign
        Requirements (band edges).
    n_freq : int
        Grid intervals.

    Returns
    -------
    atten_db, ripple_db : numpy.ndarray of float64, shape (n,)
        min over stopbands of -20 log10|H|, and max over passbands of |20 log10|H|| (dB);
        a candidate meets the spec when atten_db >= stopband_atten_db and ripple_db <=
        passband_ripple_db.
    """
    Q = np.asarray(Q, dtype=np.float64)
    if Q.ndim != 2:
        raise ValueError(f"Q must be a 2-D (n_candidates, L) array, not shape {Q.shape}")
    w, H = frequency_response(Q, n_freq)
    pm, sm = _band_masks(design, w)
    mag = np.abs(H)
    if not sm.any() or not pm.any():
        raise ValueError("batch band metrics need a passband and a stopband")
    stop_max = np.maximum(np.max(mag[:, sm], axis=1), _TINY)
    pmag = np.maximum(mag[:, pm] / _pass_gain(design, w)[pm], _TINY)
    ripple = np.maximum(20 * np.log10(np.max(pmag, axis=1)), -20 * np.log10(np.min(pmag, axis=1)))
    return -20 * np.log10(stop_max), ripple


# -- measured and predicted output error --------------------------------------------------


@dataclass(frozen=True)
class SqnrMeasurement:
    """Bit-true output against the float filter on the same (quantized) input samples.

    Attributes
    ----------
    sqnr_db : float
        10 log10(signal_power / error_power) (dB).
    signal_power : float
        Mean square of the float filter's output (value units squared).
    error_power : float
        Mean square of (bit-true output - float output) (value units squared).
    error_mean : float
        Mean of the error (value units).
    max_abs_error : float
        Largest |error| (value units).
    """

    sqnr_db: float
    signal_power: float
    error_power: float
    error_mean: float
    max_abs_error: float


def _float_taps(spec: FirSpec, h_float) -> np.ndarray:
    """``h_float`` as float64, checked to have the spec's tap count."""
    h_float = np.asarray(h_float, dtype=np.float64)
    if h_float.shape != (spec.taps,):
        raise ValueError(
            f"h_float must have the spec's {spec.taps} taps, not shape {h_float.shape}"
        )
    return h_float


def measure_sqnr(spec: FirSpec, h_float, x_raw) -> SqnrMeasurement:
    """Measure the output error of the bit-true model against the float filter.

    Both filters see the same input samples (``x_raw`` in ``spec.input_format``) from a zero
    state, so the error holds coefficient quantization, output rounding and any overflow.

    Parameters
    ----------
    spec : FirSpec
        The filter.
    h_float : array_like of float, shape (L,)
        Float taps it approximates.
    x_raw : array_like of int, shape (N,)
        Raw input samples.

    Returns
    -------
    SqnrMeasurement
    """
    h_float = _float_taps(spec, h_float)
    y = to_float(fir_filter(spec, x_raw), spec.output_format)
    x = to_float(np.asarray(x_raw, dtype=np.int64), spec.input_format)
    ref = np.convolve(x, h_float)[: x.size]
    e = y - ref
    if e.size == 0:
        raise ValueError("x_raw must hold at least one sample, not 0")
    sig = float(np.mean(ref**2))
    err = float(np.mean(e**2))
    return SqnrMeasurement(
        sqnr_db=float(10 * np.log10(sig / err)) if err > 0 else float("inf"),
        signal_power=sig,
        error_power=err,
        error_mean=float(np.mean(e)),
        max_abs_error=float(np.max(np.abs(e))),
    )


def rounding_error_stats(
    rounding: Rounding, lsb: float, dropped_bits: int
) -> tuple[float, float, float]:
    """Mean, variance and largest |error| of dropping ``dropped_bits`` bits with ``rounding``.

    The discarded bits are taken as uniform over their 2**d discrete levels (d =
    ``dropped_bits``, delta = lsb / 2**d), the standard model for a signal much larger than
    an LSB. Enumerating the 2**d errors gives, with the output LSB q = ``lsb``:

    - TRUNCATE (floor): errors -r delta, r = 0..2**d-1: mean -(q/2)(1 - 2**-d),
      variance (q^2/12)(1 - 2**-2d), max q (1 - 2**-d).
    - ROUND_HALF_UP: errors -(2**(d-1)-1)..2**(d-1) times delta: mean +delta/2 =
      2**(-f-d-1), variance (q^2/12)(1 - 2**-2d), max q/2.
    - ROUND_HALF_EVEN: as half-up but the tie goes +-q/2 with equal odds: mean 0,
      variance (q^2/12)(1 + 2**(1-2d)), max q/2.
    - ROUND_TO_ZERO: floor's error magnitude with the sign of the value: for a signal
      symmetric about 0, mean 0 and mean square = floor's variance + floor's mean^2,
      max q (1 - 2**-d).

    d -> infinity gives the continuous q^2/12 model of HARDWARE_FACTS.md; d <= 0 (no bits
    dropped) gives no error.

    Parameters
    ----------
    rounding : Rounding
        Rounding mode.
    lsb : float
        Output LSB q (value units).
    dropped_bits : int
        Bits discarded below the output LSB (bits).

    Returns
    -------
    (mean, variance, max_abs) : tuple of float
        In value units (variance in value units squared).
    """
    d = int(dropped_bits)
    if d <= 0:
        return 0.0, 0.0, 0.0
    q2 = lsb * lsb / 12.0
    trunc_mean = -(lsb / 2) * (1 - 2.0**-d)
    trunc_var = q2 * (1 - 2.0 ** (-2 * d))
    if rounding is Rounding.TRUNCATE:
        return trunc_mean, trunc_var, lsb * (1 - 2.0**-d)
    if rounding is Rounding.ROUND_HALF_UP:
        return lsb * 2.0 ** (-d - 1), trunc_var, lsb / 2
    if rounding is Rounding.ROUND_HALF_EVEN:
        return 0.0, q2 * (1 + 2.0 ** (1 - 2 * d)), lsb / 2
    if rounding is Rounding.ROUND_TO_ZERO:
        return 0.0, trunc_var + trunc_mean**2, lsb * (1 - 2.0**-d)
    raise ValueError(f"rounding must be a Rounding, not {rounding!r}")


@dataclass(frozen=True)
class NoisePrediction:
    """Predicted output error power of a FIR (value units squared).

    Attributes
    ----------
    coefficient_power : float
        input_power * ||h_q - h_float||^2 (white input).
    rounding_variance : float
        Variance of the output rounding point (path gain 1).
    rounding_mean : float
        Mean of the output rounding error (value units).
    cross_power : float
        2 E[coefficient error * rounding error]: nonzero only for ROUND_TO_ZERO, whose error
        follows the sign of the output.
    total_power : float
        Mean square error: coefficient_power + rounding_variance + rounding_mean^2 +
        cross_power.
    """

    coefficient_power: float
    rounding_variance: float
    rounding_mean: float
    cross_power: float
    total_power: float


def predict_output_noise(spec: FirSpec, h_float, input_power: float) -> NoisePrediction:
    """Predict the mean square output error of the bit-true filter against the float one.

    Two sources: coefficient error, which for a white zero-mean input of power P reaches
    the output as P * sum_k (h_q[k] - h[k])^2, and the single output rounding point
    (d = acc frac - output frac bits dropped, statistics of :func:`rounding_error_stats`),
    whose path to the output has squared L2 gain 1. They are uncorrelated except for
    ROUND_TO_ZERO, whose error follows the output's sign (see ``cross_power``; that term
    assumes a Gaussian output, i.e. many taps). Output overflow is not included here: add
    :func:`~bitsmith.sim.predict_overflow`'s ``error_power`` (what the FIR flow reports),
    or size the output format from the L1 bound (:func:`~bitsmith.sim.min_output_int_bits`).

    Parameters
    ----------
    spec : FirSpec
        The filter.
    h_float : array_like of float, shape (L,)
        Float taps.
    input_power : float
        Mean square of the input samples (value units squared).

    Returns
    -------
    NoisePrediction
    """
    h_float = _float_taps(spec, h_float)
    if not input_power >= 0:
        raise ValueError(f"input_power must be >= 0, not {input_power}")
    hq = np.asarray(spec.values)
    dh = hq - h_float
    coef = float(input_power * np.dot(dh, dh))
    d = spec.acc_format.frac_bits - spec.output_format.frac_bits
    mean, var, _ = rounding_error_stats(spec.rounding, spec.output_format.lsb, d)
    cross = 0.0
    if spec.rounding is Rounding.ROUND_TO_ZERO and d > 0 and input_power > 0:
        # Rounding toward zero errs by -sign(v) * |floor error| (v = the exact output), so it
        # correlates with the coefficient error c = dh . x through v = h_q . x:
        # E[c e] = -|floor mean| E[c sign(v)], and for Gaussian (many-tap) outputs
        # E[c sign(v)] = sqrt(2/pi) Cov(c, v) / std(v), Cov(c, v) = P dh . h_q.
        tmean, _, _ = rounding_error_stats(Rounding.TRUNCATE, spec.output_format.lsb, d)
        cov = input_power * float(np.dot(dh, hq))
        std_v = float(np.sqrt(input_power * np.dot(hq, hq)))
        cross = float(2 * tmean * np.sqrt(2 / np.pi) * cov / std_v)
    return NoisePrediction(coef, var, mean, cross, coef + var + mean**2 + cross)


def worst_case_error_bound(spec: FirSpec, h_float) -> float:
    """Largest possible |bit-true output - float output| for any input (value units).

    max|x| * sum_k |h_q[k] - h[k]| (the L1 bound on the coefficient error, max|x| =
    -input_format.min) plus the largest output rounding error. Assumes no output overflow.

    Parameters
    ----------
    spec : FirSpec
        The filter.
    h_float : array_like of float, shape (L,)
        Float taps.

    Returns
    -------
    float
        The bound (value units).
    """
    h_float = _float_taps(spec, h_float)
    dh = np.abs(np.asarray(spec.values) - h_float).sum()
    d = spec.acc_format.frac_bits - spec.output_format.frac_bits
    _, _, max_round = rounding_error_stats(spec.rounding, spec.output_format.lsb, d)
    return float(-spec.input_format.min * dh + max_round)
