"""Test channel for the DDC: a QPSK burst at an offset from the IF, a stopband interferer and
noise, quantized by the ADC; and the demodulator that turns the DDC's I/Q into EVM and BER."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Burst", "demodulate_qpsk", "qpsk_burst", "rrc_taps"]


def rrc_taps(sps: int, rolloff: float, span: int) -> np.ndarray:
    """Root-raised-cosine pulse, ``span`` symbols long, unit energy (``sps`` samples/symbol)."""
    t = (np.arange(span * sps + 1) - span * sps / 2) / sps
    b = rolloff
    h = np.empty_like(t)
    for k, tk in enumerate(t):
        if abs(tk) < 1e-12:
            h[k] = 1 - b + 4 * b / math.pi
        elif b > 0 and abs(abs(4 * b * tk) - 1) < 1e-9:
            h[k] = b / math.sqrt(2) * ((1 + 2 / math.pi) * math.sin(math.pi / (4 * b))
                                       + (1 - 2 / math.pi) * math.cos(math.pi / (4 * b)))
        else:
            h[k] = (math.sin(math.pi * tk * (1 - b)) + 4 * b * tk * math.cos(math.pi * tk * (1 + b))) \
                / (math.pi * tk * (1 - (4 * b * tk) ** 2))
    return h / np.sqrt(np.sum(h ** 2))


@dataclass(frozen=True)
class Burst:
    """A generated ADC record and what it carries.

    Attributes
    ----------
    adc : numpy.ndarray of int64
        Raw ADC samples.
    analog : numpy.ndarray of float
        The same before the ADC (fraction of full scale, clipped like the ADC).
    bits : numpy.ndarray of uint8
        The transmitted bits (2 per symbol, Gray mapped).
    symbols : numpy.ndarray of complex
        The QPSK symbols (unit power).
    signal_power, interferer_power, noise_power : float
        Powers at the ADC input (fraction of full scale squared).
    """

    adc: np.ndarray
    analog: np.ndarray
    bits: np.ndarray
    symbols: np.ndarray
    signal_power: float
    interferer_power: float
    noise_power: float


def qpsk_burst(n_samples: int, fs: float, f_carrier: float, symbol_rate: float, rolloff: float,
               signal_dbfs: float, interferer_hz: float, interferer_dbfs: float,
               snr_db: float, adc_bits: int, rng: np.random.Generator) -> Burst:
    """QPSK (RRC) at ``f_carrier`` + a tone at ``interferer_hz`` + white noise, ADC-quantized.

    Powers in dBFS (0 dBFS: a full-scale sine, power 1/2); ``snr_db`` is signal power over
    noise power in the whole ADC band. ``fs / symbol_rate`` must be an integer.
    """
    from scipy.signal import upfirdn

    sps = fs / symbol_rate
    if abs(sps - round(sps)) > 1e-9:
        raise ValueError(f"fs / symbol_rate must be an integer, not {sps}")
    sps = int(round(sps))
    span = 8
    n_sym = n_samples // sps + span + 1
    bits = rng.integers(0, 2, 2 * n_sym).astype(np.uint8)
    sym = ((1 - 2.0 * bits[0::2]) + 1j * (1 - 2.0 * bits[1::2])) / math.sqrt(2)
    h = rrc_taps(sps, rolloff, span) * math.sqrt(sps)  # unit-power waveform
    bb = upfirdn(h, sym, up=sps)[:n_samples]
    n = np.arange(n_samples)
    ps = 0.5 * 10 ** (signal_dbfs / 10)
    pi = 0.5 * 10 ** (interferer_dbfs / 10)
    pn = ps / 10 ** (snr_db / 10)
    sig = np.sqrt(2 * ps) * np.real(bb * np.exp(2j * np.pi * f_carrier / fs * n))
    intf = np.sqrt(2 * pi) * np.cos(2 * np.pi * interferer_hz / fs * n + 1.0)
    analog = sig + intf + rng.normal(0, math.sqrt(pn), n_samples)
    full = (1 << (adc_bits - 1))
    adc = np.clip(np.round(analog * full), -full, full - 1).astype(np.int64)
    analog = np.clip(analog, -1.0, (full - 1) / full)
    return Burst(adc, analog, bits, sym, ps, pi, pn)


def demodulate_qpsk(z, f_offset: float, rate: float, symbol_rate: float, rolloff: float,
                    symbols, bits) -> dict:
    """EVM and BER of DDC output ``z`` (complex, fraction of full scale) against the burst.

    Shifts by ``-f_offset``, matched-filters (RRC), interpolates by 8, picks the sample phase
    (1/8-sample steps) and symbol delay of
    the largest correlation with the known symbols, fits one complex gain (least squares)
    and decides. The first and last 16 symbols are skipped (filter transients).

    Returns
    -------
    dict
        ``evm_percent`` (rms error over rms reference), ``evm_db``, ``ber``, ``bit_errors``,
        ``bits``, ``symbols``, ``delay``, ``phase``.
    """
    z = np.asarray(z, dtype=complex)
    sps = int(round(rate / symbol_rate))
    n = np.arange(len(z))
    y = z * np.exp(-2j * np.pi * f_offset / rate * n)
    h = rrc_taps(sps, rolloff, 8)
    y = np.convolve(y, h)[: len(z)]
    # timing to 1/8 sample: the chain's delay is not a whole number of output samples
    from scipy.signal import resample_poly

    up = 8
    y = resample_poly(y, up, 1)
    sps *= up
    best = None
    sym = np.asarray(symbols)
    for ph in range(sps):
        ys = y[ph::sps]
        m = min(len(ys), 400)
        for d in range(0, 40):
            a = ys[d:d + m]
            b = sym[: len(a)]
            c = abs(np.vdot(b, a))
            if best is None or c > best[0]:
                best = (c, ph, d)
    _, ph, d = best
    ys = y[ph::sps][d:]
    k = min(len(ys), len(sym))
    ys, ref = ys[16:k - 16], sym[16:k - 16]
    g = np.vdot(ys, ref) / np.vdot(ys, ys)
    e = g * ys
    evm = math.sqrt(np.mean(np.abs(e - ref) ** 2) / np.mean(np.abs(ref) ** 2))
    dec = np.stack([(e.real < 0), (e.imag < 0)], axis=1).reshape(-1).astype(np.uint8)
    tx = np.asarray(bits)[32:32 + len(dec)]
    errors = int(np.count_nonzero(dec != tx))
    return {"evm_percent": 100 * evm, "evm_db": 20 * math.log10(max(evm, 1e-12)),
            "ber": errors / len(dec), "bit_errors": errors, "bits": int(len(dec)),
            "symbols": int(len(ref)), "delay": int(d), "phase": int(ph)}
