"""Throughput of bitsmith's fixed-point kernels next to apytypes on the same arrays.

Two operations, each checked bit for bit against apytypes before it is timed:

* quantize + saturate: float64 -> Q(4,12), round half up, saturate. apytypes has no
  direct float-to-format-with-rounding call (``from_float`` always rounds ties away from
  zero and wraps), so its side is ``from_float`` into an exact wide format followed by
  ``cast``; the ``to_bits`` read-back is not timed.
* requantize: Q(8,24) raw -> Q(4,12), round half even (shift + round + saturate).
  apytypes' side is ``cast`` on an array built from the raw integers (construction not
  timed).

Prints M values/s for each and the ratio ours / apytypes (> 1: bitsmith is faster).
Run: ``.venv/bin/python benchmarks/fixed_throughput.py [--n 1000000 10000000]``.
"""

import argparse
import time

import apytypes as apy
import numpy as np

from bitsmith.sim import Overflow, QFormat, Rounding, quantize, requantize


def _best_time(fn, repeats: int) -> float:
    """Best wall-clock time of ``repeats`` calls (s)."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _apy_raw(arr, word_bits: int) -> np.ndarray:
    """Decode apytypes' two's-complement bit patterns into signed int64."""
    bits = np.asarray(arr.to_bits(numpy=True)).astype(np.uint64)
    shift = np.uint64(64 - word_bits)
    return (bits << shift).view(np.int64) >> np.int64(64 - word_bits)


def bench(n: int, repeats: int, seed: int) -> None:
    """Time both operations on ``n`` seeded random values and print the figures."""
    rng = np.random.default_rng(seed)
    dst = QFormat(4, 12)
    sat = apy.OverflowMode.SAT

    # quantize + saturate. Values are snapped to 2**-40 so Q(10, 40) holds them exactly;
    # about a third lie beyond Q(4,12)'s range [-8, 8).
    x = np.ldexp(np.rint(np.ldexp(rng.uniform(-12.0, 12.0, n), 40)), -40)

    def ours_q():
        return quantize(x, dst, Rounding.ROUND_HALF_UP, Overflow.SATURATE)

    def apy_q():
        exact = apy.APyFixedArray.from_float(x, int_bits=10, frac_bits=40)
        return exact.cast(4, 12, quantization=apy.QuantizationMode.TIES_POS, overflow=sat)

    if not np.array_equal(ours_q(), _apy_raw(apy_q(), dst.word_bits)):
        raise SystemExit(f"quantize: bitsmith and apytypes disagree on the n={n} array")
    t_ours, t_apy = _best_time(ours_q, repeats), _best_time(apy_q, repeats)
    _report(f"quantize+sat   n={n:>9,}", n, t_ours, t_apy)

    # requantize: drop 12 fraction and 4 integer bits with convergent rounding.
    src = QFormat(8, 24)
    raw = rng.integers(src.raw_min, src.raw_max, n, endpoint=True)
    src_apy = apy.APyFixedArray(raw, int_bits=src.int_bits, frac_bits=src.frac_bits)

    def ours_r():
        return requantize(raw, src, dst, Rounding.ROUND_HALF_EVEN, Overflow.SATURATE)

    def apy_r():
        return src_apy.cast(4, 12, quantization=apy.QuantizationMode.TIES_EVEN, overflow=sat)

    if not np.array_equal(ours_r(), _apy_raw(apy_r(), dst.word_bits)):
        raise SystemExit(f"requantize: bitsmith and apytypes disagree on the n={n} array")
    t_ours, t_apy = _best_time(ours_r, repeats), _best_time(apy_r, repeats)
    _report(f"requantize     n={n:>9,}", n, t_ours, t_apy)


def _report(label: str, n: int, t_ours: float, t_apy: float) -> None:
    print(
        f"{label}: bitsmith {n / t_ours / 1e6:8.1f} M/s  apytypes {n / t_apy / 1e6:8.1f} M/s"
        f"  ratio {t_apy / t_ours:5.2f}x  (bits identical)"
    )


def main(argv=None) -> None:
    """Parse arguments and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--n", type=int, nargs="+", default=[1_000_000, 10_000_000], help="array sizes"
    )
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per figure")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    for n in args.n:
        if n < 1:
            parser.error(f"--n sizes must be at least 1, not {n}")
        bench(n, args.repeats, args.seed)


if __name__ == "__main__":
    main()
