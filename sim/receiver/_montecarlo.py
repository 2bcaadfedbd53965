"""Monte Carlo BER and detection MSE, vectorized over channel draws and symbols (torch).

The work is split into batches, each seeded from ``(seed, batch index)`` alone, and run in
rounds of a fixed number of batches; the stopping rule (every detector has at least
``min_errors`` bit errors, or ``max_batches`` ran) is checked between rounds. So the answer
depends on the seed and the settings only, not on where the batches ran (``map``).

Confidence interval: a unit is one channel draw of a batch with its ``n_symbols`` symbols
(with a fixed channel, one independent noise/symbol block); units are i.i.d., so the
BER estimate (total errors / total bits) has standard error std(unit BER) / sqrt(units),
and the 95 % interval is +-1.96 of it (clipped at 0); with no error at all the upper end is
the rule-of-three bound 3 / bits.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass

import numpy as np

from ._channel import demodulate, draw_channels, generator, modulate, torch_device
from ._detect import DETECTORS, adc, detector_matrices

Z95 = 1.959963984540054


@dataclass(frozen=True)
class BerResult:
    """Monte Carlo BER of one detector.

    Attributes
    ----------
    ber : float
        Bit errors / bits.
    ci_low, ci_high : float
        95 % confidence interval of the BER.
    errors, bits : int
        Bit errors counted and bits simulated.
    mse : float
        Mean squared symbol estimation error E|s_hat - s|**2 (before unbiasing).
    units : int
        Independent units (channel draws or noise blocks) behind the interval.
    """

    ber: float
    ci_low: float
    ci_high: float
    errors: int
    bits: int
    mse: float
    units: int

    def as_dict(self) -> dict:
        """Plain JSON-able dict."""
        return {"ber": self.ber, "ci_low": self.ci_low, "ci_high": self.ci_high,
                "errors": self.errors, "bits": self.bits, "mse": self.mse,
                "units": self.units}


@contextlib.contextmanager
def _one_thread(device):
    """Run CPU torch on one thread: same floating-point order in-process and on workers."""
    import torch

    if device.type != "cpu":
        yield
        return
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)


def simulate_batch(spec, bits, snr_db: float, seed_key: tuple[int, ...], n_channels: int,
                   n_symbols: int, H=None, detectors=DETECTORS) -> dict:
    """One Monte Carlo batch: per-unit error counts and squared errors per detector.

    Parameters
    ----------
    spec : ReceiverSpec
    bits : sequence of int (Nr,) or None
        ADC bits per antenna; None: unquantized.
    snr_db : float
        Es / N0 per receive antenna (dB).
    seed_key : tuple of int
        Seeds this batch's generator.
    n_channels, n_symbols : int
        Channel draws (units) and symbols per user and draw.
    H : array_like complex (Nr, K), optional
        A fixed channel (then the units are independent noise/symbol blocks).
    detectors : sequence of str

    Returns
    -------
    dict
        ``errors`` int64 (n_det, n_channels), ``sqerr`` float64 (n_det,) summed,
        ``bits_per_unit`` int.
    """
    import torch

    device = torch_device()
    with _one_thread(device), torch.no_grad():
        gen = generator(device, *seed_key)
        K, bps = spec.n_users, spec.bits_per_symbol
        if H is None:
            Hb = draw_channels(spec, n_channels, gen, device)
        else:
            Hb = torch.as_tensor(np.asarray(H), dtype=torch.complex128, device=device)
            Hb = Hb[None].expand(n_channels, -1, -1).contiguous()
        tx = torch.randint(0, 2, (n_channels, K, n_symbols, bps), generator=gen,
                           device=device, dtype=torch.uint8)
        s = modulate(tx, spec.modulation).to(torch.complex128)
        n0 = 10.0 ** (-snr_db / 10.0)
        shape = (n_channels, spec.n_rx, n_symbols)
        noise = torch.complex(torch.randn(shape, generator=gen, device=device,
                                          dtype=torch.float64),
                              torch.randn(shape, generator=gen, device=device,
                                          dtype=torch.float64)) * math.sqrt(n0 / 2)
        y = Hb @ s + noise
        q, gain, dist = adc(y, Hb, n0, bits, spec.quantizer)
        mats = detector_matrices(Hb, n0, gain, dist, detectors)
        errors = np.zeros((len(detectors), n_channels), dtype=np.int64)
        sqerr = np.zeros(len(detectors))
        for j, d in enumerate(detectors):
            W, heff = mats[d]
            est = W @ q
            sqerr[j] = float(np.sum((est - s).abs().cpu().numpy() ** 2))
            bias = torch.diagonal(W @ heff, dim1=1, dim2=2)[:, :, None]
            rx = demodulate(est / bias, spec.modulation)
            errors[j] = (rx != tx).sum(dim=(1, 2, 3)).cpu().numpy()
    return {"errors": errors, "sqerr": sqerr, "bits_per_unit": K * n_symbols * bps}


def _run_batch(args):
    spec, bits, snr_db, key, n_channels, n_symbols, H, detectors = args
    return simulate_batch(spec, bits, snr_db, key, n_channels, n_symbols, H, detectors)


def summarize(errors: np.ndarray, bits_per_unit: int, sqerr: float, n_sym: int) -> BerResult:
    """BER, its 95 % interval and the MSE from per-unit error counts of one detector."""
    errors = np.asarray(errors, dtype=np.int64)
    units = errors.size
    total_bits = units * bits_per_unit
    e = int(errors.sum())
    ber = e / total_bits
    if e == 0:
        lo, hi = 0.0, 3.0 / total_bits
    else:
        per = errors / bits_per_unit
        se = float(np.std(per, ddof=1)) / math.sqrt(units) if units > 1 else ber
        lo, hi = max(0.0, ber - Z95 * se), ber + Z95 * se
    return BerResult(ber=ber, ci_low=lo, ci_high=hi, errors=e, bits=total_bits,
                     mse=float(sqerr / n_sym), units=units)


def ber_monte_carlo(spec, bits, snr_db: float, seed: tuple[int, ...] | int = 0, H=None,
                    detectors=DETECTORS, min_errors: int = 100, max_batches: int = 64,
                    batches_per_round: int = 4, n_channels: int = 16, n_symbols: int = 256,
                    map=None, progress=None) -> dict[str, BerResult]:
    """BER of each detector by Monte Carlo, with 95 % intervals and a min-error stop.

    Parameters
    ----------
    spec : ReceiverSpec
    bits : sequence of int (Nr,) or None
        ADC bits per antenna (None: unquantized limit).
    snr_db : float
        Es / N0 per receive antenna (dB).
    seed : int or tuple of int
        Key of the run; batch i is seeded from ``(*seed, i)``.
    H : array_like complex (Nr, K), optional
        Fixed channel; None draws ``n_channels`` fresh channels per batch.
    detectors : sequence of str
        Any of ``zf``, ``lmmse``, ``bussgang``.
    min_errors : int
        Stop once every detector has at least this many bit errors...
    max_batches : int
        ... or after this many batches (rounded up to whole rounds).
    batches_per_round : int
        Batches launched between two checks of the stopping rule.
    n_channels, n_symbols : int
        Units per batch and symbols per user and unit.
    map : callable, optional
        ``map(fn, iterable) -> list`` (e.g. ``RunContext.map``); default in-process.
    progress : callable, optional
        ``progress(done_batches, max_batches, best)``.

    Returns
    -------
    dict of str to BerResult
    """
    key = (seed,) if isinstance(seed, int) else tuple(seed)
    detectors = tuple(detectors)
    Hn = None if H is None else np.asarray(H)
    bits_t = None if bits is None else tuple(int(b) for b in bits)
    mapper = map or (lambda fn, it: [fn(a) for a in it])
    parts: list[dict] = []
    done = 0
    while True:
        n = min(batches_per_round, max(1, max_batches - done))
        args = [(spec, bits_t, float(snr_db), (*key, done + i), n_channels, n_symbols, Hn,
                 detectors) for i in range(n)]
        parts.extend(mapper(_run_batch, args))
        done += n
        if progress is not None:
            progress(done, max_batches, None)
        errs = np.concatenate([p["errors"] for p in parts], axis=1)
        if done >= max_batches or errs.sum(axis=1).min() >= min_errors:
            break
    bpu = parts[0]["bits_per_unit"]
    sq = np.sum([p["sqerr"] for p in parts], axis=0)
    n_sym = errs.shape[1] * n_symbols * spec.n_users
    return {d: summarize(errs[j], bpu, sq[j], n_sym) for j, d in enumerate(detectors)}
