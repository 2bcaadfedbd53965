"""Numerically controlled oscillator: phase accumulator, quarter-wave table, optional dither.

Sample ``n`` (counted over valid samples from 0) uses the accumulator value
``phi[n] = (n * fcw) mod 2^phase_bits`` plus, with dither, ``lfsr[n] mod 2^dither_bits``
(a 32-bit Galois LFSR stepped once per sample); the top ``addr_bits + 2`` bits of that sum
are the table phase ``p``. The quarter-wave table holds
``T[a] = round((2^(amp_bits-1) - 1) * sin(pi/2 * (a + 1/2) / 2^addr_bits))``: the half-step
offset makes the four quadrants exact mirrors, so ``sin(p)`` is ``T[a]``, ``T[~a]``, ``-T[a]``,
``-T[~a]`` in quadrants 0..3 (``a`` the low ``addr_bits`` bits of ``p``) and equals
``A sin(2 pi (p + 1/2) / 2^(addr_bits+2))`` up to the table's rounding. The cosine is the
sine one quadrant later; the mixer's ``-sin`` two quadrants later (no negation of a table
output beyond the quadrant rule).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

__all__ = [
    "LFSR_MASK",
    "LFSR_SEED",
    "NcoSpec",
    "lfsr_sequence",
    "measure_sfdr",
    "nco_model",
    "nco_predicted",
    "nco_table",
]

#: Galois LFSR (right shift) toggle mask of x^32 + x^22 + x^2 + x + 1 (Xilinx XAPP052 taps).
LFSR_MASK = 0x80200003
#: Its state after reset (nonzero).
LFSR_SEED = 0xACE1ACE1


@dataclass(frozen=True)
class NcoSpec:
    """Everything that fixes the NCO's hardware arithmetic.

    Parameters
    ----------
    phase_bits : int
        Phase accumulator width (bits, 4 to 48).
    fcw : int
        Frequency control word: f = fcw / 2^phase_bits * f_s (0 <= fcw < 2^phase_bits).
    addr_bits : int
        Quarter-wave table address width (bits, 2 to 14); the table phase has
        ``addr_bits + 2`` bits.
    amp_bits : int
        Signed table output width (bits, 3 to 32).
    dither_bits : int
        LSBs of LFSR dither added to the phase before truncation (0: none; at most
        ``phase_bits - addr_bits - 2`` and 32).
    """

    phase_bits: int
    fcw: int
    addr_bits: int
    amp_bits: int
    dither_bits: int = 0

    def __post_init__(self):
        if not 4 <= self.phase_bits <= 48:
            raise ValueError(f"NCO phase_bits must be between 4 and 48, not {self.phase_bits}")
        if not 0 <= self.fcw < (1 << self.phase_bits):
            raise ValueError(f"NCO fcw must be in [0, 2^{self.phase_bits}), not {self.fcw}")
        if not 2 <= self.addr_bits <= 14:
            raise ValueError(f"NCO addr_bits must be between 2 and 14, not {self.addr_bits}")
        if self.addr_bits + 2 > self.phase_bits:
            raise ValueError(f"NCO addr_bits + 2 must be at most phase_bits "
                             f"({self.phase_bits}), not {self.addr_bits + 2}")
        if not 3 <= self.amp_bits <= 32:
            raise ValueError(f"NCO amp_bits must be between 3 and 32, not {self.amp_bits}")
        top = min(32, self.truncated_bits)
        if not 0 <= self.dither_bits <= top:
            raise ValueError(f"NCO dither_bits must be between 0 and {top}, "
                             f"not {self.dither_bits}")

    @property
    def table_phase_bits(self) -> int:
        """P: phase bits that address the (full-wave equivalent) table (bits)."""
        return self.addr_bits + 2

    @property
    def truncated_bits(self) -> int:
        """Accumulator LSBs dropped before the table (bits)."""
        return self.phase_bits - self.table_phase_bits

    @property
    def amplitude(self) -> int:
        """Peak table value 2^(amp_bits-1) - 1 (raw)."""
        return (1 << (self.amp_bits - 1)) - 1

    def frequency(self, fs: float) -> float:
        """Output frequency for sample rate ``fs`` (Hz)."""
        return self.fcw / (1 << self.phase_bits) * fs


@lru_cache(maxsize=32)
def _table(addr_bits: int, amp_bits: int) -> tuple[int, ...]:
    a = (1 << (amp_bits - 1)) - 1
    n = 1 << addr_bits
    return tuple(int(round(a * math.sin(math.pi / 2 * (k + 0.5) / n))) for k in range(n))


def nco_table(spec: NcoSpec) -> tuple[int, ...]:
    """The quarter-wave table T[0 .. 2^addr_bits - 1] (raw, non-negative)."""
    return _table(spec.addr_bits, spec.amp_bits)


def lfsr_sequence(n: int, seed: int = LFSR_SEED) -> np.ndarray:
    """States of the 32-bit Galois LFSR for samples 0..n-1 (state n is after n steps)."""
    out = np.empty(n, dtype=np.int64)
    s = seed
    for k in range(n):
        out[k] = s
        s = (s >> 1) ^ (LFSR_MASK if s & 1 else 0)
    return out


def _lookup(spec: NcoSpec, p: np.ndarray) -> np.ndarray:
    A = spec.addr_bits
    t = np.asarray(nco_table(spec), dtype=np.int64)
    q = (p >> A) & 3
    a = p & ((1 << A) - 1)
    a = np.where(q & 1, (1 << A) - 1 - a, a)
    v = t[a]
    return np.where(q & 2, -v, v)


def nco_model(spec: NcoSpec, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bit-true NCO outputs for samples 0..n-1.

    Returns
    -------
    (cos, sin, phase) : numpy.ndarray of int64
        Raw ``amp_bits`` cosine and sine, and the P-bit table phase ``p``.
    """
    mask = np.uint64((1 << spec.phase_bits) - 1)
    # uint64 products wrap modulo 2^64, which 2^phase_bits divides: the low bits are exact
    phi = (np.arange(n, dtype=np.uint64) * np.uint64(spec.fcw)) & mask
    if spec.dither_bits:
        dither = (lfsr_sequence(n) & ((1 << spec.dither_bits) - 1)).astype(np.uint64)
        phi = (phi + dither) & mask
    phi = phi.astype(np.int64)
    p = phi >> spec.truncated_bits
    P = spec.table_phase_bits
    quarter = 1 << spec.addr_bits
    cos = _lookup(spec, (p + quarter) % (1 << P))
    sin = _lookup(spec, p)
    return cos, sin, p


