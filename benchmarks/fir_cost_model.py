"""Held-out check of the FIR cost model against yosys (designs not used for calibration).

    .venv/bin/python benchmarks/fir_cost_model.py [--n 40] [--seed 1] [--target xc7]
        [--cached-only]

Prints one row per design (taps, widths, form, DSP, estimated vs yosys LUTs/FFs/DSPs) and
the mean/max absolute LUT error, whether DSP counts are exact, and the estimate time per
design against the yosys time. Synthesis results are cached (same cache as calibration).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from bitsmith.hwmodels import fir_cost
from bitsmith.hwmodels._fircorpus import (
    DEFAULT_CACHE,
    _cache_lookup,
    random_spec,
    synthesize_spec,
)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=40, help="designs")
    ap.add_argument("--seed", type=int, default=1, help="corpus seed (calibration uses 0)")
    ap.add_argument("--target", default="xc7", choices=["xc7"])
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    ap.add_argument("--cached-only", action="store_true", help="skip designs not synthesized")
    args = ap.parse_args(argv)
    if args.seed == 0:
        raise SystemExit("seed must differ from the calibration seed 0, not 0")

    rng = np.random.default_rng(args.seed)
    specs = [random_spec(rng) for _ in range(args.n)]
    print(f"{'#':>3} {'taps':>4} {'coef w':>7} {'x w':>3} {'form':>5} {'fold':>4} {'mult':>4} "
          f"{'pipe':>4} | {'LUT est':>7} {'yosys':>6} {'err%':>6} | {'FF est':>6} {'yosys':>6} "
          f"| {'DSP':>3} {'yosys':>5} | {'yosys s':>7}")
    errs, ff_errs, dsp_ok, t_est, t_syn = [], [], [], [], []
    for i, spec in enumerate(specs):
        if args.cached_only:
            res = _cache_lookup(spec, args.target, args.cache)
            if res is None:
                continue
        else:
            res, _ = synthesize_spec(spec, args.target, args.cache)
        t0 = time.perf_counter()
        est = fir_cost(spec, args.target)
        t_est.append(time.perf_counter() - t0)
        t_syn.append(res.seconds)
        e = 100 * (est.luts - res.luts) / max(res.luts, 1)
        errs.append(e)
        ff_errs.append(100 * (est.ffs - res.ffs) / max(res.ffs, 1))
        dsp_ok.append(est.dsps == res.dsps)
        w = f"{min(spec.coef_widths)}-{max(spec.coef_widths)}"
        print(f"{i:>3} {spec.taps:>4} {w:>7} {spec.input_format.word_bits:>3} "
              f"{spec.form.value[:5]:>5} {int(spec.fold_symmetric):>4} {spec.multiplier.value:>4} "
              f"{spec.pipeline:>4} | {est.luts:>7} {res.luts:>6} {e:>6.1f} | {est.ffs:>6} "
              f"{res.ffs:>6} | {est.dsps:>3} {res.dsps:>5} | {res.seconds:>7.1f}")
    if not errs:
        raise SystemExit("no design was synthesized")
    a = np.abs(errs)
    print(f"\n{len(errs)} held-out designs (seed {args.seed}), target {args.target}")
    print(f"LUT |error|: mean {a.mean():.1f} %, median {np.median(a):.1f} %, max {a.max():.1f} %, "
          f"within 10 %: {np.mean(a <= 10) * 100:.0f} % of designs")
    print(f"FF  |error|: mean {np.mean(np.abs(ff_errs)):.1f} %, max {np.max(np.abs(ff_errs)):.1f} %")
    print(f"DSP48E1 counts exact: {sum(dsp_ok)}/{len(dsp_ok)}")
    print(f"estimate {np.mean(t_est) * 1e3:.2f} ms/design vs yosys {np.mean(t_syn):.1f} s/design "
          f"(x{np.mean(t_syn) / np.mean(t_est):.0f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
