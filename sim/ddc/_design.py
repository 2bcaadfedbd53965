"""DDC design: float filter designs (scipy) and the widths that turn them into a DdcSpec.

:class:`DdcDesign` holds what the user asks for (rates, IF, decimation, bands, filter
lengths); :class:`DdcWidths` the allocator's choices (every quantization point);
:func:`ddc_spec` combines them into the frozen :class:`~bitsmith.sim.ddc.DdcSpec`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..fir._spec import FirSpec
from ..fixed import Overflow, QFormat, Rounding
from ._chain import DdcSpec
from ._cic import CicSpec, hogenauer_discards
from ._nco import NcoSpec

__all__ = [
    "DdcDesign",
    "DdcWidths",
    "cfir_taps_float",
    "cic_gain_correction",
    "cic_response",
    "ddc_spec",
    "halfband_taps_float",
    "quantize_taps",
]


@dataclass(frozen=True)
class DdcDesign:
    """What the DDC must do (everything but the widths).

    Parameters
    ----------
    fs : float
        ADC sample rate (Hz).
    f_if : float
        Carrier / IF to bring to 0 Hz (Hz, 0 < f_if < fs/2).
    adc_bits : int
        ADC resolution (bits): fixed by the converter, not allocated.
    cic_stages, cic_decimation, cic_diff_delay : int
        N, R, M.
    halfband_taps : int
        Half-band length (4k+3), or 0 for none.
    cfir_taps : int
        Compensation FIR length, or 0 for none.
    cfir_decimate : int
        1 or 2.
    passband, stopband : float
        Output passband and stopband edges (Hz).
    phase_bits : int
        NCO accumulator width (bits): sets the tuning resolution fs / 2^phase_bits.
    """

    fs: float
    f_if: float
    adc_bits: int
    cic_stages: int
    cic_decimation: int
    cic_diff_delay: int
    halfband_taps: int
    cfir_taps: int
    cfir_decimate: int
    passband: float
    stopband: float
    phase_bits: int = 32

    @property
    def decimation(self) -> int:
        """Total rate change."""
        return self.cic_decimation * (2 if self.halfband_taps else 1) * self.cfir_decimate

    @property
    def output_rate(self) -> float:
        """Output sample rate (Hz)."""
        return self.fs / self.decimation

    @property
    def cfir_rate(self) -> float:
        """CFIR input rate (Hz)."""
        return self.fs / self.cic_decimation / (2 if self.halfband_taps else 1)

    @property
    def fcw(self) -> int:
        """NCO frequency control word for ``f_if`` (rounded)."""
        return int(round(self.f_if / self.fs * (1 << self.phase_bits))) % (1 << self.phase_bits)


@dataclass(frozen=True)
class DdcWidths:
    """The allocator's choices: every quantization point of the chain (bits).

    ``cic_extra`` are LSBs each CIC register discards beyond Hogenauer's rule (2N values);
    zero-width filter fields are ignored when the filter is absent.
    """

    addr_bits: int
    amp_bits: int
    mixer_bits: int
    cic_extra: tuple[int, ...]
    cic_out_bits: int
    hb_coef_bits: int
    hb_out_bits: int
    cfir_coef_bits: int
    out_bits: int
    dither_bits: int = 0


def cic_response(f, fs: float, N: int, R: int, M: int) -> np.ndarray:
    """|H(f)| of the CIC normalized to 1 at DC, f in Hz at the ADC rate ``fs``."""
    f = np.asarray(f, dtype=float)
    x = np.pi * f / fs
    with np.errstate(invalid="ignore", divide="ignore"):
        h = np.abs(np.sin(R * M * x) / (R * M * np.sin(x)))
    return np.where(x == 0, 1.0, h) ** N


@lru_cache(maxsize=16)
def halfband_taps_float(taps: int) -> tuple[float, ...]:
    """Windowed-sinc half-band (cutoff fs/4, Hamming): every other tap is exactly 0."""
    from scipy.signal import firwin

    if taps % 4 != 3:
        raise ValueError(f"half-band length must be 4k+3 (7, 11, 15, ...), not {taps}")
    h = firwin(taps, 0.5)
    c = taps // 2
    h[c - 2::-2] = 0.0  # exact zeros (firwin leaves ~1e-18)
    h[c + 2::2] = 0.0
    return tuple(float(v) for v in h / h.sum())


@lru_cache(maxsize=64)
def cfir_taps_float(design: DdcDesign, gain: float = 1.0) -> tuple[float, ...]:
    """Compensation FIR at :attr:`DdcDesign.cfir_rate`: least squares (scipy ``firls``).

    Passband gain ``gain / |H_cic(f)|`` up to ``passband`` (16 linear pieces), 0 from
    ``stopband`` to Nyquist; stopband weight 10.
    """
    from scipy.signal import firls

    L = design.cfir_taps
    nyq = design.cfir_rate / 2
    fp, fsb = design.passband, min(design.stopband, nyq)
    grid = np.linspace(0.0, fp, 17)
    inv = gain / cic_response(grid, design.fs, design.cic_stages, design.cic_decimation,
                              design.cic_diff_delay)
    bands, desired, weight = [], [], []
    for k in range(16):
        bands += [grid[k], grid[k + 1]]
        desired += [inv[k], inv[k + 1]]
        weight.append(1.0)
    bands += [fsb, nyq]
    desired += [0.0, 0.0]
    weight.append(10.0)
    h = firls(L, bands, desired, weight=weight, fs=design.cfir_rate)
    return tuple(float(v) for v in h)


def quantize_taps(h, coef_bits: int) -> tuple[tuple[int, ...], int]:
    """Round ``h`` to ``coef_bits``-bit raw integers on the finest common LSB that fits.

    Returns ``(raw, coef_frac)``: value ``raw * 2^-coef_frac``, every |raw| < 2^(coef_bits-1).
    """
    h = np.asarray(h, dtype=float)
    peak = float(np.max(np.abs(h)))
    top = (1 << (coef_bits - 1)) - 1
    frac = coef_bits - 1 - math.ceil(math.log2(peak)) if peak > 0 else coef_bits - 1
    while round(peak * 2.0 ** frac) > top:
        frac -= 1
    while round(peak * 2.0 ** (frac + 1)) <= top:
        frac += 1
    return tuple(int(round(v * 2.0 ** frac)) for v in h), frac


@lru_cache(maxsize=8192)
def _fir(h: tuple, coef_bits: int, in_bits: int, out_bits: int) -> FirSpec:
    raw, frac = quantize_taps(h, coef_bits)
    widths = tuple(coef_bits if c else 0 for c in raw)
    return FirSpec(raw, frac, widths, QFormat(1, in_bits - 1), QFormat(1, out_bits - 1),
                   rounding=Rounding.ROUND_HALF_UP, overflow=Overflow.SATURATE,
                   fold_symmetric=True)


def cic_gain_correction(design: DdcDesign) -> float:
    """2^ceil(log2 G) / G: what the CFIR restores of the CIC gain G = (RM)^N (>= 1)."""
    G = (design.cic_decimation * design.cic_diff_delay) ** design.cic_stages
    return 2.0 ** math.ceil(math.log2(G) - 1e-12) / G


def ddc_spec(design: DdcDesign, widths: DdcWidths) -> DdcSpec:
    """The frozen chain for ``design`` at ``widths``."""
    w = widths
    N, R, M = design.cic_stages, design.cic_decimation, design.cic_diff_delay
    nco = NcoSpec(design.phase_bits, design.fcw, w.addr_bits, w.amp_bits, w.dither_bits)
    hog = hogenauer_discards(N, R, M, w.mixer_bits, w.cic_out_bits)
    probe = CicSpec(N, R, M, w.mixer_bits, w.cic_out_bits, hog)
    if len(w.cic_extra) != 2 * N:
        raise ValueError(f"cic_extra must list 2N = {2 * N} values, not {len(w.cic_extra)}")
    disc, prev = [], 0
    for b, e in zip(hog, w.cic_extra, strict=True):
        prev = min(max(b + int(e), prev), probe.output_discard)
        disc.append(prev)
    cic = CicSpec(N, R, M, w.mixer_bits, w.cic_out_bits, tuple(disc))
    hb = cfir = None
    bits = w.cic_out_bits
    if design.halfband_taps:
        hb = _fir(halfband_taps_float(design.halfband_taps), w.hb_coef_bits, bits,
                  w.hb_out_bits)
        bits = w.hb_out_bits
    if design.cfir_taps:
        cfir = _fir(cfir_taps_float(design, cic_gain_correction(design)), w.cfir_coef_bits,
                    bits, w.out_bits)
    return DdcSpec(design.adc_bits, nco, w.mixer_bits, cic, hb, cfir,
                   design.cfir_decimate if cfir is not None else 1)