def nco_predicted(spec: NcoSpec) -> dict:
    """Predicted spur and noise levels of the NCO's complex output ``cos + j sin``.

    Phase truncation to P = addr_bits + 2 bits (no dither) makes a periodic phase error
    whose largest spur is ``-6.02 P dBc`` (Nicholas and Samueli 1987; exactly
    ``20 log10(2^-P * (pi/K) / sin(pi/K))`` for K = 2^(truncated bits) / gcd(fcw,
    2^(truncated bits)), and none when K = 1). Table rounding is bounded by half an LSB of
    the peak amplitude: no spur above ``20 log10(0.5 / A)``, its noise ``1/12 LSB^2``.

    Returns
    -------
    dict
        ``phase_spur_dbc``, ``amplitude_spur_bound_dbc``, ``sfdr_db`` (predicted: the
        phase-truncation spur, or the amplitude bound where there is none; ``None`` with
        dither, whose spurs this model does not predict: measure them),
        ``snr_db`` (phase-truncation plus amplitude-rounding noise of a full-scale tone).
    """
    B = spec.truncated_bits
    P = spec.table_phase_bits
    g = math.gcd(spec.fcw, 1 << B) if spec.fcw else 1 << B
    K = (1 << B) // g
    if K > 1 and not spec.dither_bits:
        x = math.pi / K
        phase_spur = 20 * math.log10(2.0 ** -P * x / math.sin(x))
    else:
        phase_spur = -math.inf
    amp_spur = 20 * math.log10(0.5 / spec.amplitude)
    # phase error uniform over K steps of 2 pi 2^-P / K (truncation, its mean removed)
    ph_var = (2 * math.pi * 2.0 ** -P) ** 2 * (1 - 1 / (K * K)) / 12 if K > 1 else 0.0
    if spec.dither_bits:
        # truncation of a dithered phase: its own 1/12 step^2 plus the dither's variance
        D = 2.0 ** (spec.dither_bits - B)
        ph_var = (2 * math.pi * 2.0 ** -P) ** 2 * (1 + D * D) / 12
    amp_var = 2 * (1 / 12) / spec.amplitude ** 2  # cos and sin, relative to |e^jx|^2 = 1
    snr = -10 * math.log10(ph_var + amp_var)
    sfdr = None if spec.dither_bits else -max(phase_spur, amp_spur)
    return {"phase_spur_dbc": phase_spur, "amplitude_spur_bound_dbc": amp_spur,
            "sfdr_db": sfdr, "snr_db": snr}


def measure_sfdr(cos, sin) -> float:
    """SFDR (dB) of ``cos + j sin`` over a whole period (coherent: no window).

    The carrier is the largest FFT bin; the SFDR is its power over the next largest bin.
    """
    z = np.asarray(cos, dtype=float) + 1j * np.asarray(sin, dtype=float)
    S = np.abs(np.fft.fft(z)) ** 2
    k = int(np.argmax(S))
    carrier = S[k]
    S[k] = 0.0
    return 10 * math.log10(carrier / S.max())
