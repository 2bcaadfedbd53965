"""Held-out check of the FIR cost model against yosys (designs not used for calibration).

    .venv/bin/python benchmarks/fir_cost_model.py [--n 40] [--seed 1] [--target xc7]
        [--cached-only]

The designs are :func:`bitsmith.hwmodels.fir._corpus.stratified_specs` with seed 1 (the
calibration uses seed 0): taps 7-127, coefficient widths 4-20, folded or not, DSP or CSD,
direct or transposed, pipeline 0-2, each level equally often. Prints one row per design
(estimated vs yosys LUTs/FFs/DSPs, estimate and yosys time), the mean/median/max absolute
LUT error, whether DSP counts are exact, and the estimate time per design against the yosys
time. Synthesis results are cached (same cache as calibration).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from bitsmith.hwmodels import fir_cost
from bitsmith.hwmodels.fir import load_calibration
from bitsmith.hwmodels.fir._corpus import (
    DEFAULT_CACHE,
    corpus_results,
    generator_hash,
    stratified_specs,
)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=40, help="designs")
    ap.add_argument("--seed", type=int, default=1, help="corpus seed (calibration uses 0)")
    ap.add_argument("--target", default="xc7", choices=["xc7", "ice40"])
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    ap.add_argument("--cached-only", action="store_true", help="skip designs not synthesized")
    args = ap.parse_args(argv)
    cal = load_calibration(args.target)
    if args.seed == cal["seed"]:
        raise SystemExit(f"seed must differ from the calibration seed {cal['seed']}, not "
                         f"{args.seed}")
    if cal.get("generator_sha256") != generator_hash():
        print(f"WARNING: the generator (rtl/*.py, {generator_hash()}) changed since the "
              f"{args.target} calibration ({cal.get('generator_sha256')}): rerun "
              "scripts/calibrate_fir_cost.py")

    specs = stratified_specs(args.seed, args.n)
    print(f"{'#':>3} {'taps':>4} {'coef w':>7} {'x w':>3} {'form':>5} {'fold':>4} {'mult':>4} "
          f"{'pipe':>4} | {'LUT est':>7} {'yosys':>6} {'err%':>6} | {'FF est':>6} {'yosys':>6} "
          f"| {'DSP':>3} {'yosys':>5} | {'est ms':>6} {'yosys s':>7}")
    errs, ff_errs, dsp_ok, t_est, t_syn, taps = [], [], [], [], [], []
    for i, spec, res in corpus_results(specs, args.target, args.cache, args.cached_only):
        t0 = time.perf_counter()
        est = fir_cost(spec, args.target)
        dt = time.perf_counter() - t0
        t_est.append(dt)
        t_syn.append(res.seconds)
        taps.append(spec.taps)
        e = 100 * (est.luts - res.luts) / max(res.luts, 1)
        errs.append(e)
        ff_errs.append(100 * (est.ffs - res.ffs) / max(res.ffs, 1))
        dsp_ok.append(est.dsps == res.dsps)
        w = f"{min(spec.coef_widths)}-{max(spec.coef_widths)}"
        print(f"{i:>3} {spec.taps:>4} {w:>7} {spec.input_format.word_bits:>3} "
              f"{spec.form.value[:5]:>5} {int(spec.fold_symmetric):>4} {spec.multiplier.value:>4} "
              f"{spec.pipeline:>4} | {est.luts:>7} {res.luts:>6} {e:>6.1f} | {est.ffs:>6} "
              f"{res.ffs:>6} | {est.dsps:>3} {res.dsps:>5} | {dt * 1e3:>6.2f} {res.seconds:>7.1f}")
    if not errs:
        raise SystemExit("no design was synthesized (run without --cached-only)")
    a = np.abs(errs)
    print(f"\n{len(errs)} of {args.n} held-out designs synthesized (seed {args.seed}), target "
          f"{args.target}, taps {min(taps)}-{max(taps)}")
    print(f"LUT |error|: mean {a.mean():.1f} %, median {np.median(a):.1f} %, max {a.max():.1f} %, "
          f"within 10 %: {np.mean(a <= 10) * 100:.0f} % of designs; mean signed error "
          f"{np.mean(errs):+.1f} %")
    print(f"FF  |error|: mean {np.mean(np.abs(ff_errs)):.1f} %, max {np.max(np.abs(ff_errs)):.1f} %")
    print(f"DSP counts exact: {sum(dsp_ok)}/{len(dsp_ok)}")
    print(f"time per design: estimate {np.mean(t_est) * 1e3:.2f} ms, yosys {np.mean(t_syn):.1f} s "
          f"(yosys/estimate x{np.mean(t_syn) / np.mean(t_est):.0f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
