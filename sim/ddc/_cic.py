"""CIC decimator (Hogenauer 1981): frozen spec, register pruning, bit-true model, noise.

The decimator has ``n_stages`` integrators at the input rate, a rate change by
``decimation`` and ``n_stages`` combs of differential delay ``diff_delay`` at the output
rate. Every value is an integer on the input LSB scale. Register ``j`` (1..2N, integrators
first) keeps bits ``discards[j-1]`` .. ``b_max - 1`` of that scale: it is
``width(j) = b_max - discards[j-1]`` bits wide, and the bits below its LSB are truncated
(floor, an arithmetic right shift) where its input arrives. The output register keeps the
top ``output_bits`` bits (truncated, discard ``b_max - output_bits``). Integrators and combs
wrap around (two's complement); this is exact for a CIC, because the full-precision output
fits ``b_max`` bits and every register holds its value modulo ``2**width`` (Hogenauer's
result).

Timing the model defines (and the RTL builds): integrator 1 adds the input sample;
integrator ``j > 1`` adds integrator ``j-1``'s value *before* this sample's update (one
register per stage). Sample ``n`` (counted from 0 over valid samples) with
``n % decimation == decimation - 1`` sends the updated last integrator to the combs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from ..fixed import MAX_WORD_BITS, QFormat, wrap

__all__ = [
    "CicSpec",
    "cic_decimate",
    "cic_noise",
    "cic_reference",
    "cic_variance_gains",
    "hogenauer_discards",
]


@lru_cache(maxsize=256)
def cic_variance_gains(n_stages: int, decimation: int, diff_delay: int) -> tuple[int, ...]:
    """F_j^2: the sum of squared impulse-response samples from stage j to the output.

    Stages 1..N are the integrators, N+1..2N the combs, 2N+1 the output register
    (Hogenauer 1981, eqs. 9b-16). Exact integers.

    Parameters
    ----------
    n_stages, decimation, diff_delay : int
        N, R, M.
    """
    N, RM = n_stages, decimation * diff_delay
    gains = []
    for j in range(1, N + 1):
        # H_j(z) = (sum_{k<RM} z^-k)^(N-j+1) * (1 - z^-RM)^(j-1), at the input rate
        h = np.ones(1, dtype=object)
        box = np.ones(RM, dtype=object)
        for _ in range(N - j + 1):
            h = np.convolve(h, box)
        diff = np.zeros(RM + 1, dtype=object)
        diff[0], diff[RM] = 1, -1
        for _ in range(j - 1):
            h = np.convolve(h, diff)
        gains.append(int(sum(int(v) * int(v) for v in h)))
    for j in range(N + 1, 2 * N + 2):
        k = 2 * N + 1 - j  # (1 - z^-M)^k at the output rate: binomial coefficients
        gains.append(sum(math.comb(k, i) ** 2 for i in range(k + 1)))
    return tuple(gains)


def _b_max(n_stages: int, decimation: int, diff_delay: int, input_bits: int) -> int:
    return input_bits + math.ceil(n_stages * math.log2(decimation * diff_delay) - 1e-12)


@lru_cache(maxsize=4096)
def hogenauer_discards(n_stages: int, decimation: int, diff_delay: int, input_bits: int,
                       output_bits: int) -> tuple[int, ...]:
    """LSBs each of the 2N registers may discard (Hogenauer 1981, eq. 21), cumulative.

    ``B_j = floor(-log2 F_j + log2 sigma_T + 1/2 log2(6/N))`` with
    ``sigma_T^2 = 2^(2 (B_max - B_out)) / 12``: the total truncation noise of the 2N
    registers stays at the output register's. Clamped to ``[0, B_max - B_out]`` and made
    non-decreasing (a register cannot hold a bit an earlier one dropped).

    Parameters
    ----------
    n_stages, decimation, diff_delay : int
        N, R, M.
    input_bits, output_bits : int
        B_in and B_out (bits).

    Returns
    -------
    tuple of int
        B_1..B_2N (bits).
    """
    bmax = _b_max(n_stages, decimation, diff_delay, input_bits)
    b_out_discard = max(0, bmax - output_bits)
    log_sigma_t = b_out_discard - 0.5 * math.log2(12)
    f2 = cic_variance_gains(n_stages, decimation, diff_delay)
    out, prev = [], 0
    for j in range(2 * n_stages):
        b = math.floor(-0.5 * math.log2(f2[j]) + log_sigma_t + 0.5 * math.log2(6 / n_stages))
        b = min(max(b, prev, 0), b_out_discard)
        out.append(b)
        prev = b
    return tuple(out)


@dataclass(frozen=True)
class CicSpec:
    """Everything that fixes a CIC decimator's hardware arithmetic.

    Parameters
    ----------
    n_stages : int
        N, integrator/comb pairs (1 to 8).
    decimation : int
        R, the rate change (>= 2).
    diff_delay : int
        M, the comb's differential delay (1 or 2).
    input_bits, output_bits : int
        Signed input and output widths (bits).
    discards : tuple of int, optional
        B_1..B_2N, LSBs register j discards (cumulative, non-decreasing, at most
        ``b_max - output_bits``). Default :func:`hogenauer_discards`; more is the allocator's
        extra pruning, fewer keeps more precision.
    """

    n_stages: int
    decimation: int
    diff_delay: int
    input_bits: int
    output_bits: int
    discards: tuple[int, ...] | None = field(default=None)

    def __post_init__(self):
        if not 1 <= self.n_stages <= 8:
            raise ValueError(f"CIC stages must be between 1 and 8, not {self.n_stages}")
        if self.decimation < 2:
            raise ValueError(f"CIC decimation must be at least 2, not {self.decimation}")
        if self.diff_delay not in (1, 2):
            raise ValueError(f"CIC differential delay must be 1 or 2, not {self.diff_delay}")
        for name in ("input_bits", "output_bits"):
            w = getattr(self, name)
            if not 2 <= w <= MAX_WORD_BITS:
                raise ValueError(f"CIC {name} must be between 2 and {MAX_WORD_BITS} bits, "
                                 f"not {w}")
        if self.b_max > MAX_WORD_BITS:
            raise ValueError(f"CIC full precision needs {self.b_max} bits, more than the "
                             f"{MAX_WORD_BITS}-bit limit of the bit-true model")
        if self.output_bits > self.b_max:
            raise ValueError(f"CIC output_bits must be at most B_max = {self.b_max}, "
                             f"not {self.output_bits}")
        if self.discards is None:
            d = hogenauer_discards(self.n_stages, self.decimation, self.diff_delay,
                                   self.input_bits, self.output_bits)
        else:
            d = tuple(int(v) for v in self.discards)
        object.__setattr__(self, "discards", d)
        if len(d) != 2 * self.n_stages:
            raise ValueError(f"CIC discards must list 2N = {2 * self.n_stages} stages, "
                             f"not {len(d)}")
        top = self.output_discard
        prev = 0
        for j, b in enumerate(d):
            if not prev <= b <= top:
                raise ValueError(f"CIC discards must be non-decreasing within [0, {top}] "
                                 f"(B_max - output_bits), not {list(d)} (stage {j + 1})")
            prev = b

    @property
    def b_max(self) -> int:
        """Full-precision width B_in + ceil(N log2(RM)) (bits)."""
        return _b_max(self.n_stages, self.decimation, self.diff_delay, self.input_bits)

    @property
    def output_discard(self) -> int:
        """LSBs the output register drops, B_max - B_out (bits)."""
        return self.b_max - self.output_bits

    @property
    def widths(self) -> tuple[int, ...]:
        """Register widths of the 2N stages, integrators first (bits)."""
        return tuple(self.b_max - b for b in self.discards)

    @property
    def gain(self) -> int:
        """DC gain (RM)^N on the input LSB scale."""
        return (self.decimation * self.diff_delay) ** self.n_stages

    @property
    def variance_gains(self) -> tuple[int, ...]:
        """F_j^2 of the 2N stages and the output register."""
        return cic_variance_gains(self.n_stages, self.decimation, self.diff_delay)


def _wrap(v: np.ndarray, bits: int) -> np.ndarray:
    return wrap(v, QFormat(bits, 0))


def cic_decimate(spec: CicSpec, x_raw) -> np.ndarray:
    """Bit-true CIC output (raw ``output_bits`` integers) for valid input samples ``x_raw``.

    Vectorized (int64 ``cumsum`` wraps modulo 2**64, and each register's width divides it).
    Outputs: ``len(x_raw) // decimation``.
    """
    x = np.asarray(x_raw, dtype=np.int64)
    lo, hi = -(1 << (spec.input_bits - 1)), (1 << (spec.input_bits - 1)) - 1
    if x.ndim != 1 or (x.size and (x.min() < lo or x.max() > hi)):
        raise ValueError(f"CIC input must be a 1-D array of {spec.input_bits}-bit raw "
                         f"integers in [{lo}, {hi}]")
    N, R, M = spec.n_stages, spec.decimation, spec.diff_delay
    w, d = spec.widths, spec.discards
    v, prev_d = x, 0
    with np.errstate(over="ignore"):
        for j in range(N):
            inp = v >> np.int64(d[j] - prev_d)
            if j > 0:  # the previous integrator's value before this sample's update
                inp = np.concatenate(([0], inp[:-1]))
            v = _wrap(np.cumsum(inp, dtype=np.int64), w[j])
            prev_d = d[j]
        v = v[R - 1::R]
        for j in range(N, 2 * N):
            inp = v >> np.int64(d[j] - prev_d)
            delayed = np.concatenate((np.zeros(M, dtype=np.int64), inp[:-M]))[: len(inp)]
            v = _wrap(inp - delayed, w[j])
            prev_d = d[j]
    return _wrap(v >> np.int64(spec.output_discard - prev_d), spec.output_bits)


def cic_reference(spec: CicSpec, x_raw) -> list[int]:
    """Naive per-sample loop of the same registers on Python integers (test oracle)."""
    N, R, M = spec.n_stages, spec.decimation, spec.diff_delay
    w, d = spec.widths, spec.discards

    def wrap_int(v: int, bits: int) -> int:
        v &= (1 << bits) - 1
        return v - (1 << bits) if v >> (bits - 1) else v

    integ = [0] * N
    comb_hist = [[0] * M for _ in range(N)]
    out = []
    for n, xv in enumerate(int(v) for v in x_raw):
        old = list(integ)
        integ[0] = wrap_int(old[0] + (xv >> d[0]), w[0])
        for j in range(1, N):
            integ[j] = wrap_int(old[j] + (old[j - 1] >> (d[j] - d[j - 1])), w[j])
        if n % R != R - 1:
            continue
        v, pd = integ[N - 1], d[N - 1]
        for j in range(N):
            inp = v >> (d[N + j] - pd)
            v = wrap_int(inp - comb_hist[j][0], w[N + j])
            comb_hist[j] = comb_hist[j][1:] + [inp]
            pd = d[N + j]
        out.append(wrap_int(v >> (spec.output_discard - pd), spec.output_bits))
    return out


def cic_noise(spec: CicSpec) -> dict:
    """Predicted truncation error at the output, per register (Hogenauer 1981, eq. 12-16).

    Register j truncating ``B_j - B_(j-1)`` bits adds an error of variance
    ``(2^(2 B_j) - 2^(2 B_(j-1))) / 12`` and mean ``-(2^B_j - 2^B_(j-1)) / 2`` on the input
    LSB scale; it reaches the output scaled by F_j^2 (variance) and by the path's DC gain
    (mean: only stage 1, gain (RM)^N, and the output register, gain 1, have one).

    Returns
    -------
    dict
        ``variance`` (2N+1 entries, input-LSB^2 at the full-precision output), ``mean``
        (input LSB), ``total_mse`` (variance sum plus squared mean).
    """
    f2 = spec.variance_gains
    ds = [*spec.discards, spec.output_discard]
    var, prev = [], 0
    mean = 0.0
    for j, b in enumerate(ds):
        v = (4.0 ** b - 4.0 ** prev) / 12.0
        var.append(f2[j] * v)
        m = -(2.0 ** b - 2.0 ** prev) / 2.0
        if j == 0:
            mean += m * spec.gain
        elif j == len(ds) - 1:
            mean += m
        prev = b
    return {"variance": var, "mean": mean, "total_mse": sum(var) + mean * mean}
